// SPDX-License-Identifier: GPL-2.0-only
/* Request and response validation of common/pgnt_check.h. */
#include <string.h>
#include "pgnt_check.h"
#include "unit.h"

#define DEV_SECTORS	2048ULL		/* a 1 MiB disk */

static const struct pgnt_dev_limits full = {
	.sectors = DEV_SECTORS, .lbs_sectors = 1, .max_indirect_segs = 256,
	.flush = true, .barrier = true, .discard = true, .secure_discard = true,
};

static const struct pgnt_dev_limits bare = {
	.sectors = DEV_SECTORS, .lbs_sectors = 1,
};

static const struct pgnt_dev_limits ro = {
	.sectors = DEV_SECTORS, .lbs_sectors = 1, .max_indirect_segs = 256,
	.readonly = true, .flush = true, .discard = true,
};

struct req_case {
	const char *what;
	const struct pgnt_dev_limits *lim;
	struct pgnt_req req;
	enum pgnt_verdict want;
};

static const struct req_case req_cases[] = {
	{ "read 1 seg", &full, { .op = PGNT_OP_READ, .nr_segs = 1 }, PGNT_OK },
	{ "write 11 segs", &full, { .op = PGNT_OP_WRITE, .nr_segs = 11 }, PGNT_OK },
	{ "write 12 direct", &full, { .op = PGNT_OP_WRITE, .nr_segs = 12 }, PGNT_BAD_NSEGS },
	{ "read 0 segs", &full, { .op = PGNT_OP_READ }, PGNT_BAD_NSEGS },
	{ "write 0 segs", &full, { .op = PGNT_OP_WRITE }, PGNT_BAD_NSEGS },
	{ "write 255 direct", &full, { .op = PGNT_OP_WRITE, .nr_segs = 255 }, PGNT_BAD_NSEGS },
	{ "flush empty", &full, { .op = PGNT_OP_FLUSH_DISKCACHE }, PGNT_OK },
	{ "flush with data", &full, { .op = PGNT_OP_FLUSH_DISKCACHE, .nr_segs = 3 }, PGNT_OK },
	{ "flush unadvertised", &bare, { .op = PGNT_OP_FLUSH_DISKCACHE }, PGNT_NOT_SUPPORTED },
	{ "barrier", &full, { .op = PGNT_OP_WRITE_BARRIER }, PGNT_OK },
	{ "barrier unadvertised", &bare, { .op = PGNT_OP_WRITE_BARRIER }, PGNT_NOT_SUPPORTED },
	{ "reserved op 4", &full, { .op = PGNT_OP_RESERVED_1, .nr_segs = 1 }, PGNT_BAD_OP },
	{ "op 7", &full, { .op = 7, .nr_segs = 1 }, PGNT_BAD_OP },
	{ "op 255", &full, { .op = 255, .nr_segs = 1 }, PGNT_BAD_OP },
	{ "indirect read 256", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_READ, .nr_segs = 256 }, PGNT_OK },
	{ "indirect write 12", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_WRITE, .nr_segs = 12 }, PGNT_OK },
	{ "indirect 257 > advertised", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_READ, .nr_segs = 257 }, PGNT_BAD_NSEGS },
	{ "indirect 65535", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_READ, .nr_segs = 65535 }, PGNT_BAD_NSEGS },
	{ "indirect 0 segs", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_WRITE }, PGNT_BAD_NSEGS },
	{ "indirect flush", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_FLUSH_DISKCACHE, .nr_segs = 1 },
	  PGNT_BAD_INDIRECT_OP },
	{ "indirect of indirect", &full,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_INDIRECT, .nr_segs = 1 },
	  PGNT_BAD_INDIRECT_OP },
	{ "indirect unadvertised", &bare,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_READ, .nr_segs = 1 }, PGNT_BAD_OP },
	{ "ro: read", &ro, { .op = PGNT_OP_READ, .nr_segs = 1 }, PGNT_OK },
	{ "ro: write", &ro, { .op = PGNT_OP_WRITE, .nr_segs = 1 }, PGNT_BAD_READONLY },
	{ "ro: indirect write", &ro,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_WRITE, .nr_segs = 20 }, PGNT_BAD_READONLY },
	{ "ro: indirect read", &ro,
	  { .op = PGNT_OP_INDIRECT, .indirect_op = PGNT_OP_READ, .nr_segs = 20 }, PGNT_OK },
	{ "ro: flush", &ro, { .op = PGNT_OP_FLUSH_DISKCACHE }, PGNT_BAD_READONLY },
	{ "ro: discard", &ro,
	  { .op = PGNT_OP_DISCARD, .sector = 0, .nr_sectors = 8 }, PGNT_BAD_READONLY },
	{ "discard", &full, { .op = PGNT_OP_DISCARD, .sector = 8, .nr_sectors = 8 }, PGNT_OK },
	{ "discard whole disk", &full,
	  { .op = PGNT_OP_DISCARD, .sector = 0, .nr_sectors = DEV_SECTORS }, PGNT_OK },
	{ "discard past end", &full,
	  { .op = PGNT_OP_DISCARD, .sector = 8, .nr_sectors = DEV_SECTORS }, PGNT_BAD_RANGE },
	{ "discard wraps u64", &full,
	  { .op = PGNT_OP_DISCARD, .sector = 16, .nr_sectors = ~0ULL - 8 }, PGNT_BAD_RANGE },
	{ "discard 0 sectors", &full, { .op = PGNT_OP_DISCARD, .sector = 8 }, PGNT_BAD_RANGE },
	{ "discard unadvertised", &bare,
	  { .op = PGNT_OP_DISCARD, .nr_sectors = 8 }, PGNT_NOT_SUPPORTED },
	{ "secure discard", &full,
	  { .op = PGNT_OP_DISCARD, .nr_sectors = 8, .discard_flags = PGNT_DISCARD_SECURE }, PGNT_OK },
	{ "secure discard unadvertised", &ro,
	  { .op = PGNT_OP_DISCARD, .nr_sectors = 8, .discard_flags = PGNT_DISCARD_SECURE },
	  PGNT_BAD_READONLY },
};

static void requests_table(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		enum pgnt_verdict got = pgnt_req_check(&c->req, c->lim);

		if (got != c->want)
			fprintf(stderr, "  case '%s': got %s, want %s\n", c->what,
				pgnt_verdict_name(got), pgnt_verdict_name(c->want));
		EXPECT_EQ(got, c->want);
	}
}

static void secure_discard_needs_its_feature(void)
{
	struct pgnt_dev_limits l = full;
	struct pgnt_req r = { .op = PGNT_OP_DISCARD, .nr_sectors = 8,
			      .discard_flags = PGNT_DISCARD_SECURE };

	l.secure_discard = false;
	EXPECT_EQ(pgnt_req_check(&r, &l), PGNT_NOT_SUPPORTED);
	r.discard_flags = 0;
	EXPECT_EQ(pgnt_req_check(&r, &l), PGNT_OK);
}

static void range_check_edges(void)
{
	struct pgnt_dev_limits l = full;

	EXPECT_EQ(pgnt_range_check(0, DEV_SECTORS, &l), PGNT_OK);
	EXPECT_EQ(pgnt_range_check(DEV_SECTORS - 1, 1, &l), PGNT_OK);
	EXPECT_EQ(pgnt_range_check(DEV_SECTORS, 0, &l), PGNT_OK);
	EXPECT_EQ(pgnt_range_check(DEV_SECTORS, 1, &l), PGNT_BAD_RANGE);
	EXPECT_EQ(pgnt_range_check(DEV_SECTORS + 1, 0, &l), PGNT_BAD_RANGE);
	EXPECT_EQ(pgnt_range_check(~0ULL, 2, &l), PGNT_BAD_RANGE);
	EXPECT_EQ(pgnt_range_check(1, ~0ULL, &l), PGNT_BAD_RANGE);
	/* 4 KiB logical blocks: start and length must be multiples of 8. */
	l.lbs_sectors = 8;
	EXPECT_EQ(pgnt_range_check(8, 16, &l), PGNT_OK);
	EXPECT_EQ(pgnt_range_check(4, 8, &l), PGNT_BAD_ALIGN);
	EXPECT_EQ(pgnt_range_check(8, 9, &l), PGNT_BAD_ALIGN);
}

static void segment_check_edges(void)
{
	struct pgnt_dev_limits l = full;

	EXPECT_EQ(pgnt_seg_check(0, 7, &l), PGNT_OK);
	EXPECT_EQ(pgnt_seg_check(3, 3, &l), PGNT_OK);
	EXPECT_EQ(pgnt_seg_check(0, 8, &l), PGNT_BAD_SEGMENT);
	EXPECT_EQ(pgnt_seg_check(4, 3, &l), PGNT_BAD_SEGMENT);
	EXPECT_EQ(pgnt_seg_check(255, 255, &l), PGNT_BAD_SEGMENT);
	EXPECT_EQ(pgnt_seg_check(7, 7, &l), PGNT_OK);
	l.lbs_sectors = 8;
	EXPECT_EQ(pgnt_seg_check(0, 7, &l), PGNT_OK);
	EXPECT_EQ(pgnt_seg_check(0, 3, &l), PGNT_BAD_ALIGN);
	EXPECT_EQ(pgnt_seg_check(4, 7, &l), PGNT_BAD_ALIGN);
}

static void ring_producer_index(void)
{
	/* prod, cons, rsp, entries */
	EXPECT(pgnt_ring_prod_ok(0, 0, 0, 32));
	EXPECT(pgnt_ring_prod_ok(32, 0, 0, 32));
	EXPECT(!pgnt_ring_prod_ok(33, 0, 0, 32));
	/* behind the last response: (prod - rsp) wraps to a huge count */
	EXPECT(!pgnt_ring_prod_ok(5, 6, 6, 32));
	/* wrap-around of the free-running indices */
	EXPECT(pgnt_ring_prod_ok(10, 0xfffffff0U, 0xfffffff0U, 32));
	EXPECT(!pgnt_ring_prod_ok(20, 0xfffffff0U, 0xfffffff0U, 32));
	EXPECT(pgnt_ring_prod_ok(0xffffffffU, 0xffffffe0U, 0xffffffe0U, 32));
	/* two requests in flight (taken, unanswered) */
	EXPECT(pgnt_ring_prod_ok(2, 2, 0, 32));
	EXPECT(pgnt_ring_prod_ok(32, 2, 0, 32));
	EXPECT(!pgnt_ring_prod_ok(33, 2, 0, 32));
	/* behind the consumer, within the responses' window */
	EXPECT(!pgnt_ring_prod_ok(1, 2, 0, 32));
	EXPECT(!pgnt_ring_prod_ok(0xfffffff1U, 0xfffffff2U, 0xfffffff0U, 32));
	EXPECT(pgnt_ring_prod_ok(3, 0xfffffff2U, 0xfffffff0U, 32));
}

static void ring_keys_distinct(void)
{
	const u32 v[] = { 8, 9, 10, 11, 9 };

	EXPECT(pgnt_all_distinct(v, 0));
	EXPECT(pgnt_all_distinct(v, 1));
	EXPECT(pgnt_all_distinct(v, 4));
	EXPECT(!pgnt_all_distinct(v, 5));
	/* the repeat is the first pair */
	EXPECT(!pgnt_all_distinct((const u32[]){ 3, 3, 4 }, 3));
	/* and the last */
	EXPECT(!pgnt_all_distinct((const u32[]){ 1, 2, 4, 4 }, 4));
}

static void verdict_names_and_status(void)
{
	int v;

	for (v = 0; v < PGNT_VERDICT_NR; v++)
		EXPECT(strcmp(pgnt_verdict_name(v), "unknown") != 0);
	EXPECT(strcmp(pgnt_verdict_name(PGNT_VERDICT_NR), "unknown") == 0);
	EXPECT_EQ(pgnt_verdict_status(PGNT_OK), (u64)(s64)PGNT_RSP_OKAY);
	EXPECT(pgnt_verdict_status(PGNT_NOT_SUPPORTED) == PGNT_RSP_EOPNOTSUPP);
	EXPECT(pgnt_verdict_status(PGNT_BAD_RANGE) == PGNT_RSP_ERROR);
	EXPECT(pgnt_verdict_status(PGNT_BAD_OP) == PGNT_RSP_EOPNOTSUPP);
	EXPECT(pgnt_verdict_status(PGNT_BAD_INDIRECT_OP) == PGNT_RSP_ERROR);
	EXPECT(pgnt_verdict_status(PGNT_BAD_NSEGS) == PGNT_RSP_ERROR);
}

static void ids_lifecycle(void)
{
	u32 store[8];
	struct pgnt_ids ids;
	int seen[8] = { 0 };
	int i;

	pgnt_ids_init(&ids, store, 8);
	for (i = 0; i < 8; i++) {
		s32 id = pgnt_ids_get(&ids);

		EXPECT(id >= 0 && id < 8);
		if (id >= 0 && id < 8)
			seen[id]++;
	}
	for (i = 0; i < 8; i++)
		EXPECT_EQ(seen[i], 1);
	EXPECT_EQ(ids.in_flight, 8);
	EXPECT_EQ(pgnt_ids_get(&ids), (u64)(s64)-1);

	EXPECT_EQ(pgnt_ids_put(&ids, 3), 0);
	EXPECT_EQ(pgnt_ids_put(&ids, 3), (u64)(s64)-1);	/* duplicate */
	EXPECT_EQ(pgnt_ids_put(&ids, 8), (u64)(s64)-1);	/* out of range */
	EXPECT_EQ(pgnt_ids_put(&ids, ~0ULL), (u64)(s64)-1);
	EXPECT_EQ(ids.in_flight, 7);
	EXPECT_EQ(pgnt_ids_get(&ids), 3);
	EXPECT(pgnt_ids_busy(&ids, 3));
	EXPECT(!pgnt_ids_busy(&ids, 100));
}

static void ids_never_hand_out_a_busy_id(void)
{
	u32 store[16];
	struct pgnt_ids ids;
	int busy[16] = { 0 };
	u32 seed = 7, i, j, n = 0;

	pgnt_ids_init(&ids, store, 16);
	for (i = 0; i < 20000; i++) {
		seed = seed * 1664525U + 1013904223U;
		if (seed & 0x100) {
			s32 id = pgnt_ids_get(&ids);

			if (n == 16) {
				EXPECT_EQ(id, (u64)(s64)-1);
				continue;
			}
			EXPECT(id >= 0 && id < 16);
			if (id < 0 || id >= 16)
				return;
			EXPECT(!busy[id]);
			busy[id] = 1;
			n++;
		} else {
			j = (seed >> 20) % 16;
			EXPECT_EQ(pgnt_ids_put(&ids, j), busy[j] ? 0 : (u64)(s64)-1);
			if (busy[j]) {
				busy[j] = 0;
				n--;
			}
		}
		EXPECT_EQ(ids.in_flight, n);
	}
}

static void responses(void)
{
	u32 store[4];
	struct pgnt_ids ids;
	s32 id;

	pgnt_ids_init(&ids, store, 4);
	id = pgnt_ids_get(&ids);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, PGNT_RSP_OKAY), PGNT_OK);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_WRITE, PGNT_RSP_OKAY), PGNT_BAD_RSP_OP);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, 1), PGNT_BAD_STATUS);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, -3), PGNT_BAD_STATUS);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, PGNT_RSP_EOPNOTSUPP), PGNT_OK);
	/* indirect: the backend may echo either the wrapper or the data op */
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_INDIRECT, PGNT_OP_WRITE,
				 PGNT_OP_WRITE, PGNT_RSP_ERROR), PGNT_OK);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_INDIRECT, PGNT_OP_WRITE,
				 PGNT_OP_INDIRECT, PGNT_RSP_OKAY), PGNT_OK);
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_INDIRECT, PGNT_OP_WRITE,
				 PGNT_OP_READ, PGNT_RSP_OKAY), PGNT_BAD_RSP_OP);
	EXPECT_EQ(pgnt_rsp_check(&ids, 4, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, 0), PGNT_BAD_ID);
	EXPECT_EQ(pgnt_rsp_check(&ids, 1ULL << 40, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, 0), PGNT_BAD_ID);
	EXPECT_EQ(pgnt_rsp_check(&ids, id + 1, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, 0), PGNT_BAD_NOT_IN_FLIGHT);
	pgnt_ids_put(&ids, id);
	/* the same response again once completed */
	EXPECT_EQ(pgnt_rsp_check(&ids, id, PGNT_OP_READ, PGNT_OP_READ,
				 PGNT_OP_READ, 0), PGNT_BAD_NOT_IN_FLIGHT);
}

UNIT_SUITE(check_tests) = {
	{ "check/requests_table", requests_table },
	{ "check/secure_discard_needs_its_feature", secure_discard_needs_its_feature },
	{ "check/range_check_edges", range_check_edges },
	{ "check/segment_check_edges", segment_check_edges },
	{ "check/ring_producer_index", ring_producer_index },
	{ "check/ring_keys_distinct", ring_keys_distinct },
	{ "check/verdict_names_and_status", verdict_names_and_status },
	{ "check/ids_lifecycle", ids_lifecycle },
	{ "check/ids_never_hand_out_a_busy_id", ids_never_hand_out_a_busy_id },
	{ "check/responses", responses },
};
const unsigned int check_tests_nr = ARRAY_LEN(check_tests);
