// SPDX-License-Identifier: GPL-2.0-only
/*
 * Microbenchmark: the CPU cost of the frontend's bounce copy.  The driver
 * copies every segment between the request's page and a pool page with
 * common/pgnt_copy.h; this measures that code, segment by segment into
 * separately allocated pool pages, against a bare memcpy() of the same
 * sizes in the same direction (the target is <= 1.2x), and, for
 * reference, against one memcpy() of the whole request between two
 * contiguous buffers.
 *
 * Cases per request size: write (copy in, trusted backend), write to an
 * untrusted backend (copy in, rest of each page cleared: nothing for full
 * pages), read (copy out).  "hot" reuses one request's buffers (in cache),
 * "cold" walks 64 MiB of requests (beyond the caches, like page-cache data
 * that the application wrote a while ago).  Sub-page segments (512 B at
 * offset 512) show what clearing the rest of the page costs when untrusted.
 *
 * Prints GB/s (best of several rounds) and the ratios of our time to the
 * bare memcpy's.  Under load from other processes the "cold" rows vary by
 * some 20% between runs; the "hot" rows are the CPU cost proper.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "pgnt_copy.h"

#define PG	PGNT_XEN_PAGE_SIZE
#define COLD	(64U << 20)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static u8 *page_alloc(size_t bytes)
{
	u8 *p = aligned_alloc(PG, bytes);

	if (!p) {
		perror("aligned_alloc");
		exit(1);
	}
	memset(p, 0x5a, bytes);
	return p;
}

enum mode {
	M_BLOCK_IN, M_BLOCK_OUT,	/* one memcpy of the whole request */
	M_SEG_IN, M_SEG_OUT,		/* one bare memcpy per segment */
	M_IN, M_IN_SCRUB, M_OUT,	/* pgnt_copy.h */
	M_NR
};

/*
 * Copy @nreq requests of @segs segments of @len bytes at @off, with data
 * in @data (contiguous, request after request) and pool pages @pool
 * (one per segment, reused for every request as the pool does).
 */
static void run(enum mode m, u8 *data, u8 *flat, u8 **pool, u32 nreq,
		u32 segs, u32 off, u32 len)
{
	u32 r, s;

	for (r = 0; r < nreq; r++) {
		u8 *req = data + (size_t)r * segs * PG;

		if (m == M_BLOCK_IN) {
			memcpy(flat, req, (size_t)segs * len);
			continue;
		}
		if (m == M_BLOCK_OUT) {
			memcpy(req, flat, (size_t)segs * len);
			continue;
		}
		for (s = 0; s < segs; s++) {
			u8 *page = req + (size_t)s * PG;

			switch (m) {
			case M_SEG_IN:
				memcpy(pool[s] + off, page + off, len);
				break;
			case M_SEG_OUT:
				memcpy(page + off, pool[s] + off, len);
				break;
			case M_OUT:
				pgnt_seg_copy_out(page, pool[s], off, len);
				break;
			default:
				pgnt_seg_copy_in(pool[s], page, off, len,
						 m == M_IN_SCRUB);
				break;
			}
		}
	}
}

/*
 * GB/s of every mode, best of 15 rounds; the modes take turns within a
 * round, so that a change in the machine's load hits them all alike.
 */
static void best_gbs(double *best, u8 *data, u8 *flat, u8 **pool, u32 nreq,
		     u32 segs, u32 off, u32 len)
{
	u64 bytes = (u64)nreq * segs * len;
	u32 reps = (u32)((64ULL << 20) / bytes) + 1, i, k;
	int m;

	for (m = 0; m < M_NR; m++)
		best[m] = 0;
	for (k = 0; k < 15; k++) {
		for (m = 0; m < M_NR; m++) {
			double t0 = now_ns(), gbs;

			for (i = 0; i < reps; i++)
				run(m, data, flat, pool, nreq, segs, off, len);
			gbs = (double)bytes * reps / (now_ns() - t0);
			if (gbs > best[m])
				best[m] = gbs;
		}
	}
}

int main(void)
{
	static const struct { u32 segs, off, len; const char *name; } cs[] = {
		{ 1, 0, PG, "4k" },
		{ 16, 0, PG, "64k" },
		{ 256, 0, PG, "1m" },
		{ 8, 512, 512, "8x512B" },
	};
	u8 *data = page_alloc(COLD), *flat = page_alloc(256 * PG);
	u8 *pool[256];
	volatile u8 sink;
	unsigned int c, h, i;
	int worst_ok = 1;

	/* Pool pages allocated one by one, as the driver's pool grows. */
	for (i = 0; i < 256; i++)
		pool[i] = page_alloc(PG);

	printf("%-7s %-4s | %7s %7s %7s %7s | %7s %7s %7s | %6s %6s %6s | %6s %6s\n",
	       "request", "data", "seg-in", "in", "in-untr", "blk-in",
	       "seg-out", "out", "blk-out", "in", "in-unt", "out",
	       "in", "out");
	for (c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
		for (h = 0; h < 2; h++) {
			u32 segs = cs[c].segs, off = cs[c].off, len = cs[c].len;
			u32 nreq = h ? COLD / (segs * PG) : 1;
			double b[M_NR], r_in, r_ins, r_out;

			best_gbs(b, data, flat, pool, nreq, segs, off, len);
			r_in = b[M_SEG_IN] / b[M_IN];
			r_ins = b[M_SEG_IN] / b[M_IN_SCRUB];
			r_out = b[M_SEG_OUT] / b[M_OUT];
			printf("%-7s %-4s | %7.2f %7.2f %7.2f %7.2f | %7.2f %7.2f %7.2f | %5.2fx %5.2fx %5.2fx | %5.2fx %5.2fx\n",
			       cs[c].name, h ? "cold" : "hot", b[M_SEG_IN],
			       b[M_IN], b[M_IN_SCRUB], b[M_BLOCK_IN],
			       b[M_SEG_OUT], b[M_OUT], b[M_BLOCK_OUT],
			       r_in, r_ins, r_out, b[M_BLOCK_IN] / b[M_IN],
			       b[M_BLOCK_OUT] / b[M_OUT]);
			/* The target, for full pages (sub-page is informative). */
			if (len == PG && (r_in > 1.2 || r_ins > 1.2 || r_out > 1.2))
				worst_ok = 0;
		}
	}
	sink = data[COLD - 1] + flat[0] + pool[0][0];
	(void)sink;
	printf("GB/s: 1e9 bytes of data per second, best of 15 rounds.  seg-*: a bare\n"
	       "memcpy per segment (the same sizes); blk-*: one memcpy of the whole\n"
	       "request.  Ratios: our time / seg-* time (target <= 1.2x), then our\n"
	       "time / blk-* time (informative: glibc's large memcpy may use\n"
	       "non-temporal stores, which the kernel's does not)\n");
	printf("full-page segments within 1.2x of memcpy: %s\n",
	       worst_ok ? "yes" : "NO");
	for (i = 0; i < 256; i++)
		free(pool[i]);
	free(flat);
	free(data);
	return 0;
}
