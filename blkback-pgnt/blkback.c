// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkback-pgnt: Xen PV block backend that maps each persistent grant
 * once, bounds what every guest can make dom0 map, and copies beyond that.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <xen/xen.h>
#include <xen/interface/io/blkif.h>

#include "pgnt.h"

static bool feature_persistent = true;
module_param(feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent,
		 "Advertise persistent grants to frontends (default Y; read when a device connects)");

static unsigned int max_persistent_grants = PGNT_GRANTS_PER_RING_DEFAULT;
module_param(max_persistent_grants, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants,
		 "Persistent grants mapped per ring at most (default 1056)");

static unsigned int max_persistent_grants_per_domain = PGNT_GRANTS_PER_DOMAIN_DEFAULT;
module_param(max_persistent_grants_per_domain, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants_per_domain,
		 "Persistent grants mapped per guest domain at most, all its disks (default 8192)");

static unsigned int max_persistent_grants_total = PGNT_GRANTS_GLOBAL_DEFAULT;
module_param(max_persistent_grants_total, uint, 0644);
MODULE_PARM_DESC(max_persistent_grants_total,
		 "Persistent grants mapped in dom0 at most, all guests (default 65536)");

static unsigned int persistent_grant_unused_seconds = PGNT_GRANT_UNUSED_SECONDS_DEFAULT;
module_param(persistent_grant_unused_seconds, uint, 0644);
MODULE_PARM_DESC(persistent_grant_unused_seconds,
		 "Unmap persistent grants unused for this long (default 60)");

static bool overflow_copy = true;
module_param(overflow_copy, bool, 0644);
MODULE_PARM_DESC(overflow_copy,
		 "Beyond a budget, copy data with GNTTABOP_copy (Y, default) or map+unmap per request (N)");

static unsigned int max_queues;
module_param(max_queues, uint, 0644);
MODULE_PARM_DESC(max_queues,
		 "Maximum queues (rings) per device offered to frontends (default 0: number of CPUs)");

static unsigned int max_ring_page_order = PGNT_RING_PAGE_ORDER_MAX;
module_param(max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order,
		 "Largest ring offered to frontends, as a page order 0-4 (default 4)");

static unsigned int max_indirect_segments = PGNT_BACK_INDIRECT_SEGS_DEFAULT;
module_param(max_indirect_segments, uint, 0444);
MODULE_PARM_DESC(max_indirect_segments,
		 "Segments per indirect request offered to frontends, 0 or 12-256 (default 256)");

static bool log_stats;
module_param(log_stats, bool, 0644);
MODULE_PARM_DESC(log_stats, "Log per-device statistics periodically (default N)");

/* The values common/ repeats from blkif.h must stay equal to it. */
static_assert(PGNT_SEGS_DIRECT == BLKIF_MAX_SEGMENTS_PER_REQUEST);
static_assert(PGNT_INDIRECT_PAGES_MAX == BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
static_assert(PGNT_SEGMENT_WIRE_SIZE == sizeof(struct blkif_request_segment));
static_assert(PGNT_OP_INDIRECT == BLKIF_OP_INDIRECT);
static_assert(PGNT_OP_DISCARD == BLKIF_OP_DISCARD);
static_assert(PGNT_RSP_EOPNOTSUPP == BLKIF_RSP_EOPNOTSUPP);

static int __init blkback_pgnt_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (max_ring_page_order > PGNT_RING_PAGE_ORDER_MAX) {
		pr_info("max_ring_page_order %u too large, using %u\n",
			max_ring_page_order, PGNT_RING_PAGE_ORDER_MAX);
		max_ring_page_order = PGNT_RING_PAGE_ORDER_MAX;
	}
	pr_info("version %s loaded (driver not implemented yet)\n",
		PGNT_VERSION);
	return 0;
}
module_init(blkback_pgnt_init);

static void __exit blkback_pgnt_exit(void)
{
	pr_info("unloaded\n");
}
module_exit(blkback_pgnt_exit);

MODULE_DESCRIPTION("Xen PV block backend with bounded persistent grants and grant copy");
MODULE_LICENSE("GPL");
MODULE_VERSION(PGNT_VERSION);
MODULE_ALIAS("xen-backend:vbd");
