// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: the gendisk.  Device numbers and names follow the
 * stock frontend exactly (pgnt_vdev.h), so that fstab, root= and udev
 * rules keep working when a guest switches drivers.
 */

#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "common.h"

static_assert(PGNT_VDEV_NAME_MAX <= DISK_NAME_LEN);

/*
 * Minor ranges owned by our disks, so that two vbds naming overlapping
 * numbers (say 51712 and an extended alias of it) are refused.
 */
struct pgfe_minor_range {
	struct list_head node;
	u32 first;
	u32 nr;
};

static LIST_HEAD(pgfe_minor_ranges);
/* Protects pgfe_minor_ranges; taken by probe and remove only. */
static DEFINE_MUTEX(pgfe_minor_lock);

int pgfe_minors_reserve(u32 first, u32 nr)
{
	struct pgfe_minor_range *r, *new;
	int err = 0;

	new = pgnt_kzalloc_obj(*new, GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->first = first;
	new->nr = nr;
	mutex_lock(&pgfe_minor_lock);
	list_for_each_entry(r, &pgfe_minor_ranges, node) {
		if (first < r->first + r->nr && r->first < first + nr) {
			err = -EBUSY;
			break;
		}
	}
	if (!err)
		list_add(&new->node, &pgfe_minor_ranges);
	mutex_unlock(&pgfe_minor_lock);
	if (err)
		kfree(new);
	return err;
}

void pgfe_minors_release(u32 first, u32 nr)
{
	struct pgfe_minor_range *r;

	mutex_lock(&pgfe_minor_lock);
	list_for_each_entry(r, &pgfe_minor_ranges, node) {
		if (r->first == first && r->nr == nr) {
			list_del(&r->node);
			kfree(r);
			break;
		}
	}
	mutex_unlock(&pgfe_minor_lock);
}

void pgfe_disk_fill_limits(const struct pgfe_info *info, struct pgnt_qlim *lim)
{
	const struct pgfe_features *f = &info->f;

	memset(lim, 0, sizeof(*lim));
	lim->logical_block_size = info->sector_size;
	lim->physical_block_size = info->physical_sector_size;
	lim->max_segments = f->max_segs;
	lim->max_hw_sectors = f->max_segs * PGNT_SECTORS_PER_PAGE;
	/* One segment is one grant: never let one span two pages. */
	lim->max_segment_size = PAGE_SIZE;
	lim->seg_boundary_mask = PAGE_SIZE - 1;
	if (f->discard) {
		lim->max_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
		lim->discard_granularity = f->discard_granularity;
		lim->discard_alignment = f->discard_alignment;
		if (f->secure_discard)
			lim->max_secure_erase_sectors = UINT_MAX >> SECTOR_SHIFT;
	}
	lim->write_cache = f->flush_op != 0;
	lim->fua = f->fua;
}

static const struct block_device_operations pgfe_fops = {
	.owner = THIS_MODULE,
};

static int pgfe_tag_set_init(struct pgfe_info *info)
{
	struct blk_mq_tag_set *set = &info->tag_set;
	int err;

	memset(set, 0, sizeof(*set));
	set->ops = &pgfe_mq_ops;
	set->nr_hw_queues = info->f.nr_rings;
	set->queue_depth = info->f.ring_entries;
	set->numa_node = NUMA_NO_NODE;
	set->flags = PGNT_BLK_MQ_F_SHOULD_MERGE;
	set->cmd_size = sizeof(struct pgfe_rq_pdu);
	err = blk_mq_alloc_tag_set(set);
	if (!err)
		info->have_tag_set = true;
	return err;
}

static void pgfe_disk_set_state(struct pgfe_info *info)
{
	bool ro = (info->vdisk_info & VDISK_READONLY) != 0;

	set_disk_ro(info->gd, ro);
	if (info->vdisk_info & VDISK_REMOVABLE)
		info->gd->flags |= GENHD_FL_REMOVABLE;
}

/* First connect: the tag set and the gendisk, added to the system. */
int pgfe_disk_create(struct pgfe_info *info)
{
	struct pgnt_qlim lim;
	struct gendisk *gd;
	int err;

	err = pgfe_tag_set_init(info);
	if (err)
		return err;
	pgfe_disk_fill_limits(info, &lim);
	gd = pgnt_alloc_disk(&info->tag_set, &lim, info, info->nr_minors);
	if (IS_ERR(gd)) {
		err = PTR_ERR(gd);
		goto out_free_tag_set;
	}
	gd->major = PGNT_VBD_MAJOR;
	gd->first_minor = info->first_minor;
	gd->fops = &pgfe_fops;
	gd->private_data = info;
	pgnt_vdev_name(gd->disk_name, info->first_minor, info->parts_per_disk);
	set_capacity(gd, info->sectors);
	info->gd = gd;
	pgfe_disk_set_state(info);

	err = pgnt_device_add_disk(&info->xbdev->dev, gd, pgfe_disk_groups);
	if (err)
		goto out_free_disk;
	return 0;

out_free_disk:
	info->gd = NULL;
	pgnt_free_disk(gd);
out_free_tag_set:
	blk_mq_free_tag_set(&info->tag_set);
	info->have_tag_set = false;
	return err;
}

/* Reconnect: the new backend's limits, size and mode. */
void pgfe_disk_update(struct pgfe_info *info)
{
	struct pgnt_qlim lim;
	int err;

	pgfe_disk_fill_limits(info, &lim);
	err = pgnt_update_limits(info->gd, &lim);
	if (err)
		dev_warn(&info->xbdev->dev, "cannot update queue limits: %d\n",
			 err);
	set_capacity_and_notify(info->gd, info->sectors);
	pgfe_disk_set_state(info);
}

/* Remove the disk; I/O already fails (state is not connected). */
void pgfe_disk_destroy(struct pgfe_info *info)
{
	if (info->gd) {
		del_gendisk(info->gd);
		pgnt_free_disk(info->gd);
		info->gd = NULL;
	}
	if (info->have_tag_set) {
		blk_mq_free_tag_set(&info->tag_set);
		info->have_tag_set = false;
	}
}
