/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-blkback-pgnt private types, shared by the files of the backend:
 *   main.c    module parameters, init/exit, per-domain and global budgets
 *   xenbus.c  backend lifecycle (hotplug, negotiation, connect, teardown)
 *   ring.c    data path: one kthread per ring, requests, bios, responses
 *   grant.c   persistent grants, budgets, grant copy, reclaim
 *   stats.c   sysfs statistics
 */
#ifndef PGNT_BLKBACK_COMMON_H
#define PGNT_BLKBACK_COMMON_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <xen/interface/io/blkif.h>
#include <xen/interface/io/ring.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>

#include "pgnt.h"
#include "pgnt_check.h"
#include "pgnt_gcache.h"

/* ---- ring layouts: the two x86 ABIs a guest may ask for ---- */

/*
 * A 32-bit x86 guest lays requests out with 64-bit fields aligned to 4
 * bytes (no padding before the id); a 64-bit one pads the id to offset 8.
 * Both are fixed by the protocol (blkif.h, "protocol" key), whatever dom0
 * itself is.  Explicit padding plus __packed gives the exact offsets; the
 * static_asserts in ring.c pin them.
 */
struct pgnt_x32_rw {
	u8 nr_segments;
	u16 handle;
	u64 id;
	u64 sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __packed;

struct pgnt_x32_discard {
	u8 flag;
	u16 _pad1;
	u64 id;
	u64 sector_number;
	u64 nr_sectors;
} __packed;

struct pgnt_x32_other {
	u8 _pad1;
	u16 _pad2;
	u64 id;
} __packed;

struct pgnt_x32_indirect {
	u8 indirect_op;
	u16 nr_segments;
	u64 id;
	u64 sector_number;
	u16 handle;
	u16 _pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u64 _pad3;
} __packed;

struct pgnt_x32_request {
	u8 operation;
	union {
		struct pgnt_x32_rw rw;
		struct pgnt_x32_discard discard;
		struct pgnt_x32_other other;
		struct pgnt_x32_indirect indirect;
	} u;
} __packed;

struct pgnt_x32_response {
	u64 id;
	u8 operation;
	u8 _pad;
	s16 status;
} __packed;

struct pgnt_x64_rw {
	u8 nr_segments;
	u16 handle;
	u32 _pad1;
	u64 id;
	u64 sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __packed;

struct pgnt_x64_discard {
	u8 flag;
	u16 _pad1;
	u32 _pad2;
	u64 id;
	u64 sector_number;
	u64 nr_sectors;
} __packed;

struct pgnt_x64_other {
	u8 _pad1;
	u16 _pad2;
	u32 _pad3;
	u64 id;
} __packed;

struct pgnt_x64_indirect {
	u8 indirect_op;
	u16 nr_segments;
	u32 _pad1;
	u64 id;
	u64 sector_number;
	u16 handle;
	u16 _pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u32 _pad3;
} __packed;

struct pgnt_x64_request {
	u8 operation;
	union {
		struct pgnt_x64_rw rw;
		struct pgnt_x64_discard discard;
		struct pgnt_x64_other other;
		struct pgnt_x64_indirect indirect;
	} u;
} __packed;

struct pgnt_x64_response {
	u64 id;
	u8 operation;
	s16 status;
};

DEFINE_RING_TYPES(pgnt_x32, struct pgnt_x32_request, struct pgnt_x32_response);
DEFINE_RING_TYPES(pgnt_x64, struct pgnt_x64_request, struct pgnt_x64_response);

enum pgnt_abi {
	PGNT_ABI_X86_32,
	PGNT_ABI_X86_64,
};

/* ---- statistics ---- */

/*
 * Per-ring counters, exported summed per device in the "statistics" sysfs
 * group (stats.c has one file per counter).  The first seven are the
 * stock backend's names.
 */
enum pgnt_stat {
	PGNT_ST_oo_req,			/* out of request slots/copy pages */
	PGNT_ST_rd_req,
	PGNT_ST_wr_req,
	PGNT_ST_f_req,			/* flush and barrier */
	PGNT_ST_ds_req,			/* discard */
	PGNT_ST_rd_sect,
	PGNT_ST_wr_sect,
	PGNT_ST_pgrants_mapped,		/* persistent grants now (a gauge) */
	PGNT_ST_pgrant_hits,		/* segments found in the cache */
	PGNT_ST_pgrant_misses,
	PGNT_ST_pgrant_maps,		/* grant map operations */
	PGNT_ST_pgrant_unmaps,
	PGNT_ST_copies,			/* segments copied (GNTTABOP_copy) */
	PGNT_ST_reclaims,		/* idle or over-budget unmaps */
	PGNT_ST_budget_refusals,	/* segments a budget kept unmapped */
	PGNT_ST_err_grant,		/* requests failed on a grant op */
	PGNT_ST_err_io,			/* requests the device failed */
	PGNT_ST_err_ring,		/* ring protocol violations */
	PGNT_ST_NR
};

/*
 * Written only by the ring's thread (or by teardown once it has stopped),
 * read locklessly by sysfs; kept in the device, not the ring, so that they
 * survive reconnection and sysfs never sees a ring being freed.
 */
struct pgnt_stats {
	u64 c[PGNT_ST_NR];
	u64 err[PGNT_VERDICT_NR];	/* refused requests by verdict */
};

/* ---- per-guest-domain budget ---- */

struct pgnt_dom {
	struct list_head node;		/* on pgnt_doms, under pgnt_doms_lock */
	refcount_t ref;			/* one per backend device */
	domid_t domid;
	atomic_t mapped;		/* persistent grants, all its rings */
};

/* ---- grants ---- */

/* A persistently mapped grant, owned by one ring's cache. */
struct pgnt_pgrant {
	struct pgnt_gnode node;
	struct page *page;
	grant_handle_t handle;
};

/* How the data of one segment reaches dom0. */
enum pgnt_seg_kind {
	PGNT_SEG_NONE,		/* nothing held */
	PGNT_SEG_PERSISTENT,	/* cached mapping; seg->pg */
	PGNT_SEG_NEW,		/* being mapped persistently (acquire only) */
	PGNT_SEG_MAP,		/* mapped for this request; seg->handle */
	PGNT_SEG_COPY,		/* dom0 page of the copy pool; seg->buf */
	PGNT_SEG_SCRATCH,	/* indirect page copied to ring scratch */
};

/* One data segment (or indirect page) of a request, private copy. */
struct pgnt_seg {
	struct page *page;		/* what the bio or the parser reads */
	union {
		struct pgnt_pgrant *pg;
		grant_handle_t handle;
		u32 buf;
	};
	grant_ref_t gref;
	u8 first_sect;
	u8 last_sect;
	u8 kind;			/* enum pgnt_seg_kind */
};

/* ---- rings ---- */

struct pgnt_ring;

/* One request taken off the ring, until its response is written. */
struct pgnt_pending {
	struct list_head node;		/* ring->free (thread) or ring->done */
	struct pgnt_ring *ring;
	struct pgnt_seg *segs;		/* ring->max_segs of them */
	u64 id;				/* echoed, never interpreted */
	atomic_t bios;			/* bios in flight + submitter's bias */
	blk_status_t status;		/* first error a bio reported */
	u16 nr_segs;
	u8 op;				/* as on the ring */
	u8 data_op;			/* what it does (indirect: wrapped op), echoed */
};

#define PGNT_RING_KICKED	0	/* ring->flags: event channel fired */

struct pgnt_ring {
	struct pgnt_be *be;
	struct pgnt_stats *stats;	/* &be->stats[idx] */
	unsigned int idx;
	enum pgnt_abi abi;
	union {				/* same layout but for the sring type */
		struct pgnt_x32_back_ring x32;
		struct pgnt_x64_back_ring x64;
	} br;
	void *sring;			/* xenbus_map_ring_valloc() address */
	int irq;			/* 0: not bound */
	struct task_struct *task;
	wait_queue_head_t wq;		/* the thread sleeps here */
	unsigned long flags;		/* PGNT_RING_* bits, atomic */

	/* Completed requests from bio end_io (any context) to the thread. */
	spinlock_t done_lock;
	struct list_head done;

	/*
	 * Everything below is touched only by the ring's thread, or by
	 * connect/teardown while no thread runs, so it needs no lock: this
	 * is also why the grant cache is safe without one.
	 */
	bool persistent;		/* both ends said feature-persistent */
	bool broken;			/* protocol violation: stop consuming */
	bool more;			/* requests left on the ring */
	bool stalled;			/* out of pending slots or copy pages */
	bool eoi_work;			/* requests seen since the last EOI */
	unsigned long log_next;		/* jiffies of the next log_stats line */
	u32 max_segs;			/* per request, this connection */
	struct pgnt_pending *pending;
	struct pgnt_seg *seg_mem;	/* nr_pending * max_segs */
	unsigned int nr_pending;
	unsigned int nr_inflight;
	struct list_head free;

	struct pgnt_gcache gc;
	struct pgnt_gnode **buckets;
	u32 pg_count;			/* persistent grants of this ring */

	struct page **spare;		/* ballooned pages for mappings */
	unsigned int nr_spare;
	unsigned int max_spare;

	struct page **copy_pages;	/* the copy pool, dom0-owned pages */
	u32 *copy_free;			/* stack of free indices */
	unsigned int copy_nr;
	unsigned int copy_nfree;

	struct page *iscratch[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct pgnt_seg iseg[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];

	/* Batches of one request: max_segs + indirect pages entries. */
	unsigned int batch_max;
	struct gnttab_map_grant_ref *map_ops;
	struct page **map_pages;
	struct pgnt_seg **map_segs;
	struct gnttab_copy *copy_ops;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct page **unmap_pages;
	struct pgnt_pgrant **victims;
};

/* ---- devices ---- */

struct pgnt_be {
	struct xenbus_device *dev;
	struct pgnt_dom *dom;
	/*
	 * Serialises the xenbus callbacks (hotplug watch, frontend state,
	 * remove) against each other: they own everything below.
	 */
	struct mutex lock;
	struct xenbus_watch watch;
	bool watching;
	bool sysfs;			/* statistics group created */
	bool module_ref;		/* held while connected */
	bool feature_persistent;	/* what we advertised */
	bool persistent;		/* negotiated, this connection */
	unsigned int ring_order;	/* negotiated, this connection */
	dev_t devt;
	struct pgnt_bdev bdev;
	bool readonly;
	bool cdrom;
	/*
	 * Set at connect, read by the ring threads; only sectors changes
	 * afterwards (ring 0, on resize, WRITE_ONCE).  A stale size is
	 * harmless: the block layer checks the end of the device too.
	 */
	struct pgnt_dev_limits limits;
	unsigned int max_queues;	/* what we advertised */
	unsigned int max_order;		/* what we advertised */
	unsigned int max_indirect;	/* what we advertised */
	struct pgnt_ring *rings;
	unsigned int nr_rings;
	struct pgnt_stats stats[PGNT_QUEUES_MAX];
};

/* ---- main.c ---- */

extern bool pgnt_feature_persistent;
extern unsigned int pgnt_max_pgrants_ring;
extern unsigned int pgnt_max_pgrants_domain;
extern unsigned int pgnt_max_pgrants_total;
extern unsigned int pgnt_pgrant_unused_seconds;
extern bool pgnt_overflow_copy;
extern unsigned int pgnt_max_queues;
extern unsigned int pgnt_max_ring_page_order;
extern unsigned int pgnt_max_indirect_segments;
extern unsigned int pgnt_copy_pool_pages;
extern bool pgnt_log_stats;
extern atomic_t pgnt_global_mapped;

struct pgnt_dom *pgnt_dom_get(domid_t domid);
void pgnt_dom_put(struct pgnt_dom *dom);

/* ---- xenbus.c ---- */

int pgnt_xenbus_init(void);
void pgnt_xenbus_fini(void);

/* ---- ring.c ---- */

int pgnt_ring_connect(struct pgnt_ring *ring, grant_ref_t *refs,
		      unsigned int nr_refs, evtchn_port_t evtchn);
void pgnt_ring_disconnect(struct pgnt_ring *ring);

/* ---- grant.c ---- */

int pgnt_grant_ring_init(struct pgnt_ring *ring);
void pgnt_grant_ring_fini(struct pgnt_ring *ring);
int pgnt_grant_acquire(struct pgnt_ring *ring, struct pgnt_seg *segs,
		       unsigned int n, bool to_guest, bool meta);
int pgnt_grant_release(struct pgnt_ring *ring, struct pgnt_seg *segs,
		       unsigned int n, bool to_guest, bool copy_out);
void pgnt_grant_reclaim(struct pgnt_ring *ring);
bool pgnt_grant_copy_room(const struct pgnt_ring *ring);

/* ---- stats.c ---- */

extern const struct attribute_group pgnt_stats_group;

static inline void pgnt_stat_add(struct pgnt_ring *ring, enum pgnt_stat s,
				 u64 n)
{
	WRITE_ONCE(ring->stats->c[s], ring->stats->c[s] + n);
}

static inline void pgnt_stat_set(struct pgnt_ring *ring, enum pgnt_stat s,
				 u64 v)
{
	WRITE_ONCE(ring->stats->c[s], v);
}

static inline void pgnt_stat_verdict(struct pgnt_ring *ring,
				     enum pgnt_verdict v)
{
	if (v < PGNT_VERDICT_NR)
		WRITE_ONCE(ring->stats->err[v], ring->stats->err[v] + 1);
}

#endif /* PGNT_BLKBACK_COMMON_H */
