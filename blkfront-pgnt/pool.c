// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: the per-ring page pool.
 *
 * Every segment of every request is bounced through a page of its ring's
 * pool.  With persistent grants each pool page is granted once, when it is
 * first allocated, and keeps its grant until the ring is torn down: the
 * backend maps it once and reuses the mapping.  Without them (the classic
 * protocol) a page is granted for one request, read-only when the backend
 * only reads it, and the grant is ended at completion.
 *
 * The pool grows on demand up to a cap of a full ring of maximal requests,
 * and keeps idle pages most-recently-used first so that a light load keeps
 * reusing the few grants the backend has already mapped.  It is never
 * shrunk while the ring is up.
 *
 * All functions are called with the ring's lock held, and never sleep.
 */

#include <linux/gfp.h>
#include <linux/slab.h>
#include <xen/page.h>

#include "common.h"

void pgfe_pool_init(struct pgfe_pool *pool, unsigned int cap)
{
	INIT_LIST_HEAD(&pool->free);
	pool->nr_free = 0;
	pool->nr_pages = 0;
	pool->cap = cap;
	pool->nr_persistent = 0;
}

int pgfe_gnt_grant(struct pgfe_ring *ring, struct pgfe_gnt *g, bool readonly)
{
	int ref;

	lockdep_assert_held(&ring->lock);
	ref = gnttab_grant_foreign_access(ring->info->xbdev->otherend_id,
					  xen_page_to_gfn(g->page), readonly);
	if (ref < 0)
		return ref;
	g->gref = ref;
	ring->st.c[PGFE_ST_gnt_new]++;
	atomic_long_inc(&pgfe_grants_held);
	return 0;
}

/*
 * End the grant of @g.  Returns false when the backend still maps the page:
 * the page then belongs to the grant-table code, which frees it once the
 * mapping is gone, and @g has been dropped from the pool.
 */
bool pgfe_gnt_end(struct pgfe_ring *ring, struct pgfe_gnt *g)
{
	lockdep_assert_held(&ring->lock);
	if (g->gref == PGFE_GREF_NONE)
		return true;
	atomic_long_dec(&pgfe_grants_held);
	if (gnttab_try_end_foreign_access(g->gref)) {
		g->gref = PGFE_GREF_NONE;
		if (g->persistent) {
			g->persistent = false;
			ring->pool.nr_persistent--;
		}
		return true;
	}
	pgnt_gnttab_end_deferred(g->gref, g->page);
	atomic_long_inc(&pgfe_grants_deferred);
	ring->st.c[PGFE_ST_gnt_abandoned]++;
	if (g->persistent)
		ring->pool.nr_persistent--;
	ring->pool.nr_pages--;
	kfree(g);
	return false;
}

static struct pgfe_gnt *pgfe_pool_grow(struct pgfe_ring *ring)
{
	struct pgfe_gnt *g;

	if (ring->pool.nr_pages >= ring->pool.cap)
		return NULL;
	g = pgnt_kzalloc_obj(*g, GFP_ATOMIC | __GFP_NOWARN);
	if (!g)
		return NULL;
	/* Zeroed: a fresh page must not show the backend stale memory. */
	g->page = alloc_page(GFP_ATOMIC | __GFP_NOWARN | __GFP_ZERO);
	if (!g->page)
		goto out_free_gnt;
	g->gref = PGFE_GREF_NONE;
	if (ring->info->f.persistent) {
		if (pgfe_gnt_grant(ring, g, false))
			goto out_free_page;
		g->persistent = true;
		ring->pool.nr_persistent++;
	}
	ring->pool.nr_pages++;
	return g;

out_free_page:
	__free_page(g->page);
out_free_gnt:
	kfree(g);
	return NULL;
}

/*
 * A page for one segment, granted already when persistent grants are in
 * use.  @reused tells whether an existing grant serves it.  NULL when the
 * pool is exhausted (the request is retried later).
 */
struct pgfe_gnt *pgfe_pool_get(struct pgfe_ring *ring, bool *reused)
{
	struct pgfe_gnt *g;

	lockdep_assert_held(&ring->lock);
	g = list_first_entry_or_null(&ring->pool.free, struct pgfe_gnt, node);
	if (g) {
		list_del(&g->node);
		ring->pool.nr_free--;
		*reused = g->persistent;
		return g;
	}
	*reused = false;
	return pgfe_pool_grow(ring);
}

void pgfe_pool_put(struct pgfe_ring *ring, struct pgfe_gnt *g)
{
	lockdep_assert_held(&ring->lock);
	list_add(&g->node, &ring->pool.free);
	ring->pool.nr_free++;
}

/*
 * Free every idle page, ending its grant.  Called at teardown, when all
 * pages are idle; a page the backend still maps is left to the grant-table
 * code by pgfe_gnt_end().
 */
void pgfe_pool_drain(struct pgfe_ring *ring)
{
	struct pgfe_gnt *g, *tmp;

	lockdep_assert_held(&ring->lock);
	list_for_each_entry_safe(g, tmp, &ring->pool.free, node) {
		list_del(&g->node);
		ring->pool.nr_free--;
		if (!pgfe_gnt_end(ring, g))
			continue;
		__free_page(g->page);
		kfree(g);
		ring->pool.nr_pages--;
	}
	WARN_ON_ONCE(ring->pool.nr_pages || ring->pool.nr_persistent);
}
