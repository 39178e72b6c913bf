// SPDX-License-Identifier: GPL-2.0-only
/* Limit arithmetic of common/pgnt.h. */
#include "pgnt.h"
#include "unit.h"

/* Sizes of the union of request and response in the blkif ring ABIs. */
#define ENTRY_NATIVE64	112
#define ENTRY_X86_32	108

static void ring_entries_match_the_protocol(void)
{
	/* One page holds 32 requests, 16 pages 512, in every ABI. */
	EXPECT_EQ(pgnt_ring_entries(0, ENTRY_NATIVE64), 32);
	EXPECT_EQ(pgnt_ring_entries(0, ENTRY_X86_32), 32);
	EXPECT_EQ(pgnt_ring_entries(1, ENTRY_NATIVE64), 64);
	EXPECT_EQ(pgnt_ring_entries(2, ENTRY_NATIVE64), 128);
	EXPECT_EQ(pgnt_ring_entries(4, ENTRY_NATIVE64), 512);
	EXPECT_EQ(pgnt_ring_entries(4, ENTRY_X86_32), 512);
	/* Header is subtracted before dividing: 64-byte entries, one page. */
	EXPECT_EQ(pgnt_ring_entries(0, 64), 32);
	EXPECT_EQ(pgnt_ring_entries(0, 63), 64);
}

static void ring_entries_refuse_bad_arguments(void)
{
	EXPECT_EQ(pgnt_ring_entries(PGNT_RING_PAGE_ORDER_MAX + 1, 112), 0);
	EXPECT_EQ(pgnt_ring_entries(31, 112), 0);
	EXPECT_EQ(pgnt_ring_entries(0, 0), 0);
	EXPECT_EQ(pgnt_ring_entries(0, 5000), 0);
}

static void rounddown_pow2_values(void)
{
	EXPECT_EQ(pgnt_rounddown_pow2(0), 0);
	EXPECT_EQ(pgnt_rounddown_pow2(1), 1);
	EXPECT_EQ(pgnt_rounddown_pow2(2), 2);
	EXPECT_EQ(pgnt_rounddown_pow2(3), 2);
	EXPECT_EQ(pgnt_rounddown_pow2(36), 32);
	EXPECT_EQ(pgnt_rounddown_pow2(0xffffffffU), 0x80000000U);
}

static void indirect_pages_per_segment_count(void)
{
	static const struct { u32 segs, pages; } t[] = {
		{ 0, 0 }, { 1, 0 }, { 11, 0 }, { 12, 1 }, { 32, 1 },
		{ 256, 1 }, { 512, 1 }, { 513, 2 }, { 4096, 8 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(t); i++)
		EXPECT_EQ(pgnt_indirect_pages(t[i].segs), t[i].pages);
	EXPECT_EQ(PGNT_SEGS_PER_INDIRECT_PAGE, 512);
	EXPECT_EQ(PGNT_SEGS_WIRE_MAX, 4096);
}

static void negotiation_ranges(void)
{
	EXPECT_EQ(pgnt_negotiate_ring_order(0, 4), 0);
	EXPECT_EQ(pgnt_negotiate_ring_order(4, 4), 4);
	EXPECT_EQ(pgnt_negotiate_ring_order(3, 2), -1);
	EXPECT_EQ(pgnt_negotiate_ring_order(5, 10), -1);
	EXPECT_EQ(pgnt_negotiate_ring_order(0xffffffffU, 4), -1);

	EXPECT_EQ(pgnt_negotiate_queues(1, 4), 1);
	EXPECT_EQ(pgnt_negotiate_queues(4, 4), 4);
	EXPECT_EQ(pgnt_negotiate_queues(0, 4), -1);
	EXPECT_EQ(pgnt_negotiate_queues(5, 4), -1);
	EXPECT_EQ(pgnt_negotiate_queues(PGNT_QUEUES_MAX + 1, 1000), -1);
}

UNIT_SUITE(limits_tests) = {
	{ "limits/ring_entries_match_the_protocol", ring_entries_match_the_protocol },
	{ "limits/ring_entries_refuse_bad_arguments", ring_entries_refuse_bad_arguments },
	{ "limits/rounddown_pow2_values", rounddown_pow2_values },
	{ "limits/indirect_pages_per_segment_count", indirect_pages_per_segment_count },
	{ "limits/negotiation_ranges", negotiation_ranges },
};
const unsigned int limits_tests_nr = ARRAY_LEN(limits_tests);
