// SPDX-License-Identifier: GPL-2.0-only
/* The frontend's segment bounce copy, common/pgnt_copy.h. */
#include "pgnt_copy.h"
#include "unit.h"

#define PG PGNT_XEN_PAGE_SIZE

static u8 src[PG], pool[PG], dst[PG];

/* Not periodic within a page, so that a misplaced copy shows. */
static void fill(u8 *p, u8 seed)
{
	u32 i, x = seed;

	for (i = 0; i < PG; i++) {
		x = x * 1103515245U + 12345U;
		p[i] = (u8)(x >> 16);
	}
}

/* Bytes of @p in [from, to) that are not @v. */
static u32 count_not(const u8 *p, u32 from, u32 to, u8 v)
{
	u32 n = 0;

	for (; from < to; from++)
		n += p[from] != v;
	return n;
}

static void copy_in_places_the_segment(void)
{
	fill(src, 1);
	fill(pool, 99);
	pgnt_seg_copy_in(pool, src, 1024, 512, false);
	EXPECT(memcmp(pool + 1024, src + 1024, 512) == 0);
	/* Trusted: the rest of the pool page is left alone. */
	memcpy(dst, pool, PG);
	fill(pool, 99);
	EXPECT(memcmp(dst, pool, 1024) == 0);
	EXPECT(memcmp(dst + 1536, pool + 1536, PG - 1536) == 0);
}

static void copy_in_scrubs_the_rest_when_untrusted(void)
{
	fill(src, 1);
	fill(pool, 99);
	pgnt_seg_copy_in(pool, src, 1024, 512, true);
	EXPECT(memcmp(pool + 1024, src + 1024, 512) == 0);
	EXPECT_EQ(count_not(pool, 0, 1024, 0), 0);
	EXPECT_EQ(count_not(pool, 1536, PG, 0), 0);
	/* A read (no source): only the outside is cleared. */
	fill(pool, 99);
	memcpy(dst, pool, PG);
	pgnt_seg_copy_in(pool, NULL, 0, 512, true);
	EXPECT(memcmp(pool, dst, 512) == 0);
	EXPECT_EQ(count_not(pool, 512, PG, 0), 0);
	/* A full page: nothing to clear, all data. */
	fill(pool, 99);
	pgnt_seg_copy_in(pool, src, 0, PG, true);
	EXPECT(memcmp(pool, src, PG) == 0);
}

static void copy_out_places_the_segment(void)
{
	fill(pool, 5);
	fill(dst, 200);
	pgnt_seg_copy_out(dst, pool, 3584, 512);
	EXPECT(memcmp(dst + 3584, pool + 3584, 512) == 0);
	/* The rest of the request's page is left alone. */
	fill(src, 200);
	EXPECT(memcmp(dst, src, 3584) == 0);
}

UNIT_SUITE(copy_tests) = {
	{ "copy/in_places_the_segment", copy_in_places_the_segment },
	{ "copy/in_scrubs_the_rest_when_untrusted",
	  copy_in_scrubs_the_rest_when_untrusted },
	{ "copy/out_places_the_segment", copy_out_places_the_segment },
};
const unsigned int copy_tests_nr = ARRAY_LEN(copy_tests);
