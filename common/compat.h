/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference of xen-blk-pgnt lives here, and only here.
 *
 * Force-included into every object of both modules (ccflags-y in each Kbuild),
 * so the drivers call the pgnt_*() helpers below and never test
 * LINUX_VERSION_CODE themselves.  Each shim names the upstream change that
 * made it necessary.  Supported: Debian's 5.10 (bullseye), 6.1 (bookworm),
 * 6.12 (bookworm-backports, trixie) and sid's newest (7.x).
 */
#ifndef PGNT_COMPAT_H
#define PGNT_COMPAT_H

/*
 * Being force-included, this header comes before any kernel header, so it
 * is where both modules get their one log prefix.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "xen-blk-pgnt requires Linux 5.10 or later"
#endif

#include <linux/types.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/fs.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>

/* ---- xenbus ---- */

/*
 * v6.3 "xen: make remove callback of xen driver void returned": a driver's
 * remove() is declared with PGNT_XENBUS_REMOVE_RET and ends with
 * "return PGNT_XENBUS_REMOVE_OK;" (expands to nothing on void kernels).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define PGNT_XENBUS_REMOVE_RET	void
#define PGNT_XENBUS_REMOVE_OK
#else
#define PGNT_XENBUS_REMOVE_RET	int
#define PGNT_XENBUS_REMOVE_OK	0
#endif

/* ---- block devices opened by the backend ---- */

/*
 * v6.5 "block: use the holder as indication for exclusive opens" changed
 * blkdev_get_by_dev()/blkdev_put(); v6.9 "bdev: open block device as files"
 * replaced them with bdev_file_open_by_dev() and fput(); v6.10 added
 * bdev_fput().  The backend opens its physical device non-exclusively, as
 * the stock backend does, so the holder is always NULL.
 */
struct pgnt_bdev {
	struct block_device *bdev;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *file;
#else
	bool write;
#endif
};

static inline int pgnt_bdev_open(struct pgnt_bdev *b, dev_t dev, bool write)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *f = bdev_file_open_by_dev(dev, write ?
					       BLK_OPEN_READ | BLK_OPEN_WRITE :
					       BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	b->file = f;
	b->bdev = file_bdev(f);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	bdev_fput(b->file);
	b->file = NULL;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	fput(b->file);
	b->file = NULL;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	blkdev_put(b->bdev, NULL);
#else
	blkdev_put(b->bdev, b->write ? FMODE_READ | FMODE_WRITE : FMODE_READ);
#endif
	b->bdev = NULL;
}

/* v5.15 "block: add a bdev_nr_sectors helper". */
static inline sector_t pgnt_bdev_nr_sectors(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 15, 0)
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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
	return bdev_max_discard_sectors(bdev) != 0;
#else
	return blk_queue_discard(bdev_get_queue(bdev));
#endif
}

static inline bool pgnt_bdev_secure_erase(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
	return bdev_max_secure_erase_sectors(bdev) != 0;
#else
	return blk_queue_secure_erase(bdev_get_queue(bdev));
#endif
}

static inline unsigned int pgnt_bdev_discard_granularity(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
	return bdev_discard_granularity(bdev);
#else
	return bdev_get_queue(bdev)->limits.discard_granularity;
#endif
}

static inline bool pgnt_bdev_write_cache(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
	return bdev_write_cache(bdev);
#else
	return test_bit(QUEUE_FLAG_WC, &bdev_get_queue(bdev)->queue_flags);
#endif
}

/* v5.18 "block: pass a block_device and opf to bio_alloc". */
static inline struct bio *pgnt_bio_alloc(struct block_device *bdev,
					 unsigned short nr_vecs,
					 unsigned int opf, gfp_t gfp)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 18, 0)
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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define PGNT_BLK_MQ_F_SHOULD_MERGE	0
#else
#define PGNT_BLK_MQ_F_SHOULD_MERGE	BLK_MQ_F_SHOULD_MERGE
#endif

/* v6.15 "block: remove the q argument from blk_rq_map_sg". */
static inline int pgnt_blk_rq_map_sg(struct request *rq, struct scatterlist *sg)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return blk_rq_map_sg(rq, sg);
#else
	return blk_rq_map_sg(rq->q, rq, sg);
#endif
}

#endif /* PGNT_COMPAT_H */
