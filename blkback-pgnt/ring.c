// SPDX-License-Identifier: GPL-2.0-only
/*
 * Data path: one kernel thread per ring takes requests off the shared
 * ring, copies each one into a private struct pgnt_req, validates the copy
 * (common/pgnt_check.h), gets the guest pages through grant.c, submits the
 * bios and, once they complete, writes the response and notifies.
 *
 * Bio completion only queues the request on ring->done and wakes the
 * thread: every grant operation, the cache and the responses belong to the
 * thread, which is what makes them safe without further locking.
 *
 * Disconnecting never waits for the device: it runs in xenwatch, which
 * every Xen device of the host shares, and a disk may never answer
 * (suspended dm table, lost path).  A ring with bios still in flight
 * becomes an orphan: the thread and event channel are gone, the shared
 * ring is unmapped, and the reap work on pgbk_reap_wq releases each
 * request's grants when its bios end and frees the ring after the last.
 * The orphan keeps the backend (and so the open device and the budgets)
 * and the module alive until then.  The thread itself may be waiting for
 * the device, in submit_bio() for a tag of a full queue: then xenwatch
 * does not wait for it either, and the thread makes the ring an orphan
 * (or frees it) when it returns.
 */

#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/page.h>

#include "common.h"
#include "pgnt_wire.h"

static struct workqueue_struct *pgbk_reap_wq;
static struct workqueue_struct *pgbk_discard_wq;

/* The ring layouts are the protocol's; pin every offset a guest relies on. */
static_assert(sizeof(struct pgbk_x32_request) == 108);
static_assert(offsetof(struct pgbk_x32_request, u.rw.id) == 4);
static_assert(offsetof(struct pgbk_x32_request, u.rw.seg) == 20);
static_assert(offsetof(struct pgbk_x32_request, u.discard.nr_sectors) == 20);
static_assert(offsetof(struct pgbk_x32_request, u.indirect.indirect_grefs) == 24);
static_assert(sizeof(struct pgbk_x32_response) == 12);
static_assert(sizeof(union pgbk_x32_sring_entry) == 108);
static_assert(sizeof(struct pgbk_x64_request) == 112);
static_assert(offsetof(struct pgbk_x64_request, u.rw.id) == 8);
static_assert(offsetof(struct pgbk_x64_request, u.rw.seg) == 24);
static_assert(offsetof(struct pgbk_x64_request, u.discard.nr_sectors) == 24);
static_assert(offsetof(struct pgbk_x64_request, u.indirect.indirect_grefs) == 28);
static_assert(sizeof(struct pgbk_x64_response) == 16);
static_assert(sizeof(union pgbk_x64_sring_entry) == 112);
/* A grant is a page here: no 64 KiB-page kernels. */
static_assert(PAGE_SIZE == XEN_PAGE_SIZE);
/* The native layout is one of the two x86 ones. */
static_assert(sizeof(struct blkif_request) ==
	      (IS_ENABLED(CONFIG_X86_32) ? sizeof(struct pgbk_x32_request) :
					   sizeof(struct pgbk_x64_request)));

/*
 * Copying a request off the ring reads each field exactly once.  Segments
 * of a direct request go to @segs (at most the 11 a slot holds, whatever
 * nr_segments says), the indirect page refs to @igrefs.  The two ABIs
 * differ only in the offsets of the fields, not in the segment layout.
 */
static void pgbk_fetch_segs(const struct blkif_request_segment *ws,
			    unsigned int nr, struct pgbk_seg *segs)
{
	unsigned int i;

	nr = min_t(unsigned int, nr, PGNT_SEGS_DIRECT);
	for (i = 0; i < nr; i++) {
		segs[i].gref = READ_ONCE(ws[i].gref);
		segs[i].first_sect = READ_ONCE(ws[i].first_sect);
		segs[i].last_sect = READ_ONCE(ws[i].last_sect);
	}
}

static void pgbk_fetch_igrefs(const grant_ref_t *src, grant_ref_t *igrefs)
{
	unsigned int i;

	for (i = 0; i < PGNT_INDIRECT_PAGES_MAX; i++)
		igrefs[i] = READ_ONCE(src[i]);
}

/*
 * One body for both layouts: the field names are the same, only their
 * offsets differ, so a generator keeps the two fetchers identical.
 */
#define PGBK_DEFINE_FETCH(abi)						\
static void pgbk_fetch_##abi(const struct pgbk_##abi##_request *src,	\
			     struct pgnt_req *req, struct pgbk_seg *segs,	\
			     grant_ref_t *igrefs)			\
{									\
	req->op = READ_ONCE(src->operation);				\
	switch (req->op) {						\
	case PGNT_OP_DISCARD:						\
		req->discard_flags = READ_ONCE(src->u.discard.flag);	\
		req->id = READ_ONCE(src->u.discard.id);			\
		req->sector = READ_ONCE(src->u.discard.sector_number);	\
		req->nr_sectors = READ_ONCE(src->u.discard.nr_sectors);	\
		break;							\
	case PGNT_OP_INDIRECT:						\
		req->indirect_op = READ_ONCE(src->u.indirect.indirect_op); \
		req->nr_segs = READ_ONCE(src->u.indirect.nr_segments);	\
		req->id = READ_ONCE(src->u.indirect.id);		\
		req->sector = READ_ONCE(src->u.indirect.sector_number);	\
		req->handle = READ_ONCE(src->u.indirect.handle);	\
		pgbk_fetch_igrefs(src->u.indirect.indirect_grefs, igrefs); \
		break;							\
	case PGNT_OP_READ:						\
	case PGNT_OP_WRITE:						\
	case PGNT_OP_WRITE_BARRIER:					\
	case PGNT_OP_FLUSH_DISKCACHE:					\
		req->nr_segs = READ_ONCE(src->u.rw.nr_segments);	\
		req->id = READ_ONCE(src->u.rw.id);			\
		req->sector = READ_ONCE(src->u.rw.sector_number);	\
		req->handle = READ_ONCE(src->u.rw.handle);		\
		pgbk_fetch_segs(src->u.rw.seg, req->nr_segs, segs);	\
		break;							\
	default:							\
		req->id = READ_ONCE(src->u.other.id);			\
		break;							\
	}								\
}

PGBK_DEFINE_FETCH(x32)
PGBK_DEFINE_FETCH(x64)

static void pgbk_fetch(struct pgbk_ring *ring, RING_IDX idx,
		       struct pgnt_req *req, struct pgbk_seg *segs,
		       grant_ref_t *igrefs)
{
	memset(req, 0, sizeof(*req));
	if (ring->abi == PGBK_ABI_X86_32)
		pgbk_fetch_x32(RING_GET_REQUEST(&ring->br.x32, idx), req, segs,
			       igrefs);
	else
		pgbk_fetch_x64(RING_GET_REQUEST(&ring->br.x64, idx), req, segs,
			       igrefs);
}

/* ---- responses ---- */

static void pgbk_respond(struct pgbk_ring *ring, u64 id, u8 op, s16 status)
{
	RING_IDX idx = ring->br.x64.rsp_prod_pvt;

	if (ring->abi == PGBK_ABI_X86_32) {
		struct pgbk_x32_response *rsp = RING_GET_RESPONSE(&ring->br.x32,
								  idx);

		rsp->id = id;
		rsp->operation = op;
		rsp->_pad = 0;
		rsp->status = status;
	} else {
		struct pgbk_x64_response *rsp = RING_GET_RESPONSE(&ring->br.x64,
								  idx);

		rsp->id = id;
		rsp->operation = op;
		rsp->status = status;
	}
	ring->br.x64.rsp_prod_pvt = idx + 1;
}

/* Publish the responses written so far; notify if the frontend wants it. */
static void pgbk_push(struct pgbk_ring *ring)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring->br.x64, notify);
	if (notify)
		notify_remote_via_irq(ring->irq);
}

static void pgbk_pending_free(struct pgbk_ring *ring, struct pgbk_pending *p)
{
	list_add(&p->node, &ring->free);
	ring->nr_inflight--;
}

static void pgbk_finish(struct pgbk_ring *ring, struct pgbk_pending *p,
			s16 status)
{
	/*
	 * The response names the operation performed: for an indirect
	 * request the wrapped one.  Stock blkfront checks this and stops
	 * the device on a mismatch.
	 */
	pgbk_respond(ring, p->id, p->data_op, status);
	pgbk_pending_free(ring, p);
}

/* A request the guest should not have sent: error response, counted. */
static void pgbk_refuse(struct pgbk_ring *ring, struct pgbk_pending *p,
			enum pgnt_verdict v)
{
	pgbk_stat_verdict(ring, v);
	dev_warn_ratelimited(&ring->be->dev->dev,
			     "ring %u: request op %u refused: %s\n",
			     ring->idx, p->op, pgnt_verdict_name(v));
	pgbk_finish(ring, p, pgnt_verdict_status(v));
}

/* ---- completion ---- */

/* Drop one reference: the last one hands the request to the thread. */
static void pgbk_pending_put(struct pgbk_pending *p)
{
	struct pgbk_ring *ring = p->ring;
	unsigned long flags;

	if (!atomic_dec_and_test(&p->bios))
		return;
	/*
	 * Wake under the lock: once it is dropped the thread may complete
	 * the request and the ring may be torn down.
	 */
	spin_lock_irqsave(&ring->done_lock, flags);
	list_add_tail(&p->node, &ring->done);
	if (ring->orphan)
		queue_work(pgbk_reap_wq, &ring->reap);
	else
		wake_up(&ring->wq);
	spin_unlock_irqrestore(&ring->done_lock, flags);
}

static void pgbk_bio_end(struct bio *bio)
{
	struct pgbk_pending *p = bio->bi_private;

	if (bio->bi_status)
		WRITE_ONCE(p->status, bio->bi_status);
	bio_put(bio);
	pgbk_pending_put(p);
}

static void pgbk_complete_one(struct pgbk_ring *ring, struct pgbk_pending *p)
{
	bool to_guest = p->data_op == PGNT_OP_READ;
	blk_status_t bst = READ_ONCE(p->status);
	s16 status = PGNT_RSP_OKAY;

	if (p->op == PGNT_OP_DISCARD)
		ring->discards--;
	if (bst) {
		pgbk_stat_add(ring, PGBK_ST_err_io, 1);
		dev_warn_ratelimited(&ring->be->dev->dev,
				     "ring %u: op %u failed: %d\n", ring->idx,
				     p->data_op, blk_status_to_errno(bst));
		status = bst == BLK_STS_NOTSUPP ? PGNT_RSP_EOPNOTSUPP :
						  PGNT_RSP_ERROR;
	}
	if (pgbk_grant_release(ring, p->segs, p->nr_segs, to_guest, !bst)) {
		pgbk_stat_add(ring, PGBK_ST_err_grant, 1);
		status = PGNT_RSP_ERROR;
	}
	pgbk_finish(ring, p, status);
}

/* Respond to every request whose bios are done; true if there were any. */
static bool pgbk_ring_complete(struct pgbk_ring *ring)
{
	struct pgbk_pending *p, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&ring->done_lock);
	list_splice_init(&ring->done, &list);
	spin_unlock_irq(&ring->done_lock);
	if (list_empty(&list))
		return false;
	list_for_each_entry_safe(p, tmp, &list, node) {
		list_del(&p->node);
		pgbk_complete_one(ring, p);
	}
	pgbk_push(ring);
	ring->stalled = false;
	if (!ring->nr_inflight)
		ring->draining = false;
	return true;
}

/* ---- dispatch ---- */

static struct bio *pgbk_bio_new(struct pgbk_ring *ring,
				struct pgbk_pending *p, unsigned int nr_vecs,
				pgnt_opf_t opf, sector_t sector)
{
	struct bio *bio;

	/* GFP_NOIO from a mempool: waits, never fails. */
	bio = pgnt_bio_alloc(ring->be->bdev.bdev, nr_vecs, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = sector;
	bio->bi_private = p;
	bio->bi_end_io = pgbk_bio_end;
	atomic_inc(&p->bios);
	return bio;
}

/*
 * Submit the request's data as bios, contiguous from @sector.  @first is
 * added to the first bio only (a cache flush before the data).
 */
static void pgbk_submit(struct pgbk_ring *ring, struct pgbk_pending *p,
			sector_t sector, pgnt_opf_t opf, pgnt_opf_t first)
{
	struct bio *bio = NULL;
	unsigned int i;

	atomic_set(&p->bios, 1);	/* ours until all are submitted */
	for (i = 0; i < p->nr_segs; i++) {
		struct pgbk_seg *s = &p->segs[i];
		unsigned int off = s->first_sect << PGNT_SECTOR_SHIFT;
		unsigned int nsec = s->last_sect - s->first_sect + 1;
		unsigned int len = nsec << PGNT_SECTOR_SHIFT;

		if (!bio || bio_add_page(bio, s->page, len, off) != len) {
			if (bio)
				submit_bio(bio);
			bio = pgbk_bio_new(ring, p,
					   min(p->nr_segs - i, PGNT_BIO_MAX_VECS),
					   opf | (i ? 0 : first), sector);
			/* A fresh bio with room for it takes one page. */
			if (bio_add_page(bio, s->page, len, off) != len) {
				bio->bi_status = BLK_STS_IOERR;
				bio_endio(bio);
				bio = NULL;
				break;
			}
		}
		sector += nsec;
	}
	if (!p->nr_segs)
		bio = pgbk_bio_new(ring, p, 0, opf | first, 0);
	if (bio)
		submit_bio(bio);
	pgbk_pending_put(p);
}

/*
 * Segments of an indirect request: get the indirect pages (persistently
 * mapped or copied to scratch), copy the segment descriptors out of them
 * once, and let go of the pages at once.
 */
static int pgbk_fetch_indirect(struct pgbk_ring *ring, struct pgbk_pending *p,
			       const struct pgnt_req *req,
			       const grant_ref_t *igrefs)
{
	unsigned int nframes = DIV_ROUND_UP(req->nr_segs,
					    PGNT_SEGS_PER_INDIRECT_PAGE);
	unsigned int i;
	int err;

	for (i = 0; i < nframes; i++) {
		ring->iseg[i].gref = igrefs[i];
		ring->iseg[i].first_sect = 0;
		ring->iseg[i].last_sect = PGNT_SECTORS_PER_PAGE - 1;
	}
	err = pgbk_grant_acquire(ring, ring->iseg, nframes, false, true);
	for (i = 0; !err && i < req->nr_segs; i++) {
		const struct blkif_request_segment *ws;

		ws = page_address(ring->iseg[i / PGNT_SEGS_PER_INDIRECT_PAGE].page);
		ws += i % PGNT_SEGS_PER_INDIRECT_PAGE;
		p->segs[i].gref = READ_ONCE(ws->gref);
		p->segs[i].first_sect = READ_ONCE(ws->first_sect);
		p->segs[i].last_sect = READ_ONCE(ws->last_sect);
	}
	pgbk_grant_release(ring, ring->iseg, nframes, false, false);
	return err;
}

/* Every segment inside its page, the whole range on the device. */
static enum pgnt_verdict pgbk_segs_check(struct pgbk_ring *ring,
					 struct pgbk_pending *p, u64 sector,
					 u64 *nr_sect)
{
	const struct pgnt_dev_limits *lim = &ring->be->limits;
	enum pgnt_verdict v;
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < p->nr_segs; i++) {
		v = pgnt_seg_check(p->segs[i].first_sect, p->segs[i].last_sect,
				   lim);
		if (v != PGNT_OK)
			return v;
		total += p->segs[i].last_sect - p->segs[i].first_sect + 1;
	}
	*nr_sect = total;
	if (!p->nr_segs)
		return PGNT_OK;	/* a bare flush has no range */
	return pgnt_range_check(sector, total, lim);
}

static void pgbk_do_rw(struct pgbk_ring *ring, struct pgbk_pending *p,
		       const struct pgnt_req *req)
{
	bool to_guest = p->data_op == PGNT_OP_READ;
	pgnt_opf_t opf, first = 0;
	enum pgnt_verdict v;
	u64 nr_sect;

	v = pgbk_segs_check(ring, p, req->sector, &nr_sect);
	if (v != PGNT_OK) {
		p->nr_segs = 0;
		pgbk_refuse(ring, p, v);
		return;
	}
	switch (p->data_op) {
	case PGNT_OP_READ:
		opf = REQ_OP_READ;
		pgbk_stat_add(ring, PGBK_ST_rd_req, 1);
		pgbk_stat_add(ring, PGBK_ST_rd_sect, nr_sect);
		break;
	case PGNT_OP_WRITE:
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
		pgbk_stat_add(ring, PGBK_ST_wr_req, 1);
		pgbk_stat_add(ring, PGBK_ST_wr_sect, nr_sect);
		break;
	default:
		/*
		 * Flush and barrier: the cache is flushed before the data,
		 * and the data is durable when we answer.
		 */
		opf = REQ_OP_WRITE | REQ_SYNC;
		first = REQ_PREFLUSH;
		if (p->nr_segs)
			opf |= REQ_FUA;
		pgbk_stat_add(ring, PGBK_ST_f_req, 1);
		pgbk_stat_add(ring, PGBK_ST_wr_sect, nr_sect);
		break;
	}
	if (p->nr_segs &&
	    pgbk_grant_acquire(ring, p->segs, p->nr_segs, to_guest, false)) {
		pgbk_stat_add(ring, PGBK_ST_err_grant, 1);
		pgbk_grant_release(ring, p->segs, p->nr_segs, to_guest, false);
		pgbk_finish(ring, p, PGNT_RSP_ERROR);
		return;
	}
	pgbk_submit(ring, p, req->sector, opf, first);
}

static void pgbk_discard_work(struct work_struct *work)
{
	struct pgbk_pending *p = container_of(work, struct pgbk_pending,
					      discard);
	int err;

	err = pgnt_issue_discard(p->ring->be->bdev.bdev, p->d_sector, p->d_nr,
				 p->d_secure);
	if (err)
		WRITE_ONCE(p->status, errno_to_blk_status(err));
	pgbk_pending_put(p);
}

/*
 * The block layer's discard waits for the device, so it runs on a
 * workqueue and ends like the bios of a read or write: a whole-disk
 * discard on a disk that stops answering holds neither the ring's thread
 * nor a disconnect (which would wait for that thread in xenwatch).
 */
static void pgbk_do_discard(struct pgbk_ring *ring, struct pgbk_pending *p,
			    const struct pgnt_req *req)
{
	pgbk_stat_add(ring, PGBK_ST_ds_req, 1);
	p->d_sector = req->sector;
	p->d_nr = req->nr_sectors;
	p->d_secure = req->discard_flags & PGNT_DISCARD_SECURE;
	atomic_set(&p->bios, 1);
	ring->discards++;
	queue_work(pgbk_discard_wq, &p->discard);
}

static void pgbk_dispatch(struct pgbk_ring *ring, struct pgbk_pending *p,
			  const struct pgnt_req *req, const grant_ref_t *igrefs)
{
	enum pgnt_verdict v;

	p->id = req->id;
	p->op = req->op;
	p->data_op = pgnt_req_data_op(req);
	p->nr_segs = 0;
	p->status = BLK_STS_OK;

	v = pgnt_req_check(req, &ring->be->limits);
	if (v != PGNT_OK) {
		pgbk_refuse(ring, p, v);
		return;
	}
	if (req->op == PGNT_OP_DISCARD) {
		pgbk_do_discard(ring, p, req);
		return;
	}
	if (req->op == PGNT_OP_INDIRECT &&
	    pgbk_fetch_indirect(ring, p, req, igrefs)) {
		pgbk_stat_add(ring, PGBK_ST_err_grant, 1);
		pgbk_finish(ring, p, PGNT_RSP_ERROR);
		return;
	}
	/* pgnt_req_check() bounded it by max_segs (11 when direct). */
	p->nr_segs = req->nr_segs;
	pgbk_do_rw(ring, p, req);
}

/* The frontend broke the ring protocol: stop, and tell the toolstack. */
static void pgbk_ring_break(struct pgbk_ring *ring, RING_IDX rp)
{
	ring->broken = true;
	pgbk_stat_add(ring, PGBK_ST_err_ring, 1);
	dev_err_ratelimited(&ring->be->dev->dev,
			    "ring %u: producer %u behind consumer %u or beyond %u entries past %u: halting ring\n",
			    ring->idx, rp, ring->br.x64.req_cons,
			    ring->br.x64.nr_ents, ring->br.x64.rsp_prod_pvt);
	xenbus_dev_fatal(ring->be->dev, -EPROTO,
			 "ring %u: request producer index out of range",
			 ring->idx);
}

/*
 * A barrier orders the guest's writes: every write before it is on the
 * disk before it is, and none after it reaches the disk before it does.
 * The bio layer gives no such order (PREFLUSH|FUA covers only writes that
 * have completed), so a barrier waits on the ring until nothing is in
 * flight, and the ring takes nothing more until the barrier has completed.
 * A stock frontend never sends barriers; those that do use them for
 * journal commits, where this wait is the point.
 */
static bool pgbk_barrier_waits(struct pgbk_ring *ring,
			       const struct pgnt_req *req, unsigned int others)
{
	if (req->op != PGNT_OP_WRITE_BARRIER || ring->nr_inflight <= others)
		return false;
	ring->draining = true;
	ring->more = true;
	return true;
}

/* Teardown asked the thread to stop taking requests. */
static bool pgbk_ring_closing(struct pgbk_ring *ring)
{
	return atomic_read(&ring->state) != PGBK_RS_RUNNING;
}

/*
 * One discard at a time per ring: each holds a worker of pgbk_discard_wq,
 * which every backend shares, until the device answers, so a guest must
 * not fill it with discards to a disk that does not answer.  The next
 * waits on the ring until the ring is empty, as the stock backend's
 * discards wait in its thread.
 */
static bool pgbk_discard_waits(struct pgbk_ring *ring,
			       const struct pgnt_req *req)
{
	if (req->op != PGNT_OP_DISCARD || !ring->discards)
		return false;
	ring->draining = true;
	ring->more = true;
	return true;
}

/*
 * Take requests off the ring until it is empty, we run out of request
 * slots or copy pages, a barrier must wait, or a ring's worth has been
 * taken in this pass.  Returns whether the ring had anything for us.
 *
 * The bound matters because refused requests free their slot at once: a
 * guest that keeps req_prod ahead could otherwise keep us here for ever,
 * and the thread would never see that teardown began.  After a full pass
 * ring->more sends the thread back through its loop, which ends once
 * teardown began; each request checks for that too.
 */
static bool pgbk_ring_consume(struct pgbk_ring *ring)
{
	struct pgbk_x64_back_ring *br = &ring->br.x64;
	grant_ref_t igrefs[PGNT_INDIRECT_PAGES_MAX];
	unsigned int budget = br->nr_ents;
	struct blk_plug plug;
	bool seen = false;
	RING_IDX rc, rp;
	struct pgnt_req req;
	int more;

	ring->more = false;
	if (ring->broken)
		return false;
	blk_start_plug(&plug);
	do {
		if (pgbk_ring_closing(ring))
			break;
		rp = READ_ONCE(br->sring->req_prod);
		virt_rmb(); /* read requests only up to rp, pairs with frontend wmb */
		if (!pgnt_ring_prod_ok(rp, br->req_cons, br->rsp_prod_pvt,
				       br->nr_ents)) {
			pgbk_ring_break(ring, rp);
			break;
		}
		for (rc = br->req_cons; rc != rp; rc++) {
			struct pgbk_pending *p;

			if (RING_REQUEST_CONS_OVERFLOW(br, rc))
				break;
			seen = true;
			if (!budget || ring->draining || pgbk_ring_closing(ring)) {
				ring->more = true;
				goto out;
			}
			budget--;
			if (list_empty(&ring->free) ||
			    !pgbk_grant_copy_room(ring)) {
				pgbk_stat_add(ring, PGBK_ST_oo_req, 1);
				ring->stalled = true;
				ring->more = true;
				break;
			}
			p = list_first_entry(&ring->free, struct pgbk_pending,
					     node);
			list_del(&p->node);
			ring->nr_inflight++;
			pgbk_fetch(ring, rc, &req, p->segs, igrefs);
			/* Left on the ring: fetched again once drained. */
			if (pgbk_barrier_waits(ring, &req, 1) ||
			    pgbk_discard_waits(ring, &req)) {
				pgbk_pending_free(ring, p);
				goto out;
			}
			br->req_cons = rc + 1;
			pgbk_dispatch(ring, p, &req, igrefs);
			/*
			 * Answer at once what is done already (a RAM disk
			 * completes inside submit_bio), so the frontend can
			 * refill the ring while we go on taking requests.
			 */
			if (!list_empty_careful(&ring->done))
				pgbk_ring_complete(ring);
			if (pgbk_barrier_waits(ring, &req, 0))
				goto out;
			cond_resched();
		}
		if (ring->stalled)
			break;
		RING_FINAL_CHECK_FOR_REQUESTS(br, more);
	} while (more);
out:
	blk_finish_plug(&plug);
	/* Answers to refused requests. */
	pgbk_push(ring);
	if (seen)
		ring->eoi_work = true;
	return seen;
}

/* ---- the ring thread ---- */

static void __noreturn pgbk_ring_thread_end(struct pgbk_ring *ring);

/*
 * The device changed size (e.g. lvextend): tell the frontend, which
 * re-reads "sectors" when our state node is rewritten.  Ring 0 watches for
 * the whole device; the other rings only read the new limit.
 */
static void pgbk_ring_check_resize(struct pgbk_ring *ring)
{
	struct pgbk_be *be = ring->be;
	struct xenbus_device *dev = be->dev;
	u64 sectors;
	int err;

	if (ring->idx)
		return;
	sectors = pgnt_bdev_nr_sectors(be->bdev.bdev);
	if (sectors == READ_ONCE(be->limits.sectors))
		return;
	dev_info(&dev->dev, "size changed from %llu to %llu sectors\n",
		 READ_ONCE(be->limits.sectors), sectors);
	WRITE_ONCE(be->limits.sectors, sectors);
	err = xenbus_printf(XBT_NIL, dev->nodename, PGNT_XS_SECTORS, "%llu",
			    sectors);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename, "state", "%d",
				    dev->state);
	if (err)
		dev_warn(&dev->dev, "telling the frontend of the new size: %d\n",
			 err);
}

/* The counters log_stats prints, in its order, as " label N" each. */
static const struct pgbk_log_field {
	const char *label;
	enum pgbk_stat st;
} pgbk_log_fields[] = {
#define PGBK_STAT_LOG(name, label)	{ label, PGBK_ST_##name },
#include "stats_table.h"
};

/* Room for a field: a label of up to 10 characters and a 20-digit count. */
#define PGBK_LOG_FIELD_MAX	32

static void pgbk_ring_log_stats(struct pgbk_ring *ring)
{
	const u64 *c = ring->stats->c;
	char line[ARRAY_SIZE(pgbk_log_fields) * PGBK_LOG_FIELD_MAX + 1];
	unsigned int i, n = 0;

	if (!READ_ONCE(pgbk_log_stats) || time_before(jiffies, ring->log_next))
		return;
	ring->log_next = jiffies + 10 * HZ;
	line[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(pgbk_log_fields); i++)
		n += scnprintf(line + n, sizeof(line) - n, " %s %llu",
			       pgbk_log_fields[i].label,
			       c[pgbk_log_fields[i].st]);
	dev_info(&ring->be->dev->dev, "ring %u:%s\n", ring->idx, line);
}

static irqreturn_t pgbk_ring_irq(int irq, void *data)
{
	struct pgbk_ring *ring = data;

	set_bit(PGBK_RING_KICKED, &ring->flags);
	wake_up(&ring->wq);
	return IRQ_HANDLED;
}

static bool pgbk_ring_has_work(struct pgbk_ring *ring)
{
	return test_bit(PGBK_RING_KICKED, &ring->flags) ||
	       (ring->more && !ring->stalled && !ring->draining) ||
	       !list_empty_careful(&ring->done);
}

static int pgbk_ring_thread(void *data)
{
	struct pgbk_ring *ring = data;

	while (!pgbk_ring_closing(ring)) {
		/* Wake at least once a second for idle reclaim. */
		wait_event_interruptible_timeout(ring->wq,
						 pgbk_ring_has_work(ring) ||
						 pgbk_ring_closing(ring), HZ);
		pgbk_ring_complete(ring);
		if (test_and_clear_bit(PGBK_RING_KICKED, &ring->flags)) {
			pgbk_stat_add(ring, PGBK_ST_events, 1);
			pgbk_ring_consume(ring);
			/*
			 * The event channel stays masked until this EOI; an
			 * event that brought no request since the last one
			 * is spurious (the event core then delays the EOI).
			 */
			if (!ring->eoi_work)
				pgbk_stat_add(ring, PGBK_ST_spurious_events, 1);
			xen_irq_lateeoi(ring->irq, ring->eoi_work ? 0 :
					XEN_EOI_FLAG_SPURIOUS);
			ring->eoi_work = false;
		} else if (ring->more && !ring->stalled && !ring->draining) {
			pgbk_ring_consume(ring);
		}
		/* Nothing more to xenstore once teardown began. */
		if (pgbk_ring_closing(ring))
			break;
		pgbk_grant_reclaim(ring);
		pgbk_ring_check_resize(ring);
		pgbk_ring_log_stats(ring);
	}
	if (atomic_cmpxchg(&ring->state, PGBK_RS_CLOSING,
			   PGBK_RS_PARKED) == PGBK_RS_CLOSING) {
		/* pgbk_ring_disconnect() waits for this, then stops us. */
		wake_up_all(&ring->wq);
		wait_event_interruptible(ring->wq, kthread_should_stop());
		return 0;
	}
	pgbk_ring_thread_end(ring);
}

/* ---- connect / disconnect ---- */

static int pgbk_ring_alloc(struct pgbk_ring *ring)
{
	unsigned int i;

	ring->nr_pending = ring->br.x64.nr_ents;
	ring->pending = kvcalloc(ring->nr_pending, sizeof(*ring->pending),
				 GFP_KERNEL);
	ring->seg_mem = kvcalloc(ring->nr_pending * ring->max_segs,
				 sizeof(*ring->seg_mem), GFP_KERNEL);
	if (!ring->pending || !ring->seg_mem)
		return -ENOMEM;
	for (i = 0; i < ring->nr_pending; i++) {
		struct pgbk_pending *p = &ring->pending[i];

		p->ring = ring;
		p->segs = &ring->seg_mem[i * ring->max_segs];
		INIT_WORK(&p->discard, pgbk_discard_work);
		list_add_tail(&p->node, &ring->free);
	}
	return pgbk_grant_ring_init(ring);
}

/* Stop taking requests: thread, event channel, shared ring. */
static void pgbk_ring_stop(struct pgbk_ring *ring)
{
	if (ring->task) {
		kthread_stop(ring->task);
		ring->task = NULL;
	}
	if (ring->irq > 0) {
		unbind_from_irqhandler(ring->irq, ring);
		ring->irq = 0;
	}
	/* No response is written any more: nobody would read it. */
	if (ring->sring) {
		xenbus_unmap_ring_vfree(ring->be->dev, ring->sring);
		ring->sring = NULL;
	}
}

/* Release the grants of the requests whose bios are done; no response. */
static void pgbk_ring_drop_done(struct pgbk_ring *ring)
{
	struct pgbk_pending *p, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&ring->done_lock);
	list_splice_init(&ring->done, &list);
	spin_unlock_irq(&ring->done_lock);
	list_for_each_entry_safe(p, tmp, &list, node) {
		list_del(&p->node);
		pgbk_grant_release(ring, p->segs, p->nr_segs, false, false);
		pgbk_pending_free(ring, p);
	}
}

/* Free what the ring holds, but not the ring itself; nothing in flight. */
static void pgbk_ring_release(struct pgbk_ring *ring)
{
	pgbk_grant_ring_fini(ring);
	pgbk_stat_set(ring, PGBK_ST_pgrants_mapped, 0);
	kvfree(ring->seg_mem);
	kvfree(ring->pending);
	ring->seg_mem = NULL;
	ring->pending = NULL;
	ring->nr_pending = 0;
}

/* An orphan's bios ended: release them, and the ring after the last. */
static void pgbk_ring_reap(struct work_struct *work)
{
	struct pgbk_ring *ring = container_of(work, struct pgbk_ring, reap);
	struct pgbk_be *be = ring->be;

	pgbk_ring_drop_done(ring);
	if (ring->nr_inflight)
		return;
	dev_info(&be->dev->dev,
		 "ring %u: the last request of a closed connection ended, ring freed\n",
		 ring->idx);
	pgbk_ring_release(ring);
	kfree(ring);
	pgbk_be_orphan_done(be);
	/* pgbk_ring_fini() waits for this function to return. */
	module_put(THIS_MODULE);
}

/*
 * A ring that pgbk_ring_disconnect() takes as it is, before
 * pgbk_ring_connect() or after it failed: a bad key of a later queue
 * disconnects rings that were never connected.
 */
struct pgbk_ring *pgbk_ring_new(struct pgbk_be *be, unsigned int idx)
{
	struct pgbk_ring *ring = kzalloc(sizeof(*ring), GFP_KERNEL);

	if (!ring)
		return NULL;
	ring->be = be;
	ring->idx = idx;
	spin_lock_init(&ring->done_lock);
	INIT_LIST_HEAD(&ring->done);
	INIT_LIST_HEAD(&ring->free);
	init_waitqueue_head(&ring->wq);
	INIT_WORK(&ring->reap, pgbk_ring_reap);
	return ring;
}

/*
 * Map the shared ring (@refs), allocate everything the ring will ever
 * need, bind the event channel and start the thread.  @ring is from
 * pgbk_ring_new(); the caller set stats, abi, persistent and max_segs.  On
 * error, everything done so far is undone.
 */
int pgbk_ring_connect(struct pgbk_ring *ring, grant_ref_t *refs,
		      unsigned int nr_refs, evtchn_port_t evtchn)
{
	struct xenbus_device *dev = ring->be->dev;
	size_t size = (size_t)XEN_PAGE_SIZE * nr_refs;
	int err;

	err = xenbus_map_ring_valloc(dev, refs, nr_refs, &ring->sring);
	if (err) {
		ring->sring = NULL;
		return err;	/* xenbus_map_ring_valloc() told xenstore */
	}
	if (ring->abi == PGBK_ABI_X86_32)
		BACK_RING_INIT(&ring->br.x32,
			       (struct pgbk_x32_sring *)ring->sring, size);
	else
		BACK_RING_INIT(&ring->br.x64,
			       (struct pgbk_x64_sring *)ring->sring, size);

	err = pgbk_ring_alloc(ring);
	if (err) {
		xenbus_dev_fatal(dev, err, "allocating ring %u", ring->idx);
		goto out_disconnect;
	}
	err = pgnt_bind_evtchn_lateeoi(dev, evtchn, pgbk_ring_irq,
				       "blkback-pgnt", ring);
	if (err < 0) {
		xenbus_dev_fatal(dev, err, "binding event channel %u",
				 evtchn);
		goto out_disconnect;
	}
	ring->irq = err;
	ring->task = kthread_run(pgbk_ring_thread, ring, "blkbk-pg.%u.%u",
				 dev->otherend_id, ring->idx);
	if (IS_ERR(ring->task)) {
		err = PTR_ERR(ring->task);
		ring->task = NULL;
		xenbus_dev_fatal(dev, err, "starting ring %u thread",
				 ring->idx);
		goto out_disconnect;
	}
	return 0;

out_disconnect:
	pgbk_ring_stop(ring);
	pgbk_ring_release(ring);
	return err;
}

/*
 * A closed connection's ring still has bios in flight: the reap work
 * frees it after the last (pgbk_ring_reap()).  The caller holds the
 * backend, module and orphan-count references for it.
 */
static void pgbk_ring_orphan(struct pgbk_ring *ring)
{
	dev_warn_ratelimited(&ring->be->dev->dev,
			     "ring %u: %u requests still on the device: their grants stay mapped until they complete\n",
			     ring->idx, ring->nr_inflight);
	spin_lock_irq(&ring->done_lock);
	ring->orphan = true;
	if (!list_empty(&ring->done))
		queue_work(pgbk_reap_wq, &ring->reap);
	spin_unlock_irq(&ring->done_lock);
}

/*
 * Stop the ring (the thread is parked or gone) and release the requests
 * that are done; with none left in flight free it and return true, else
 * return false: it is to become an orphan.
 */
static bool pgbk_ring_end(struct pgbk_ring *ring)
{
	pgbk_ring_stop(ring);
	pgbk_ring_drop_done(ring);
	if (ring->nr_inflight)
		return false;
	pgbk_ring_release(ring);
	kfree(ring);
	return true;
}

/* Take the references an orphan holds; a new connection counts apart. */
static void pgbk_ring_orphan_get(struct pgbk_ring *ring)
{
	struct pgbk_be *be = ring->be;

	ring->stats = &ring->orphan_stats;
	kref_get(&be->kref);
	atomic_inc(&be->orphans);
	__module_get(THIS_MODULE);
}

static void pgbk_ring_orphan_put(struct pgbk_ring *ring)
{
	struct pgbk_be *be = ring->be;

	ring->stats = &be->stats[ring->idx];
	atomic_dec(&be->orphans);
	pgbk_be_put(be);
	module_put(THIS_MODULE);
}

/*
 * The thread was handed its ring (see pgbk_ring_disconnect()): end it as
 * disconnecting would have, and exit.  The thread holds a module
 * reference of its own: the orphan's may go (reap work) while this code
 * still runs.
 */
static void __noreturn pgbk_ring_thread_end(struct pgbk_ring *ring)
{
	struct pgbk_be *be = ring->be;

	unsigned int idx = ring->idx;

	__module_get(THIS_MODULE);
	ring->task = NULL;	/* this thread, which nobody stops */
	if (pgbk_ring_end(ring)) {
		dev_info(&be->dev->dev,
			 "ring %u: the thread's wait for the device ended, ring freed\n",
			 idx);
		pgbk_be_orphan_done(be);
		module_put(THIS_MODULE);
	} else {
		pgbk_ring_orphan(ring);
	}
	module_put_and_kthread_exit(0);
}

/* Stop taking requests, the first step of pgbk_ring_disconnect(). */
void pgbk_ring_close(struct pgbk_ring *ring)
{
	if (ring->task && atomic_cmpxchg(&ring->state, PGBK_RS_RUNNING,
					 PGBK_RS_CLOSING) == PGBK_RS_RUNNING)
		wake_up_all(&ring->wq);
}

/*
 * Let the ring of a disconnected frontend go: stop the thread, unbind the
 * event channel, unmap the shared ring, release the requests that are
 * done, and free the ring, now or, if bios are still in flight, when the
 * last of them ends (see the top of this file).  A thread not parked by
 * @deadline (pgbk_ring_close() asked first) is handed the ring to end
 * itself.  Safe on a ring never or not fully connected.  The caller must
 * not touch @ring afterwards.
 */
void pgbk_ring_disconnect(struct pgbk_ring *ring, unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	pgbk_ring_close(ring);
	if (ring->task &&
	    !wait_event_timeout(ring->wq, atomic_read(&ring->state) ==
				PGBK_RS_PARKED, max(left, 1L))) {
		struct pgbk_be *be = ring->be;
		unsigned int idx = ring->idx;

		/*
		 * Before the hand-over: once it is made the thread may end
		 * and free the ring at once.  Our orphan count may hide the
		 * last orphan's end from pgbk_be_orphan_done(); every caller
		 * connects afterwards itself where it should.
		 */
		pgbk_ring_orphan_get(ring);
		if (atomic_cmpxchg(&ring->state, PGBK_RS_CLOSING,
				   PGBK_RS_HANDED) == PGBK_RS_CLOSING) {
			dev_warn_ratelimited(&be->dev->dev,
					     "ring %u: its thread waits for the device: the ring ends when it returns\n",
					     idx);
			return;
		}
		/* Parked meanwhile. */
		pgbk_ring_orphan_put(ring);
	}
	if (!pgbk_ring_end(ring)) {
		pgbk_ring_orphan_get(ring);
		pgbk_ring_orphan(ring);
	}
}

int pgbk_ring_init(void)
{
	pgbk_reap_wq = alloc_workqueue("blkback-pgnt-reap", 0, 0);
	pgbk_discard_wq = alloc_workqueue("blkback-pgnt-discard", WQ_UNBOUND,
					  0);
	if (pgbk_reap_wq && pgbk_discard_wq)
		return 0;
	if (pgbk_reap_wq)
		destroy_workqueue(pgbk_reap_wq);
	if (pgbk_discard_wq)
		destroy_workqueue(pgbk_discard_wq);
	return -ENOMEM;
}

/* Waits for a reap still running; every orphan holds a module reference. */
void pgbk_ring_fini(void)
{
	destroy_workqueue(pgbk_discard_wq);
	destroy_workqueue(pgbk_reap_wq);
}
