// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: Xen PV block frontend built around per-queue pools of
 * persistently granted pages.
 *
 * This file: module parameters, and claiming the vbd major at load time.
 * Only one driver may own major 202 and the "vbd" xenbus devices, so the
 * major is taken first: if the stock xen-blkfront holds it the load fails
 * before anything is registered with xenbus.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <xen/xen.h>
#include <xen/page.h>
#include <xen/platform_pci.h>

#include "common.h"
#include "pgnt_wire.h"

unsigned int pgfe_max_indirect_segments = PGNT_FRONT_INDIRECT_SEGS_DEFAULT;
module_param_named(max_indirect_segments, pgfe_max_indirect_segments, uint,
		   0444);
MODULE_PARM_DESC(max_indirect_segments,
		 "Maximum segments per indirect request (default 32, 0 disables indirect)");

unsigned int pgfe_max_queues = 4;
module_param_named(max_queues, pgfe_max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues,
		 "Maximum queues (rings) per virtual disk (default 4, capped by CPUs and backend)");

unsigned int pgfe_max_ring_page_order;
module_param_named(max_ring_page_order, pgfe_max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order,
		 "Ring size as a page order, 0-4 (default 0: one page)");

bool pgfe_feature_persistent = true;
module_param_named(feature_persistent, pgfe_feature_persistent, bool, 0644);
MODULE_PARM_DESC(feature_persistent,
		 "Offer persistent grants to the backend (default Y; re-read at every connect)");

bool pgfe_trusted = true;
module_param_named(trusted, pgfe_trusted, bool, 0644);
MODULE_PARM_DESC(trusted,
		 "Trust backends: N bounces all data through frontend-owned pages (default Y)");

atomic_long_t pgfe_grants_held = ATOMIC_LONG_INIT(0);
atomic_long_t pgfe_grants_deferred = ATOMIC_LONG_INIT(0);

static int pgfe_param_get_count(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%ld\n",
			 atomic_long_read((atomic_long_t *)kp->arg));
}

static const struct kernel_param_ops pgfe_count_ops = {
	.get = pgfe_param_get_count,
};

/* Read-only counters, for leak checks from userspace (no set op). */
module_param_cb(grants_held, &pgfe_count_ops, &pgfe_grants_held, 0444);
MODULE_PARM_DESC(grants_held,
		 "Grants issued to backends and not yet ended, all devices (read-only)");
module_param_cb(grants_deferred, &pgfe_count_ops, &pgfe_grants_deferred,
		0444);
MODULE_PARM_DESC(grants_deferred,
		 "Grants ended while a backend still mapped them, left to the grant table (read-only)");

static int __init pgfe_front_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	if (!xen_has_pv_disk_devices())
		return -ENODEV;
	/*
	 * Each segment is bounced through one pool page that is one grant;
	 * kernels whose pages hold several Xen pages are not supported.
	 */
	if (PAGE_SIZE != XEN_PAGE_SIZE) {
		pr_err("PAGE_SIZE %lu differs from the Xen page size; not supported\n",
		       PAGE_SIZE);
		return -ENODEV;
	}
	if (pgfe_max_ring_page_order > PGNT_RING_PAGE_ORDER_MAX) {
		pr_info("max_ring_page_order %u too large, using %u\n",
			pgfe_max_ring_page_order, PGNT_RING_PAGE_ORDER_MAX);
		pgfe_max_ring_page_order = PGNT_RING_PAGE_ORDER_MAX;
	}
	if (pgfe_max_indirect_segments > PGNT_SEGS_WIRE_MAX) {
		pr_info("max_indirect_segments %u too large, using %u\n",
			pgfe_max_indirect_segments, PGNT_SEGS_WIRE_MAX);
		pgfe_max_indirect_segments = PGNT_SEGS_WIRE_MAX;
	}
	if (!pgfe_max_queues || pgfe_max_queues > PGNT_QUEUES_MAX) {
		pr_info("max_queues %u out of range, using %u\n",
			pgfe_max_queues, PGNT_QUEUES_MAX);
		pgfe_max_queues = PGNT_QUEUES_MAX;
	}

	err = register_blkdev(PGNT_VBD_MAJOR, PGFE_DEV_NAME);
	if (err) {
		if (err == -EBUSY)
			pr_err("major %d is taken: xen_blkfront is loaded; unload it first\n",
			       PGNT_VBD_MAJOR);
		else
			pr_err("cannot register major %d: %d\n",
			       PGNT_VBD_MAJOR, err);
		return err;
	}

	err = pgfe_xenbus_init();
	if (err) {
		pr_err("cannot register the vbd xenbus driver: %d\n", err);
		goto out_unregister_blkdev;
	}
	pr_info("version %s loaded\n", PGNT_VERSION);
	return 0;

out_unregister_blkdev:
	unregister_blkdev(PGNT_VBD_MAJOR, PGFE_DEV_NAME);
	return err;
}
module_init(pgfe_front_init);

static void __exit pgfe_front_exit(void)
{
	pgfe_xenbus_fini();
	unregister_blkdev(PGNT_VBD_MAJOR, PGFE_DEV_NAME);
	pr_info("unloaded\n");
}
module_exit(pgfe_front_exit);

MODULE_DESCRIPTION("Xen PV block frontend with per-queue persistent grant pools");
MODULE_LICENSE("GPL");
MODULE_VERSION(PGNT_VERSION);
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS("xenblk");
