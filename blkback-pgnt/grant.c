// SPDX-License-Identifier: GPL-2.0-only
/*
 * Grants of one ring: the persistent-grant cache, the three budgets that
 * bound it, and what is done beyond them (grant copy through dom0 pages
 * allocated on demand, or map+unmap per request when overflow_copy=N).
 *
 * Everything here runs in the ring's thread, or at connect/teardown when
 * that thread does not run, so the per-ring state needs no lock.  Only the
 * domain and global counters are shared, and they are only ever changed
 * by atomic reservation, so no interleaving of rings can push a count past
 * its limit.
 *
 * All grant operations go through gnttab_map_refs(), gnttab_unmap_refs()
 * (via gnttab_unmap_refs_sync()) and gnttab_batch_copy(), one call per
 * request and kind, so they can be counted from outside the driver.
 */

#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <xen/page.h>

#include "common.h"

/* The grant-table ops take the kernel address of the page as "host_addr". */
static phys_addr_t pgbk_page_addr(struct page *page)
{
	return (phys_addr_t)(unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

/*
 * ---- budgets ----
 *
 * What fits and what is over a limit is decided in common/pgnt_budget.h;
 * here are the atomics and the rings.  The limits are module parameters,
 * and the shared counts (struct pgbk_dom's and pgbk_global_mapped) live
 * with them in main.c.
 */

/* Reserve up to @want units of one shared budget level; returns how many. */
static u32 pgbk_budget_take(atomic_t *used, u32 limit, u32 want)
{
	int old = atomic_read(used);
	u32 n;

	do {
		n = pgnt_budget_fit((u32)old, limit, want);
		if (!n)
			return 0;
	} while (!atomic_try_cmpxchg(used, &old, old + (int)n));
	return n;
}

/*
 * Reserve room for @want new persistent mappings at ring, domain and global
 * level at once.  The limits are re-read at every call, so a change of the
 * module parameters applies to the next request.
 */
static u32 pgbk_budget_reserve(struct pgbk_ring *ring, u32 want)
{
	atomic_t *dom = &ring->be->dom->mapped;
	u32 n, d = 0, g = 0;

	n = pgnt_budget_fit(ring->pg_count, READ_ONCE(pgbk_max_pgrants_ring),
			    want);
	if (n)
		d = pgbk_budget_take(dom, READ_ONCE(pgbk_max_pgrants_domain), n);
	if (d)
		g = pgbk_budget_take(&pgbk_global_mapped,
				     READ_ONCE(pgbk_max_pgrants_total), d);
	if (g < d)
		atomic_sub(d - g, dom);
	if (g < want)
		pgbk_stat_add(ring, PGBK_ST_budget_refusals, want - g);
	ring->pg_count += g;
	return g;
}

static void pgbk_budget_release(struct pgbk_ring *ring, u32 n)
{
	ring->pg_count -= n;
	atomic_sub(n, &ring->be->dom->mapped);
	atomic_sub(n, &pgbk_global_mapped);
}

/* Mappings to drop now because a limit was lowered below the usage. */
static u32 pgbk_budget_excess(struct pgbk_ring *ring)
{
	return pgnt_budget_excess(ring->pg_count,
				  READ_ONCE(pgbk_max_pgrants_ring),
				  atomic_read(&ring->be->dom->mapped),
				  READ_ONCE(pgbk_max_pgrants_domain),
				  atomic_read(&pgbk_global_mapped),
				  READ_ONCE(pgbk_max_pgrants_total));
}

/* ---- pages to map grants into ---- */

static void pgbk_pages_put(struct pgbk_ring *ring, struct page **pages,
			   unsigned int n)
{
	while (n && ring->nr_spare < ring->max_spare)
		ring->spare[ring->nr_spare++] = pages[--n];
	if (n)
		gnttab_free_pages(n, pages);
}

static int pgbk_pages_get(struct pgbk_ring *ring, struct page **pages,
			  unsigned int n)
{
	unsigned int i = 0;

	while (i < n && ring->nr_spare)
		pages[i++] = ring->spare[--ring->nr_spare];
	if (i < n && gnttab_alloc_pages(n - i, pages + i)) {
		pgbk_pages_put(ring, pages, i);
		return -ENOMEM;
	}
	return 0;
}

/*
 * ---- copy pages ----
 *
 * dom0 memory is spent on copying only while a ring copies: pages are
 * allocated when a request needs them, within the ring's copy_max and the
 * global max_copy_pages_total, and all free ones are given back once the
 * ring has not copied for PGNT_COPY_IDLE_SECONDS.  A request that cannot
 * get its pages is mapped instead (pgbk_grant_acquire), so a ring never
 * waits on pages that other rings hold.
 */

static void pgbk_copy_count(struct pgbk_ring *ring)
{
	pgbk_stat_set(ring, PGBK_ST_copy_pages, ring->copy_nr);
}

/* At least @want free copy pages on the ring's stack, or false. */
static bool pgbk_copy_ensure(struct pgbk_ring *ring, unsigned int want)
{
	unsigned int n, got;

	if (ring->copy_nfree >= want)
		return true;
	n = want - ring->copy_nfree;
	if (ring->copy_nr + n > ring->copy_max)
		return false;
	got = pgbk_budget_take(&pgbk_global_copy,
			       READ_ONCE(pgbk_max_copy_pages_total), n);
	for (; got; got--, n--) {
		struct page *page = alloc_page(GFP_NOIO | __GFP_NOWARN);

		if (!page)
			break;
		ring->copy_free[ring->copy_nfree++] = page;
		ring->copy_nr++;
	}
	atomic_sub(got, &pgbk_global_copy);
	pgbk_copy_count(ring);
	return !n;
}

/* Give the free copy pages back: all (@all), or once idle long enough. */
static void pgbk_copy_trim(struct pgbk_ring *ring, bool all)
{
	u64 idle = (u64)PGNT_COPY_IDLE_SECONDS * HZ;
	unsigned int n = ring->copy_nfree;

	if (!n || (!all && time_before64(get_jiffies_64(),
					 ring->copy_used + idle)))
		return;
	while (ring->copy_nfree)
		__free_page(ring->copy_free[--ring->copy_nfree]);
	ring->copy_nr -= n;
	atomic_sub(n, &pgbk_global_copy);
	pgbk_copy_count(ring);
}

/*
 * May the ring take a request, as far as copy pages go?  Yes if a request
 * of max_segs would get its pages, and if nothing of this ring's is in
 * flight (acquire then maps what it cannot copy).  No only while this
 * ring's own requests hold the pages: their completions give them back.
 */
bool pgbk_grant_copy_room(const struct pgbk_ring *ring)
{
	unsigned int need;

	if (ring->copy_nfree >= ring->max_segs ||
	    ring->copy_nfree == ring->copy_nr)
		return true;
	need = ring->max_segs - ring->copy_nfree;
	return ring->copy_nr + need <= ring->copy_max &&
	       pgnt_budget_fit((u32)atomic_read(&pgbk_global_copy),
			       READ_ONCE(pgbk_max_copy_pages_total),
			       need) == need;
}

/* ---- grant operations ---- */

static void pgbk_copy_op(struct gnttab_copy *op, const struct pgbk_seg *s,
			 domid_t domid, bool to_guest)
{
	u16 off = (u16)s->first_sect << PGNT_SECTOR_SHIFT;

	op->len = (u16)(s->last_sect - s->first_sect + 1) << PGNT_SECTOR_SHIFT;
	op->status = GNTST_general_error;
	if (to_guest) {
		op->source.u.gmfn = xen_page_to_gfn(s->page);
		op->source.domid = DOMID_SELF;
		op->source.offset = off;
		op->dest.u.ref = s->gref;
		op->dest.domid = domid;
		op->dest.offset = off;
		op->flags = GNTCOPY_dest_gref;
	} else {
		op->source.u.ref = s->gref;
		op->source.domid = domid;
		op->source.offset = off;
		op->dest.u.gmfn = xen_page_to_gfn(s->page);
		op->dest.domid = DOMID_SELF;
		op->dest.offset = off;
		op->flags = GNTCOPY_source_gref;
	}
}

/* One GNTTABOP_copy batch; -EIO if any segment failed. */
static int pgbk_copy_batch(struct pgbk_ring *ring, unsigned int n)
{
	unsigned int i;
	int err = 0;

	gnttab_batch_copy(ring->copy_ops, n);
	pgbk_stat_add(ring, PGBK_ST_copies, n);
	for (i = 0; i < n; i++) {
		if (ring->copy_ops[i].status == GNTST_okay)
			continue;
		dev_warn_ratelimited(&ring->be->dev->dev,
				     "ring %u: grant copy failed: %d\n",
				     ring->idx, ring->copy_ops[i].status);
		err = -EIO;
	}
	return err;
}

/*
 * Unmap ring->unmap_ops[0..n) in one batch and recycle their pages.  A page
 * whose unmap failed may still show guest memory: it is leaked, never
 * reused.  Returns how many were leaked.
 */
static unsigned int pgbk_unmap_batch(struct pgbk_ring *ring, unsigned int n)
{
	struct gntab_unmap_queue_data data = {
		.unmap_ops = ring->unmap_ops,
		.kunmap_ops = NULL,
		.pages = ring->unmap_pages,
		.count = n,
	};
	unsigned int i, leaked = 0;
	int ret;

	ret = gnttab_unmap_refs_sync(&data);
	pgbk_stat_add(ring, PGBK_ST_pgrant_unmaps, n);
	for (i = 0; i < n; i++) {
		if (!ret && ring->unmap_ops[i].status == GNTST_okay) {
			pgbk_pages_put(ring, &ring->unmap_pages[i], 1);
			continue;
		}
		leaked++;
		dev_err_ratelimited(&ring->be->dev->dev,
				    "ring %u: grant unmap failed (%d/%d), page leaked\n",
				    ring->idx, ret, ring->unmap_ops[i].status);
	}
	pgbk_stat_add(ring, PGBK_ST_pgrant_leaks, leaked);
	return leaked;
}

/* The cache outgrew its buckets (the ring budget was raised): rehash. */
static void pgbk_cache_maybe_grow(struct pgbk_ring *ring)
{
	u32 shift = ring->gc.shift + 1;
	struct pgnt_gnode **b;

	if (ring->gc.count <= (2U << ring->gc.shift) || shift > 20)
		return;
	b = kvcalloc(1U << shift, sizeof(*b), GFP_NOIO | __GFP_NOWARN);
	if (!b)
		return;		/* longer chains, still correct */
	pgnt_gcache_rehash(&ring->gc, b, shift);
	kvfree(ring->buckets);
	ring->buckets = b;
}

/* Bookkeeping for one map op of the request's batch. */
static int pgbk_map_done(struct pgbk_ring *ring, struct pgbk_seg *s,
			 struct page *page,
			 const struct gnttab_map_grant_ref *op, bool meta)
{
	struct pgbk_pgrant *pg;

	if (op->status != GNTST_okay) {
		/* An indirect page may be read-only: it is copied instead. */
		if (!meta)
			dev_warn_ratelimited(&ring->be->dev->dev,
					     "ring %u: mapping grant %u failed: %d\n",
					     ring->idx, s->gref, op->status);
		pgbk_pages_put(ring, &page, 1);
		if (s->kind == PGBK_SEG_NEW)
			pgbk_budget_release(ring, 1);
		s->kind = PGBK_SEG_NONE;
		return -EIO;
	}
	s->page = page;
	if (s->kind == PGBK_SEG_MAP) {
		s->handle = op->handle;
		return 0;
	}
	pg = kmalloc(sizeof(*pg), GFP_NOIO | __GFP_NOWARN);
	if (pg && !pgnt_gcache_insert(&ring->gc, &pg->node, s->gref)) {
		pg->page = page;
		pg->handle = op->handle;
		s->pg = pg;
		s->kind = PGBK_SEG_PERSISTENT;
		pgbk_cache_maybe_grow(ring);
		return 0;
	}
	/* No memory for the record: this mapping lives for the request. */
	kfree(pg);
	pgbk_budget_release(ring, 1);
	s->kind = PGBK_SEG_MAP;
	s->handle = op->handle;
	return 0;
}

/*
 * gnttab_map_refs() failed as a whole (the hypercall, or setting up dom0's
 * p2m for the mapped frames): no page of the batch may be read.  Those
 * that Xen mapped are kept as this request's temporary mappings, so that
 * releasing the failed request unmaps them; the others go back.
 */
static void pgbk_map_failed(struct pgbk_ring *ring, unsigned int n, int ret)
{
	unsigned int i;

	dev_warn_ratelimited(&ring->be->dev->dev,
			     "ring %u: mapping %u grants failed: %d\n",
			     ring->idx, n, ret);
	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = ring->map_segs[i];

		if (s->kind == PGBK_SEG_NEW)
			pgbk_budget_release(ring, 1);
		if (ring->map_ops[i].status == GNTST_okay) {
			s->kind = PGBK_SEG_MAP;
			s->page = ring->map_pages[i];
			s->handle = ring->map_ops[i].handle;
		} else {
			pgbk_pages_put(ring, &ring->map_pages[i], 1);
			s->kind = PGBK_SEG_NONE;
		}
	}
	pgbk_stat_set(ring, PGBK_ST_pgrants_mapped, ring->pg_count);
}

/*
 * Map the @n segments of ring->map_segs.  Returns 0, -EIO if Xen refused
 * some of them (each op's status tells which), -ENOMEM if no pages could
 * be had (nothing was tried) or -EFAULT if the batch failed as a whole.
 */
static int pgbk_map_batch(struct pgbk_ring *ring, unsigned int n,
			  bool to_guest, bool meta, domid_t domid)
{
	unsigned int i;
	int err = 0, ret;

	if (pgbk_pages_get(ring, ring->map_pages, n)) {
		for (i = 0; i < n; i++) {
			if (ring->map_segs[i]->kind == PGBK_SEG_NEW)
				pgbk_budget_release(ring, 1);
			ring->map_segs[i]->kind = PGBK_SEG_NONE;
		}
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = ring->map_segs[i];
		u32 flags = GNTMAP_host_map;

		/* Persistent mappings serve later reads too: always r/w. */
		if (s->kind == PGBK_SEG_MAP && !to_guest)
			flags |= GNTMAP_readonly;
		gnttab_set_map_op(&ring->map_ops[i],
				  pgbk_page_addr(ring->map_pages[i]), flags,
				  s->gref, domid);
		ring->map_ops[i].status = GNTST_general_error;
	}
	ret = gnttab_map_refs(ring->map_ops, NULL, ring->map_pages, n);
	pgbk_stat_add(ring, PGBK_ST_pgrant_maps, n);
	if (ret) {
		pgbk_map_failed(ring, n, ret);
		return -EFAULT;
	}
	for (i = 0; i < n; i++) {
		if (pgbk_map_done(ring, ring->map_segs[i], ring->map_pages[i],
				  &ring->map_ops[i], meta))
			err = -EIO;
	}
	pgbk_stat_set(ring, PGBK_ST_pgrants_mapped, ring->pg_count);
	return err;
}

/* By grant ref, then by position in the request. */
static int pgbk_seg_cmp(const void *a, const void *b)
{
	const struct pgbk_seg *x = *(const struct pgbk_seg * const *)a;
	const struct pgbk_seg *y = *(const struct pgbk_seg * const *)b;

	if (x->gref != y->gref)
		return x->gref < y->gref ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * A request may name one grant ref in many segments.  Mapping each would
 * let a guest make us map and unmap the same page hundreds of times per
 * request, outside every budget, so a ref is mapped once and the later
 * segments share that mapping (which is what separate mappings of one
 * guest page would show anyway).  @m: the request's @n misses.  Marks all
 * but the first segment of each ref PGBK_SEG_SHARED, ->lead the first, and
 * returns how many distinct refs there are.
 */
static unsigned int pgbk_misses_dedupe(struct pgbk_seg **m, unsigned int n)
{
	unsigned int i, distinct = n;

	if (n < 2)
		return n;
	sort(m, n, sizeof(*m), pgbk_seg_cmp, NULL);
	for (i = 1; i < n; i++) {
		if (m[i]->gref != m[i - 1]->gref)
			continue;
		m[i]->kind = PGBK_SEG_SHARED;
		m[i]->lead = m[i - 1]->kind == PGBK_SEG_SHARED ?
			     m[i - 1]->lead : m[i - 1];
		distinct--;
	}
	return distinct;
}

/* After the map batch: shared segments take their lead's mapping. */
static int pgbk_shared_resolve(struct pgbk_ring *ring, struct pgbk_seg *segs,
			       unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = &segs[i], *l = s->lead;

		if (s->kind != PGBK_SEG_SHARED)
			continue;
		if (l->kind == PGBK_SEG_PERSISTENT) {
			pgnt_gcache_get(&ring->gc, &l->pg->node);
			s->pg = l->pg;
			s->kind = PGBK_SEG_PERSISTENT;
		} else if (l->kind != PGBK_SEG_MAP) {
			s->kind = PGBK_SEG_NONE;	/* its map failed */
			err = -EIO;
			continue;
		}
		s->page = l->page;
	}
	return err;
}

/*
 * Indirect pages that could not be mapped persistently are copied to the
 * scratch pages, as without persistent grants: the backend only reads
 * them, so a frontend may grant them read-only.  Xen refuses a read-write
 * map of such a page with the status it gives a bad ref
 * (GNTST_general_error), so any refused map is retried as a copy, which
 * checks the grant again and fails the request if the ref is bad.  After
 * a refusal (one of the @nmap maps), this ring's indirect pages are
 * copied without trying.  Adds the copies to the ring's batch at *@ncopy.
 */
static void pgbk_meta_unmapped(struct pgbk_ring *ring, struct pgbk_seg *segs,
			       unsigned int n, unsigned int nmap,
			       unsigned int *ncopy)
{
	domid_t domid = ring->be->dev->otherend_id;
	unsigned int i;

	for (i = 0; i < nmap; i++)
		if (ring->map_ops[i].status != GNTST_okay)
			ring->meta_ro = true;
	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = &segs[i], *l = s;

		if (s->kind == PGBK_SEG_SHARED)
			l = s->lead;
		else if (s->kind != PGBK_SEG_NONE)
			continue;
		if (l->kind == PGBK_SEG_PERSISTENT || l->kind == PGBK_SEG_MAP)
			continue;	/* shares its lead's mapping */
		s->kind = PGBK_SEG_SCRATCH;
		s->page = ring->iscratch[i];
		pgbk_copy_op(&ring->copy_ops[(*ncopy)++], s, domid, false);
	}
}

/*
 * Make the guest data of @n segments reachable in dom0 for one request:
 * cached persistent mapping, new persistent mapping within the budgets,
 * else a copy page (filled now when the data goes to the disk) or, with
 * overflow_copy=N or when no copy pages can be had, a temporary mapping.
 * @meta: indirect pages, which are copied to the ring's scratch pages when
 * not mapped persistently.  On error, the segments
 * acquired so far stay recorded in @segs: the caller releases them.
 */
int pgbk_grant_acquire(struct pgbk_ring *ring, struct pgbk_seg *segs,
		       unsigned int n, bool to_guest, bool meta)
{
	domid_t domid = ring->be->dev->otherend_id;
	bool copy = meta || READ_ONCE(pgbk_overflow_copy);
	unsigned int i, misses = 0, nmap = 0, ncopy = 0;
	bool shared = false;
	int err = 0, ret;
	u32 allow = 0;

	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = &segs[i];
		struct pgnt_gnode *node = pgnt_gcache_lookup(&ring->gc, s->gref);

		s->kind = PGBK_SEG_NONE;
		if (!node) {
			ring->map_segs[misses++] = s;
			continue;
		}
		pgnt_gcache_get(&ring->gc, node);
		s->pg = container_of(node, struct pgbk_pgrant, node);
		s->page = s->pg->page;
		s->kind = PGBK_SEG_PERSISTENT;
	}
	pgbk_stat_add(ring, PGBK_ST_pgrant_hits, n - misses);
	if (!misses)
		return 0;
	pgbk_stat_add(ring, PGBK_ST_pgrant_misses, misses);
	if (ring->persistent && !(meta && ring->meta_ro))
		allow = pgbk_budget_reserve(ring,
					    pgbk_misses_dedupe(ring->map_segs,
							       misses));
	/* At most the misses beyond the budget are copied. */
	if (copy && !meta && !pgbk_copy_ensure(ring, misses - allow)) {
		pgbk_stat_add(ring, PGBK_ST_copy_fallbacks, 1);
		copy = false;
	}
	/* Copies need no sharing: only what may be mapped is deduplicated. */
	if (!ring->persistent && !copy)
		pgbk_misses_dedupe(ring->map_segs, misses);

	/* ring->map_segs is refilled below with what is mapped. */
	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = &segs[i];

		if (s->kind == PGBK_SEG_SHARED) {
			/* Its lead comes first in the request. */
			if (s->lead->kind == PGBK_SEG_NEW ||
			    s->lead->kind == PGBK_SEG_MAP) {
				shared = true;
				continue;
			}
			s->kind = PGBK_SEG_NONE;	/* copied, as its lead */
		} else if (s->kind != PGBK_SEG_NONE) {
			continue;
		} else if (allow) {
			allow--;
			s->kind = PGBK_SEG_NEW;
			ring->map_segs[nmap++] = s;
			continue;
		}
		if (meta) {
			s->kind = PGBK_SEG_SCRATCH;
			s->page = ring->iscratch[i];
			pgbk_copy_op(&ring->copy_ops[ncopy++], s, domid, false);
		} else if (copy) {
			/* pgbk_copy_ensure() put enough on the stack. */
			s->page = ring->copy_free[--ring->copy_nfree];
			s->kind = PGBK_SEG_COPY;
			if (!to_guest)
				pgbk_copy_op(&ring->copy_ops[ncopy++], s, domid,
					     false);
		} else {
			s->kind = PGBK_SEG_MAP;
			ring->map_segs[nmap++] = s;
		}
	}
	if (nmap) {
		ret = pgbk_map_batch(ring, nmap, to_guest, meta, domid);
		/* Map statuses are this batch's only after an -EIO. */
		if (meta && (ret == -EIO || ret == -ENOMEM)) {
			pgbk_meta_unmapped(ring, segs, n,
					   ret == -EIO ? nmap : 0, &ncopy);
			ret = 0;
		}
		if (ret)
			err = ret;
	}
	if (shared) {
		ret = pgbk_shared_resolve(ring, segs, n);
		if (ret)
			err = ret;
	}
	if (ncopy) {
		ret = pgbk_copy_batch(ring, ncopy);
		if (ret)
			err = ret;
	}
	return err;
}

/*
 * A request is done with its segments: copy read data out to the guest
 * (@copy_out, reads that succeeded), drop cache references, unmap the
 * temporary mappings, give back copy-pool pages.  Returns -EIO if copying
 * out failed.
 */
int pgbk_grant_release(struct pgbk_ring *ring, struct pgbk_seg *segs,
		       unsigned int n, bool to_guest, bool copy_out)
{
	domid_t domid = ring->be->dev->otherend_id;
	u64 now = get_jiffies_64();
	unsigned int i, ncopy = 0, nunmap = 0;
	int err = 0;

	if (to_guest && copy_out) {
		for (i = 0; i < n; i++)
			if (segs[i].kind == PGBK_SEG_COPY)
				pgbk_copy_op(&ring->copy_ops[ncopy++], &segs[i],
					     domid, true);
		if (ncopy)
			err = pgbk_copy_batch(ring, ncopy);
	}
	for (i = 0; i < n; i++) {
		struct pgbk_seg *s = &segs[i];

		switch (s->kind) {
		case PGBK_SEG_PERSISTENT:
			pgnt_gcache_put(&ring->gc, &s->pg->node, now);
			break;
		case PGBK_SEG_MAP:
			gnttab_set_unmap_op(&ring->unmap_ops[nunmap],
					    pgbk_page_addr(s->page),
					    GNTMAP_host_map, s->handle);
			ring->unmap_pages[nunmap++] = s->page;
			break;
		case PGBK_SEG_COPY:
			ring->copy_free[ring->copy_nfree++] = s->page;
			ring->copy_used = now;
			break;
		default:
			break;
		}
		s->kind = PGBK_SEG_NONE;
	}
	if (nunmap)
		pgbk_unmap_batch(ring, nunmap);
	return err;
}

/*
 * Unmap one batch of idle persistent grants: the oldest ones while a
 * budget is exceeded (or all of them, @all), then those unused for
 * persistent_grant_unused_seconds.  A grant in flight is never on the LRU,
 * so it is never picked.  Returns how many were unmapped.
 */
static unsigned int pgbk_reclaim_batch(struct pgbk_ring *ring, bool all)
{
	u32 secs = READ_ONCE(pgbk_pgrant_unused_seconds);
	u32 excess = all ? U32_MAX : pgbk_budget_excess(ring);
	u64 now = get_jiffies_64();
	unsigned int i, n = 0, leaked;

	while (n < ring->batch_max) {
		struct pgnt_gnode *node;
		struct pgbk_pgrant *pg;

		if (n < excess)
			node = pgnt_gcache_oldest(&ring->gc);
		else if (secs)
			node = pgnt_gcache_stale(&ring->gc, now, (u64)secs * HZ);
		else
			node = NULL;
		if (!node || pgnt_gcache_remove(&ring->gc, node))
			break;
		pg = container_of(node, struct pgbk_pgrant, node);
		ring->victims[n] = pg;
		gnttab_set_unmap_op(&ring->unmap_ops[n],
				    pgbk_page_addr(pg->page), GNTMAP_host_map,
				    pg->handle);
		ring->unmap_pages[n] = pg->page;
		n++;
	}
	if (!n)
		return 0;
	/*
	 * Only now, once unmapped, may others use the room.  A mapping whose
	 * unmap failed is still there: it stays counted (pg_leaked).
	 */
	leaked = pgbk_unmap_batch(ring, n);
	pgbk_budget_release(ring, n - leaked);
	ring->pg_leaked += leaked;
	for (i = 0; i < n; i++)
		kfree(ring->victims[i]);
	if (!all)
		pgbk_stat_add(ring, PGBK_ST_reclaims, n);
	pgbk_stat_set(ring, PGBK_ST_pgrants_mapped, ring->pg_count);
	return n;
}

/* Called by the ring thread on every pass; cheap when there is nothing. */
void pgbk_grant_reclaim(struct pgbk_ring *ring)
{
	while (pgbk_reclaim_batch(ring, false) == ring->batch_max)
		cond_resched();
	pgbk_copy_trim(ring, false);
}

/* Undo pgbk_grant_ring_init(), partial or not; no request in flight. */
void pgbk_grant_ring_fini(struct pgbk_ring *ring)
{
	unsigned int i;

	if (ring->buckets && ring->victims) {
		while (pgbk_reclaim_batch(ring, true))
			cond_resched();
		/* Teardown drained every request first: nothing is in use. */
		WARN_ON_ONCE(ring->gc.count || ring->pg_count != ring->pg_leaked);
	}
	/*
	 * Leaked mappings outlive the ring: the ring and domain budgets let
	 * them go with it, dom0's total keeps them.
	 */
	ring->pg_count -= ring->pg_leaked;
	atomic_sub(ring->pg_leaked, &ring->be->dom->mapped);
	ring->pg_leaked = 0;
	if (ring->nr_spare)
		gnttab_free_pages(ring->nr_spare, ring->spare);
	ring->nr_spare = 0;
	if (ring->copy_free) {
		pgbk_copy_trim(ring, true);
		WARN_ON_ONCE(ring->copy_nr);
	}
	for (i = 0; i < ARRAY_SIZE(ring->iscratch); i++) {
		if (ring->iscratch[i])
			__free_page(ring->iscratch[i]);
		ring->iscratch[i] = NULL;
	}
	kvfree(ring->copy_free);
	kvfree(ring->buckets);
	kfree(ring->spare);
	kfree(ring->map_ops);
	kfree(ring->map_pages);
	kfree(ring->map_segs);
	kfree(ring->copy_ops);
	kfree(ring->unmap_ops);
	kfree(ring->unmap_pages);
	kfree(ring->victims);
	ring->copy_free = NULL;
	ring->copy_max = 0;
	ring->buckets = NULL;
	ring->spare = NULL;
	ring->map_ops = NULL;
	ring->map_pages = NULL;
	ring->map_segs = NULL;
	ring->copy_ops = NULL;
	ring->unmap_ops = NULL;
	ring->unmap_pages = NULL;
	ring->victims = NULL;
}

/*
 * Per-ring grant state, all of it bounded by the ring size and the
 * segments per request and allocated here, at connect, but for the copy
 * pages themselves.  The caller set
 * max_segs and nr_pending.  On error, pgbk_grant_ring_fini() undoes it.
 */
int pgbk_grant_ring_init(struct pgbk_ring *ring)
{
	unsigned int i, b;
	u32 shift;

	b = ring->max_segs + BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST;
	ring->batch_max = b;
	ring->max_spare = b;
	ring->map_ops = kcalloc(b, sizeof(*ring->map_ops), GFP_KERNEL);
	ring->map_pages = kcalloc(b, sizeof(*ring->map_pages), GFP_KERNEL);
	ring->map_segs = kcalloc(b, sizeof(*ring->map_segs), GFP_KERNEL);
	ring->copy_ops = kcalloc(b, sizeof(*ring->copy_ops), GFP_KERNEL);
	ring->unmap_ops = kcalloc(b, sizeof(*ring->unmap_ops), GFP_KERNEL);
	ring->unmap_pages = kcalloc(b, sizeof(*ring->unmap_pages), GFP_KERNEL);
	ring->victims = kcalloc(b, sizeof(*ring->victims), GFP_KERNEL);
	ring->spare = kcalloc(b, sizeof(*ring->spare), GFP_KERNEL);
	if (!ring->map_ops || !ring->map_pages || !ring->map_segs ||
	    !ring->copy_ops || !ring->unmap_ops || !ring->unmap_pages ||
	    !ring->victims || !ring->spare)
		return -ENOMEM;

	shift = pgnt_gcache_shift_for(min(READ_ONCE(pgbk_max_pgrants_ring),
					  ring->nr_pending * ring->max_segs));
	ring->buckets = kvcalloc(1U << shift, sizeof(*ring->buckets),
				 GFP_KERNEL);
	if (!ring->buckets)
		return -ENOMEM;
	pgnt_gcache_init(&ring->gc, ring->buckets, shift);
	ring->pg_count = 0;

	for (i = 0; i < DIV_ROUND_UP(ring->max_segs, PGNT_SEGS_PER_INDIRECT_PAGE); i++) {
		ring->iscratch[i] = alloc_page(GFP_KERNEL);
		if (!ring->iscratch[i])
			return -ENOMEM;
	}

	/* Only the stack: the pages come when the copy path runs. */
	ring->copy_max = clamp_t(unsigned int, READ_ONCE(pgbk_copy_pool_pages),
				 ring->max_segs,
				 ring->nr_pending * ring->max_segs);
	ring->copy_free = kvcalloc(ring->copy_max, sizeof(*ring->copy_free),
				   GFP_KERNEL);
	if (!ring->copy_free)
		return -ENOMEM;
	ring->copy_nr = 0;
	ring->copy_nfree = 0;
	ring->copy_used = get_jiffies_64();
	return 0;
}
