// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backend lifecycle on xenbus: probe, hotplug (physical-device written by
 * the toolstack's hotplug script), negotiation with the frontend, connect,
 * reconnect, close and remove.
 *
 * All callbacks (the hotplug watch, frontend state changes, remove) run
 * under be->lock; they normally all come from the xenwatch thread, but
 * remove can also come from driver unbinding.
 */

#include <linux/blkdev.h>
#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/io/protocols.h>

#include "common.h"

/* ---- hotplug ---- */

/* The device limits requests are checked against, re-read at connect. */
static void pgbk_be_limits(struct pgbk_be *be)
{
	struct block_device *bdev = be->bdev.bdev;
	struct pgnt_dev_limits *l = &be->limits;

	memset(l, 0, sizeof(*l));
	l->sectors = pgnt_bdev_nr_sectors(bdev);
	l->lbs_sectors = bdev_logical_block_size(bdev) >> SECTOR_SHIFT;
	l->max_indirect_segs = be->max_indirect;
	l->readonly = be->readonly;
	l->flush = pgnt_bdev_write_cache(bdev);
	l->barrier = l->flush;
	/* The toolstack may turn discard off with discard-enable=0. */
	l->discard = !be->readonly && pgnt_bdev_discard(bdev) &&
		     xenbus_read_unsigned(be->dev->nodename, "discard-enable", 1);
	l->secure_discard = l->discard && pgnt_bdev_secure_erase(bdev);
}

static int pgbk_be_open(struct pgbk_be *be, dev_t devt)
{
	struct xenbus_device *dev = be->dev;
	char *mode, *type;
	int err;

	lockdep_assert_held(&be->lock);
	mode = xenbus_read(XBT_NIL, dev->nodename, PGNT_XS_MODE, NULL);
	if (IS_ERR(mode)) {
		err = PTR_ERR(mode);
		xenbus_dev_fatal(dev, err, "reading %s/%s", dev->nodename,
				 PGNT_XS_MODE);
		return err;
	}
	be->readonly = !strchr(mode, 'w');
	kfree(mode);
	type = xenbus_read(XBT_NIL, dev->nodename, PGNT_XS_DEVICE_TYPE, NULL);
	be->cdrom = !IS_ERR(type) && !strcmp(type, "cdrom");
	if (!IS_ERR(type))
		kfree(type);

	err = pgnt_bdev_open(&be->bdev, devt, !be->readonly);
	if (err) {
		xenbus_dev_fatal(dev, err, "opening device %u:%u", MAJOR(devt),
				 MINOR(devt));
		return err;
	}
	be->devt = devt;
	if (bdev_read_only(be->bdev.bdev))
		be->readonly = true;
	return 0;
}

static void pgbk_be_maybe_connect(struct pgbk_be *be);

/* Watch on physical-device: the hotplug script has found the device. */
static void pgbk_backend_changed(struct xenbus_watch *watch, const char *path,
				 const char *token)
{
	struct pgbk_be *be = container_of(watch, struct pgbk_be, watch);
	struct xenbus_device *dev = be->dev;
	unsigned int major, minor;
	dev_t devt;
	int n;

	n = xenbus_scanf(XBT_NIL, dev->nodename, PGNT_XS_PHYSICAL_DEVICE,
			 "%x:%x", &major, &minor);
	if (n == -ENOENT)
		return;		/* hotplug script not run yet */
	if (n != 2) {
		xenbus_dev_fatal(dev, n < 0 ? n : -EINVAL, "reading %s/%s",
				 dev->nodename, PGNT_XS_PHYSICAL_DEVICE);
		return;
	}
	/* Numbers too big for a dev_t do not survive MKDEV. */
	devt = MKDEV(major, minor);
	if (MAJOR(devt) != major || MINOR(devt) != minor) {
		xenbus_dev_fatal(dev, -EINVAL, "%s/%s %x:%x out of range",
				 dev->nodename, PGNT_XS_PHYSICAL_DEVICE, major,
				 minor);
		return;
	}

	mutex_lock(&be->lock);
	if (be->bdev.bdev) {
		if (be->devt != devt)
			dev_warn(&dev->dev,
				 "changing physical-device from %x:%x to %x:%x is not supported\n",
				 MAJOR(be->devt), MINOR(be->devt), major,
				 minor);
		goto out_unlock;
	}
	if (!pgbk_be_open(be, devt))
		pgbk_be_maybe_connect(be);
out_unlock:
	mutex_unlock(&be->lock);
}

/* ---- negotiation ---- */

static int pgbk_read_protocol(struct pgbk_be *be, enum pgbk_abi *abi)
{
	struct xenbus_device *dev = be->dev;
	enum pgbk_abi native = IS_ENABLED(CONFIG_X86_32) ? PGBK_ABI_X86_32 :
							   PGBK_ABI_X86_64;
	char *proto;
	int err = 0;

	proto = xenbus_read(XBT_NIL, dev->otherend, PGNT_XS_PROTOCOL, NULL);
	if (IS_ERR(proto)) {
		*abi = native;		/* no key: the frontend is native */
		return 0;
	}
	if (!strcmp(proto, XEN_IO_PROTO_ABI_NATIVE))
		*abi = native;
	else if (!strcmp(proto, PGNT_PROTO_X86_32))
		*abi = PGBK_ABI_X86_32;
	else if (!strcmp(proto, PGNT_PROTO_X86_64))
		*abi = PGBK_ABI_X86_64;
	else
		err = -EINVAL;
	if (err)
		xenbus_dev_fatal(dev, err, "unknown frontend protocol %.16s",
				 proto);
	kfree(proto);
	return err;
}

/* Ring refs and event channel of one queue, from @dir. */
static int pgbk_read_ring_keys(struct pgbk_be *be, const char *dir,
			       unsigned int order, grant_ref_t *refs,
			       evtchn_port_t *evtchn)
{
	struct xenbus_device *dev = be->dev;
	unsigned int i, nr = 1U << order;
	char key[16];
	int n;

	n = xenbus_scanf(XBT_NIL, dir, PGNT_XS_EVENT_CHANNEL, "%u", evtchn);
	if (n != 1) {
		xenbus_dev_fatal(dev, n < 0 ? n : -EINVAL, "reading %s/%s",
				 dir, PGNT_XS_EVENT_CHANNEL);
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		if (order)
			snprintf(key, sizeof(key), PGNT_XS_RING_REF "%u", i);
		else
			strscpy(key, PGNT_XS_RING_REF, sizeof(key));
		n = xenbus_scanf(XBT_NIL, dir, key, "%u", &refs[i]);
		if (n != 1) {
			xenbus_dev_fatal(dev, n < 0 ? n : -EINVAL,
					 "reading %s/%s", dir, key);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The ring refs and event channel of each of @nq queues, to
 * @refs[q << @order...] and @evtchns[q]; none may repeat.
 */
static int pgbk_read_queues(struct pgbk_be *be, unsigned int nq,
			    unsigned int order, grant_ref_t *refs,
			    evtchn_port_t *evtchns)
{
	struct xenbus_device *dev = be->dev;
	unsigned int q;
	int err;

	for (q = 0; q < nq; q++) {
		char *dir;

		dir = nq == 1 ? kstrdup(dev->otherend, GFP_KERNEL) :
				kasprintf(GFP_KERNEL, "%s/" PGNT_XS_QUEUE_FMT,
					  dev->otherend, q);
		if (!dir) {
			xenbus_dev_fatal(dev, -ENOMEM, "allocating queue path");
			return -ENOMEM;
		}
		err = pgbk_read_ring_keys(be, dir, order, refs + (q << order),
					  &evtchns[q]);
		kfree(dir);
		if (err)
			return err;
	}
	if (!pgnt_all_distinct(refs, nq << order)) {
		xenbus_dev_fatal(dev, -EINVAL, "a %s repeats in %s",
				 PGNT_XS_RING_REF, dev->otherend);
		return -EINVAL;
	}
	if (!pgnt_all_distinct(evtchns, nq)) {
		xenbus_dev_fatal(dev, -EINVAL, "an %s repeats in %s",
				 PGNT_XS_EVENT_CHANNEL, dev->otherend);
		return -EINVAL;
	}
	return 0;
}

static void pgbk_be_disconnect(struct pgbk_be *be)
{
	/* How long xenwatch waits for the rings' threads, all together. */
	unsigned long deadline = jiffies + HZ / 2;
	unsigned int q;

	lockdep_assert_held(&be->lock);
	if (!be->rings)
		return;
	for (q = 0; q < be->nr_rings; q++)
		if (be->rings[q])
			pgbk_ring_close(be->rings[q]);
	for (q = 0; q < be->nr_rings; q++)
		if (be->rings[q])
			pgbk_ring_disconnect(be->rings[q], deadline);
	kfree(be->rings);
	be->rings = NULL;
	be->nr_rings = 0;
	if (be->module_ref) {
		be->module_ref = false;
		module_put(THIS_MODULE);
	}
}

/*
 * Read what the frontend wrote (every value range-checked: it is guest
 * input) and connect each of its rings.
 */
static int pgbk_be_connect_rings(struct pgbk_be *be)
{
	struct xenbus_device *dev = be->dev;
	evtchn_port_t *evtchns = NULL;
	grant_ref_t *refs = NULL;
	unsigned int q, nq, order;
	enum pgbk_abi abi;
	bool persistent;
	int err, n;

	lockdep_assert_held(&be->lock);
	err = pgbk_read_protocol(be, &abi);
	if (err)
		return err;
	nq = xenbus_read_unsigned(dev->otherend, PGNT_XS_NUM_QUEUES, 1);
	n = pgnt_negotiate_queues(nq, be->max_queues);
	if (n < 0) {
		xenbus_dev_fatal(dev, -EINVAL, "%s/%s %u out of range (max %u)",
				 dev->otherend, PGNT_XS_NUM_QUEUES, nq,
				 be->max_queues);
		return -EINVAL;
	}
	nq = n;
	order = xenbus_read_unsigned(dev->otherend, PGNT_XS_RING_PAGE_ORDER, 0);
	n = pgnt_negotiate_ring_order(order, be->max_order);
	if (n < 0) {
		xenbus_dev_fatal(dev, -EINVAL, "%s/%s %u out of range (max %u)",
				 dev->otherend, PGNT_XS_RING_PAGE_ORDER, order,
				 be->max_order);
		return -EINVAL;
	}
	order = n;
	/* Persistent grants only if both ends say so, for this connection. */
	be->feature_persistent = READ_ONCE(pgbk_feature_persistent);
	persistent = be->feature_persistent &&
		     xenbus_read_unsigned(dev->otherend,
					  PGNT_XS_FEATURE_PERSISTENT, 0) == 1;
	pgbk_be_limits(be);

	be->rings = kcalloc(nq, sizeof(*be->rings), GFP_KERNEL);
	refs = kcalloc(nq << order, sizeof(*refs), GFP_KERNEL);
	evtchns = kcalloc(nq, sizeof(*evtchns), GFP_KERNEL);
	if (!be->rings || !refs || !evtchns) {
		err = -ENOMEM;
		xenbus_dev_fatal(dev, err, "allocating %u rings", nq);
		goto out_disconnect;
	}
	be->nr_rings = nq;
	for (q = 0; q < nq; q++) {
		struct pgbk_ring *ring = pgbk_ring_new(be, q);

		if (!ring) {
			err = -ENOMEM;
			xenbus_dev_fatal(dev, err, "allocating ring %u", q);
			goto out_disconnect;
		}
		be->rings[q] = ring;
		ring->stats = &be->stats[q];
		ring->abi = abi;
		ring->persistent = persistent;
		ring->max_segs = be->max_indirect ?: PGNT_SEGS_DIRECT;
	}
	err = pgbk_read_queues(be, nq, order, refs, evtchns);
	for (q = 0; !err && q < nq; q++)
		err = pgbk_ring_connect(be->rings[q], refs + (q << order),
					1U << order, evtchns[q]);
	if (err)
		goto out_disconnect;
	kfree(refs);
	kfree(evtchns);
	be->persistent = persistent;
	be->ring_order = order;
	return 0;

out_disconnect:
	kfree(refs);
	kfree(evtchns);
	pgbk_be_disconnect(be);
	return err;
}

/* What the frontend reads once we are Connected. */
static int pgbk_publish_keys(struct pgbk_be *be, struct xenbus_transaction xbt)
{
	struct block_device *bdev = be->bdev.bdev;
	const struct pgnt_dev_limits *l = &be->limits;
	const char *node = be->dev->nodename;
	unsigned int info = 0;
	int err;

	if (be->readonly)
		info |= PGNT_VDISK_READONLY;
	if (be->cdrom)
		info |= PGNT_VDISK_CDROM;
	err = xenbus_printf(xbt, node, PGNT_XS_FEATURE_FLUSH, "%d", l->flush);
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_FEATURE_BARRIER, "%d",
				    l->barrier);
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_FEATURE_DISCARD, "%d",
				    l->discard);
	if (!err && l->discard)
		err = xenbus_printf(xbt, node, PGNT_XS_DISCARD_GRANULARITY, "%u",
				    pgnt_bdev_discard_granularity(bdev));
	if (!err && l->discard)
		err = xenbus_printf(xbt, node, PGNT_XS_DISCARD_ALIGNMENT, "%u",
				    bdev_discard_alignment(bdev));
	if (!err && l->discard)
		err = xenbus_printf(xbt, node, PGNT_XS_DISCARD_SECURE, "%d",
				    l->secure_discard);
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_FEATURE_PERSISTENT, "%d",
				    be->feature_persistent);
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_SECTORS, "%llu",
				    (unsigned long long)READ_ONCE(l->sectors));
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_INFO, "%u", info);
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_SECTOR_SIZE, "%u",
				    bdev_logical_block_size(bdev));
	if (!err)
		err = xenbus_printf(xbt, node, PGNT_XS_PHYS_SECTOR_SIZE, "%u",
				    bdev_physical_block_size(bdev));
	return err;
}

static int pgbk_be_publish(struct pgbk_be *be)
{
	struct xenbus_device *dev = be->dev;
	struct xenbus_transaction xbt;
	int err;

	do {
		err = xenbus_transaction_start(&xbt);
		if (err) {
			xenbus_dev_fatal(dev, err, "starting transaction");
			return err;
		}
		err = pgbk_publish_keys(be, xbt);
		if (err) {
			xenbus_transaction_end(xbt, 1);
			xenbus_dev_fatal(dev, err, "writing %s", dev->nodename);
			return err;
		}
		err = xenbus_transaction_end(xbt, 0);
	} while (err == -EAGAIN);
	if (err) {
		xenbus_dev_fatal(dev, err, "ending transaction");
		return err;
	}
	err = xenbus_switch_state(dev, XenbusStateConnected);
	if (err)
		xenbus_dev_fatal(dev, err, "switching to Connected");
	return err;
}

/*
 * Connect once both the device (hotplug) and the frontend (Initialised or
 * Connected) are ready, whichever comes last.
 */
static void pgbk_be_maybe_connect(struct pgbk_be *be)
{
	struct xenbus_device *dev = be->dev;
	unsigned int fe;

	lockdep_assert_held(&be->lock);
	if (!be->bdev.bdev || be->rings ||
	    dev->state == XenbusStateConnected ||
	    dev->state == XenbusStateClosing)
		return;
	fe = xenbus_read_unsigned(dev->otherend, "state", XenbusStateUnknown);
	if (fe != XenbusStateInitialised && fe != XenbusStateConnected)
		return;
	/*
	 * A closed connection's rings still wait for the device: connect
	 * once they are freed (pgbk_be_orphan_done()), so that a frontend
	 * reconnecting again and again over a disk that does not answer
	 * costs dom0 one such connection, not one per reconnect.
	 */
	if (atomic_read(&be->orphans)) {
		dev_info_ratelimited(&dev->dev,
				     "connect deferred: the last connection's requests are still on the device\n");
		return;
	}
	if (pgbk_be_connect_rings(be))
		return;
	if (pgbk_be_publish(be)) {
		pgbk_be_disconnect(be);
		return;
	}
	/* rmmod is refused while a guest is connected. */
	__module_get(THIS_MODULE);
	be->module_ref = true;
	dev_info(&dev->dev,
		 "connected: dom%u, %u ring(s) of %u page(s), persistent grants %s\n",
		 dev->otherend_id, be->nr_rings, 1U << be->ring_order,
		 be->persistent ? "on" : "off");
}

static void pgbk_frontend_changed(struct xenbus_device *dev,
				  enum xenbus_state fe)
{
	struct pgbk_be *be = dev_get_drvdata(&dev->dev);

	mutex_lock(&be->lock);
	switch (fe) {
	case XenbusStateInitialising:
		if (dev->state == XenbusStateClosed)
			xenbus_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (dev->state == XenbusStateConnected ||
		    dev->state == XenbusStateClosing)
			break;
		/* Rings of an earlier connection the frontend dropped. */
		pgbk_be_disconnect(be);
		pgbk_be_maybe_connect(be);
		break;
	case XenbusStateClosing:
		xenbus_switch_state(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		/* I/O still in flight on the device ends without us waiting. */
		pgbk_be_disconnect(be);
		xenbus_switch_state(dev, XenbusStateClosed);
		if (xenbus_dev_is_online(dev))
			break;
		fallthrough;
	case XenbusStateUnknown:
		/* The toolstack removed the device (detach, guest gone). */
		mutex_unlock(&be->lock);
		device_unregister(&dev->dev);
		return;
	default:
		xenbus_dev_fatal(dev, -EINVAL, "frontend in unexpected state %d",
				 fe);
		break;
	}
	mutex_unlock(&be->lock);
}

/* ---- probe / remove ---- */

/* What the frontend reads before it sets up its rings. */
static int pgbk_advertise(struct pgbk_be *be)
{
	struct xenbus_device *dev = be->dev;
	unsigned int nq = READ_ONCE(pgbk_max_queues);
	int err;

	if (!nq)
		nq = num_online_cpus();
	be->max_queues = clamp_t(unsigned int, nq, 1, PGNT_QUEUES_MAX);
	be->max_order = pgbk_max_ring_page_order;
	be->max_indirect = pgbk_max_indirect_segments;
	be->feature_persistent = READ_ONCE(pgbk_feature_persistent);

	err = xenbus_printf(XBT_NIL, dev->nodename, PGNT_XS_MAX_QUEUES, "%u",
			    be->max_queues);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename,
				    PGNT_XS_MAX_RING_PAGE_ORDER, "%u",
				    be->max_order);
	if (!err && be->max_indirect)
		err = xenbus_printf(XBT_NIL, dev->nodename,
				    PGNT_XS_FEATURE_INDIRECT, "%u",
				    be->max_indirect);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename,
				    PGNT_XS_FEATURE_PERSISTENT, "%d",
				    be->feature_persistent);
	if (err)
		xenbus_dev_fatal(dev, err, "writing %s", dev->nodename);
	return err;
}

/* The last reference: no ring is left, orphaned or not. */
static void pgbk_be_release(struct kref *kref)
{
	struct pgbk_be *be = container_of(kref, struct pgbk_be, kref);

	pgnt_bdev_close(&be->bdev);
	pgbk_dom_put(be->dom);
	put_device(&be->dev->dev);
	kfree(be);
}

void pgbk_be_put(struct pgbk_be *be)
{
	kref_put(&be->kref, pgbk_be_release);
}

/*
 * The last request of a closed ring ended (ring.c, its reap work): make
 * the connection deferred meanwhile, then drop that ring's reference.
 */
void pgbk_be_orphan_done(struct pgbk_be *be)
{
	if (atomic_dec_and_test(&be->orphans)) {
		mutex_lock(&be->lock);
		if (!be->gone)
			pgbk_be_maybe_connect(be);
		mutex_unlock(&be->lock);
	}
	pgbk_be_put(be);
}

/* Undo pgbk_probe(), partial or not. */
static void pgbk_be_free(struct pgbk_be *be)
{
	struct xenbus_device *dev = be->dev;

	if (be->watching) {
		unregister_xenbus_watch(&be->watch);
		kfree(be->watch.node);
		be->watching = false;
	}
	mutex_lock(&be->lock);
	be->gone = true;
	pgbk_be_disconnect(be);
	mutex_unlock(&be->lock);
	if (be->sysfs)
		sysfs_remove_group(&dev->dev.kobj, &pgbk_stats_group);
	dev_set_drvdata(&dev->dev, NULL);
	pgbk_be_put(be);
}

static int pgbk_probe(struct xenbus_device *dev,
		      const struct xenbus_device_id *id)
{
	struct pgbk_be *be;
	int err;

	be = pgnt_kzalloc_obj(*be, GFP_KERNEL);
	if (!be) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating backend");
		return -ENOMEM;
	}
	kref_init(&be->kref);
	be->dev = dev;
	get_device(&dev->dev);
	mutex_init(&be->lock);
	dev_set_drvdata(&dev->dev, be);

	be->dom = pgbk_dom_get(dev->otherend_id);
	if (!be->dom) {
		err = -ENOMEM;
		xenbus_dev_fatal(dev, err, "allocating domain budget");
		goto out_free;
	}
	err = sysfs_create_group(&dev->dev.kobj, &pgbk_stats_group);
	if (err) {
		xenbus_dev_fatal(dev, err, "creating statistics");
		goto out_free;
	}
	be->sysfs = true;
	err = pgbk_advertise(be);
	if (err)
		goto out_free;
	err = xenbus_watch_pathfmt(dev, &be->watch, NULL, pgbk_backend_changed,
				   "%s/%s", dev->nodename,
				   PGNT_XS_PHYSICAL_DEVICE);
	if (err)
		goto out_free;
	be->watching = true;
	err = xenbus_switch_state(dev, XenbusStateInitWait);
	if (err)
		goto out_free;
	return 0;

out_free:
	pgbk_be_free(be);
	return err;
}

static PGNT_XENBUS_REMOVE_RET pgbk_remove(struct xenbus_device *dev)
{
	struct pgbk_be *be = dev_get_drvdata(&dev->dev);

	if (be)
		pgbk_be_free(be);
	return PGNT_XENBUS_REMOVE_OK;
}

static const struct xenbus_device_id pgbk_ids[] = {
	{ "vbd" },
	{ "" }
};

/* Named "vbd" like the stock backend, so that only one can register. */
static struct xenbus_driver pgbk_driver = {
	.ids = pgbk_ids,
	.probe = pgbk_probe,
	.remove = pgbk_remove,
	.otherend_changed = pgbk_frontend_changed,
};

int pgbk_xenbus_init(void)
{
	int err;

	err = pgbk_ring_init();
	if (err)
		return err;
	err = xenbus_register_backend(&pgbk_driver);
	if (err == -EBUSY)
		pr_err("a \"vbd\" backend (stock xen-blkback?) is already registered: unload it first\n");
	else if (err)
		pr_err("registering the vbd backend failed: %d\n", err);
	if (err)
		pgbk_ring_fini();
	return err;
}

void pgbk_xenbus_fini(void)
{
	xenbus_unregister_driver(&pgbk_driver);
	pgbk_ring_fini();
}
