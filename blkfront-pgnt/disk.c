// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: the gendisk.  Device numbers and names follow the
 * stock frontend exactly (major 202, 16 minors per disk, 256 in the
 * extended scheme, emulated IDE/SCSI numbers mapped onto xvd), so that
 * fstab, root= and udev rules keep working when a guest switches drivers.
 */

#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "common.h"

/* Layout of the virtual-device number (blkif.h, "Virtual device numbers"). */
#define PGNT_VDEV_EXTENDED	BIT(28)
#define PGNT_PARTS_PER_DISK	16
#define PGNT_PARTS_PER_EXT_DISK	256

/*
 * Emulated disk majors and the first xvd disk index they map to.  IDE
 * majors carry two disks of 64 minors each; SCSI majors 16 disks of 16.
 */
struct pgnt_emul_major {
	u16 major;
	u16 first_disk;
	u16 minors_per_disk;
};

static const struct pgnt_emul_major pgnt_emul_majors[] = {
	{ 3, 0, 64 }, { 22, 2, 64 }, { 33, 4, 64 }, { 34, 6, 64 },
	{ 56, 8, 64 }, { 57, 10, 64 }, { 88, 12, 64 }, { 89, 14, 64 },
	{ 90, 16, 64 }, { 91, 18, 64 },
	{ 8, 0, 16 }, { 65, 16, 16 }, { 66, 32, 16 }, { 67, 48, 16 },
	{ 68, 64, 16 }, { 69, 80, 16 }, { 70, 96, 16 }, { 71, 112, 16 },
	{ 128, 128, 16 }, { 129, 144, 16 }, { 130, 160, 16 },
	{ 131, 176, 16 }, { 132, 192, 16 }, { 133, 208, 16 },
	{ 134, 224, 16 }, { 135, 240, 16 },
};

/*
 * The xvd minor of a virtual-device number, and how many minors a disk has
 * in its numbering scheme (16, or 256 in the extended one).
 */
int pgnt_vdev_to_minor(u32 vdevice, u32 *minor, u32 *parts_per_disk)
{
	u32 major, m, parts = PGNT_PARTS_PER_DISK;
	unsigned int i;

	if (vdevice & PGNT_VDEV_EXTENDED) {
		m = vdevice & ~PGNT_VDEV_EXTENDED;
		parts = PGNT_PARTS_PER_EXT_DISK;
	} else {
		major = vdevice >> 8;
		m = vdevice & 0xff;
		if (major != PGNT_VBD_MAJOR) {
			for (i = 0; i < ARRAY_SIZE(pgnt_emul_majors); i++)
				if (pgnt_emul_majors[i].major == major)
					break;
			if (i == ARRAY_SIZE(pgnt_emul_majors))
				return -ENODEV;
			/* Partitions beyond 15 have no xvd equivalent. */
			if (m % pgnt_emul_majors[i].minors_per_disk >=
			    PGNT_PARTS_PER_DISK)
				return -ENODEV;
			m = (pgnt_emul_majors[i].first_disk +
			     m / pgnt_emul_majors[i].minors_per_disk) *
			    PGNT_PARTS_PER_DISK +
			    m % pgnt_emul_majors[i].minors_per_disk;
		}
	}
	if (m >= MINORMASK + 1 || m + parts > MINORMASK + 1)
		return -ENODEV;
	*minor = m;
	*parts_per_disk = parts;
	return 0;
}

/*
 * Minor ranges owned by our disks, so that two vbds naming overlapping
 * numbers (say 51712 and an extended alias of it) are refused.
 */
struct pgnt_minor_range {
	struct list_head node;
	u32 first;
	u32 nr;
};

static LIST_HEAD(pgnt_minor_ranges);
/* Protects pgnt_minor_ranges; taken by probe and remove only. */
static DEFINE_MUTEX(pgnt_minor_lock);

int pgnt_minors_reserve(u32 first, u32 nr)
{
	struct pgnt_minor_range *r, *new;
	int err = 0;

	new = pgnt_kzalloc_obj(*new, GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->first = first;
	new->nr = nr;
	mutex_lock(&pgnt_minor_lock);
	list_for_each_entry(r, &pgnt_minor_ranges, node) {
		if (first < r->first + r->nr && r->first < first + nr) {
			err = -EBUSY;
			break;
		}
	}
	if (!err)
		list_add(&new->node, &pgnt_minor_ranges);
	mutex_unlock(&pgnt_minor_lock);
	if (err)
		kfree(new);
	return err;
}

void pgnt_minors_release(u32 first, u32 nr)
{
	struct pgnt_minor_range *r;

	mutex_lock(&pgnt_minor_lock);
	list_for_each_entry(r, &pgnt_minor_ranges, node) {
		if (r->first == first && r->nr == nr) {
			list_del(&r->node);
			kfree(r);
			break;
		}
	}
	mutex_unlock(&pgnt_minor_lock);
}

/* "xvd" + a, b, ..., z, aa, ab, ...: the bijective base-26 disk index. */
static void pgnt_disk_name(char *buf, size_t len, u32 index, u32 part)
{
	char letters[8];
	int n = 0, i;
	int pos;

	index++;
	while (index && n < (int)sizeof(letters)) {
		index--;
		letters[n++] = 'a' + index % 26;
		index /= 26;
	}
	pos = snprintf(buf, len, "%s", PGNT_DEV_NAME);
	for (i = n - 1; i >= 0 && pos < (int)len - 1; i--)
		buf[pos++] = letters[i];
	buf[pos] = '\0';
	if (part)
		snprintf(buf + pos, len - pos, "%u", part);
}

void pgnt_disk_fill_limits(const struct pgnt_info *info, struct pgnt_qlim *lim)
{
	const struct pgnt_features *f = &info->f;

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

static const struct block_device_operations pgnt_fops = {
	.owner = THIS_MODULE,
};

static int pgnt_tag_set_init(struct pgnt_info *info)
{
	struct blk_mq_tag_set *set = &info->tag_set;
	int err;

	memset(set, 0, sizeof(*set));
	set->ops = &pgnt_mq_ops;
	set->nr_hw_queues = info->f.nr_rings;
	set->queue_depth = info->f.ring_entries;
	set->numa_node = NUMA_NO_NODE;
	set->flags = PGNT_BLK_MQ_F_SHOULD_MERGE;
	set->cmd_size = sizeof(struct pgnt_rq_pdu);
	err = blk_mq_alloc_tag_set(set);
	if (!err)
		info->have_tag_set = true;
	return err;
}

static void pgnt_disk_set_state(struct pgnt_info *info)
{
	bool ro = (info->vdisk_info & VDISK_READONLY) != 0;

	set_disk_ro(info->gd, ro);
	if (info->vdisk_info & VDISK_REMOVABLE)
		info->gd->flags |= GENHD_FL_REMOVABLE;
}

/* First connect: the tag set and the gendisk, added to the system. */
int pgnt_disk_create(struct pgnt_info *info)
{
	struct pgnt_qlim lim;
	struct gendisk *gd;
	int err;

	err = pgnt_tag_set_init(info);
	if (err)
		return err;
	pgnt_disk_fill_limits(info, &lim);
	gd = pgnt_alloc_disk(&info->tag_set, &lim, info, info->nr_minors);
	if (IS_ERR(gd)) {
		err = PTR_ERR(gd);
		goto out_free_tag_set;
	}
	gd->major = PGNT_VBD_MAJOR;
	gd->first_minor = info->first_minor;
	gd->fops = &pgnt_fops;
	gd->private_data = info;
	pgnt_disk_name(gd->disk_name, sizeof(gd->disk_name),
		       info->first_minor / info->parts_per_disk,
		       info->first_minor % info->parts_per_disk);
	set_capacity(gd, info->sectors);
	info->gd = gd;
	pgnt_disk_set_state(info);

	err = pgnt_device_add_disk(&info->xbdev->dev, gd, pgnt_disk_groups);
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
void pgnt_disk_update(struct pgnt_info *info)
{
	struct pgnt_qlim lim;
	int err;

	pgnt_disk_fill_limits(info, &lim);
	err = pgnt_update_limits(info->gd, &lim);
	if (err)
		dev_warn(&info->xbdev->dev, "cannot update queue limits: %d\n",
			 err);
	set_capacity_and_notify(info->gd, info->sectors);
	pgnt_disk_set_state(info);
}

/* Remove the disk; I/O already fails (state is not connected). */
void pgnt_disk_destroy(struct pgnt_info *info)
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
