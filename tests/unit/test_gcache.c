// SPDX-License-Identifier: GPL-2.0-only
/* The persistent-grant cache of common/pgnt_gcache.h, against a model. */
#include <stdlib.h>
#include <string.h>
#include "pgnt_gcache.h"
#include "unit.h"

#define NODES	512

static struct pgnt_gnode nodes[NODES];
static struct pgnt_gnode *buckets[1 << 10];
static struct pgnt_gnode *buckets2[1 << 12];

/* Nodes on the LRU, walked oldest first; -1 if the list is inconsistent. */
static int lru_len(const struct pgnt_gcache *c)
{
	const struct pgnt_gnode *n = &c->lru;
	int len = 0;

	do {
		if (n->lru_next->lru_prev != n)
			return -1;
		n = n->lru_next;
		if (n != &c->lru && ++len > NODES)
			return -1;
	} while (n != &c->lru);
	return len;
}

static void insert_lookup_remove(void)
{
	struct pgnt_gcache c;
	u32 i;

	pgnt_gcache_init(&c, buckets, 4);	/* 16 chains: long chains */
	for (i = 0; i < 100; i++)
		EXPECT_EQ(pgnt_gcache_insert(&c, &nodes[i], i * 7 + 1), 0);
	EXPECT_EQ(c.count, 100);
	for (i = 0; i < 100; i++)
		EXPECT(pgnt_gcache_lookup(&c, i * 7 + 1) == &nodes[i]);
	EXPECT(pgnt_gcache_lookup(&c, 0) == NULL);
	EXPECT(pgnt_gcache_lookup(&c, 2) == NULL);
	/* a cached gref cannot be added twice */
	EXPECT_EQ(pgnt_gcache_insert(&c, &nodes[200], 8), (u64)(s64)-1);
	EXPECT_EQ(c.count, 100);
	EXPECT(pgnt_gcache_lookup(&c, 8) == &nodes[1]);

	/* in use: cannot be removed */
	EXPECT_EQ(pgnt_gcache_remove(&c, &nodes[1]), (u64)(s64)-1);
	EXPECT_EQ(pgnt_gcache_put(&c, &nodes[1], 5), 0);
	EXPECT_EQ(pgnt_gcache_remove(&c, &nodes[1]), 0);
	EXPECT(pgnt_gcache_lookup(&c, 8) == NULL);
	EXPECT_EQ(c.count, 99);
	EXPECT_EQ(c.idle, 0);
}

static void lru_order_and_staleness(void)
{
	struct pgnt_gcache c;
	u32 i;

	pgnt_gcache_init(&c, buckets, 6);
	for (i = 0; i < 4; i++)
		pgnt_gcache_insert(&c, &nodes[i], 100 + i);
	EXPECT(pgnt_gcache_oldest(&c) == NULL);
	/* released in order 2, 0, 3, 1 at times 10, 20, 30, 40 */
	pgnt_gcache_put(&c, &nodes[2], 10);
	pgnt_gcache_put(&c, &nodes[0], 20);
	pgnt_gcache_put(&c, &nodes[3], 30);
	pgnt_gcache_put(&c, &nodes[1], 40);
	EXPECT_EQ(c.idle, 4);
	EXPECT_EQ(lru_len(&c), 4);
	EXPECT(pgnt_gcache_oldest(&c) == &nodes[2]);

	/* reusing node 2 takes it off the LRU; 0 becomes the oldest */
	pgnt_gcache_get(&c, &nodes[2]);
	EXPECT_EQ(c.idle, 3);
	EXPECT(pgnt_gcache_oldest(&c) == &nodes[0]);
	EXPECT(pgnt_gcache_stale(&c, 50, 31) == NULL);
	EXPECT(pgnt_gcache_stale(&c, 50, 30) == &nodes[0]);

	/* a second user keeps it busy until both are done */
	pgnt_gcache_get(&c, &nodes[2]);
	EXPECT_EQ(pgnt_gcache_put(&c, &nodes[2], 60), 0);
	EXPECT_EQ(c.idle, 3);
	EXPECT_EQ(pgnt_gcache_put(&c, &nodes[2], 70), 0);
	EXPECT_EQ(c.idle, 4);
	EXPECT_EQ(pgnt_gcache_put(&c, &nodes[2], 80), (u64)(s64)-1);

	/* reclaim what is idle for 61 at t=100: 0 and 3 (idle since 20, 30) */
	i = 0;
	while (pgnt_gcache_stale(&c, 100, 61)) {
		struct pgnt_gnode *n = pgnt_gcache_stale(&c, 100, 61);

		EXPECT_EQ(pgnt_gcache_remove(&c, n), 0);
		i++;
	}
	EXPECT_EQ(i, 2);
	EXPECT(pgnt_gcache_lookup(&c, 100) == NULL);
	EXPECT(pgnt_gcache_lookup(&c, 103) == NULL);
	EXPECT(pgnt_gcache_lookup(&c, 101) == &nodes[1]);
	EXPECT_EQ(c.count, 2);
	EXPECT_EQ(lru_len(&c), 2);
}

static void rehash_keeps_everything(void)
{
	struct pgnt_gcache c;
	u32 i;

	pgnt_gcache_init(&c, buckets, 3);
	for (i = 0; i < 300; i++) {
		pgnt_gcache_insert(&c, &nodes[i], 0x10000 + i * 3);
		if (i % 3 == 0)
			pgnt_gcache_put(&c, &nodes[i], i);
	}
	pgnt_gcache_rehash(&c, buckets2, 12);
	EXPECT_EQ(c.count, 300);
	EXPECT_EQ(c.idle, 100);
	for (i = 0; i < 300; i++)
		EXPECT(pgnt_gcache_lookup(&c, 0x10000 + i * 3) == &nodes[i]);
	EXPECT(pgnt_gcache_oldest(&c) == &nodes[0]);
	EXPECT_EQ(lru_len(&c), 100);
}

static void shift_sizing(void)
{
	EXPECT_EQ(pgnt_gcache_shift_for(0), 1);
	EXPECT_EQ(pgnt_gcache_shift_for(2), 1);
	EXPECT_EQ(pgnt_gcache_shift_for(3), 2);
	EXPECT_EQ(pgnt_gcache_shift_for(1056), 11);
	EXPECT_EQ(pgnt_gcache_shift_for(1U << 30), 20);
	/* every hash lands inside the table */
	EXPECT(pgnt_gcache_hash(0xffffffffU, 1) < 2);
	EXPECT(pgnt_gcache_hash(12345, 20) < (1U << 20));
}

/*
 * Random operations against a plain array model: membership, use counts,
 * idle count and LRU order must always agree.
 */
static void random_ops_match_model(void)
{
	struct pgnt_gcache c;
	struct { int cached; u32 users; u64 idle_since; } model[NODES];
	u32 seed = 99, step;
	u64 now = 1;

	memset(model, 0, sizeof(model));
	memset(nodes, 0, sizeof(nodes));
	pgnt_gcache_init(&c, buckets, 5);
	for (step = 0; step < 200000; step++) {
		u32 i, op, idle = 0, count = 0;

		seed = seed * 1103515245U + 12345U;
		i = (seed >> 8) % NODES;
		op = (seed >> 20) % 4;
		now++;
		switch (op) {
		case 0:	/* a request uses gref i: hit or map */
			if (model[i].cached) {
				EXPECT(pgnt_gcache_lookup(&c, i * 13) == &nodes[i]);
				pgnt_gcache_get(&c, &nodes[i]);
			} else {
				EXPECT(pgnt_gcache_lookup(&c, i * 13) == NULL);
				EXPECT_EQ(pgnt_gcache_insert(&c, &nodes[i], i * 13), 0);
				model[i].cached = 1;
			}
			model[i].users++;
			break;
		case 1:	/* completion of a cached grant */
			if (!model[i].cached)
				break;
			EXPECT_EQ(pgnt_gcache_put(&c, &nodes[i], now),
				  model[i].users ? 0 : (u64)(s64)-1);
			if (model[i].users && !--model[i].users)
				model[i].idle_since = now;
			break;
		case 2:	/* eviction attempt */
			if (!model[i].cached)
				break;
			EXPECT_EQ(pgnt_gcache_remove(&c, &nodes[i]),
				  model[i].users ? (u64)(s64)-1 : 0);
			if (!model[i].users)
				model[i].cached = 0;
			break;
		case 3: {	/* reclaim of the oldest, must be the model's oldest */
			struct pgnt_gnode *n = pgnt_gcache_oldest(&c);
			u32 j, best = NODES;

			for (j = 0; j < NODES; j++)
				if (model[j].cached && !model[j].users &&
				    (best == NODES ||
				     model[j].idle_since < model[best].idle_since))
					best = j;
			EXPECT(n == (best == NODES ? NULL : &nodes[best]));
			if (n && best < NODES) {
				EXPECT_EQ(pgnt_gcache_remove(&c, n), 0);
				model[best].cached = 0;
			}
			break;
		}
		}
		if (step % 997)
			continue;
		for (i = 0; i < NODES; i++) {
			count += model[i].cached;
			idle += model[i].cached && !model[i].users;
		}
		EXPECT_EQ(c.count, count);
		EXPECT_EQ(c.idle, idle);
		EXPECT_EQ(lru_len(&c), idle);
		if (unit_failed_checks > 20)
			return;
	}
}

UNIT_SUITE(gcache_tests) = {
	{ "gcache/insert_lookup_remove", insert_lookup_remove },
	{ "gcache/lru_order_and_staleness", lru_order_and_staleness },
	{ "gcache/rehash_keeps_everything", rehash_keeps_everything },
	{ "gcache/shift_sizing", shift_sizing },
	{ "gcache/random_ops_match_model", random_ops_match_model },
};
const unsigned int gcache_tests_nr = ARRAY_LEN(gcache_tests);
