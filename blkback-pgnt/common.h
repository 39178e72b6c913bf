/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-blkback-pgnt private types, shared by the files of the backend:
 *   main.c    module parameters, init/exit, per-domain and global budgets
 *   xenbus.c  backend lifecycle (hotplug, negotiation, connect, teardown)
 *   ring.c    data path: one kthread per ring, requests, bios, responses
 *   grant.c   persistent grants, budgets, grant copy, reclaim
 *   stats.c   sysfs statistics (stats_table.h lists the counters)
 */
#ifndef PGBK_BLKBACK_COMMON_H
#define PGBK_BLKBACK_COMMON_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/interface/io/blkif.h>
#include <xen/interface/io/ring.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>

#include "pgnt.h"
#include "pgnt_budget.h"
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
struct pgbk_x32_rw {
	u8 nr_segments;
	u16 handle;
	u64 id;
	u64 sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __packed;

struct pgbk_x32_discard {
	u8 flag;
	u16 _pad1;
	u64 id;
	u64 sector_number;
	u64 nr_sectors;
} __packed;

struct pgbk_x32_other {
	u8 _pad1;
	u16 _pad2;
	u64 id;
} __packed;

struct pgbk_x32_indirect {
	u8 indirect_op;
	u16 nr_segments;
	u64 id;
	u64 sector_number;
	u16 handle;
	u16 _pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u64 _pad3;
} __packed;

struct pgbk_x32_request {
	u8 operation;
	union {
		struct pgbk_x32_rw rw;
		struct pgbk_x32_discard discard;
		struct pgbk_x32_other other;
		struct pgbk_x32_indirect indirect;
	} u;
} __packed;

struct pgbk_x32_response {
	u64 id;
	u8 operation;
	u8 _pad;
	s16 status;
} __packed;

struct pgbk_x64_rw {
	u8 nr_segments;
	u16 handle;
	u32 _pad1;
	u64 id;
	u64 sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __packed;

struct pgbk_x64_discard {
	u8 flag;
	u16 _pad1;
	u32 _pad2;
	u64 id;
	u64 sector_number;
	u64 nr_sectors;
} __packed;

struct pgbk_x64_other {
	u8 _pad1;
	u16 _pad2;
	u32 _pad3;
	u64 id;
} __packed;

struct pgbk_x64_indirect {
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

struct pgbk_x64_request {
	u8 operation;
	union {
		struct pgbk_x64_rw rw;
		struct pgbk_x64_discard discard;
		struct pgbk_x64_other other;
		struct pgbk_x64_indirect indirect;
	} u;
} __packed;

struct pgbk_x64_response {
	u64 id;
	u8 operation;
	s16 status;
};

DEFINE_RING_TYPES(pgbk_x32, struct pgbk_x32_request, struct pgbk_x32_response);
DEFINE_RING_TYPES(pgbk_x64, struct pgbk_x64_request, struct pgbk_x64_response);

enum pgbk_abi {
	PGBK_ABI_X86_32,
	PGBK_ABI_X86_64,
};

/* ---- statistics ---- */

/*
 * Per-ring counters, exported summed per device in the "statistics" sysfs
 * group (stats.c); the list of them is stats_table.h.
 */
enum pgbk_stat {
#define PGBK_STAT(name)		PGBK_ST_##name,
#include "stats_table.h"
	PGBK_ST_NR
};

/*
 * Written by the ring's thread (and by teardown once it has stopped; a
 * ring handed to its thread at teardown writes its own orphan_stats),
 * read locklessly by sysfs; kept in the device, not the ring, so that they
 * survive reconnection and sysfs never sees a ring being freed.
 */
struct pgbk_stats {
	u64 c[PGBK_ST_NR];
	u64 err[PGNT_VERDICT_NR];	/* refused requests by verdict */
};

/* ---- per-guest-domain budget ---- */

struct pgbk_dom {
	struct list_head node;		/* on pgbk_doms, under pgbk_doms_lock */
	refcount_t ref;			/* one per backend device */
	domid_t domid;
	atomic_t mapped;		/* persistent grants, all its rings */
};

/* ---- grants ---- */

/* A persistently mapped grant, owned by one ring's cache. */
struct pgbk_pgrant {
	struct pgnt_gnode node;
	struct page *page;
	grant_handle_t handle;
};

/* How the data of one segment reaches dom0. */
enum pgbk_seg_kind {
	PGBK_SEG_NONE,		/* nothing held */
	PGBK_SEG_PERSISTENT,	/* cached mapping; seg->pg */
	PGBK_SEG_NEW,		/* being mapped persistently (acquire only) */
	PGBK_SEG_MAP,		/* mapped for this request; seg->handle */
	PGBK_SEG_COPY,		/* dom0 page of the ring's copy pages */
	PGBK_SEG_SCRATCH,	/* indirect page copied to ring scratch */
	PGBK_SEG_SHARED,	/* same grant as seg->lead, uses its mapping */
};

/* One data segment (or indirect page) of a request, private copy. */
struct pgbk_seg {
	struct page *page;		/* what the bio or the parser reads */
	union {
		struct pgbk_pgrant *pg;
		grant_handle_t handle;
		struct pgbk_seg *lead;
	};
	grant_ref_t gref;
	u8 first_sect;
	u8 last_sect;
	u8 kind;			/* enum pgbk_seg_kind */
};

/* ---- rings ---- */

struct pgbk_ring;

/* One request taken off the ring, until its response is written. */
struct pgbk_pending {
	struct list_head node;		/* ring->free (thread) or ring->done */
	struct pgbk_ring *ring;
	struct pgbk_seg *segs;		/* ring->max_segs of them */
	u64 id;				/* echoed, never interpreted */
	atomic_t bios;			/* bios in flight + submitter's bias */
	blk_status_t status;		/* first error a bio reported */
	struct work_struct discard;	/* a discard, run on pgbk_discard_wq */
	sector_t d_sector, d_nr;
	bool d_secure;
	u16 nr_segs;
	u8 op;				/* as on the ring */
	u8 data_op;			/* what it does (indirect: wrapped op), echoed */
};

#define PGBK_RING_KICKED	0	/* ring->flags: event channel fired */

/* ring->state: who ends a ring's thread (ring.c, pgbk_ring_disconnect()). */
enum {
	PGBK_RS_RUNNING,
	PGBK_RS_CLOSING,	/* asked to stop taking requests */
	PGBK_RS_PARKED,		/* stopped, waits for kthread_stop() */
	PGBK_RS_HANDED,		/* ends the ring itself when it returns */
};

struct pgbk_ring {
	struct pgbk_be *be;
	struct pgbk_stats *stats;	/* &be->stats[idx] */
	unsigned int idx;
	enum pgbk_abi abi;
	union {				/* same layout but for the sring type */
		struct pgbk_x32_back_ring x32;
		struct pgbk_x64_back_ring x64;
	} br;
	void *sring;			/* xenbus_map_ring_valloc() address */
	int irq;			/* 0: not bound */
	struct task_struct *task;
	wait_queue_head_t wq;		/* the thread sleeps here */
	unsigned long flags;		/* PGBK_RING_* bits, atomic */
	atomic_t state;			/* PGBK_RS_* */

	/*
	 * Completed requests from bio end_io (any context) to the thread,
	 * or, once the ring is orphaned, to the reap work.
	 */
	spinlock_t done_lock;
	struct list_head done;
	bool orphan;			/* disconnected with bios in flight */
	struct work_struct reap;	/* frees an orphan's requests */
	struct pgbk_stats orphan_stats;	/* an orphan counts here */

	/*
	 * Everything below is touched only by the ring's thread, or by
	 * connect/teardown while no thread runs, so it needs no lock: this
	 * is also why the grant cache is safe without one.
	 */
	bool persistent;		/* both ends said feature-persistent */
	bool broken;			/* protocol violation: stop consuming */
	bool more;			/* requests left on the ring */
	bool stalled;			/* out of pending slots or copy pages */
	bool draining;			/* a barrier or discard waits */
	unsigned int discards;		/* in flight, at most one */
	bool eoi_work;			/* requests seen since the last EOI */
	bool meta_ro;			/* indirect pages granted read-only */
	unsigned long log_next;		/* jiffies of the next log_stats line */
	u32 max_segs;			/* per request, this connection */
	struct pgbk_pending *pending;
	struct pgbk_seg *seg_mem;	/* nr_pending * max_segs */
	unsigned int nr_pending;
	unsigned int nr_inflight;
	struct list_head free;

	struct pgnt_gcache gc;
	struct pgnt_gnode **buckets;
	u32 pg_count;			/* persistent grants of this ring */
	u32 pg_leaked;			/* of them, unmaps that failed */

	struct page **spare;		/* ballooned pages for mappings */
	unsigned int nr_spare;
	unsigned int max_spare;

	/*
	 * Copy pages, dom0's own, allocated when the copy path first needs
	 * them and freed when it has been idle (grant.c): copy_nr held,
	 * copy_nfree of them on the copy_free stack, copy_max at most.
	 */
	struct page **copy_free;
	unsigned int copy_nr;
	unsigned int copy_nfree;
	unsigned int copy_max;
	u64 copy_used;			/* jiffies64 of the last use */

	/* Indirect pages copied in; as many as a request of max_segs has. */
	struct page *iscratch[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct pgbk_seg iseg[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];

	/* Batches of one request: max_segs + indirect pages entries. */
	unsigned int batch_max;
	struct gnttab_map_grant_ref *map_ops;
	struct page **map_pages;
	struct pgbk_seg **map_segs;
	struct gnttab_copy *copy_ops;
	struct gnttab_unmap_grant_ref *unmap_ops;
	struct page **unmap_pages;
	struct pgbk_pgrant **victims;
};

/* ---- devices ---- */

struct pgbk_be {
	/*
	 * One for the bound xenbus device, one per orphaned ring: the device
	 * is opened and the budgets held until the last bio is done.
	 */
	struct kref kref;
	struct xenbus_device *dev;
	struct pgbk_dom *dom;
	/*
	 * Serialises the xenbus callbacks (hotplug watch, frontend state,
	 * remove) against each other: they own everything below.
	 */
	struct mutex lock;
	struct xenbus_watch watch;
	bool watching;
	bool gone;			/* removed: never connect again */
	atomic_t orphans;		/* closed rings with requests in flight */
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
	struct pgbk_ring **rings;
	unsigned int nr_rings;
	struct pgbk_stats stats[PGNT_QUEUES_MAX];
};

/* ---- main.c ---- */

extern bool pgbk_feature_persistent;
extern unsigned int pgbk_max_pgrants_ring;
extern unsigned int pgbk_max_pgrants_domain;
extern unsigned int pgbk_max_pgrants_total;
extern unsigned int pgbk_pgrant_unused_seconds;
extern bool pgbk_overflow_copy;
extern unsigned int pgbk_max_queues;
extern unsigned int pgbk_max_ring_page_order;
extern unsigned int pgbk_max_indirect_segments;
extern unsigned int pgbk_copy_pool_pages;
extern unsigned int pgbk_max_copy_pages_total;
extern bool pgbk_log_stats;
extern atomic_t pgbk_global_mapped;
extern atomic_t pgbk_global_copy;

struct pgbk_dom *pgbk_dom_get(domid_t domid);
void pgbk_dom_put(struct pgbk_dom *dom);

/* ---- xenbus.c ---- */

int pgbk_xenbus_init(void);
void pgbk_xenbus_fini(void);
void pgbk_be_put(struct pgbk_be *be);
void pgbk_be_orphan_done(struct pgbk_be *be);

/* ---- ring.c ---- */

int pgbk_ring_init(void);
void pgbk_ring_fini(void);
struct pgbk_ring *pgbk_ring_new(struct pgbk_be *be, unsigned int idx);
int pgbk_ring_connect(struct pgbk_ring *ring, grant_ref_t *refs,
		      unsigned int nr_refs, evtchn_port_t evtchn);
void pgbk_ring_close(struct pgbk_ring *ring);
void pgbk_ring_disconnect(struct pgbk_ring *ring, unsigned long deadline);

/* ---- grant.c ---- */

int pgbk_grant_ring_init(struct pgbk_ring *ring);
void pgbk_grant_ring_fini(struct pgbk_ring *ring);
int pgbk_grant_acquire(struct pgbk_ring *ring, struct pgbk_seg *segs,
		       unsigned int n, bool to_guest, bool meta);
int pgbk_grant_release(struct pgbk_ring *ring, struct pgbk_seg *segs,
		       unsigned int n, bool to_guest, bool copy_out);
void pgbk_grant_reclaim(struct pgbk_ring *ring);
bool pgbk_grant_copy_room(const struct pgbk_ring *ring);

/* ---- stats.c ---- */

extern const struct attribute_group pgbk_stats_group;

static inline void pgbk_stat_add(struct pgbk_ring *ring, enum pgbk_stat s,
				 u64 n)
{
	WRITE_ONCE(ring->stats->c[s], ring->stats->c[s] + n);
}

static inline void pgbk_stat_set(struct pgbk_ring *ring, enum pgbk_stat s,
				 u64 v)
{
	WRITE_ONCE(ring->stats->c[s], v);
}

static inline void pgbk_stat_verdict(struct pgbk_ring *ring,
				     enum pgnt_verdict v)
{
	if (v < PGNT_VERDICT_NR)
		WRITE_ONCE(ring->stats->err[v], ring->stats->err[v] + 1);
}

#endif /* PGBK_BLKBACK_COMMON_H */
