// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkback-pgnt: Xen PV block backend that maps each persistent grant
 * once, bounds what every guest can make dom0 map, and copies beyond that.
 *
 * This file: module parameters, the global and per-domain grant budgets,
 * module init/exit.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <xen/xen.h>

#include "common.h"

/*
 * The parameters keep the stock backend's names where the meaning is the
 * same; the C symbols carry our prefix.  Those marked 0644 are re-read at
 * each decision (budgets) or at each connection (features).
 */
bool pgbk_feature_persistent = true;
module_param_named(feature_persistent, pgbk_feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent,
		 "Advertise persistent grants to frontends (default Y; read when a device connects)");

unsigned int pgbk_max_pgrants_ring = PGNT_GRANTS_PER_RING_DEFAULT;
module_param_named(max_persistent_grants, pgbk_max_pgrants_ring, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants,
		 "Persistent grants mapped per ring at most (default 1056)");

unsigned int pgbk_max_pgrants_domain = PGNT_GRANTS_PER_DOMAIN_DEFAULT;
module_param_named(max_persistent_grants_per_domain, pgbk_max_pgrants_domain,
		   uint, 0644);
MODULE_PARM_DESC(max_persistent_grants_per_domain,
		 "Persistent grants mapped per guest domain at most, all its disks (default 8192)");

unsigned int pgbk_max_pgrants_total = PGNT_GRANTS_GLOBAL_DEFAULT;
module_param_named(max_persistent_grants_total, pgbk_max_pgrants_total, uint,
		   0644);
MODULE_PARM_DESC(max_persistent_grants_total,
		 "Persistent grants mapped in dom0 at most, all guests (default 65536)");

unsigned int pgbk_pgrant_unused_seconds = PGNT_GRANT_UNUSED_SECONDS_DEFAULT;
module_param_named(persistent_grant_unused_seconds, pgbk_pgrant_unused_seconds,
		   uint, 0644);
MODULE_PARM_DESC(persistent_grant_unused_seconds,
		 "Unmap persistent grants unused for this long, 0: never (default 60)");

bool pgbk_overflow_copy = true;
module_param_named(overflow_copy, pgbk_overflow_copy, bool, 0644);
MODULE_PARM_DESC(overflow_copy,
		 "Beyond a budget, copy data with GNTTABOP_copy (Y, default) or map+unmap per request (N)");

unsigned int pgbk_max_queues;
module_param_named(max_queues, pgbk_max_queues, uint, 0644);
MODULE_PARM_DESC(max_queues,
		 "Maximum queues (rings) per device offered to frontends (default 0: number of CPUs)");

unsigned int pgbk_max_ring_page_order = PGNT_RING_PAGE_ORDER_MAX;
module_param_named(max_ring_page_order, pgbk_max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order,
		 "Largest ring offered to frontends, as a page order 0-4 (default 4)");

unsigned int pgbk_max_indirect_segments = PGNT_BACK_INDIRECT_SEGS_DEFAULT;
module_param_named(max_indirect_segments, pgbk_max_indirect_segments, uint,
		   0444);
MODULE_PARM_DESC(max_indirect_segments,
		 "Segments per indirect request offered to frontends, 0 or 12-256 (default 256)");

unsigned int pgbk_copy_pool_pages = PGNT_COPY_PAGES_RING_DEFAULT;
module_param_named(copy_pool_pages, pgbk_copy_pool_pages, uint, 0644);
MODULE_PARM_DESC(copy_pool_pages,
		 "dom0 pages per ring for grant copy at most, at least one request's worth (default 1024; read at connect)");

unsigned int pgbk_max_copy_pages_total = PGNT_COPY_PAGES_GLOBAL_DEFAULT;
module_param_named(max_copy_pages_total, pgbk_max_copy_pages_total, uint,
		   0644);
MODULE_PARM_DESC(max_copy_pages_total,
		 "dom0 pages for grant copy at most, all rings; beyond it, map+unmap per request (default 16384)");

bool pgbk_log_stats;
module_param_named(log_stats, pgbk_log_stats, bool, 0644);
MODULE_PARM_DESC(log_stats, "Log per-ring statistics every 10 seconds (default N)");

/* Persistent grants mapped, and copy pages held, by this module. */
atomic_t pgbk_global_mapped = ATOMIC_INIT(0);
atomic_t pgbk_global_copy = ATOMIC_INIT(0);

static int pgbk_param_get_atomic(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%d\n", atomic_read((atomic_t *)kp->arg));
}

static const struct kernel_param_ops pgbk_param_atomic_ops = {
	.get = pgbk_param_get_atomic,
};

/* Read-only module totals: /sys/module/xen_blkback_pgnt/parameters/... */
module_param_cb(pgrants_mapped_total, &pgbk_param_atomic_ops,
		&pgbk_global_mapped, 0444);
MODULE_PARM_DESC(pgrants_mapped_total,
		 "Persistent grants mapped now, all devices (read-only)");
module_param_cb(copy_pages_total, &pgbk_param_atomic_ops, &pgbk_global_copy,
		0444);
MODULE_PARM_DESC(copy_pages_total,
		 "dom0 pages held for grant copy now, all devices (read-only)");

/*
 * Per-domain budget objects, shared by all devices of one guest.  Looked
 * up at probe and dropped at remove, never on the I/O path.
 */
static LIST_HEAD(pgbk_doms);
static DEFINE_MUTEX(pgbk_doms_lock);	/* protects pgbk_doms */

struct pgbk_dom *pgbk_dom_get(domid_t domid)
{
	struct pgbk_dom *dom;

	mutex_lock(&pgbk_doms_lock);
	list_for_each_entry(dom, &pgbk_doms, node) {
		if (dom->domid == domid) {
			refcount_inc(&dom->ref);
			goto out_unlock;
		}
	}
	dom = pgnt_kzalloc_obj(*dom, GFP_KERNEL);
	if (dom) {
		dom->domid = domid;
		refcount_set(&dom->ref, 1);
		atomic_set(&dom->mapped, 0);
		list_add(&dom->node, &pgbk_doms);
	}
out_unlock:
	mutex_unlock(&pgbk_doms_lock);
	return dom;
}

void pgbk_dom_put(struct pgbk_dom *dom)
{
	if (!dom)
		return;
	mutex_lock(&pgbk_doms_lock);
	if (refcount_dec_and_test(&dom->ref)) {
		list_del(&dom->node);
		/* Every ring unmapped its grants before dropping its device. */
		WARN_ON_ONCE(atomic_read(&dom->mapped));
		kfree(dom);
	}
	mutex_unlock(&pgbk_doms_lock);
}

static int __init pgbk_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (pgbk_max_ring_page_order > PGNT_RING_PAGE_ORDER_MAX) {
		pr_info("max_ring_page_order %u too large, using %u\n",
			pgbk_max_ring_page_order, PGNT_RING_PAGE_ORDER_MAX);
		pgbk_max_ring_page_order = PGNT_RING_PAGE_ORDER_MAX;
	}
	if (pgbk_max_indirect_segments &&
	    (pgbk_max_indirect_segments <= PGNT_SEGS_DIRECT ||
	     pgbk_max_indirect_segments > PGNT_BACK_INDIRECT_SEGS_MAX)) {
		pr_info("max_indirect_segments %u out of range, using %u\n",
			pgbk_max_indirect_segments,
			PGNT_BACK_INDIRECT_SEGS_DEFAULT);
		pgbk_max_indirect_segments = PGNT_BACK_INDIRECT_SEGS_DEFAULT;
	}
	return pgbk_xenbus_init();
}
module_init(pgbk_init);

static void __exit pgbk_exit(void)
{
	pgbk_xenbus_fini();
	pr_info("unloaded\n");
}
module_exit(pgbk_exit);

MODULE_DESCRIPTION("Xen PV block backend with bounded persistent grants and grant copy");
MODULE_LICENSE("GPL");
MODULE_VERSION(PGNT_VERSION);
MODULE_ALIAS("xen-backend:vbd");
