// SPDX-License-Identifier: GPL-2.0-only
/*
 * Microbenchmark: persistent-grant lookup by grant reference in
 * common/pgnt_gcache.h (hash table) against a red-black tree (glibc's
 * tsearch, the structure the stock backend uses), for working sets from a
 * one-page ring of direct requests to the global default budget.
 *
 * glibc's tree calls its comparison through a pointer, which the kernel's
 * rbtree does not; so a binary search over a sorted array with the compare
 * inlined is measured too: the same log2(n) comparisons with better cache
 * locality than any tree, i.e. a lower bound for the stock rbtree.
 *
 * Prints ns per lookup (best of several rounds) and the ratios to the hash.
 */
#define _GNU_SOURCE
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "pgnt_gcache.h"

struct gentry {
	struct pgnt_gnode node;	/* hash */
	u32 gref;		/* tree key */
};

static int cmp(const void *a, const void *b)
{
	u32 x = ((const struct gentry *)a)->gref;
	u32 y = ((const struct gentry *)b)->gref;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Index of @key in sorted @a[n], or -1: compare inlined, as in rbtree code. */
static long bsearch_inline(const u32 *a, u32 n, u32 key)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (a[mid] == key)
			return mid;
		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void keep(void *p)
{
	(void)p;	/* entries live in one array, freed at once */
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static u32 rnd(u32 *s)
{
	*s = *s * 1103515245U + 12345U;
	return *s >> 1;
}

int main(void)
{
	static const u32 sizes[] = { 352, 1056, 8192, 65536 };
	const u32 lookups = 2000000, rounds = 5;
	unsigned int si;

	printf("%-8s %9s %11s %11s %11s %11s\n", "grants", "hash ns",
	       "rbtree ns", "bsearch ns", "rbtree/hash", "bsearch/hash");
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		u32 n = sizes[si], i, r, seed = 42, shift = pgnt_gcache_shift_for(n);
		struct gentry *e = calloc(n, sizeof(*e));
		struct pgnt_gnode **b = calloc(1U << shift, sizeof(*b));
		u32 *probe = malloc(lookups * sizeof(*probe));
		u32 *sorted = malloc(n * sizeof(*sorted));
		struct pgnt_gcache c;
		void *root = NULL;
		double best_h = 1e30, best_t = 1e30, best_s = 1e30;
		unsigned long sink = 0;

		pgnt_gcache_init(&c, b, shift);
		for (i = 0; i < n; i++) {
			/* grant refs as a guest hands them out: scattered u32s */
			do {
				e[i].gref = rnd(&seed) % (n * 8) + 8;
			} while (pgnt_gcache_lookup(&c, e[i].gref));
			pgnt_gcache_insert(&c, &e[i].node, e[i].gref);
			tsearch(&e[i], &root, cmp);
		}
		for (i = 0; i < lookups; i++)
			probe[i] = e[rnd(&seed) % n].gref;
		for (i = 0; i < n; i++)
			sorted[i] = e[i].gref;
		qsort(sorted, n, sizeof(*sorted), cmp_u32);

		for (r = 0; r < rounds; r++) {
			double t0 = now_ns(), t1, t2, t3;

			for (i = 0; i < lookups; i++)
				sink += (unsigned long)pgnt_gcache_lookup(&c, probe[i]);
			t1 = now_ns();
			for (i = 0; i < lookups; i++) {
				struct gentry key = { .gref = probe[i] };

				sink += (unsigned long)tfind(&key, &root, cmp);
			}
			t2 = now_ns();
			for (i = 0; i < lookups; i++)
				sink += (unsigned long)bsearch_inline(sorted, n, probe[i]);
			t3 = now_ns();
			if ((t3 - t2) / lookups < best_s)
				best_s = (t3 - t2) / lookups;
			if ((t1 - t0) / lookups < best_h)
				best_h = (t1 - t0) / lookups;
			if ((t2 - t1) / lookups < best_t)
				best_t = (t2 - t1) / lookups;
		}
		printf("%-8u %9.1f %11.1f %11.1f %10.1fx %11.1fx%s\n", n, best_h,
		       best_t, best_s, best_t / best_h, best_s / best_h,
		       sink ? "" : " ");
		tdestroy(root, keep);
		free(sorted);
		free(probe);
		free(b);
		free(e);
	}
	return 0;
}
