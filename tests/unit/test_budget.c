// SPDX-License-Identifier: GPL-2.0-only
/* Persistent-grant budget arithmetic of common/pgnt_budget.h. */
#include "pgnt.h"
#include "pgnt_budget.h"
#include "unit.h"

#define MAX32	0xffffffffU

/*
 * The levels asked in the order blkback-pgnt/grant.c's pgbk_budget_reserve()
 * asks them, ring, domain, global, each for what the previous let through,
 * with counts that no other ring changes meanwhile.
 */
static u32 reserve(u32 want, u32 ring_used, u32 ring_limit, u32 dom_used,
		   u32 dom_limit, u32 global_used, u32 global_limit)
{
	u32 n = pgnt_budget_fit(ring_used, ring_limit, want);

	n = pgnt_budget_fit(dom_used, dom_limit, n);
	return pgnt_budget_fit(global_used, global_limit, n);
}

static void limit_zero_means_no_persistent_grants(void)
{
	EXPECT_EQ(pgnt_budget_room(0, 0), 0);
	EXPECT_EQ(pgnt_budget_fit(0, 0, 1), 0);
	EXPECT_EQ(pgnt_budget_fit(0, 0, 11), 0);
	EXPECT_EQ(pgnt_budget_fit(0, 0, MAX32), 0);
	/* Any one level at 0 stops all new mappings. */
	EXPECT_EQ(reserve(11, 0, 0, 0, 8192, 0, 65536), 0);
	EXPECT_EQ(reserve(11, 0, 1056, 0, 0, 0, 65536), 0);
	EXPECT_EQ(reserve(11, 0, 1056, 0, 8192, 0, 0), 0);
	/* Set to 0 with mappings held: all of them are excess. */
	EXPECT_EQ(pgnt_budget_over(5, 0), 5);
	EXPECT_EQ(pgnt_budget_excess(5, 0, 5, 8192, 5, 65536), 5);
	EXPECT_EQ(pgnt_budget_excess(5, 1056, 70, 0, 900, 65536), 70);
	EXPECT_EQ(pgnt_budget_excess(0, 0, 0, 0, 0, 0), 0);
}

static void room_under_at_over_limit(void)
{
	EXPECT_EQ(pgnt_budget_room(0, 10), 10);
	EXPECT_EQ(pgnt_budget_room(9, 10), 1);
	EXPECT_EQ(pgnt_budget_room(10, 10), 0);
	/* A limit lowered at run time below what is mapped leaves no room. */
	EXPECT_EQ(pgnt_budget_room(11, 10), 0);
	EXPECT_EQ(pgnt_budget_room(50, 10), 0);

	EXPECT_EQ(pgnt_budget_fit(0, 10, 5), 5);
	EXPECT_EQ(pgnt_budget_fit(5, 10, 5), 5);	/* exactly fills it */
	EXPECT_EQ(pgnt_budget_fit(6, 10, 5), 4);
	EXPECT_EQ(pgnt_budget_fit(9, 10, 5), 1);
	EXPECT_EQ(pgnt_budget_fit(10, 10, 5), 0);
	EXPECT_EQ(pgnt_budget_fit(50, 10, 5), 0);
	EXPECT_EQ(pgnt_budget_fit(3, 10, 0), 0);
}

static void three_levels_smallest_room_wins(void)
{
	/* Room everywhere: all of it. */
	EXPECT_EQ(reserve(11, 0, 100, 0, 100, 0, 100), 11);
	/* Each level in turn the smallest room. */
	EXPECT_EQ(reserve(11, 97, 100, 0, 100, 0, 100), 3);
	EXPECT_EQ(reserve(11, 0, 100, 98, 100, 0, 100), 2);
	EXPECT_EQ(reserve(11, 0, 100, 0, 100, 99, 100), 1);
	EXPECT_EQ(reserve(11, 95, 100, 96, 100, 97, 100), 3);
	EXPECT_EQ(reserve(11, 97, 100, 96, 100, 95, 100), 3);
	EXPECT_EQ(reserve(11, 96, 100, 97, 100, 95, 100), 3);
	/* One level over a lowered limit: nothing, whatever the others. */
	EXPECT_EQ(reserve(11, 0, 100, 120, 100, 0, 100), 0);
	EXPECT_EQ(reserve(11, 0, 100, 0, 100, 101, 100), 0);
	/* Nothing wanted, nothing taken. */
	EXPECT_EQ(reserve(0, 0, 100, 0, 100, 0, 100), 0);
}

static void excess_after_lowered_limit(void)
{
	EXPECT_EQ(pgnt_budget_over(9, 10), 0);
	EXPECT_EQ(pgnt_budget_over(10, 10), 0);
	EXPECT_EQ(pgnt_budget_over(11, 10), 1);
	EXPECT_EQ(pgnt_budget_over(50, 10), 40);

	/* All within: nothing to unmap. */
	EXPECT_EQ(pgnt_budget_excess(10, 10, 60, 60, 100, 100), 0);
	EXPECT_EQ(pgnt_budget_excess(0, 10, 0, 60, 0, 100), 0);
	/* The level most over its limit decides, wherever it is. */
	EXPECT_EQ(pgnt_budget_excess(50, 10, 80, 60, 130, 100), 40);
	EXPECT_EQ(pgnt_budget_excess(30, 10, 100, 60, 130, 100), 40);
	EXPECT_EQ(pgnt_budget_excess(30, 10, 80, 60, 140, 100), 40);
	EXPECT_EQ(pgnt_budget_excess(50, 10, 60, 60, 130, 100), 40);
	EXPECT_EQ(pgnt_budget_excess(10, 10, 100, 60, 120, 100), 40);
	/* Over at one level only, the others under theirs. */
	EXPECT_EQ(pgnt_budget_excess(30, 10, 30, 60, 30, 100), 20);
	EXPECT_EQ(pgnt_budget_excess(30, 40, 70, 60, 90, 100), 10);
	EXPECT_EQ(pgnt_budget_excess(30, 40, 50, 60, 105, 100), 5);
}

static void no_u32_wrap(void)
{
	u32 used, limit, want;

	EXPECT_EQ(pgnt_budget_room(0, MAX32), MAX32);
	EXPECT_EQ(pgnt_budget_room(MAX32, MAX32), 0);
	EXPECT_EQ(pgnt_budget_room(MAX32, 0), 0);
	EXPECT_EQ(pgnt_budget_room(MAX32, 1), 0);
	EXPECT_EQ(pgnt_budget_fit(MAX32 - 1, MAX32, MAX32), 1);
	EXPECT_EQ(pgnt_budget_fit(1, MAX32, MAX32), MAX32 - 1);
	EXPECT_EQ(pgnt_budget_fit(0, MAX32, MAX32), MAX32);
	EXPECT_EQ(pgnt_budget_fit(MAX32, 10, MAX32), 0);
	EXPECT_EQ(pgnt_budget_over(MAX32, 0), MAX32);
	EXPECT_EQ(pgnt_budget_over(0, MAX32), 0);
	EXPECT_EQ(pgnt_budget_over(MAX32, MAX32), 0);
	EXPECT_EQ(pgnt_budget_excess(MAX32, 0, 0, 0, 0, 0), MAX32);
	EXPECT_EQ(pgnt_budget_excess(0, MAX32, 0, MAX32, MAX32, 1),
		  MAX32 - 1);
	EXPECT_EQ(reserve(MAX32, 0, MAX32, 0, MAX32, 0, MAX32), MAX32);
	EXPECT_EQ(reserve(MAX32, 2, MAX32, 1, MAX32, 3, MAX32), MAX32 - 3);

	/* Against the arithmetic in 64 bits, near 0 and near 2^32. */
	for (used = 0; used < 40; used++) {
		for (limit = 0; limit < 40; limit++) {
			for (want = 0; want < 40; want++) {
				static const u32 top[] = { 0, MAX32 - 39 };
				unsigned int i;

				for (i = 0; i < ARRAY_LEN(top); i++) {
					u64 u = (u64)used + top[i];
					u64 l = (u64)limit + top[i];
					u64 room = u >= l ? 0 : l - u;
					u64 fit = want < room ? want : room;
					u32 n = pgnt_budget_fit((u32)u, (u32)l,
								want);

					EXPECT_EQ(pgnt_budget_room((u32)u,
								   (u32)l),
						  room);
					EXPECT_EQ(n, fit);
					EXPECT(n <= want);
					EXPECT(u + n <= (l > u ? l : u));
					EXPECT_EQ(pgnt_budget_over((u32)u,
								   (u32)l),
						  u > l ? u - l : 0);
				}
			}
		}
	}
}

/*
 * The backend's counts, levels asked as grant.c asks them, with limits
 * lowered and raised at random and excess reclaimed as the ring thread
 * does: no reservation ever takes a level past its limit, and reclaiming
 * the excess brings every level of that ring within.
 */
static void budget_never_exceeded(void)
{
	u32 ring[4] = { 0 }, dom[2] = { 0 }, global = 0;
	u32 lim_ring = 40, lim_dom = 60, lim_global = 100;
	u32 seed = 12345, i;

	for (i = 0; i < 20000; i++) {
		u32 r, d, want, n, x;

		seed = seed * 1103515245U + 12345U;
		r = (seed >> 16) % 4;
		d = r / 2;
		want = (seed >> 8) % 12;
		if ((seed & 0x3ff) == 3) {
			/* an admin writes the parameters */
			lim_ring = (seed >> 20) % 50;
			lim_dom = (seed >> 12) % 80;
			lim_global = (seed >> 4) % 120;
		}
		x = pgnt_budget_excess(ring[r], lim_ring, dom[d], lim_dom,
				       global, lim_global);
		if (x) {
			/* unmap up to that many of the ring's own */
			u32 y = x < ring[r] ? x : ring[r];

			ring[r] -= y;
			dom[d] -= y;
			global -= y;
			if (y == x) {
				EXPECT(ring[r] <= lim_ring);
				EXPECT(dom[d] <= lim_dom);
				EXPECT(global <= lim_global);
			}
		}
		if (ring[r] > lim_ring || dom[d] > lim_dom ||
		    global > lim_global) {
			/* still over: no new mapping */
			EXPECT_EQ(reserve(want, ring[r], lim_ring, dom[d],
					  lim_dom, global, lim_global), 0);
			continue;
		}
		n = reserve(want, ring[r], lim_ring, dom[d], lim_dom, global,
			    lim_global);
		EXPECT(n <= want);
		ring[r] += n;
		dom[d] += n;
		global += n;
		/* occasionally release some, as reclaim does */
		if ((seed & 0xff) == 7 && ring[r]) {
			ring[r]--;
			dom[d]--;
			global--;
		}
		EXPECT(ring[r] <= lim_ring);
		EXPECT(dom[d] <= lim_dom);
		EXPECT(global <= lim_global);
	}
	EXPECT_EQ(global, dom[0] + dom[1]);
	EXPECT_EQ(dom[0], ring[0] + ring[1]);
	EXPECT_EQ(dom[1], ring[2] + ring[3]);
}

UNIT_SUITE(budget_tests) = {
	{ "budget/limit_zero_means_no_persistent_grants", limit_zero_means_no_persistent_grants },
	{ "budget/room_under_at_over_limit", room_under_at_over_limit },
	{ "budget/three_levels_smallest_room_wins", three_levels_smallest_room_wins },
	{ "budget/excess_after_lowered_limit", excess_after_lowered_limit },
	{ "budget/no_u32_wrap", no_u32_wrap },
	{ "budget/never_exceeded", budget_never_exceeded },
};
const unsigned int budget_tests_nr = ARRAY_LEN(budget_tests);
