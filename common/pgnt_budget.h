/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Persistent-grant budgets of the backend: the arithmetic of its three
 * levels (ring, guest domain, global; limits and defaults in pgnt.h).
 *
 * A new persistent mapping must fit all three levels.  The backend asks
 * them narrowest first, each for what the previous one let through, so the
 * smallest room wins.  The ring's count belongs to the ring's thread; the
 * domain and global counts are shared, and the backend reserves at those
 * levels with a compare-and-exchange loop around pgnt_budget_fit(), so
 * concurrent rings never push a count past its limit.  The driver
 * (blkback-pgnt/grant.c) keeps only what needs its atomics and its rings:
 * that loop, the order of the levels, handing back to the domain level
 * what the global level refused, and subtracting unmapped grants at all
 * three.  What is allowed, and what is over a limit, is decided here.
 *
 * A limit is re-read at every decision and may be lowered below the count
 * at run time (the parameters are writable): such a level has no room, and
 * pgnt_budget_excess() says how many idle mappings to unmap.
 */
#ifndef PGNT_BUDGET_H
#define PGNT_BUDGET_H

#include "pgnt_types.h"

/*
 * Room left in one level with @used of @limit mapped: none at or over the
 * limit, so a limit of 0 means "no persistent grants".
 */
static inline u32 pgnt_budget_room(u32 used, u32 limit)
{
	return used >= limit ? 0 : limit - used;
}

/*
 * How many of @want new mappings one level lets through: at most its room,
 * so @used plus the result never exceeds @limit (and never wraps).
 */
static inline u32 pgnt_budget_fit(u32 used, u32 limit, u32 want)
{
	u32 room = pgnt_budget_room(used, limit);

	return want < room ? want : room;
}

/* Mappings over the limit of one level (0 when within it). */
static inline u32 pgnt_budget_over(u32 used, u32 limit)
{
	return used > limit ? used - limit : 0;
}

/*
 * Mappings a ring unmaps, oldest idle first, when a limit was lowered below
 * the count: the largest excess of its three levels.  Every mapping of the
 * ring counts at all three, so that many bring each level within its limit
 * (as far as the ring has idle mappings to give).
 */
static inline u32 pgnt_budget_excess(u32 ring_used, u32 ring_limit,
				     u32 dom_used, u32 dom_limit,
				     u32 global_used, u32 global_limit)
{
	u32 n = pgnt_budget_over(ring_used, ring_limit);
	u32 d = pgnt_budget_over(dom_used, dom_limit);
	u32 g = pgnt_budget_over(global_used, global_limit);

	if (d > n)
		n = d;
	if (g > n)
		n = g;
	return n;
}

#endif /* PGNT_BUDGET_H */
