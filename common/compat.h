/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference of xen-blk-pgnt lives here, and only here.
 *
 * Force-included into every object of both modules (ccflags-y in each Kbuild),
 * so the drivers call the pgnt_*() helpers below and never test the kernel
 * version themselves.  Each shim names the upstream change that made it
 * necessary.  Supported: Debian's 5.10 (bullseye), 6.1 (bookworm),
 * 6.12 (bookworm-backports, trixie) and sid's newest (7.x).
 */
#ifndef PGNT_COMPAT_H
#define PGNT_COMPAT_H

/*
 * Being force-included, this header comes before any kernel header, so it
 * is where both modules get their one log prefix.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

/*
 * The version of the kernel being built for, from Kbuild (see
 * Kbuild.include); the sublevel counts, unclamped, for stable backports.
 */
#ifndef PGNT_KV_SUB
#error "PGNT_KV_* undefined: build through Kbuild (make -C <headers> M=...)"
#endif
#define PGNT_KV		(PGNT_KV_MAJOR * 1000000 + PGNT_KV_MINOR * 1000 + \
			 PGNT_KV_SUB)
#define PGNT_KERNEL_AT_LEAST(a, b, c) \
	((a) * 1000000 + (b) * 1000 + (c) <= PGNT_KV)

#if !PGNT_KERNEL_AT_LEAST(5, 10, 0)
#error "xen-blk-pgnt requires Linux 5.10 or later"
#endif

#include <linux/types.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>
#include <xen/events.h>

/* ---- xenbus ---- */

/*
 * v6.1 "xen: make remove callback of xen driver void returned" (checked:
 * 5.10 headers int, 6.1 headers void): a driver's remove() is declared
 * with PGNT_XENBUS_REMOVE_RET and ends with "return PGNT_XENBUS_REMOVE_OK;"
 * (expands to nothing on void kernels).
 */
#if PGNT_KERNEL_AT_LEAST(6, 1, 0)
#define PGNT_XENBUS_REMOVE_RET	void
#define PGNT_XENBUS_REMOVE_OK
#else
#define PGNT_XENBUS_REMOVE_RET	int
#define PGNT_XENBUS_REMOVE_OK	0
#endif

/*
 * v5.12 "xen/events: link interdomain events to associated xenbus device":
 * the binding takes the xenbus device instead of the remote domain id.
 */
static inline int pgnt_bind_evtchn_lateeoi(struct xenbus_device *dev,
					   evtchn_port_t port,
					   irq_handler_t handler,
					   const char *name, void *data)
{
#if PGNT_KERNEL_AT_LEAST(5, 12, 0)
	return bind_interdomain_evtchn_to_irqhandler_lateeoi(dev, port, handler,
							     0, name, data);
#else
	return bind_interdomain_evtchn_to_irqhandler_lateeoi(dev->otherend_id,
							     port, handler, 0,
							     name, data);
#endif
}

/* ---- block devices opened by the backend ---- */

/* v6.0 "block: Introduce the type blk_opf_t" (a sparse-checked type). */
#if PGNT_KERNEL_AT_LEAST(6, 0, 0)
#define pgnt_opf_t	blk_opf_t
#else
#define pgnt_opf_t	unsigned int
#endif

/* v5.12 "block: rename BIO_MAX_PAGES to BIO_MAX_VECS". */
#if PGNT_KERNEL_AT_LEAST(5, 12, 0)
#define PGNT_BIO_MAX_VECS	BIO_MAX_VECS
#else
#define PGNT_BIO_MAX_VECS	((unsigned int)BIO_MAX_PAGES)
#endif

/*
 * v6.5 "block: use the holder as indication for exclusive opens" changed
 * blkdev_get_by_dev()/blkdev_put(); v6.9 "bdev: open block device as files"
 * replaced them with bdev_file_open_by_dev() and fput(); v6.10 added
 * bdev_fput().  The backend opens its physical device non-exclusively, as
 * the stock backend does, so the holder is always NULL.
 */
struct pgnt_bdev {
	struct block_device *bdev;
#if PGNT_KERNEL_AT_LEAST(6, 9, 0)
	struct file *file;
#else
	bool write;
#endif
};

static inline int pgnt_bdev_open(struct pgnt_bdev *b, dev_t dev, bool write)
{
#if PGNT_KERNEL_AT_LEAST(6, 9, 0)
	struct file *f = bdev_file_open_by_dev(dev, write ?
					       BLK_OPEN_READ | BLK_OPEN_WRITE :
					       BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	b->file = f;
	b->bdev = file_bdev(f);
#elif PGNT_KERNEL_AT_LEAST(6, 5, 0)
	struct block_device *bdev = blkdev_get_by_dev(dev, write ?
						      BLK_OPEN_READ | BLK_OPEN_WRITE :
						      BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->bdev = bdev;
	b->write = write;
#else
	struct block_device *bdev = blkdev_get_by_dev(dev, write ?
						      FMODE_READ | FMODE_WRITE :
						      FMODE_READ, NULL);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->bdev = bdev;
	b->write = write;
#endif
	return 0;
}

static inline void pgnt_bdev_close(struct pgnt_bdev *b)
{
	if (!b->bdev)
		return;
#if PGNT_KERNEL_AT_LEAST(6, 10, 0)
	bdev_fput(b->file);
	b->file = NULL;
#elif PGNT_KERNEL_AT_LEAST(6, 9, 0)
	fput(b->file);
	b->file = NULL;
#elif PGNT_KERNEL_AT_LEAST(6, 5, 0)
	blkdev_put(b->bdev, NULL);
#else
	blkdev_put(b->bdev, b->write ? FMODE_READ | FMODE_WRITE : FMODE_READ);
#endif
	b->bdev = NULL;
}

/*
 * v5.17 "exit: Rename module_put_and_exit to module_put_and_kthread_exit"
 * (backported to some older stable kernels, so tested by name).
 */
#ifndef module_put_and_kthread_exit
#define module_put_and_kthread_exit(code)	module_put_and_exit(code)
#endif

/* v5.15 "block: add a bdev_nr_sectors helper". */
static inline sector_t pgnt_bdev_nr_sectors(struct block_device *bdev)
{
#if PGNT_KERNEL_AT_LEAST(5, 15, 0)
	return bdev_nr_sectors(bdev);
#else
	return i_size_read(bdev->bd_inode) >> SECTOR_SHIFT;
#endif
}

/*
 * v5.19 "block: add bdev_max_discard_sectors/bdev_max_secure_erase_sectors
 * helpers" and "block: add a bdev_write_cache helper" replaced the queue
 * flag tests (QUEUE_FLAG_DISCARD, QUEUE_FLAG_SECERASE, QUEUE_FLAG_WC).
 */
static inline bool pgnt_bdev_discard(struct block_device *bdev)
{
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	return bdev_max_discard_sectors(bdev) != 0;
#else
	return blk_queue_discard(bdev_get_queue(bdev));
#endif
}

static inline bool pgnt_bdev_secure_erase(struct block_device *bdev)
{
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	return bdev_max_secure_erase_sectors(bdev) != 0;
#else
	return blk_queue_secure_erase(bdev_get_queue(bdev));
#endif
}

static inline unsigned int pgnt_bdev_discard_granularity(struct block_device *bdev)
{
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	return bdev_discard_granularity(bdev);
#else
	return bdev_get_queue(bdev)->limits.discard_granularity;
#endif
}

static inline bool pgnt_bdev_write_cache(struct block_device *bdev)
{
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	return bdev_write_cache(bdev);
#else
	return test_bit(QUEUE_FLAG_WC, &bdev_get_queue(bdev)->queue_flags);
#endif
}

/* v5.18 "block: pass a block_device and opf to bio_alloc". */
static inline struct bio *pgnt_bio_alloc(struct block_device *bdev,
					 unsigned short nr_vecs,
					 pgnt_opf_t opf, gfp_t gfp)
{
#if PGNT_KERNEL_AT_LEAST(5, 18, 0)
	return bio_alloc(bdev, nr_vecs, opf, gfp);
#else
	struct bio *bio = bio_alloc(gfp, nr_vecs);

	if (bio) {
		bio_set_dev(bio, bdev);
		bio->bi_opf = opf;
	}
	return bio;
#endif
}

/*
 * v5.19 "block: add a separate operation type for secure erase": the
 * BLKDEV_DISCARD_SECURE flag of blkdev_issue_discard() became
 * blkdev_issue_secure_erase().
 */
static inline int pgnt_issue_discard(struct block_device *bdev, sector_t sector,
				     sector_t nr_sects, bool secure)
{
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	if (secure)
		return blkdev_issue_secure_erase(bdev, sector, nr_sects,
						 GFP_KERNEL);
	return blkdev_issue_discard(bdev, sector, nr_sects, GFP_KERNEL);
#else
	return blkdev_issue_discard(bdev, sector, nr_sects, GFP_KERNEL,
				    secure ? BLKDEV_DISCARD_SECURE : 0);
#endif
}

/* ---- blk-mq (frontend) ---- */

/* v6.14 "block: remove BLK_MQ_F_SHOULD_MERGE": merging became the default. */
#if PGNT_KERNEL_AT_LEAST(6, 14, 0)
#define PGNT_BLK_MQ_F_SHOULD_MERGE	0
#else
#define PGNT_BLK_MQ_F_SHOULD_MERGE	BLK_MQ_F_SHOULD_MERGE
#endif

/* v6.15 "block: remove the q argument from blk_rq_map_sg". */
static inline int pgnt_blk_rq_map_sg(struct request *rq, struct scatterlist *sg)
{
#if PGNT_KERNEL_AT_LEAST(6, 15, 0)
	return blk_rq_map_sg(rq, sg);
#else
	return blk_rq_map_sg(rq->q, rq, sg);
#endif
}

/*
 * The queue limits the frontend sets, in one kernel-independent record,
 * applied by pgnt_alloc_disk() and pgnt_update_limits() below.
 */
struct pgnt_qlim {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int max_segments;
	unsigned int max_segment_size;
	unsigned long seg_boundary_mask;
	unsigned int max_discard_sectors;	/* 0: no discard */
	unsigned int discard_granularity;
	unsigned int discard_alignment;
	unsigned int max_secure_erase_sectors;	/* 0: no secure erase */
	bool write_cache;
	bool fua;
};

/*
 * v6.9 "block: pass a queue_limits argument to blk_mq_alloc_disk" and
 * "block: add an API to atomically update queue limits" replaced the
 * blk_queue_*() setters (gone in v6.11); v6.11 "block: move the
 * write_cache/fua flags to queue_limits features" replaced
 * blk_queue_write_cache(); v5.19 "block: add a separate operation type for
 * secure erase" and "block: remove QUEUE_FLAG_DISCARD" turned the discard
 * and secure-erase queue flags into limits.
 */
#if PGNT_KERNEL_AT_LEAST(6, 9, 0)
static inline void pgnt_qlim_to_limits(const struct pgnt_qlim *p,
				       struct queue_limits *lim)
{
	lim->logical_block_size = p->logical_block_size;
	lim->physical_block_size = p->physical_block_size;
	lim->max_hw_sectors = p->max_hw_sectors;
	lim->max_segments = p->max_segments;
	lim->max_segment_size = p->max_segment_size;
	lim->seg_boundary_mask = p->seg_boundary_mask;
	lim->max_hw_discard_sectors = p->max_discard_sectors;
	lim->discard_granularity = p->discard_granularity;
	lim->discard_alignment = p->discard_alignment;
	lim->max_secure_erase_sectors = p->max_secure_erase_sectors;
#if PGNT_KERNEL_AT_LEAST(6, 11, 0)
	lim->features &= ~(BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA);
	if (p->write_cache)
		lim->features |= BLK_FEAT_WRITE_CACHE;
	if (p->write_cache && p->fua)
		lim->features |= BLK_FEAT_FUA;
#endif
}
#else
static inline void pgnt_qlim_apply_old(const struct pgnt_qlim *p,
				       struct request_queue *q)
{
	blk_queue_logical_block_size(q, p->logical_block_size);
	blk_queue_physical_block_size(q, p->physical_block_size);
	blk_queue_max_hw_sectors(q, p->max_hw_sectors);
	blk_queue_max_segments(q, p->max_segments);
	blk_queue_max_segment_size(q, p->max_segment_size);
	blk_queue_segment_boundary(q, p->seg_boundary_mask);
	blk_queue_max_discard_sectors(q, p->max_discard_sectors);
	q->limits.discard_granularity = p->discard_granularity;
	q->limits.discard_alignment = p->discard_alignment;
#if PGNT_KERNEL_AT_LEAST(5, 19, 0)
	blk_queue_max_secure_erase_sectors(q, p->max_secure_erase_sectors);
#else
	if (p->max_discard_sectors)
		blk_queue_flag_set(QUEUE_FLAG_DISCARD, q);
	else
		blk_queue_flag_clear(QUEUE_FLAG_DISCARD, q);
	if (p->max_secure_erase_sectors)
		blk_queue_flag_set(QUEUE_FLAG_SECERASE, q);
	else
		blk_queue_flag_clear(QUEUE_FLAG_SECERASE, q);
#endif
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
}
#endif

static inline void pgnt_qlim_write_cache(const struct pgnt_qlim *p,
					 struct request_queue *q)
{
#if !PGNT_KERNEL_AT_LEAST(6, 11, 0)
	blk_queue_write_cache(q, p->write_cache, p->write_cache && p->fua);
#endif
}

/*
 * A gendisk with its blk-mq queue: v5.14 "blk-mq: add the blk_mq_alloc_disk
 * APIs" (before it: blk_mq_init_queue() + alloc_disk()), v6.9 added the
 * limits argument.  Returns an ERR_PTR on failure.
 */
static inline struct gendisk *pgnt_alloc_disk(struct blk_mq_tag_set *set,
					      const struct pgnt_qlim *p,
					      void *data, unsigned int minors)
{
	struct gendisk *gd;
#if PGNT_KERNEL_AT_LEAST(6, 9, 0)
	struct queue_limits lim = { };

	pgnt_qlim_to_limits(p, &lim);
	gd = blk_mq_alloc_disk(set, &lim, data);
	if (IS_ERR(gd))
		return gd;
#elif PGNT_KERNEL_AT_LEAST(5, 14, 0)
	gd = blk_mq_alloc_disk(set, data);
	if (IS_ERR(gd))
		return gd;
	pgnt_qlim_apply_old(p, gd->queue);
#else
	struct request_queue *q = blk_mq_init_queue(set);

	if (IS_ERR(q))
		return ERR_CAST(q);
	gd = alloc_disk(minors);
	if (!gd) {
		blk_cleanup_queue(q);
		return ERR_PTR(-ENOMEM);
	}
	q->queuedata = data;
	gd->queue = q;
	pgnt_qlim_apply_old(p, q);
#endif
	gd->minors = minors;
	pgnt_qlim_write_cache(p, gd->queue);
	return gd;
}

/*
 * New limits for a live disk (reconnect to a different backend).  The
 * caller has quiesced the queue; it cannot freeze it, since the requests
 * it holds for replay keep the queue in use.
 */
static inline int pgnt_update_limits(struct gendisk *gd,
				     const struct pgnt_qlim *p)
{
#if PGNT_KERNEL_AT_LEAST(6, 9, 0)
	struct queue_limits lim = queue_limits_start_update(gd->queue);

	pgnt_qlim_to_limits(p, &lim);
	pgnt_qlim_write_cache(p, gd->queue);
	return queue_limits_commit_update(gd->queue, &lim);
#else
	pgnt_qlim_apply_old(p, gd->queue);
	pgnt_qlim_write_cache(p, gd->queue);
	return 0;
#endif
}

/* v5.15 "block: add error handling for device_add_disk / add_disk". */
static inline int pgnt_device_add_disk(struct device *parent,
				       struct gendisk *gd,
				       const struct attribute_group **groups)
{
#if PGNT_KERNEL_AT_LEAST(5, 15, 0)
	return device_add_disk(parent, gd, groups);
#else
	device_add_disk(parent, gd, groups);
	return 0;
#endif
}

/*
 * Drop a disk from pgnt_alloc_disk() (after del_gendisk() if it was
 * added): v5.14 "block: add blk_cleanup_disk", v6.0 "block: remove
 * blk_cleanup_disk" (put_disk() does it all).
 */
static inline void pgnt_free_disk(struct gendisk *gd)
{
#if PGNT_KERNEL_AT_LEAST(6, 0, 0)
	put_disk(gd);
#elif PGNT_KERNEL_AT_LEAST(5, 14, 0)
	blk_cleanup_disk(gd);
#else
	struct request_queue *q = gd->queue;

	blk_cleanup_queue(q);
	put_disk(gd);
#endif
}

/* ---- grant tables, allocation and highmem (frontend) ---- */

/*
 * Typed allocation of one zeroed object: the kzalloc_obj() family of the
 * newest kernels (checkpatch asks for it), kzalloc(sizeof()) before.
 * Probed by the macro's presence rather than a version.
 */
#ifdef kzalloc_obj
#define pgnt_kzalloc_obj(obj, gfp)	kzalloc_obj(obj, gfp)
#else
#define pgnt_kzalloc_obj(obj, gfp)	kzalloc(sizeof(obj), gfp)
#endif

/*
 * v5.18 "xen/grant-table: remove readonly parameter from functions" and
 * "xen/grant-table: make gnttab_end_foreign_access() more robust": the
 * page to free once the other end lets go is a struct page, not an
 * address.  Frees @page (may be NULL) when the grant is finally released.
 */
static inline void pgnt_gnttab_end_deferred(grant_ref_t ref, struct page *page)
{
#if PGNT_KERNEL_AT_LEAST(5, 18, 0)
	gnttab_end_foreign_access(ref, page);
#else
	gnttab_end_foreign_access(ref, 0,
				  page ? (unsigned long)page_address(page) : 0);
#endif
}

/*
 * v5.11 "mm/highmem: Provide kmap_local*".  Before it only the deprecated
 * kmap_atomic() would do; the kernels we support there (Debian 5.10, amd64)
 * have no highmem, where every page is mapped already.
 */
#if !PGNT_KERNEL_AT_LEAST(5, 11, 0) && defined(CONFIG_HIGHMEM)
#error "xen-blk-pgnt needs Linux 5.11 or later on kernels with highmem"
#endif

static inline void *pgnt_kmap(struct page *page)
{
#if PGNT_KERNEL_AT_LEAST(5, 11, 0)
	return kmap_local_page(page);
#else
	return page_address(page);
#endif
}

static inline void pgnt_kunmap(void *addr)
{
#if PGNT_KERNEL_AT_LEAST(5, 11, 0)
	kunmap_local(addr);
#endif
}

#endif /* PGNT_COMPAT_H */
