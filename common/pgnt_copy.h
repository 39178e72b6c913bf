/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frontend's bounce copy of one segment between the request's page and
 * the pool page the backend sees.  Kernel-independent, so that
 * tests/bench/copy-bench.c measures the very code the driver runs; the
 * driver supplies the page mappings.
 */
#ifndef PGNT_COPY_H
#define PGNT_COPY_H

#include "pgnt_types.h"
#include "pgnt.h"

/*
 * Fill pool page @pool for a segment of @len bytes at @off: the data of
 * @src (the request's page, NULL for a read, whose data comes back), and
 * with @scrub the rest of the page cleared, so that nothing but this
 * segment is visible through the grant.  The caller keeps the segment
 * inside one page.
 */
static inline void pgnt_seg_copy_in(u8 *pool, const u8 *src, u32 off,
				    u32 len, bool scrub)
{
	/* Full pages, the common case, need no clearing at all. */
	if (scrub && off)
		memset(pool, 0, off);
	if (scrub && off + len < PGNT_XEN_PAGE_SIZE)
		memset(pool + off + len, 0, PGNT_XEN_PAGE_SIZE - off - len);
	if (src)
		memcpy(pool + off, src + off, len);
}

/* A read's data from pool page @pool back into the request's page @dst. */
static inline void pgnt_seg_copy_out(u8 *dst, const u8 *pool, u32 off,
				     u32 len)
{
	memcpy(dst + off, pool + off, len);
}

#endif /* PGNT_COPY_H */
