// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: Xen PV block frontend built around per-queue pools of
 * persistently granted pages.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <xen/xen.h>
#include <xen/interface/io/blkif.h>

#include "pgnt.h"

static unsigned int max_indirect_segments = PGNT_FRONT_INDIRECT_SEGS_DEFAULT;
module_param(max_indirect_segments, uint, 0444);
MODULE_PARM_DESC(max_indirect_segments,
		 "Maximum segments per indirect request (default 32, 0 disables indirect)");

static unsigned int max_queues = 4;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues,
		 "Maximum queues (rings) per virtual disk (default 4, capped by CPUs and backend)");

static unsigned int max_ring_page_order;
module_param(max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order,
		 "Ring size as a page order, 0-4 (default 0: one page)");

static bool feature_persistent = true;
module_param(feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent,
		 "Offer persistent grants to the backend (default Y; re-read at every connect)");

static bool trusted = true;
module_param(trusted, bool, 0644);
MODULE_PARM_DESC(trusted,
		 "Trust backends: N bounces all data through frontend-owned pages (default Y)");

/* The values common/ repeats from blkif.h must stay equal to it. */
static_assert(PGNT_SEGS_DIRECT == BLKIF_MAX_SEGMENTS_PER_REQUEST);
static_assert(PGNT_INDIRECT_PAGES_MAX == BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
static_assert(PGNT_SEGMENT_WIRE_SIZE == sizeof(struct blkif_request_segment));
static_assert(PGNT_OP_INDIRECT == BLKIF_OP_INDIRECT);
static_assert(PGNT_OP_DISCARD == BLKIF_OP_DISCARD);
static_assert(PGNT_RSP_EOPNOTSUPP == BLKIF_RSP_EOPNOTSUPP);

static int __init blkfront_pgnt_init(void)
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
module_init(blkfront_pgnt_init);

static void __exit blkfront_pgnt_exit(void)
{
	pr_info("unloaded\n");
}
module_exit(blkfront_pgnt_exit);

MODULE_DESCRIPTION("Xen PV block frontend with per-queue persistent grant pools");
MODULE_LICENSE("GPL");
MODULE_VERSION(PGNT_VERSION);
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS("xenblk");
