/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend's persistent-grant cache: grant reference -> mapping, per ring.
 *
 * A hash table (multiplicative hash, chained) gives O(1) lookup by grant
 * reference on the I/O path, where the stock driver walks an rbtree.  Nodes
 * are embedded in the driver's own mapping record (container_of), so this
 * code never allocates; the bucket array is supplied by the caller too.
 * Nodes not used by any request in flight sit on an LRU list, oldest first,
 * which is all idle reclaim needs; a node in use is never on it, so reclaim
 * can never free a grant that is in flight.
 *
 * The lists are our own, not <linux/list.h>, so the same code runs in the
 * userspace unit tests and microbenchmark.  Callers serialise access (one
 * lock or one thread per ring).
 */
#ifndef PGNT_GCACHE_H
#define PGNT_GCACHE_H

#include "pgnt_types.h"

struct pgnt_gnode {
	struct pgnt_gnode *hnext;	/* hash chain */
	struct pgnt_gnode *lru_prev;	/* LRU links, valid while users == 0 */
	struct pgnt_gnode *lru_next;
	u64 last_used;			/* caller's clock, set when going idle */
	u32 gref;
	u32 users;			/* requests in flight using it */
};

struct pgnt_gcache {
	struct pgnt_gnode **bucket;	/* 1 << shift chains */
	u32 shift;
	u32 count;			/* nodes in the table */
	u32 idle;			/* nodes on the LRU */
	struct pgnt_gnode lru;		/* sentinel: lru_next = oldest */
};

/* Buckets for a cache expected to hold up to @n nodes: load factor <= 1. */
static inline u32 pgnt_gcache_shift_for(u32 n)
{
	u32 shift = 1;

	while (shift < 20 && (1U << shift) < n)
		shift++;
	return shift;
}

static inline u32 pgnt_gcache_hash(u32 gref, u32 shift)
{
	/* Fibonacci hashing: grant refs are often small and consecutive. */
	return (u32)(gref * 0x61C88647U) >> (32 - shift);
}

static inline void pgnt_gcache_init(struct pgnt_gcache *c,
				    struct pgnt_gnode **bucket, u32 shift)
{
	u32 i;

	c->bucket = bucket;
	c->shift = shift;
	c->count = 0;
	c->idle = 0;
	c->lru.lru_prev = &c->lru;
	c->lru.lru_next = &c->lru;
	for (i = 0; i < (1U << shift); i++)
		bucket[i] = NULL;
}

static inline struct pgnt_gnode *pgnt_gcache_lookup(const struct pgnt_gcache *c,
						    u32 gref)
{
	struct pgnt_gnode *n = c->bucket[pgnt_gcache_hash(gref, c->shift)];

	while (n && n->gref != gref)
		n = n->hnext;
	return n;
}

static inline void pgnt_gcache_lru_del(struct pgnt_gcache *c,
				       struct pgnt_gnode *n)
{
	n->lru_prev->lru_next = n->lru_next;
	n->lru_next->lru_prev = n->lru_prev;
	n->lru_prev = NULL;
	n->lru_next = NULL;
	c->idle--;
}

/*
 * Add a freshly mapped grant, in use by the request that mapped it.
 * Returns -1 (and changes nothing) if @gref is already cached.
 */
static inline int pgnt_gcache_insert(struct pgnt_gcache *c,
				     struct pgnt_gnode *n, u32 gref)
{
	u32 h = pgnt_gcache_hash(gref, c->shift);

	if (pgnt_gcache_lookup(c, gref))
		return -1;
	n->gref = gref;
	n->users = 1;
	n->last_used = 0;
	n->lru_prev = NULL;
	n->lru_next = NULL;
	n->hnext = c->bucket[h];
	c->bucket[h] = n;
	c->count++;
	return 0;
}

/* A request starts using a cached grant. */
static inline void pgnt_gcache_get(struct pgnt_gcache *c, struct pgnt_gnode *n)
{
	if (!n->users++)
		pgnt_gcache_lru_del(c, n);
}

/*
 * A request is done with a cached grant; the last user puts it on the LRU
 * as the most recently used.  Returns -1 on a put without a get.
 */
static inline int pgnt_gcache_put(struct pgnt_gcache *c, struct pgnt_gnode *n,
				  u64 now)
{
	if (!n->users)
		return -1;
	if (--n->users)
		return 0;
	n->last_used = now;
	n->lru_next = &c->lru;
	n->lru_prev = c->lru.lru_prev;
	c->lru.lru_prev->lru_next = n;
	c->lru.lru_prev = n;
	c->idle++;
	return 0;
}

/* Unlink an idle node from the cache.  Returns -1 if it is in use. */
static inline int pgnt_gcache_remove(struct pgnt_gcache *c,
				     struct pgnt_gnode *n)
{
	struct pgnt_gnode **pp = &c->bucket[pgnt_gcache_hash(n->gref, c->shift)];

	if (n->users)
		return -1;
	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (!*pp)
		return -1;
	*pp = n->hnext;
	n->hnext = NULL;
	pgnt_gcache_lru_del(c, n);
	c->count--;
	return 0;
}

/* The least recently used idle node, or NULL. */
static inline struct pgnt_gnode *pgnt_gcache_oldest(const struct pgnt_gcache *c)
{
	return c->lru.lru_next == &c->lru ? NULL : c->lru.lru_next;
}

/*
 * The oldest idle node if it has been idle for at least @min_age (in the
 * caller's clock, which must not run backwards), else NULL.
 */
static inline struct pgnt_gnode *pgnt_gcache_stale(const struct pgnt_gcache *c,
						   u64 now, u64 min_age)
{
	struct pgnt_gnode *n = pgnt_gcache_oldest(c);

	if (n && now - n->last_used >= min_age)
		return n;
	return NULL;
}

/*
 * Move every node to a new bucket array (the budget grew at run time).
 * LRU order and use counts are unchanged.
 */
static inline void pgnt_gcache_rehash(struct pgnt_gcache *c,
				      struct pgnt_gnode **bucket, u32 shift)
{
	struct pgnt_gnode **old = c->bucket;
	u32 i, old_nr = 1U << c->shift;

	for (i = 0; i < (1U << shift); i++)
		bucket[i] = NULL;
	for (i = 0; i < old_nr; i++) {
		while (old[i]) {
			struct pgnt_gnode *n = old[i];
			u32 h = pgnt_gcache_hash(n->gref, shift);

			old[i] = n->hnext;
			n->hnext = bucket[h];
			bucket[h] = n;
		}
	}
	c->bucket = bucket;
	c->shift = shift;
}

#endif /* PGNT_GCACHE_H */
