/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-blkfront-pgnt: private types shared by the frontend's files.
 *
 * Lifetimes and locking in one place:
 *  - struct pgfe_info is one virtual disk (one xenbus device).  Its mutex
 *    serialises the control plane: xenbus state changes, resume, remove and
 *    the sysfs readers that walk the rings.
 *  - The rings, and everything negotiated with the backend, change only
 *    while the disk's queue is quiesced and the rings' interrupts are
 *    unbound, so the I/O path reads them without the mutex.
 *  - struct pgfe_ring is one shared ring (one blk-mq hardware queue).  Its
 *    spinlock covers the ring indexes, the request ids, the shadow entries,
 *    the ring's page pool and its counters; no lock is shared between rings
 *    on the I/O path.
 */
#ifndef PGFE_FRONT_COMMON_H
#define PGFE_FRONT_COMMON_H

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>
#include <xen/interface/io/blkif.h>

#include "pgnt.h"
#include "pgnt_check.h"
#include "pgnt_copy.h"
#include "pgnt_vdev.h"

#define PGFE_DEV_NAME		"xvd"

/* A grant reference we do not hold. */
#define PGFE_GREF_NONE		((grant_ref_t)~0U)

/* Module parameters (main.c), under their stock names. */
extern unsigned int pgfe_max_indirect_segments;
extern unsigned int pgfe_max_queues;
extern unsigned int pgfe_max_ring_page_order;
extern bool pgfe_feature_persistent;
extern bool pgfe_trusted;

/*
 * Grants of this module, all devices (main.c): issued and not yet ended,
 * and handed to the grant-table code because the backend still mapped
 * them when we ended them (it frees them later, out of our sight).
 */
extern atomic_long_t pgfe_grants_held;
extern atomic_long_t pgfe_grants_deferred;

/*
 * One frontend-owned page that carries data (or an indirect segment array)
 * for the backend.  Data is always bounced through these pages, so the
 * backend never sees memory that belongs to anyone else, and a page the
 * backend refuses to let go of can be abandoned to the grant-table code
 * without affecting the request's own buffers.
 */
struct pgfe_gnt {
	struct list_head node;		/* on pool.free while idle */
	struct page *page;
	grant_ref_t gref;		/* PGFE_GREF_NONE when not granted */
	bool persistent;		/* granted for the pool's lifetime */
};

/* The per-ring page pool (pool.c); all fields under the ring's lock. */
struct pgfe_pool {
	struct list_head free;		/* idle pages, most recently used first */
	unsigned int nr_free;
	unsigned int nr_pages;		/* pages owned, idle or in use */
	unsigned int cap;		/* most pages the ring may own */
	unsigned int nr_persistent;	/* pages granted for good */
};

/*
 * Counters of one ring, listed in stats_table.h; under the ring's lock,
 * summed for sysfs.
 */
enum pgfe_stat {
#define PGFE_STAT(name)		PGFE_ST_##name,
#include "stats_table.h"
	PGFE_ST_NR
};

struct pgfe_ring_stats {
	u64 c[PGFE_ST_NR];
};

/* What a request in flight holds; one per ring slot, indexed by its id. */
struct pgfe_shadow {
	struct request *rq;		/* NULL while the id is free */
	struct pgfe_gnt **gnts;		/* data pages, then indirect pages */
	struct scatterlist *sg;		/* the request's data, mapped */
	unsigned int nr_data;
	unsigned int nr_ind;
	u8 op;				/* operation on the ring */
	u8 data_op;			/* wrapped operation when indirect */
	bool classic;			/* grants end at completion */
};

struct pgfe_info;

struct pgfe_ring {
	/*
	 * Protects front, ids, shadow, pool and st: taken by queue_rq and by
	 * the ring's interrupt handler, with interrupts disabled.
	 */
	spinlock_t lock;
	struct pgfe_info *info;
	unsigned int index;

	struct blkif_front_ring front;
	void *sring;
	unsigned int nr_ring_pages;
	grant_ref_t ring_ref[PGNT_RING_PAGES_MAX];
	evtchn_port_t evtchn;
	int irq;			/* 0 when unbound */
	bool broken;			/* backend misbehaved on this ring */

	struct pgnt_ids ids;
	u32 *id_links;
	struct pgfe_shadow *shadow;	/* ring_entries of them */
	struct pgfe_gnt **gnt_store;
	struct scatterlist *sg_store;

	struct pgfe_pool pool;
	struct pgfe_ring_stats st;
	char irq_name[32];
};

enum pgfe_conn {
	PGFE_DISCONNECTED,	/* no rings; I/O fails */
	PGFE_CONNECTED,		/* rings up, I/O flows */
	PGFE_SUSPENDED,		/* rings torn down, requests held for replay */
	PGFE_BROKEN,		/* the backend misbehaved; I/O fails */
};

/* Everything negotiated with one backend; fixed between reconnects. */
struct pgfe_features {
	unsigned int nr_rings;
	unsigned int ring_order;
	unsigned int ring_entries;
	unsigned int max_segs;		/* data segments per request */
	unsigned int max_ind_pages;	/* indirect pages per request */
	u8 flush_op;			/* 0 when no flush */
	bool fua;
	bool discard;
	bool secure_discard;
	bool persistent;
	bool offered_persistent;	/* what we wrote at negotiation */
	bool untrusted;
	unsigned int discard_granularity;
	unsigned int discard_alignment;
};

struct pgfe_info {
	struct xenbus_device *xbdev;
	/* Serialises the control plane (see the comment at the top). */
	struct mutex mutex;
	enum pgfe_conn state;		/* written under mutex, read anywhere */

	u32 vdevice;
	u32 handle;
	u32 first_minor;
	u32 nr_minors;		/* parts_per_disk, or 1 for a partition */
	u32 parts_per_disk;

	struct gendisk *gd;
	struct blk_mq_tag_set tag_set;
	bool have_tag_set;
	bool quiesced;			/* by us, under mutex */

	struct pgfe_features f;
	struct pgfe_ring *rings;	/* f.nr_rings of them */

	/* Disk geometry from the backend. */
	u64 sectors;
	unsigned int vdisk_info;
	unsigned int sector_size;
	unsigned int physical_sector_size;

	/* Requests taken off the rings at suspend, replayed at connect. */
	struct list_head saved;
	/*
	 * Requests too large for the renegotiated limits: their bios are
	 * resubmitted by resplit_work so the block layer splits them anew.
	 * resplit_lock protects the list (taken from queue_rq).
	 */
	spinlock_t resplit_lock;
	struct list_head resplit;
	struct work_struct resplit_work;
	/* Turns off flush/FUA after the backend refused one (ring.c). */
	struct work_struct flush_off_work;

	u64 reconnects;			/* under mutex */
	/* Counters of rings already torn down, under mutex. */
	struct pgfe_ring_stats retired;
};

/* Private part of each blk-mq request. */
struct pgfe_rq_pdu {
	blk_status_t status;
};

/* xenbus.c */
int pgfe_xenbus_init(void);
void pgfe_xenbus_fini(void);

/* ring.c */
extern const struct blk_mq_ops pgfe_mq_ops;
int pgfe_ring_setup(struct pgfe_info *info, struct pgfe_ring *ring);
int pgfe_ring_alloc_slots(struct pgfe_ring *ring);
void pgfe_ring_teardown(struct pgfe_ring *ring, struct list_head *keep);
void pgfe_resplit_work(struct work_struct *work);
void pgfe_flush_off_work(struct work_struct *work);

/* pool.c */
void pgfe_pool_init(struct pgfe_pool *pool, unsigned int cap);
struct pgfe_gnt *pgfe_pool_get(struct pgfe_ring *ring, bool *reused);
void pgfe_pool_put(struct pgfe_ring *ring, struct pgfe_gnt *g);
int pgfe_gnt_grant(struct pgfe_ring *ring, struct pgfe_gnt *g, bool readonly);
bool pgfe_gnt_end(struct pgfe_ring *ring, struct pgfe_gnt *g);
void pgfe_pool_drain(struct pgfe_ring *ring);

/* disk.c */
int pgfe_minors_reserve(u32 first, u32 nr);
void pgfe_minors_release(u32 first, u32 nr);
int pgfe_disk_create(struct pgfe_info *info);
void pgfe_disk_update(struct pgfe_info *info);
void pgfe_disk_destroy(struct pgfe_info *info);
void pgfe_disk_fill_limits(const struct pgfe_info *info,
			   struct pgnt_qlim *lim);

/* stats.c */
void pgfe_stats_retire(struct pgfe_info *info,
		       const struct pgfe_ring_stats *st);
extern const struct attribute_group *pgfe_disk_groups[];

#endif /* PGFE_FRONT_COMMON_H */
