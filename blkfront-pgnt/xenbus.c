// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: the control plane.  Probing a vbd, negotiating rings
 * and features with the backend through xenstore, following the backend's
 * state, resuming after save/restore or migration, and removal.
 *
 * Every feature is re-read on every connect, so a guest that migrates to a
 * host whose backend has fewer queues, fewer indirect segments or no
 * persistent grants carries on with what the new backend offers; the
 * requests that were in flight are replayed on the new rings.
 *
 * All callbacks here run from the xenbus thread (or the PM path for
 * resume) and take info->mutex.
 */

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <xen/interface/io/protocols.h>

#include "common.h"

/*
 * Quiescing nests in the block layer, so stop and start are kept paired
 * here: a resume that never reaches connect leaves the queue stopped once,
 * and remove starts it once.
 */
static void pgfe_queue_stop(struct pgfe_info *info)
{
	lockdep_assert_held(&info->mutex);
	if (!info->gd || info->quiesced)
		return;
	blk_mq_quiesce_queue(info->gd->queue);
	info->quiesced = true;
}

static void pgfe_queue_start(struct pgfe_info *info)
{
	lockdep_assert_held(&info->mutex);
	if (!info->gd || !info->quiesced)
		return;
	info->quiesced = false;
	blk_mq_unquiesce_queue(info->gd->queue);
	blk_mq_start_stopped_hw_queues(info->gd->queue, true);
}

/*
 * Tear all rings down; their requests in flight go to @keep, or fail.
 * The queue is quiesced or not yet created.
 */
static void pgfe_rings_free(struct pgfe_info *info, struct list_head *keep)
{
	unsigned int i;

	lockdep_assert_held(&info->mutex);
	if (!info->rings)
		return;
	for (i = 0; i < info->f.nr_rings; i++) {
		pgfe_ring_teardown(&info->rings[i], keep);
		pgfe_stats_retire(info, &info->rings[i].st);
	}
	kfree(info->rings);
	info->rings = NULL;
	info->f.nr_rings = 0;
}

static void pgfe_fail_saved(struct pgfe_info *info)
{
	struct request *rq, *tmp;

	list_for_each_entry_safe(rq, tmp, &info->saved, queuelist) {
		list_del_init(&rq->queuelist);
		blk_mq_end_request(rq, BLK_STS_IOERR);
	}
}

/* Fail everything: no backend will answer. */
static void pgfe_disconnect(struct pgfe_info *info)
{
	lockdep_assert_held(&info->mutex);
	pgfe_queue_stop(info);
	WRITE_ONCE(info->state, PGFE_DISCONNECTED);
	pgfe_rings_free(info, NULL);
	pgfe_fail_saved(info);
	pgfe_queue_start(info);
}

static int pgfe_write_ring_nodes(struct xenbus_transaction xbt,
				 struct pgfe_info *info, const char *dir,
				 struct pgfe_ring *ring)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned int i;
	int err;

	if (ring->nr_ring_pages == 1) {
		err = xenbus_printf(xbt, dir, PGNT_XS_RING_REF, "%u",
				    ring->ring_ref[0]);
		if (err) {
			xenbus_dev_fatal(dev, err, "writing %s/%s", dir,
					 PGNT_XS_RING_REF);
			return err;
		}
	} else {
		for (i = 0; i < ring->nr_ring_pages; i++) {
			char key[sizeof(PGNT_XS_RING_REF) + 10];

			snprintf(key, sizeof(key), PGNT_XS_RING_REF "%u", i);
			err = xenbus_printf(xbt, dir, key, "%u",
					    ring->ring_ref[i]);
			if (err) {
				xenbus_dev_fatal(dev, err, "writing %s/%s",
						 dir, key);
				return err;
			}
		}
	}
	err = xenbus_printf(xbt, dir, PGNT_XS_EVENT_CHANNEL, "%u",
			    ring->evtchn);
	if (err)
		xenbus_dev_fatal(dev, err, "writing %s/%s", dir,
				 PGNT_XS_EVENT_CHANNEL);
	return err;
}

static int pgfe_write_nodes(struct xenbus_transaction xbt,
			    struct pgfe_info *info)
{
	const char *dir = info->xbdev->nodename;
	struct xenbus_device *dev = info->xbdev;
	unsigned int i;
	int err;

	if (info->f.ring_order) {
		err = xenbus_printf(xbt, dir, PGNT_XS_RING_PAGE_ORDER, "%u",
				    info->f.ring_order);
		if (err)
			goto out_fatal;
	}
	if (info->f.nr_rings == 1) {
		err = pgfe_write_ring_nodes(xbt, info, dir, &info->rings[0]);
		if (err)
			return err;
	} else {
		err = xenbus_printf(xbt, dir, PGNT_XS_NUM_QUEUES, "%u",
				    info->f.nr_rings);
		if (err)
			goto out_fatal;
		for (i = 0; i < info->f.nr_rings; i++) {
			char *path = kasprintf(GFP_KERNEL, "%s/" PGNT_XS_QUEUE_FMT,
					       dir, i);

			if (!path)
				return -ENOMEM;
			err = pgfe_write_ring_nodes(xbt, info, path,
						    &info->rings[i]);
			kfree(path);
			if (err)
				return err;
		}
	}
	err = xenbus_printf(xbt, dir, PGNT_XS_PROTOCOL, "%s",
			    XEN_IO_PROTO_ABI_NATIVE);
	if (err)
		goto out_fatal;
	err = xenbus_printf(xbt, dir, PGNT_XS_FEATURE_PERSISTENT, "%u",
			    info->f.offered_persistent);
	if (err)
		goto out_fatal;
	return 0;

out_fatal:
	xenbus_dev_fatal(dev, err, "writing the frontend nodes of %s", dir);
	return err;
}

/* Rings as the backend allows, advertised to it; frontend Initialised. */
static int pgfe_talk_to_backend(struct pgfe_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	struct xenbus_transaction xbt;
	unsigned int order, queues, i;
	int err;

	lockdep_assert_held(&info->mutex);
	/* Rings of an earlier connection the backend walked away from. */
	if (info->rings)
		pgfe_disconnect(info);
	order = xenbus_read_unsigned(dev->otherend,
				     PGNT_XS_MAX_RING_PAGE_ORDER, 0);
	order = min3(order, pgfe_max_ring_page_order,
		     (unsigned int)PGNT_RING_PAGE_ORDER_MAX);
	queues = xenbus_read_unsigned(dev->otherend, PGNT_XS_MAX_QUEUES, 1);
	queues = min3(queues, pgfe_max_queues, num_online_cpus());
	/* The hardware queues are fixed once the disk exists. */
	if (info->have_tag_set)
		queues = min(queues, info->tag_set.nr_hw_queues);
	queues = max(queues, 1U);

	info->f.ring_order = order;
	info->f.ring_entries = pgnt_ring_entries(order,
						 sizeof(union blkif_sring_entry));
	info->f.offered_persistent = READ_ONCE(pgfe_feature_persistent);
	info->f.untrusted = !READ_ONCE(pgfe_trusted) ||
		!xenbus_read_unsigned(dev->nodename, PGNT_XS_TRUSTED, 1);

	info->rings = kcalloc(queues, sizeof(*info->rings), GFP_KERNEL);
	if (!info->rings)
		return -ENOMEM;
	for (i = 0; i < queues; i++) {
		info->rings[i].index = i;
		err = pgfe_ring_setup(info, &info->rings[i]);
		if (err)
			goto out_free_rings;
		info->f.nr_rings = i + 1;
	}

again:
	err = xenbus_transaction_start(&xbt);
	if (err) {
		xenbus_dev_fatal(dev, err, "starting transaction");
		goto out_free_rings;
	}
	err = pgfe_write_nodes(xbt, info);
	if (err) {
		xenbus_transaction_end(xbt, 1);
		goto out_free_rings;
	}
	err = xenbus_transaction_end(xbt, 0);
	if (err == -EAGAIN)
		goto again;
	if (err) {
		xenbus_dev_fatal(dev, err, "completing transaction");
		goto out_free_rings;
	}
	xenbus_switch_state(dev, XenbusStateInitialised);
	return 0;

out_free_rings:
	pgfe_rings_free(info, NULL);
	return err;
}

/* The backend's features, read anew on every connect. */
static void pgfe_read_features(struct pgfe_info *info)
{
	const char *be = info->xbdev->otherend;
	struct pgfe_features *f = &info->f;
	unsigned int segs;

	f->flush_op = 0;
	f->fua = false;
	if (xenbus_read_unsigned(be, PGNT_XS_FEATURE_BARRIER, 0)) {
		f->flush_op = BLKIF_OP_WRITE_BARRIER;
		f->fua = true;
	}
	/* A plain cache flush is preferred; FUA is then emulated above us. */
	if (xenbus_read_unsigned(be, PGNT_XS_FEATURE_FLUSH, 0)) {
		f->flush_op = BLKIF_OP_FLUSH_DISKCACHE;
		f->fua = false;
	}

	f->discard = xenbus_read_unsigned(be, PGNT_XS_FEATURE_DISCARD, 0);
	f->discard_granularity =
		xenbus_read_unsigned(be, PGNT_XS_DISCARD_GRANULARITY, 0);
	f->discard_alignment =
		xenbus_read_unsigned(be, PGNT_XS_DISCARD_ALIGNMENT, 0);
	f->secure_discard = f->discard &&
		xenbus_read_unsigned(be, PGNT_XS_DISCARD_SECURE, 0);
	if (!f->discard_granularity)
		f->discard_granularity = info->physical_sector_size;
	/* The block layer requires an alignment below the granularity. */
	if (f->discard_alignment >= f->discard_granularity)
		f->discard_alignment = 0;

	f->persistent = f->offered_persistent &&
		xenbus_read_unsigned(be, PGNT_XS_FEATURE_PERSISTENT, 0);

	segs = xenbus_read_unsigned(be, PGNT_XS_FEATURE_INDIRECT, 0);
	segs = min3(segs, pgfe_max_indirect_segments,
		    (unsigned int)PGNT_SEGS_WIRE_MAX);
	f->max_segs = max_t(unsigned int, segs, PGNT_SEGS_DIRECT);
	f->max_ind_pages = pgnt_indirect_pages(f->max_segs);
	/*
	 * Indirect requests carry only reads and writes, so a FUA write too
	 * large for a direct request could not be sent as a barrier: with
	 * indirect requests in use, FUA is left to the block layer.
	 */
	if (f->max_ind_pages)
		f->fua = false;
}

/* Size and geometry; false (device failed) when they make no sense. */
static bool pgfe_read_geometry(struct pgfe_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned long long sectors;
	unsigned int binfo, ssize;
	int err;

	err = xenbus_gather(XBT_NIL, dev->otherend,
			    PGNT_XS_SECTORS, "%llu", &sectors,
			    PGNT_XS_INFO, "%u", &binfo,
			    PGNT_XS_SECTOR_SIZE, "%u", &ssize, NULL);
	if (err) {
		xenbus_dev_fatal(dev, err, "reading backend fields at %s",
				 dev->otherend);
		return false;
	}
	if (ssize < SECTOR_SIZE || ssize > PAGE_SIZE || !is_power_of_2(ssize)) {
		xenbus_dev_fatal(dev, -EINVAL, "bad %s/%s %u", dev->otherend,
				 PGNT_XS_SECTOR_SIZE, ssize);
		return false;
	}
	info->sectors = sectors;
	info->vdisk_info = binfo;
	info->sector_size = ssize;
	info->physical_sector_size =
		xenbus_read_unsigned(dev->otherend, PGNT_XS_PHYS_SECTOR_SIZE,
				     ssize);
	if (info->physical_sector_size < ssize ||
	    !is_power_of_2(info->physical_sector_size))
		info->physical_sector_size = ssize;
	return true;
}

/* The backend changed the size of a connected disk. */
static void pgfe_resize(struct pgfe_info *info)
{
	unsigned long long sectors;
	int err;

	err = xenbus_scanf(XBT_NIL, info->xbdev->otherend, PGNT_XS_SECTORS,
			   "%llu", &sectors);
	if (err != 1 || sectors == info->sectors)
		return;
	dev_info(&info->xbdev->dev, "capacity changed from %llu to %llu sectors\n",
		 info->sectors, sectors);
	info->sectors = sectors;
	set_capacity_and_notify(info->gd, sectors);
}

/* Replay the requests taken off the old rings at suspend. */
static void pgfe_replay_saved(struct pgfe_info *info)
{
	struct request *rq, *tmp;

	list_for_each_entry_safe(rq, tmp, &info->saved, queuelist) {
		list_del_init(&rq->queuelist);
		blk_mq_requeue_request(rq, false);
	}
	blk_mq_kick_requeue_list(info->gd->queue);
}

static void pgfe_connect(struct pgfe_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned int i;
	int err;

	lockdep_assert_held(&info->mutex);
	if (info->state == PGFE_CONNECTED) {
		pgfe_resize(info);
		return;
	}
	/* Connected without our rings (we failed earlier): nothing to do. */
	if (!info->rings || info->state == PGFE_BROKEN)
		return;
	if (!pgfe_read_geometry(info))
		return;
	pgfe_read_features(info);
	for (i = 0; i < info->f.nr_rings; i++) {
		err = pgfe_ring_alloc_slots(&info->rings[i]);
		if (err) {
			xenbus_dev_fatal(dev, err, "allocating ring %u slots", i);
			return;
		}
	}

	if (!info->gd) {
		WRITE_ONCE(info->state, PGFE_CONNECTED);
		xenbus_switch_state(dev, XenbusStateConnected);
		err = pgfe_disk_create(info);
		if (err) {
			WRITE_ONCE(info->state, PGFE_DISCONNECTED);
			xenbus_dev_fatal(dev, err, "creating the disk");
			return;
		}
	} else {
		pgfe_disk_update(info);
		WRITE_ONCE(info->state, PGFE_CONNECTED);
		info->reconnects++;
		xenbus_switch_state(dev, XenbusStateConnected);
		pgfe_replay_saved(info);
		pgfe_queue_start(info);
	}
	dev_info(&dev->dev,
		 "%s: %u queue(s), ring order %u, %u segments/request, persistent grants %s, backend %s\n",
		 info->gd->disk_name, info->f.nr_rings, info->f.ring_order,
		 info->f.max_segs, info->f.persistent ? "on" : "off",
		 info->f.untrusted ? "untrusted" : "trusted");
}

/*
 * The backend is going away: new I/O fails, and we close our end.  The
 * rings stay until the backend is Closed too (pgfe_backend_changed()): it
 * unmaps our grants before it says so, so they end at once instead of
 * being left to the grant-table code; what it still completes is taken.
 */
static void pgfe_closing(struct pgfe_info *info)
{
	struct xenbus_device *dev = info->xbdev;

	lockdep_assert_held(&info->mutex);
	if (dev->state == XenbusStateClosed)
		return;
	if (info->state != PGFE_BROKEN)
		WRITE_ONCE(info->state, PGFE_DISCONNECTED);
	pgfe_fail_saved(info);
	/* Held since a resume: let the queue run, so that new I/O fails. */
	pgfe_queue_start(info);
	xenbus_frontend_closed(dev);
}

/* How long remove waits for the backend to let go of our grants. */
#define PGFE_CLOSE_WAIT_MS	15000

static bool pgfe_backend_gone(struct xenbus_device *dev)
{
	unsigned int st = xenbus_read_unsigned(dev->otherend, "state",
					       XenbusStateUnknown);

	return st == XenbusStateClosed || st == XenbusStateUnknown;
}

/*
 * Remove while rings exist: close our end and wait, bounded, for the
 * backend to close its own, so that our grants are unmapped when the rings
 * go.  The otherend watch is gone by now, hence the polling.
 */
static void pgfe_close_and_wait(struct pgfe_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned long end;

	lockdep_assert_held(&info->mutex);
	if (!info->rings)
		return;
	pgfe_closing(info);
	end = jiffies + msecs_to_jiffies(PGFE_CLOSE_WAIT_MS);
	while (!pgfe_backend_gone(dev)) {
		if (time_after(jiffies, end)) {
			dev_warn(&dev->dev,
				 "backend did not close in %u ms; its grants are left to the grant table\n",
				 PGFE_CLOSE_WAIT_MS);
			return;
		}
		msleep(50);
	}
}

static void pgfe_backend_changed(struct xenbus_device *dev,
				 enum xenbus_state backend_state)
{
	struct pgfe_info *info = dev_get_drvdata(&dev->dev);

	switch (backend_state) {
	case XenbusStateInitWait:
		if (dev->state != XenbusStateInitialising)
			break;
		mutex_lock(&info->mutex);
		pgfe_talk_to_backend(info);
		mutex_unlock(&info->mutex);
		break;
	case XenbusStateConnected:
		mutex_lock(&info->mutex);
		/*
		 * A backend may be Connected before we ever saw InitWait (we
		 * were bound late, or it pokes its state to announce a
		 * resize): set our rings up first if we have none.
		 */
		if (dev->state != XenbusStateInitialised &&
		    dev->state != XenbusStateConnected &&
		    pgfe_talk_to_backend(info)) {
			mutex_unlock(&info->mutex);
			break;
		}
		pgfe_connect(info);
		mutex_unlock(&info->mutex);
		break;
	case XenbusStateClosed:
		/*
		 * Probe announced a fresh start (Initialising) to a backend
		 * still Closed from the previous binding: it answers with
		 * InitWait.  Closing here would undo the announcement.
		 */
		if (dev->state == XenbusStateInitialising)
			break;
		mutex_lock(&info->mutex);
		pgfe_closing(info);
		/* The backend has let go of our grants: end them, free all. */
		pgfe_disconnect(info);
		mutex_unlock(&info->mutex);
		break;
	case XenbusStateClosing:
		mutex_lock(&info->mutex);
		pgfe_closing(info);
		mutex_unlock(&info->mutex);
		break;
	default:
		break;
	}
}

/*
 * After save/restore or migration: the old backend and its mappings are
 * gone.  Keep the requests in flight for replay, drop the old rings and
 * negotiate with the new backend right away.
 */
static int pgfe_resume(struct xenbus_device *dev)
{
	struct pgfe_info *info = dev_get_drvdata(&dev->dev);
	int err;

	dev_dbg(&dev->dev, "resuming\n");
	mutex_lock(&info->mutex);
	pgfe_queue_stop(info);
	pgfe_rings_free(info, &info->saved);
	WRITE_ONCE(info->state, info->gd ? PGFE_SUSPENDED : PGFE_DISCONNECTED);
	err = pgfe_talk_to_backend(info);
	mutex_unlock(&info->mutex);
	return err;
}

static int pgfe_probe(struct xenbus_device *dev,
		      const struct xenbus_device_id *id)
{
	struct pgfe_info *info;
	u32 vdevice, minor, parts;
	const char *leaf;
	char *type;
	int err;

	err = xenbus_scanf(XBT_NIL, dev->nodename, PGNT_XS_VIRTUAL_DEVICE,
			   "%u", &vdevice);
	if (err != 1) {
		err = xenbus_scanf(XBT_NIL, dev->nodename,
				   "virtual-device-ext", "%u", &vdevice);
		if (err != 1) {
			err = err < 0 ? err : -EINVAL;
			xenbus_dev_fatal(dev, err, "reading %s/%s",
					 dev->nodename, PGNT_XS_VIRTUAL_DEVICE);
			return err;
		}
	}
	type = xenbus_read(XBT_NIL, dev->nodename, PGNT_XS_DEVICE_TYPE, NULL);
	if (!IS_ERR(type)) {
		bool cdrom = !strcmp(type, "cdrom");

		kfree(type);
		/* Emulated CD-ROMs are not ours to drive, as in stock. */
		if (cdrom)
			return -ENXIO;
	}
	if (pgnt_vdev_translate(vdevice, &minor, &parts)) {
		xenbus_dev_fatal(dev, -ENODEV, "unsupported virtual-device %#x",
				 vdevice);
		return -ENODEV;
	}

	info = pgnt_kzalloc_obj(*info, GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	mutex_init(&info->mutex);
	info->xbdev = dev;
	info->vdevice = vdevice;
	info->first_minor = minor;
	info->parts_per_disk = parts;
	info->nr_minors = minor % parts ? 1 : parts;
	INIT_LIST_HEAD(&info->saved);
	spin_lock_init(&info->resplit_lock);
	INIT_LIST_HEAD(&info->resplit);
	INIT_WORK(&info->resplit_work, pgfe_resplit_work);
	INIT_WORK(&info->flush_off_work, pgfe_flush_off_work);

	/* The handle is the device's own directory name. */
	leaf = strrchr(dev->nodename, '/');
	err = leaf ? kstrtou32(leaf + 1, 10, &info->handle) : -EINVAL;
	if (err) {
		xenbus_dev_fatal(dev, err, "parsing the handle of %s",
				 dev->nodename);
		goto out_free_info;
	}
	err = pgfe_minors_reserve(info->first_minor, info->nr_minors);
	if (err) {
		xenbus_dev_fatal(dev, err, "minors of virtual-device %#x in use",
				 vdevice);
		goto out_free_info;
	}
	dev_set_drvdata(&dev->dev, info);
	/*
	 * Bound again after an unbind, the device is still Closed, and so is
	 * a backend that waits for us: announce a fresh start, which it
	 * answers with InitWait.
	 */
	if (dev->state != XenbusStateInitialising)
		xenbus_switch_state(dev, XenbusStateInitialising);
	return 0;

out_free_info:
	kfree(info);
	return err;
}

/*
 * With a connected backend the disk goes first, so that what is still
 * cached is written out; otherwise (backend gone, broken, or we were
 * suspended) the I/O fails first, or del_gendisk() would wait for it.
 */
static PGNT_XENBUS_REMOVE_RET pgfe_remove(struct xenbus_device *dev)
{
	struct pgfe_info *info = dev_get_drvdata(&dev->dev);

	mutex_lock(&info->mutex);
	if (info->state != PGFE_CONNECTED) {
		pgfe_close_and_wait(info);
		pgfe_disconnect(info);
	}
	mutex_unlock(&info->mutex);

	/* Both take the mutex or feed the queue: done before the disk goes. */
	cancel_work_sync(&info->flush_off_work);
	flush_work(&info->resplit_work);
	/* Outside the mutex: sysfs readers take it and del_gendisk waits. */
	pgfe_disk_destroy(info);
	flush_work(&info->resplit_work);

	mutex_lock(&info->mutex);
	pgfe_close_and_wait(info);
	pgfe_disconnect(info);
	mutex_unlock(&info->mutex);
	pgfe_minors_release(info->first_minor, info->nr_minors);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(info);
	return PGNT_XENBUS_REMOVE_OK;
}

static const struct xenbus_device_id pgfe_xenbus_ids[] = {
	{ "vbd" },
	{ "" }
};

/*
 * Named "vbd" like the stock driver: the bus refuses a second driver of
 * the same name, a second guard besides major 202.
 */
static struct xenbus_driver pgfe_xenbus_driver = {
	.name = "vbd",
	.ids = pgfe_xenbus_ids,
	.probe = pgfe_probe,
	.remove = pgfe_remove,
	.resume = pgfe_resume,
	.otherend_changed = pgfe_backend_changed,
};

int pgfe_xenbus_init(void)
{
	return xenbus_register_frontend(&pgfe_xenbus_driver);
}

void pgfe_xenbus_fini(void)
{
	xenbus_unregister_driver(&pgfe_xenbus_driver);
}
