// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: the data path.  One shared ring per blk-mq hardware
 * queue: building ring requests from blk-mq requests (queue_rq), taking
 * responses in the ring's interrupt handler, checking every response
 * against the request actually sent, and setting rings up and down.
 *
 * Everything the backend writes is read once into a private copy
 * (RING_COPY_RESPONSE) and checked with pgnt_rsp_check(); a response that
 * fails the check marks the device broken: its requests fail, new I/O
 * fails, and the ring's event channel is left without EOI so that a
 * misbehaving backend cannot keep us busy.
 */

#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/page.h>

#include "common.h"

static struct pgfe_rq_pdu *pgfe_pdu(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

static void pgfe_gnt_release(struct pgfe_ring *ring, struct pgfe_gnt *g)
{
	if (!g->persistent && !pgfe_gnt_end(ring, g))
		return;
	pgfe_pool_put(ring, g);
}

/*
 * Give a request's pages back to the pool, ending per-request grants.
 * s->gnts holds the data pages from 0 and the indirect pages from
 * f.max_segs.
 */
static void pgfe_shadow_release(struct pgfe_ring *ring, struct pgfe_shadow *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_data; i++)
		pgfe_gnt_release(ring, s->gnts[i]);
	for (i = 0; i < s->nr_ind; i++)
		pgfe_gnt_release(ring, s->gnts[ring->info->f.max_segs + i]);
	s->nr_data = 0;
	s->nr_ind = 0;
}

/* One pool page for a segment or an indirect page, granted as needed. */
static struct pgfe_gnt *pgfe_seg_page(struct pgfe_ring *ring, bool readonly)
{
	struct pgfe_gnt *g;
	bool reused;

	g = pgfe_pool_get(ring, &reused);
	if (!g)
		return NULL;
	if (reused)
		ring->st.c[PGFE_ST_gnt_reuse]++;
	if (!g->persistent && pgfe_gnt_grant(ring, g, readonly)) {
		pgfe_pool_put(ring, g);
		return NULL;
	}
	return g;
}

/*
 * Copy a write's data into its pool page.  For an untrusted backend the
 * rest of the page is cleared, so that nothing but this request's data is
 * visible through the grant.
 */
static void pgfe_copy_in(struct pgfe_gnt *g, struct scatterlist *sg,
			 bool write, bool untrusted)
{
	u8 *src = write ? pgnt_kmap(sg_page(sg)) : NULL;

	pgnt_seg_copy_in(page_address(g->page), src, sg->offset, sg->length,
			 untrusted);
	if (src)
		pgnt_kunmap(src);
}

static void pgfe_copy_out(struct pgfe_shadow *s)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(s->sg, sg, s->nr_data, i) {
		u8 *dst = pgnt_kmap(sg_page(sg));

		pgnt_seg_copy_out(dst, page_address(s->gnts[i]->page),
				  sg->offset, sg->length);
		pgnt_kunmap(dst);
	}
}

/*
 * Ring operation for a read, write or flush request; false when the backend
 * has no flush (BLKIF_OP_READ is 0, so 0 cannot mean "none" here).
 */
static bool pgfe_rw_op(const struct pgfe_info *info, struct request *rq,
		       u8 *op)
{
	u8 flush_op = READ_ONCE(info->f.flush_op);

	if (req_op(rq) == REQ_OP_FLUSH ||
	    ((rq->cmd_flags & REQ_FUA) && READ_ONCE(info->f.fua))) {
		*op = flush_op;
		return flush_op != 0;
	}
	*op = rq_data_dir(rq) == WRITE ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	return true;
}

/*
 * Where segment descriptor @i goes: @direct for a direct request, else the
 * indirect pages, already taken and placed after the data pages in s->gnts.
 */
static struct blkif_request_segment *
pgfe_seg_slot(struct pgfe_ring *ring, struct pgfe_shadow *s,
	      struct blkif_request_segment *direct, unsigned int i)
{
	struct blkif_request_segment *page_segs;

	if (direct)
		return &direct[i];
	page_segs = page_address(s->gnts[ring->info->f.max_segs +
					 i / PGNT_SEGS_PER_INDIRECT_PAGE]->page);
	return &page_segs[i % PGNT_SEGS_PER_INDIRECT_PAGE];
}

/*
 * Fill the data pages of @s and their segment descriptors, in @direct or
 * (when NULL) in the request's indirect pages.  Returns BLK_STS_RESOURCE
 * when the pool or the grant table is exhausted.
 */
static blk_status_t pgfe_map_data(struct pgfe_ring *ring,
				  struct pgfe_shadow *s, bool write,
				  unsigned int nseg,
				  struct blkif_request_segment *direct)
{
	bool untrusted = ring->info->f.untrusted;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(s->sg, sg, nseg, i) {
		struct blkif_request_segment *seg;
		struct pgfe_gnt *g;

		/* Our limits keep every segment inside one page, sector-sized. */
		if (WARN_ON_ONCE(sg->offset + sg->length > PAGE_SIZE ||
				 ((sg->offset | sg->length) &
				  (SECTOR_SIZE - 1)) || !sg->length))
			return BLK_STS_IOERR;
		g = pgfe_seg_page(ring, write);
		if (!g)
			return BLK_STS_RESOURCE;
		s->gnts[s->nr_data++] = g;
		pgfe_copy_in(g, sg, write, untrusted);
		ring->st.c[PGFE_ST_bounced_segs]++;
		seg = pgfe_seg_slot(ring, s, direct, i);
		seg->gref = g->gref;
		seg->first_sect = sg->offset >> SECTOR_SHIFT;
		seg->last_sect = (sg->offset + sg->length - 1) >> SECTOR_SHIFT;
	}
	return BLK_STS_OK;
}

/* Build a read, write or flush request into @req. */
static blk_status_t pgfe_build_rw(struct pgfe_ring *ring, struct request *rq,
				  struct pgfe_shadow *s, u64 id,
				  struct blkif_request *req)
{
	struct blkif_request_segment direct[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	struct pgfe_info *info = ring->info;
	bool write = rq_data_dir(rq) == WRITE;
	unsigned int nseg = 0, i;
	blk_status_t sts;

	if (!pgfe_rw_op(info, rq, &s->data_op))
		return BLK_STS_NOTSUPP;
	if (req_op(rq) != REQ_OP_FLUSH) {
		sg_init_table(s->sg, info->f.max_segs);
		nseg = pgnt_blk_rq_map_sg(rq, s->sg);
	}
	if (WARN_ON_ONCE(nseg > info->f.max_segs))
		return BLK_STS_IOERR;

	if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		s->op = s->data_op;
		sts = pgfe_map_data(ring, s, write, nseg, direct);
		if (sts)
			return sts;
		req->operation = s->op;
		req->u.rw.nr_segments = nseg;
		req->u.rw.handle = info->handle;
		req->u.rw.id = id;
		req->u.rw.sector_number = blk_rq_pos(rq);
		memcpy(req->u.rw.seg, direct, nseg * sizeof(direct[0]));
		return BLK_STS_OK;
	}

	/*
	 * Indirect: the segment array goes into pool pages of its own, which
	 * the backend only reads; they are taken first so that the data
	 * segments can be described in place.  Flush and FUA are never
	 * combined with indirect requests (see pgfe_read_features()).
	 */
	if (WARN_ON_ONCE(s->data_op != BLKIF_OP_READ &&
			 s->data_op != BLKIF_OP_WRITE))
		return BLK_STS_IOERR;
	s->op = BLKIF_OP_INDIRECT;
	s->nr_ind = 0;
	for (i = 0; i < pgnt_indirect_pages(nseg); i++) {
		struct pgfe_gnt *g = pgfe_seg_page(ring, true);

		if (!g)
			return BLK_STS_RESOURCE;
		/* Data pages come first in s->gnts; place this one after. */
		s->gnts[info->f.max_segs + i] = g;
		s->nr_ind++;
	}
	sts = pgfe_map_data(ring, s, write, nseg, NULL);
	if (sts)
		return sts;

	ring->st.c[PGFE_ST_indirect_reqs]++;
	req->operation = BLKIF_OP_INDIRECT;
	req->u.indirect.indirect_op = s->data_op;
	req->u.indirect.nr_segments = nseg;
	req->u.indirect.id = id;
	req->u.indirect.sector_number = blk_rq_pos(rq);
	req->u.indirect.handle = info->handle;
	for (i = 0; i < s->nr_ind; i++)
		req->u.indirect.indirect_grefs[i] =
			s->gnts[info->f.max_segs + i]->gref;
	return BLK_STS_OK;
}

static blk_status_t pgfe_build_discard(struct pgfe_ring *ring,
				       struct request *rq,
				       struct pgfe_shadow *s, u64 id,
				       struct blkif_request *req)
{
	bool secure = req_op(rq) == REQ_OP_SECURE_ERASE;

	if (!ring->info->f.discard || (secure && !ring->info->f.secure_discard))
		return BLK_STS_NOTSUPP;
	s->op = BLKIF_OP_DISCARD;
	s->data_op = BLKIF_OP_DISCARD;
	req->operation = BLKIF_OP_DISCARD;
	req->u.discard.flag = secure ? BLKIF_DISCARD_SECURE : 0;
	req->u.discard.id = id;
	req->u.discard.sector_number = blk_rq_pos(rq);
	req->u.discard.nr_sectors = blk_rq_sectors(rq);
	return BLK_STS_OK;
}

/* Put @rq on the ring; caller holds the ring lock and checked for room. */
static blk_status_t pgfe_ring_submit(struct pgfe_ring *ring,
				     struct request *rq)
{
	struct blkif_request req = { };
	struct pgfe_shadow *s;
	blk_status_t sts;
	s32 id;

	lockdep_assert_held(&ring->lock);
	id = pgnt_ids_get(&ring->ids);
	/* Ids and ring slots are the same number: never out with room left. */
	if (WARN_ON_ONCE(id < 0))
		return BLK_STS_RESOURCE;
	s = &ring->shadow[id];
	s->nr_data = 0;
	s->nr_ind = 0;
	s->classic = !ring->info->f.persistent;

	switch (req_op(rq)) {
	case REQ_OP_DISCARD:
	case REQ_OP_SECURE_ERASE:
		sts = pgfe_build_discard(ring, rq, s, id, &req);
		break;
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_FLUSH:
		sts = pgfe_build_rw(ring, rq, s, id, &req);
		break;
	default:
		sts = BLK_STS_NOTSUPP;
		break;
	}
	if (sts) {
		pgfe_shadow_release(ring, s);
		pgnt_ids_put(&ring->ids, id);
		return sts;
	}

	/* Written whole: nothing is ever read back from the shared ring. */
	*RING_GET_REQUEST(&ring->front, ring->front.req_prod_pvt) = req;
	ring->front.req_prod_pvt++;
	s->rq = rq;
	ring->st.c[PGFE_ST_requests]++;
	if (s->data_op == BLKIF_OP_READ)
		ring->st.c[PGFE_ST_rd_sectors] += blk_rq_sectors(rq);
	else if (s->data_op != BLKIF_OP_DISCARD)
		ring->st.c[PGFE_ST_wr_sectors] += blk_rq_sectors(rq);
	return BLK_STS_OK;
}

/*
 * A read or write larger than the rings now accept: after a reconnect to a
 * backend with fewer indirect segments, requests built for the old limits
 * may still reach us.
 */
static bool pgfe_rq_too_big(const struct pgfe_info *info, struct request *rq)
{
	if (req_op(rq) != REQ_OP_READ && req_op(rq) != REQ_OP_WRITE)
		return false;
	return blk_rq_nr_phys_segments(rq) > info->f.max_segs ||
	       blk_rq_sectors(rq) > info->f.max_segs * PGNT_SECTORS_PER_PAGE;
}

/* Hand @rq to resplit_work, which resubmits its bios for re-splitting. */
static blk_status_t pgfe_resplit_queue(struct pgfe_info *info,
				       struct request *rq)
{
	unsigned long flags;

	/* Requests of a flush sequence cannot be dissolved into their bios. */
	if (rq->cmd_flags & (REQ_FUA | REQ_PREFLUSH)) {
		dev_err_ratelimited(&info->xbdev->dev,
				    "FUA request of %u sectors exceeds the renegotiated limits\n",
				    blk_rq_sectors(rq));
		return BLK_STS_IOERR;
	}
	spin_lock_irqsave(&info->resplit_lock, flags);
	list_add_tail(&rq->queuelist, &info->resplit);
	spin_unlock_irqrestore(&info->resplit_lock, flags);
	schedule_work(&info->resplit_work);
	return BLK_STS_OK;
}

void pgfe_resplit_work(struct work_struct *work)
{
	struct pgfe_info *info = container_of(work, struct pgfe_info,
					      resplit_work);
	struct request *rq, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&info->resplit_lock);
	list_splice_init(&info->resplit, &list);
	spin_unlock_irq(&info->resplit_lock);

	list_for_each_entry_safe(rq, tmp, &list, queuelist) {
		struct bio *bio = rq->bio;

		list_del_init(&rq->queuelist);
		/* The bios now belong to us; the request completes empty. */
		rq->bio = NULL;
		rq->biotail = NULL;
		blk_mq_end_request(rq, BLK_STS_OK);
		while (bio) {
			struct bio *next = bio->bi_next;

			bio->bi_next = NULL;
			submit_bio_noacct(bio);
			bio = next;
		}
	}
}

static blk_status_t pgfe_queue_rq(struct blk_mq_hw_ctx *hctx,
				  const struct blk_mq_queue_data *bd)
{
	struct pgfe_info *info = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct pgfe_ring *ring;
	unsigned long flags;
	blk_status_t sts;
	bool notify = false;

	blk_mq_start_request(rq);
	switch (READ_ONCE(info->state)) {
	case PGFE_CONNECTED:
		break;
	case PGFE_SUSPENDED:
		/* The queue is quiesced then; be safe if it was not yet. */
		return BLK_STS_RESOURCE;
	default:
		return BLK_STS_IOERR;
	}
	/*
	 * The block layer only warns about writes to a read-only disk; the
	 * backend would refuse them, so nothing is granted for them.
	 */
	if ((info->vdisk_info & VDISK_READONLY) && op_is_write(req_op(rq)) &&
	    req_op(rq) != REQ_OP_FLUSH)
		return BLK_STS_IOERR;
	/* Fewer rings than hardware queues after a reconnect: share them. */
	ring = &info->rings[hctx->queue_num % info->f.nr_rings];
	if (pgfe_rq_too_big(info, rq))
		return pgfe_resplit_queue(info, rq);

	spin_lock_irqsave(&ring->lock, flags);
	if (ring->broken) {
		sts = BLK_STS_IOERR;
	} else if (RING_FULL(&ring->front)) {
		/* Restarted from the interrupt handler once slots free up. */
		blk_mq_stop_hw_queue(hctx);
		sts = BLK_STS_DEV_RESOURCE;
	} else {
		sts = pgfe_ring_submit(ring, rq);
		if (!sts)
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring->front,
							    notify);
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	if (notify)
		notify_remote_via_irq(ring->irq);
	return sts;
}

static void pgfe_complete_rq(struct request *rq)
{
	blk_mq_end_request(rq, pgfe_pdu(rq)->status);
}

const struct blk_mq_ops pgfe_mq_ops = {
	.queue_rq = pgfe_queue_rq,
	.complete = pgfe_complete_rq,
};

/* Finish the request in slot @s with @sts; caller holds the ring lock. */
static void pgfe_shadow_finish(struct pgfe_ring *ring, struct pgfe_shadow *s,
			       u64 id, blk_status_t sts)
{
	struct request *rq = s->rq;

	pgfe_shadow_release(ring, s);
	s->rq = NULL;
	pgnt_ids_put(&ring->ids, id);
	pgfe_pdu(rq)->status = sts;
	blk_mq_complete_request(rq);
}

/*
 * The backend broke the protocol: fail everything on this ring, and stop
 * all I/O to the device.  The pages of the failed requests go back to the
 * pool, or to the grant-table code if the backend still maps them; the
 * requests' own buffers were never shared.
 */
static void pgfe_ring_break(struct pgfe_ring *ring)
{
	unsigned int id;

	lockdep_assert_held(&ring->lock);
	ring->broken = true;
	WRITE_ONCE(ring->info->state, PGFE_BROKEN);
	for (id = 0; id < ring->ids.nr; id++)
		if (pgnt_ids_busy(&ring->ids, id))
			pgfe_shadow_finish(ring, &ring->shadow[id], id,
					   BLK_STS_IOERR);
	dev_err(&ring->info->xbdev->dev,
		"ring %u: backend misbehaved, device marked broken\n",
		ring->index);
}

static blk_status_t pgnt_rsp_status(struct pgfe_ring *ring,
				    const struct pgfe_shadow *s, s16 status)
{
	struct pgfe_info *info = ring->info;

	if (likely(status == BLKIF_RSP_OKAY))
		return BLK_STS_OK;
	ring->st.c[PGFE_ST_errors]++;
	if (status == BLKIF_RSP_EOPNOTSUPP) {
		dev_warn_ratelimited(&info->xbdev->dev,
				     "backend refused operation %u\n",
				     s->data_op);
		if (s->data_op == BLKIF_OP_FLUSH_DISKCACHE ||
		    s->data_op == BLKIF_OP_WRITE_BARRIER)
			schedule_work(&info->flush_off_work);
		return BLK_STS_NOTSUPP;
	}
	dev_err_ratelimited(&info->xbdev->dev,
			    "backend error on operation %u\n", s->data_op);
	return BLK_STS_IOERR;
}

/* Take one response; false if it breaks the protocol. */
static bool pgfe_ring_complete(struct pgfe_ring *ring,
			       const struct blkif_response *rsp)
{
	struct pgfe_shadow *s = NULL;
	enum pgnt_verdict v;
	blk_status_t sts;

	if (rsp->id < ring->ids.nr)
		s = &ring->shadow[rsp->id];
	v = pgnt_rsp_check(&ring->ids, rsp->id, s ? s->op : 0,
			   s ? s->data_op : 0, rsp->operation, rsp->status);
	if (v != PGNT_OK) {
		ring->st.c[PGFE_ST_bad_responses]++;
		dev_err(&ring->info->xbdev->dev,
			"ring %u: bad response (%s): id %llu op %u status %d\n",
			ring->index, pgnt_verdict_name(v),
			(unsigned long long)rsp->id, rsp->operation,
			rsp->status);
		return false;
	}
	sts = pgnt_rsp_status(ring, s, rsp->status);
	if (!sts && s->data_op == BLKIF_OP_READ)
		pgfe_copy_out(s);
	pgfe_shadow_finish(ring, s, rsp->id, sts);
	return true;
}

static irqreturn_t pgfe_interrupt(int irq, void *dev_id)
{
	struct pgfe_ring *ring = dev_id;
	unsigned int eoi_flags = XEN_EOI_FLAG_SPURIOUS;
	unsigned long flags;
	RING_IDX i, rp;
	int more;

	spin_lock_irqsave(&ring->lock, flags);
	if (ring->broken)
		goto out_no_eoi;
	do {
		rp = READ_ONCE(ring->front.sring->rsp_prod);
		virt_rmb(); /* Responses up to rp are visible: backend's wmb. */
		if (RING_RESPONSE_PROD_OVERFLOW(&ring->front, rp)) {
			dev_err(&ring->info->xbdev->dev,
				"ring %u: response producer %u overflows the ring (consumer %u)\n",
				ring->index, rp, ring->front.rsp_cons);
			ring->st.c[PGFE_ST_bad_responses]++;
			pgfe_ring_break(ring);
			goto out_no_eoi;
		}
		for (i = ring->front.rsp_cons; i != rp; i++) {
			struct blkif_response rsp;

			RING_COPY_RESPONSE(&ring->front, i, &rsp);
			eoi_flags = 0;
			if (!pgfe_ring_complete(ring, &rsp)) {
				ring->front.rsp_cons = i + 1;
				pgfe_ring_break(ring);
				goto out_no_eoi;
			}
		}
		ring->front.rsp_cons = rp;
		RING_FINAL_CHECK_FOR_RESPONSES(&ring->front, more);
	} while (more);
	spin_unlock_irqrestore(&ring->lock, flags);

	if (!eoi_flags && ring->info->gd)
		blk_mq_start_stopped_hw_queues(ring->info->gd->queue, true);
	xen_irq_lateeoi(irq, eoi_flags);
	return IRQ_HANDLED;

out_no_eoi:
	/* No EOI: a broken backend gets no further interrupts delivered. */
	spin_unlock_irqrestore(&ring->lock, flags);
	return IRQ_HANDLED;
}

void pgfe_flush_off_work(struct work_struct *work)
{
	struct pgfe_info *info = container_of(work, struct pgfe_info,
					      flush_off_work);

	mutex_lock(&info->mutex);
	if (READ_ONCE(info->f.flush_op)) {
		dev_warn(&info->xbdev->dev,
			 "backend refused a cache flush, disabling flush and FUA\n");
		WRITE_ONCE(info->f.flush_op, 0);
		WRITE_ONCE(info->f.fua, false);
		if (info->gd)
			pgfe_disk_update(info);
	}
	mutex_unlock(&info->mutex);
}

/* ---- setting rings up and down (control plane, under info->mutex) ---- */

/*
 * End the grants of the shared ring and free its pages.  A page the backend
 * still maps (it has not disconnected yet) is handed to the grant-table
 * code, which frees it once the mapping is gone; it is never reused before.
 */
static void pgfe_ring_free_sring(struct pgfe_ring *ring)
{
	unsigned int i;

	if (!ring->sring)
		return;
	for (i = 0; i < ring->nr_ring_pages; i++) {
		void *addr = ring->sring + i * XEN_PAGE_SIZE;
		grant_ref_t ref = ring->ring_ref[i];

		ring->ring_ref[i] = PGFE_GREF_NONE;
		if (ref != PGFE_GREF_NONE)
			atomic_long_dec(&pgfe_grants_held);
		if (ref == PGFE_GREF_NONE || gnttab_try_end_foreign_access(ref)) {
			free_page((unsigned long)addr);
		} else {
			pgnt_gnttab_end_deferred(ref, virt_to_page(addr));
			atomic_long_inc(&pgfe_grants_deferred);
		}
	}
	ring->sring = NULL;
}

/* Shared ring pages, their grants and the event channel of one ring. */
int pgfe_ring_setup(struct pgfe_info *info, struct pgfe_ring *ring)
{
	struct xenbus_device *dev = info->xbdev;
	struct blkif_sring *sring;
	unsigned int i;
	int err;

	spin_lock_init(&ring->lock);
	ring->info = info;
	/* Empty until the slots are sized at connect; teardown may come first. */
	pgfe_pool_init(&ring->pool, 0);
	ring->nr_ring_pages = 1U << info->f.ring_order;
	for (i = 0; i < PGNT_RING_PAGES_MAX; i++)
		ring->ring_ref[i] = PGFE_GREF_NONE;

	sring = alloc_pages_exact(ring->nr_ring_pages * XEN_PAGE_SIZE,
				  GFP_NOIO | __GFP_ZERO);
	if (!sring)
		return -ENOMEM;
	ring->sring = sring;
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&ring->front, sring,
			ring->nr_ring_pages * XEN_PAGE_SIZE);
	if (WARN_ON_ONCE(RING_SIZE(&ring->front) != info->f.ring_entries)) {
		err = -EINVAL;
		goto out_free_sring;
	}

	for (i = 0; i < ring->nr_ring_pages; i++) {
		err = gnttab_grant_foreign_access(dev->otherend_id,
						  virt_to_gfn((void *)sring +
							      i * XEN_PAGE_SIZE),
						  0);
		if (err < 0) {
			xenbus_dev_fatal(dev, err, "granting ring page %u", i);
			goto out_free_sring;
		}
		ring->ring_ref[i] = err;
		atomic_long_inc(&pgfe_grants_held);
	}

	err = xenbus_alloc_evtchn(dev, &ring->evtchn);
	if (err)
		goto out_free_sring;
	/* No '/' here: the name becomes a directory under /proc/irq. */
	snprintf(ring->irq_name, sizeof(ring->irq_name), "blkif-pgnt-%u-q%u",
		 info->handle, ring->index);
	err = bind_evtchn_to_irqhandler_lateeoi(ring->evtchn, pgfe_interrupt,
						0, ring->irq_name, ring);
	if (err <= 0) {
		xenbus_dev_fatal(dev, err, "binding event channel %u",
				 ring->evtchn);
		err = err ? err : -EINVAL;
		goto out_free_evtchn;
	}
	ring->irq = err;
	return 0;

out_free_evtchn:
	xenbus_free_evtchn(dev, ring->evtchn);
	ring->evtchn = 0;
out_free_sring:
	pgfe_ring_free_sring(ring);
	return err;
}

static void pgfe_ring_free_slots(struct pgfe_ring *ring)
{
	kvfree(ring->shadow);
	kvfree(ring->gnt_store);
	kvfree(ring->sg_store);
	kvfree(ring->id_links);
	ring->shadow = NULL;
	ring->gnt_store = NULL;
	ring->sg_store = NULL;
	ring->id_links = NULL;
	ring->ids.nr = 0;
}

/*
 * Per-slot state for the negotiated limits (known only at connect): the
 * shadow entries, their page and scatterlist arrays, the request ids and
 * the page pool.
 */
int pgfe_ring_alloc_slots(struct pgfe_ring *ring)
{
	const struct pgfe_features *f = &ring->info->f;
	unsigned int per_rq = f->max_segs + f->max_ind_pages;
	unsigned int n = f->ring_entries, i;

	ring->shadow = kvcalloc(n, sizeof(*ring->shadow), GFP_KERNEL);
	ring->gnt_store = kvcalloc(n * per_rq, sizeof(*ring->gnt_store),
				   GFP_KERNEL);
	ring->sg_store = kvcalloc(n * f->max_segs, sizeof(*ring->sg_store),
				  GFP_KERNEL);
	ring->id_links = kvcalloc(n, sizeof(*ring->id_links), GFP_KERNEL);
	if (!ring->shadow || !ring->gnt_store || !ring->sg_store ||
	    !ring->id_links) {
		pgfe_ring_free_slots(ring);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ring->shadow[i].gnts = &ring->gnt_store[i * per_rq];
		ring->shadow[i].sg = &ring->sg_store[i * f->max_segs];
	}
	pgnt_ids_init(&ring->ids, ring->id_links, n);
	pgfe_pool_init(&ring->pool, n * per_rq);
	return 0;
}

/*
 * Tear one ring down.  Requests in flight are moved to @keep for replay
 * (suspend), or failed when @keep is NULL.  The event channel is unbound
 * first, so the interrupt handler cannot run concurrently.
 */
void pgfe_ring_teardown(struct pgfe_ring *ring, struct list_head *keep)
{
	struct request *rq, *tmp;
	unsigned long flags;
	unsigned int id;
	LIST_HEAD(failed);

	/* Unbinding closes the event channel too. */
	if (ring->irq > 0)
		unbind_from_irqhandler(ring->irq, ring);
	else if (ring->evtchn)
		xenbus_free_evtchn(ring->info->xbdev, ring->evtchn);
	ring->irq = 0;
	ring->evtchn = 0;

	spin_lock_irqsave(&ring->lock, flags);
	for (id = 0; id < ring->ids.nr; id++) {
		struct pgfe_shadow *s = &ring->shadow[id];

		if (!pgnt_ids_busy(&ring->ids, id))
			continue;
		pgfe_shadow_release(ring, s);
		list_add_tail(&s->rq->queuelist, keep ? keep : &failed);
		s->rq = NULL;
		pgnt_ids_put(&ring->ids, id);
	}
	pgfe_pool_drain(ring);
	spin_unlock_irqrestore(&ring->lock, flags);

	list_for_each_entry_safe(rq, tmp, &failed, queuelist) {
		list_del_init(&rq->queuelist);
		blk_mq_end_request(rq, BLK_STS_IOERR);
	}
	pgfe_ring_free_sring(ring);
	pgfe_ring_free_slots(ring);
}
