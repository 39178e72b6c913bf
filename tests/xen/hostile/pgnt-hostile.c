// SPDX-License-Identifier: GPL-2.0-only
/*
 * pgnt-hostile: a blkif frontend that does what a test tells it to, for
 * proving a block backend against misbehaving guests.  Not part of the
 * product (tests/xen only, never in the DKMS package).
 *
 * It binds to the guest's "vbd" xenbus devices (the real frontend must be
 * unloaded) but serves the first one only, connects with the ring ABI,
 * ring order, queue count and feature-persistent it is told, and puts
 * requests on the ring exactly as written, however wrong.  Everything goes
 * through one debugfs file, /sys/kernel/debug/pgnt-hostile/ctl: write a
 * command line, read back its output.  A failing command fails the write.
 *
 *   connect abi=64|32 order=N queues=N persistent=0|1 [proto=S] [wait=MS]
 *           [share=1|2|3]
 *           order/queues above what is set up are still written raw;
 *           share: queues after the first name the first one's ring-ref
 *           (1), event-channel (2) or both (3)
 *   disconnect
 *   info
 *   fill|verify|zero first=P count=N [seed=S]   data pages P..P+N-1
 *   req [q=N] op=N id=N [sector=N] [nsegs=N] [iop=N] [handle=N] [flag=N]
 *       [nsect=N] [nind=N] [igref=R] [iro=1] [nopush=1] [repeat=N] [wait=MS]
 *       ITEM...
 *       ITEM: seg=P:F:L (data page P), pages=P:N (N whole pages from P),
 *       gref=R:F:L (raw grant ref), ro=F:L (page granted read-only),
 *       foreign=F:L (page granted to another domain)
 *       nsegs defaults to the number of items; direct requests carry at
 *       most 11 of them, indirect ones go to the indirect pages (one
 *       indirect request per push: they share those pages); iro=1 puts
 *       the segments in the page granted read-only instead (one page)
 *   push [q=N] [wait=MS]      publish and wait for every response
 *   prod [q=N] add=N          set req_prod N beyond what was queued
 *   kick [q=N] [count=N] [ms=N]
 *                             notify the backend count times (1), for at
 *                             most ms (10000), with no request
 *   feed [q=N] [ms=N] [every=N] [sector=N]
 *                             keep the ring full for ms (10000) from a
 *                             thread, in the background: indirect writes
 *                             of bad grants, every N-th a one-page read
 *   unfeed                    stop feeding, print what was sent and answered
 *   flap [count=N] ms=N       count times (1): indices back to 0, state
 *                             Initialised, once Connected a one-page write
 *                             of each of data pages 0-7 on queue 0, after
 *                             ms state Closed without waiting for
 *                             the answers, until the backend is Closed
 *
 * Responses are printed "rsp q=Q id=I op=O status=S".  Ring fields are
 * written at the byte offsets of the two x86 ABIs given in ph_x64/ph_x32,
 * independently of any kernel or backend structure definition.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#define PH_DATA_PAGES		128
#define PH_IND_PAGES		8
#define PH_QUEUES		4
#define PH_ORDER_MAX		4
#define PH_SRING_HDR		64
#define PH_SEGS_DIRECT		11
#define PH_SEGS_PER_IND		512
#define PH_ITEMS_MAX		(PH_IND_PAGES * PH_SEGS_PER_IND)
#define PH_OUT_SIZE		65536
#define PH_FOREIGN_DOMID	0x7fef	/* a domain that is not the backend */

#define PH_OP_DISCARD		5
#define PH_OP_INDIRECT		6

/* Where the request fields sit in a ring entry, per x86 ABI (blkif.h). */
struct ph_abi {
	const char *proto;
	unsigned int ent;	/* entry size: union of request and response */
	unsigned int id;
	unsigned int sector;
	unsigned int seg;	/* direct segments; a discard's nr_sectors */
	unsigned int ihandle;	/* indirect: handle */
	unsigned int igrefs;	/* indirect: grefs of the indirect pages */
};

static const struct ph_abi ph_x64 = { "x86_64-abi", 112, 8, 16, 24, 24, 28 };
static const struct ph_abi ph_x32 = { "x86_32-abi", 108, 4, 12, 20, 20, 24 };

struct ph_queue {
	void *sring;
	grant_ref_t ring_ref[1 << PH_ORDER_MAX];
	evtchn_port_t evtchn;
	bool has_evtchn;
	u32 nr_ents;
	u32 req_prod_pvt;
	u32 rsp_cons;
};

/* What the feed command does and has done (see ph_feed_thread). */
struct ph_feed {
	u64 q;
	unsigned long end;	/* jiffies */
	u64 every;		/* every every-th request a read; 0: none */
	u64 sector;		/* of those reads */
	u64 sent, answered, reads;
};

struct ph_dev {
	struct xenbus_device *xdev;
	struct task_struct *feeder;	/* feed command running */
	struct ph_feed feed;
	const struct ph_abi *abi;
	unsigned int order;	/* ring pages set up: 1 << order */
	unsigned int nq;	/* queues set up */
	unsigned int share;	/* connect share=: 1 ring-ref, 2 event-channel */
	bool up;
	struct ph_queue q[PH_QUEUES];
	struct page *data[PH_DATA_PAGES];
	grant_ref_t data_ref[PH_DATA_PAGES];
	struct page *ind[PH_IND_PAGES];
	grant_ref_t ind_ref[PH_IND_PAGES];
	struct page *ro;
	grant_ref_t ro_ref;
	struct page *foreign;
	grant_ref_t foreign_ref;
};

struct ph_item {
	grant_ref_t ref;
	u8 first;
	u8 last;
};

/* One lock for everything: the device, the output and the xenbus callbacks. */
static DEFINE_MUTEX(ph_lock);
static struct ph_dev *ph;
static char *ph_out;
static size_t ph_out_len;
static struct dentry *ph_dir;

static __printf(1, 2) void ph_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ph_out_len += vscnprintf(ph_out + ph_out_len, PH_OUT_SIZE - ph_out_len,
				 fmt, ap);
	va_end(ap);
}

static void ph_put(void *slot, unsigned int off, u64 v, unsigned int len)
{
	memcpy(slot + off, &v, len);	/* x86: little endian */
}

/* ---- grants and rings ---- */

static int ph_grant(struct ph_dev *d, struct page **page, grant_ref_t *ref,
		    domid_t domid, bool readonly)
{
	int r;

	*page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!*page)
		return -ENOMEM;
	r = gnttab_grant_foreign_access(domid, xen_page_to_gfn(*page),
					readonly);
	if (r < 0) {
		__free_page(*page);
		*page = NULL;
		return r;
	}
	*ref = r;
	return 0;
}

static void ph_ungrant(struct page **page, grant_ref_t ref)
{
	if (!*page)
		return;
	/* Frees the page once the other end no longer has it mapped. */
	gnttab_end_foreign_access(ref, *page);
	*page = NULL;
}

static void ph_feed_stop(struct ph_dev *d);

static void ph_teardown(struct ph_dev *d)
{
	unsigned int i;

	ph_feed_stop(d);
	for (i = 0; i < PH_QUEUES; i++) {
		struct ph_queue *q = &d->q[i];

		if (q->sring)
			xenbus_teardown_ring(&q->sring, 1U << d->order,
					     q->ring_ref);
		if (q->has_evtchn)
			xenbus_free_evtchn(d->xdev, q->evtchn);
		memset(q, 0, sizeof(*q));
	}
	for (i = 0; i < PH_DATA_PAGES; i++)
		ph_ungrant(&d->data[i], d->data_ref[i]);
	for (i = 0; i < PH_IND_PAGES; i++)
		ph_ungrant(&d->ind[i], d->ind_ref[i]);
	ph_ungrant(&d->ro, d->ro_ref);
	ph_ungrant(&d->foreign, d->foreign_ref);
	d->up = false;
}

static int ph_setup(struct ph_dev *d)
{
	domid_t be = d->xdev->otherend_id;
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < PH_DATA_PAGES; i++)
		err = ph_grant(d, &d->data[i], &d->data_ref[i], be, false);
	/*
	 * The backend only reads indirect pages, but maps persistent grants
	 * read-write (as stock blkback does): grant them read-write, like
	 * the stock frontend.
	 */
	for (i = 0; !err && i < PH_IND_PAGES; i++)
		err = ph_grant(d, &d->ind[i], &d->ind_ref[i], be, false);
	if (!err)
		err = ph_grant(d, &d->ro, &d->ro_ref, be, true);
	if (!err)
		err = ph_grant(d, &d->foreign, &d->foreign_ref,
			       PH_FOREIGN_DOMID, false);
	for (i = 0; !err && i < d->nq; i++) {
		struct ph_queue *q = &d->q[i];
		size_t size = PAGE_SIZE << d->order;

		err = xenbus_setup_ring(d->xdev, GFP_KERNEL, &q->sring,
					1U << d->order, q->ring_ref);
		if (err)
			break;
		memset(q->sring, 0, size);
		ph_put(q->sring, 4, 1, 4);	/* req_event */
		ph_put(q->sring, 12, 1, 4);	/* rsp_event */
		q->nr_ents = rounddown_pow_of_two((size - PH_SRING_HDR) /
						  d->abi->ent);
		err = xenbus_alloc_evtchn(d->xdev, &q->evtchn);
		q->has_evtchn = !err;
	}
	d->up = true;	/* teardown undoes what was done, even partly */
	return err;
}

/* ---- xenstore ---- */

static enum xenbus_state ph_be_state(struct ph_dev *d)
{
	return xenbus_read_driver_state(d->xdev->otherend);
}

/* Poll the backend's state until it is one of @mask's bits or @ms pass. */
static enum xenbus_state ph_be_wait(struct ph_dev *d, unsigned int mask,
				    unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);
	enum xenbus_state s;

	for (;;) {
		s = ph_be_state(d);
		if ((mask & (1U << s)) || time_after(jiffies, end))
			return s;
		msleep(20);
	}
}

static int ph_write_queue_keys(struct ph_dev *d, struct xenbus_transaction t,
			       const char *dir, struct ph_queue *q,
			       unsigned int raw_order)
{
	struct ph_queue *rq = d->share & 1 ? &d->q[0] : q;
	struct ph_queue *eq = d->share & 2 ? &d->q[0] : q;
	unsigned int i;
	char key[16];
	int err;

	for (i = 0; i < (1U << d->order); i++) {
		if (raw_order)
			snprintf(key, sizeof(key), "ring-ref%u", i);
		else
			strscpy(key, "ring-ref", sizeof(key));
		err = xenbus_printf(t, dir, key, "%u", rq->ring_ref[i]);
		if (err)
			return err;
	}
	return xenbus_printf(t, dir, "event-channel", "%u", eq->evtchn);
}

/* What an earlier connect may have left, so that each starts clean. */
static void ph_rm_keys(struct xenbus_transaction t, const char *node)
{
	static const char * const keys[] = {
		"ring-page-order", "multi-queue-num-queues", "ring-ref",
		"event-channel", "protocol", "feature-persistent",
	};
	unsigned int i;
	char key[16];

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		xenbus_rm(t, node, keys[i]);
	for (i = 0; i < (1U << PH_ORDER_MAX); i++) {
		snprintf(key, sizeof(key), "ring-ref%u", i);
		xenbus_rm(t, node, key);
	}
	for (i = 0; i < PH_QUEUES; i++) {
		snprintf(key, sizeof(key), "queue-%u", i);
		xenbus_rm(t, node, key);
	}
}

static int ph_write_keys(struct ph_dev *d, unsigned int raw_order,
			 unsigned int raw_nq, unsigned int persistent,
			 const char *proto)
{
	const char *node = d->xdev->nodename;
	struct xenbus_transaction t;
	unsigned int i;
	int err;

again:
	err = xenbus_transaction_start(&t);
	if (err)
		return err;
	ph_rm_keys(t, node);
	if (raw_order)
		err = xenbus_printf(t, node, "ring-page-order", "%u",
				    raw_order);
	if (!err && raw_nq != 1)
		err = xenbus_printf(t, node, "multi-queue-num-queues", "%u",
				    raw_nq);
	for (i = 0; !err && i < d->nq; i++) {
		char *dir;

		if (raw_nq == 1) {
			err = ph_write_queue_keys(d, t, node, &d->q[i],
						  raw_order);
			break;
		}
		dir = kasprintf(GFP_KERNEL, "%s/queue-%u", node, i);
		if (!dir) {
			err = -ENOMEM;
			break;
		}
		err = ph_write_queue_keys(d, t, dir, &d->q[i], raw_order);
		kfree(dir);
	}
	if (!err)
		err = xenbus_printf(t, node, "protocol", "%s", proto);
	if (!err)
		err = xenbus_printf(t, node, "feature-persistent", "%u",
				    persistent);
	if (err) {
		xenbus_transaction_end(t, 1);
		return err;
	}
	err = xenbus_transaction_end(t, 0);
	if (err == -EAGAIN)
		goto again;
	return err;
}

static void ph_info(struct ph_dev *d)
{
	const char *be = d->xdev->otherend;
	unsigned long long sectors = 0;

	if (xenbus_scanf(XBT_NIL, be, "sectors", "%llu", &sectors) != 1)
		sectors = 0;
	ph_printf("state fe=%d be=%d up=%d abi=%s order=%u queues=%u nr_ents=%u\n",
		  d->xdev->state, ph_be_state(d), d->up,
		  d->abi ? d->abi->proto : "-", d->order, d->nq,
		  d->up ? d->q[0].nr_ents : 0);
	ph_printf("backend sectors=%llu max_indirect=%u persistent=%u max_order=%u max_queues=%u\n",
		  sectors,
		  xenbus_read_unsigned(be, "feature-max-indirect-segments", 0),
		  xenbus_read_unsigned(be, "feature-persistent", 0),
		  xenbus_read_unsigned(be, "max-ring-page-order", 0),
		  xenbus_read_unsigned(be, "multi-queue-max-queues", 1));
}

/* Close our end and wait until the backend has let go of everything. */
static void ph_disconnect(struct ph_dev *d)
{
	const unsigned int closing = 1U << XenbusStateClosing |
				     1U << XenbusStateClosed |
				     1U << XenbusStateUnknown;
	enum xenbus_state s;

	if (d->xdev->state != XenbusStateClosed) {
		xenbus_switch_state(d->xdev, XenbusStateClosing);
		ph_be_wait(d, closing, 10000);
		xenbus_switch_state(d->xdev, XenbusStateClosed);
	}
	s = ph_be_wait(d, 1U << XenbusStateClosed | 1U << XenbusStateUnknown,
		       10000);
	ph_printf("disconnected: backend state %d\n", s);
	if (d->up)
		ph_teardown(d);
}

static int ph_connect(struct ph_dev *d, unsigned int abi, unsigned int order,
		      unsigned int nq, unsigned int persistent,
		      const char *proto, unsigned int wait, unsigned int share)
{
	enum xenbus_state s;
	int err;

	if (d->up || d->xdev->state != XenbusStateInitialising) {
		ph_disconnect(d);
		/* A fresh start: the backend goes back to InitWait. */
		xenbus_switch_state(d->xdev, XenbusStateInitialising);
		s = ph_be_wait(d, 1U << XenbusStateInitWait, 10000);
		if (s != XenbusStateInitWait) {
			ph_printf("backend did not return to InitWait: %d\n",
				  s);
			return -EPROTO;
		}
	}
	d->abi = abi == 32 ? &ph_x32 : &ph_x64;
	d->order = min_t(unsigned int, order, PH_ORDER_MAX);
	d->nq = clamp_t(unsigned int, nq, 1, PH_QUEUES);
	d->share = share;
	err = ph_setup(d);
	if (!err)
		err = ph_write_keys(d, order, nq, persistent,
				    proto ?: d->abi->proto);
	if (err) {
		ph_printf("setup failed: %d\n", err);
		return err;
	}
	xenbus_switch_state(d->xdev, XenbusStateInitialised);
	s = ph_be_wait(d, 1U << XenbusStateConnected |
			  1U << XenbusStateClosing | 1U << XenbusStateClosed,
		       wait);
	ph_info(d);
	if (s != XenbusStateConnected) {
		ph_printf("backend not connected: state %d\n", s);
		return -EPROTO;
	}
	xenbus_switch_state(d->xdev, XenbusStateConnected);
	return 0;
}

/* ---- the ring ---- */

static void *ph_slot(struct ph_dev *d, struct ph_queue *q, u32 idx)
{
	return q->sring + PH_SRING_HDR + (idx & (q->nr_ents - 1)) * d->abi->ent;
}

static void ph_publish(struct ph_queue *q, u32 prod)
{
	virt_wmb();	/* requests before the index */
	WRITE_ONCE(*(u32 *)q->sring, prod);
	virt_mb();	/* the index before the notification */
	notify_remote_via_evtchn(q->evtchn);
}

/* Collect responses until all queued requests are answered or @ms pass. */
static int ph_wait(struct ph_dev *d, unsigned int qi, unsigned int ms)
{
	struct ph_queue *q = &d->q[qi];
	unsigned long end = jiffies + msecs_to_jiffies(ms);
	u32 rp;

	for (;;) {
		rp = READ_ONCE(*(u32 *)(q->sring + 8));
		virt_rmb();	/* the index before the responses */
		if (rp - q->rsp_cons > q->nr_ents) {
			ph_printf("backend rsp_prod %u beyond the ring\n", rp);
			return -EPROTO;
		}
		while (q->rsp_cons != rp) {
			void *s = ph_slot(d, q, q->rsp_cons);
			u64 id;
			u8 op;
			s16 st;

			memcpy(&id, s, 8);
			memcpy(&op, s + 8, 1);
			memcpy(&st, s + 10, 2);
			ph_printf("rsp q=%u id=%llu op=%u status=%d\n", qi, id,
				  op, st);
			q->rsp_cons++;
		}
		if (q->rsp_cons == q->req_prod_pvt)
			return 0;
		if (time_after(jiffies, end)) {
			ph_printf("timeout: %u responses missing\n",
				  q->req_prod_pvt - q->rsp_cons);
			return -ETIMEDOUT;
		}
		usleep_range(5000, 10000);
	}
}

struct ph_req {
	u64 op, id, sector, nsegs, iop, handle, flag, nsect, nind, igref;
	bool has_nsegs, has_nind, has_igref, iro;
	unsigned int nitems;
	struct ph_item items[PH_ITEMS_MAX];
};

static void ph_put_req(struct ph_dev *d, struct ph_queue *q,
		       const struct ph_req *r)
{
	const struct ph_abi *a = d->abi;
	void *slot = ph_slot(d, q, q->req_prod_pvt);
	u64 nsegs = r->has_nsegs ? r->nsegs : r->nitems;
	unsigned int i, n;

	memset(slot, 0, a->ent);
	ph_put(slot, 0, r->op, 1);
	ph_put(slot, a->id, r->id, 8);
	ph_put(slot, a->sector, r->sector, 8);
	if (r->op == PH_OP_DISCARD) {
		ph_put(slot, 1, r->flag, 1);
		ph_put(slot, a->seg, r->nsect, 8);
	} else if (r->op == PH_OP_INDIRECT) {
		n = r->has_nind ? r->nind :
				  DIV_ROUND_UP(r->nitems, PH_SEGS_PER_IND);
		n = min_t(unsigned int, n, PH_IND_PAGES);
		ph_put(slot, 1, r->iop, 1);
		ph_put(slot, 2, nsegs, 2);
		ph_put(slot, a->ihandle, r->handle, 2);
		for (i = 0; i < r->nitems; i++) {
			void *p = page_address(r->iro ? d->ro :
					       d->ind[i / PH_SEGS_PER_IND]);

			p += (i % PH_SEGS_PER_IND) * 8;
			memset(p, 0, 8);
			ph_put(p, 0, r->items[i].ref, 4);
			ph_put(p, 4, r->items[i].first, 1);
			ph_put(p, 5, r->items[i].last, 1);
		}
		for (i = 0; i < n; i++)
			ph_put(slot, a->igrefs + 4 * i,
			       r->has_igref ? r->igref :
			       r->iro ? d->ro_ref : d->ind_ref[i], 4);
	} else {
		ph_put(slot, 1, nsegs, 1);
		ph_put(slot, 2, r->handle, 2);
		n = min_t(unsigned int, r->nitems, PH_SEGS_DIRECT);
		for (i = 0; i < n; i++) {
			ph_put(slot, a->seg + 8 * i, r->items[i].ref, 4);
			ph_put(slot, a->seg + 8 * i + 4, r->items[i].first, 1);
			ph_put(slot, a->seg + 8 * i + 5, r->items[i].last, 1);
		}
	}
	q->req_prod_pvt++;
}

/* ---- sustained feeding ---- */

/*
 * "feed" keeps one queue's ring full from a kernel thread, as a guest that
 * wants to monopolise its backend would: in every slot an indirect write
 * of 256 segments whose grant refs do not exist (one indirect page, written
 * once), which costs the backend a 256-op map that fails and the guest a
 * few stores, every every-th one a real one-page read.  Each request is published as soon as it is written, and the
 * backend is notified only when its req_event asks for it, so the backend
 * never finds the ring empty while the feed runs.
 * It does not wait for the published rsp_prod: a response overwrites its
 * slot, and a response id (bytes 0-7) has bit 63 set where the first 8
 * bytes of a request (op, nr_segments, handle, padding) never do, so an
 * answer is seen as soon as the backend writes it.  Responses are written
 * in order, so the answered slots are a prefix of the outstanding ones.
 */
#define PH_FEED_TAG		BIT_ULL(63)
#define PH_BAD_GREF		0x7ffffff
#define PH_FEED_SEGS		256

static int ph_feed_thread(void *data)
{
	struct ph_dev *d = data;
	struct ph_feed *f = &d->feed;
	struct ph_queue *q = &d->q[f->q];
	const struct ph_abi *a = d->abi;

	while (!kthread_should_stop() && time_before(jiffies, f->end)) {
		u32 old = q->req_prod_pvt, event;
		u64 id;

		while (q->rsp_cons != q->req_prod_pvt) {
			memcpy(&id, ph_slot(d, q, q->rsp_cons), 8);
			if (!(id & PH_FEED_TAG))
				break;
			q->rsp_cons++;
			f->answered++;
		}
		while (q->req_prod_pvt - q->rsp_cons < q->nr_ents) {
			void *slot = ph_slot(d, q, q->req_prod_pvt);

			bool rd = f->every && !((f->sent + 1) % f->every);

			memset(slot, 0, a->ent);
			ph_put(slot, a->id, PH_FEED_TAG | f->sent++, 8);
			ph_put(slot, a->sector, f->sector, 8);
			if (rd) {
				ph_put(slot, 1, 1, 1);		/* 1 segment */
				ph_put(slot, a->seg, d->data_ref[0], 4);
				ph_put(slot, a->seg + 5, 7, 1);	/* last_sect */
			} else {
				ph_put(slot, 0, PH_OP_INDIRECT, 1);
				ph_put(slot, 1, 1, 1);		/* a write */
				ph_put(slot, 2, PH_FEED_SEGS, 2);
				ph_put(slot, a->igrefs, d->ind_ref[0], 4);
			}
			f->reads += rd;
			virt_wmb();	/* the request before the index */
			WRITE_ONCE(*(u32 *)q->sring, ++q->req_prod_pvt);
		}
		/* As RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: only if asked. */
		virt_mb();
		event = READ_ONCE(*(u32 *)(q->sring + 4));
		if (q->req_prod_pvt != old &&
		    q->req_prod_pvt - event < q->req_prod_pvt - old)
			notify_remote_via_evtchn(q->evtchn);
		cond_resched();
	}
	while (!kthread_should_stop())
		msleep(20);
	return 0;
}

static void ph_feed_report(struct ph_dev *d)
{
	const struct ph_feed *f = &d->feed;

	ph_printf("feed q=%llu: %s, sent=%llu answered=%llu reads=%llu\n", f->q,
		  d->feeder ? "running" : "stopped", f->sent, f->answered,
		  f->reads);
}

/*
 * Stop feeding; wait up to 5 s for the backend to answer what is
 * outstanding, so that later requests on the queue see a published
 * rsp_prod equal to what was sent.
 */
static void ph_feed_stop(struct ph_dev *d)
{
	struct ph_queue *q = &d->q[d->feed.q];
	unsigned long end = jiffies + 5 * HZ;

	if (!d->feeder)
		return;
	kthread_stop(d->feeder);
	ph_feed_report(d);
	d->feeder = NULL;
	while (q->sring && READ_ONCE(*(u32 *)(q->sring + 8)) != q->req_prod_pvt &&
	       time_before(jiffies, end))
		msleep(20);
	if (q->sring)
		q->rsp_cons = READ_ONCE(*(u32 *)(q->sring + 8));
}

static int ph_feed_start(struct ph_dev *d, u64 qi, u64 ms, u64 every,
			 u64 sector)
{
	struct task_struct *t;

	u8 *ind = page_address(d->ind[0]);
	unsigned int i;

	if (d->feeder || qi >= d->nq)
		return -EBUSY;
	memset(ind, 0, PAGE_SIZE);
	for (i = 0; i < PH_FEED_SEGS; i++) {
		ph_put(ind + 8 * i, 0, PH_BAD_GREF, 4);
		ph_put(ind + 8 * i, 5, 7, 1);	/* last_sect */
	}
	memset(&d->feed, 0, sizeof(d->feed));
	d->feed.q = qi;
	d->feed.end = jiffies + msecs_to_jiffies(ms);
	d->feed.every = every;
	d->feed.sector = sector;
	t = kthread_run(ph_feed_thread, d, "pgnt-hostile-feed");
	if (IS_ERR(t))
		return PTR_ERR(t);
	d->feeder = t;
	return 0;
}

/* ---- data patterns ---- */

static u32 ph_pattern(u64 seed, unsigned int page, unsigned int word)
{
	return (u32)seed * 0x9e3779b1U ^ (page + 1) * 0x85ebca77U ^
	       word * 0xc2b2ae3dU;
}

static int ph_data(struct ph_dev *d, const char *cmd, u64 first, u64 count,
		   u64 seed)
{
	unsigned int p, w;

	if (first >= PH_DATA_PAGES || count > PH_DATA_PAGES - first)
		return -EINVAL;
	for (p = first; p < first + count; p++) {
		u32 *v = page_address(d->data[p]);

		for (w = 0; w < PAGE_SIZE / 4; w++) {
			u32 want = ph_pattern(seed, p, w);

			if (!strcmp(cmd, "zero")) {
				v[w] = 0;
			} else if (!strcmp(cmd, "fill")) {
				v[w] = want;
			} else if (v[w] != want) {
				ph_printf("verify: MISMATCH page %u word %u: %08x, expected %08x\n",
					  p, w, v[w], want);
				return -EIO;
			}
		}
	}
	ph_printf("%s: %llu pages from %llu ok\n", cmd, count, first);
	return 0;
}

/* ---- commands ---- */

static int ph_num(const char *v, u64 *out)
{
	return kstrtoull(v, 0, out);
}

/* "A:B:C" -> three numbers. */
static int ph_triple(const char *v, u64 *a, u64 *b, u64 *c)
{
	unsigned long long x, y, z;

	if (sscanf(v, "%lli:%lli:%lli", &x, &y, &z) != 3)
		return -EINVAL;
	*a = x;
	*b = y;
	*c = z;
	return 0;
}

static int ph_add_item(struct ph_req *r, u64 ref, u64 first, u64 last)
{
	if (r->nitems >= PH_ITEMS_MAX)
		return -E2BIG;
	r->items[r->nitems].ref = ref;
	r->items[r->nitems].first = first;
	r->items[r->nitems].last = last;
	r->nitems++;
	return 0;
}

/*
 * The next "key=value" word of @line: 1 with @key and @val set, 0 at the
 * end (@key NULL), -EINVAL for a word without '=' (@key is the word).
 */
static int ph_next_kv(char **line, char **key, char **val)
{
	char *tok;

	do {
		tok = strsep(line, " \t\n");
	} while (tok && !*tok);
	*key = tok;
	if (!tok)
		return 0;
	*val = strchr(tok, '=');
	if (!*val)
		return -EINVAL;
	*(*val)++ = 0;
	return 1;
}

static int ph_cmd_req(struct ph_dev *d, char *args)
{
	struct ph_req *r;
	u64 q = 0, wait = 10000, nopush = 0, repeat = 1, a, b, c;
	char *tok, *v;
	int err = 0, kv = 0;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	while (!err && (kv = ph_next_kv(&args, &tok, &v)) > 0) {
		if (!strcmp(tok, "q"))
			err = ph_num(v, &q);
		else if (!strcmp(tok, "op"))
			err = ph_num(v, &r->op);
		else if (!strcmp(tok, "id"))
			err = ph_num(v, &r->id);
		else if (!strcmp(tok, "sector"))
			err = ph_num(v, &r->sector);
		else if (!strcmp(tok, "nsegs") && !ph_num(v, &r->nsegs))
			r->has_nsegs = true;
		else if (!strcmp(tok, "iop"))
			err = ph_num(v, &r->iop);
		else if (!strcmp(tok, "handle"))
			err = ph_num(v, &r->handle);
		else if (!strcmp(tok, "flag"))
			err = ph_num(v, &r->flag);
		else if (!strcmp(tok, "nsect"))
			err = ph_num(v, &r->nsect);
		else if (!strcmp(tok, "nind") && !ph_num(v, &r->nind))
			r->has_nind = true;
		else if (!strcmp(tok, "igref") && !ph_num(v, &r->igref))
			r->has_igref = true;
		else if (!strcmp(tok, "iro"))
			r->iro = !strcmp(v, "1");
		else if (!strcmp(tok, "nopush"))
			err = ph_num(v, &nopush);
		else if (!strcmp(tok, "wait"))
			err = ph_num(v, &wait);
		else if (!strcmp(tok, "repeat"))
			err = ph_num(v, &repeat);
		else if (!strcmp(tok, "seg"))
			err = ph_triple(v, &a, &b, &c) ?:
			      a >= PH_DATA_PAGES ? -EINVAL :
			      ph_add_item(r, d->data_ref[a], b, c);
		else if (!strcmp(tok, "gref"))
			err = ph_triple(v, &a, &b, &c) ?: ph_add_item(r, a, b, c);
		else if (!strcmp(tok, "ro"))
			err = sscanf(v, "%lli:%lli", &b, &c) != 2 ? -EINVAL :
			      ph_add_item(r, d->ro_ref, b, c);
		else if (!strcmp(tok, "foreign"))
			err = sscanf(v, "%lli:%lli", &b, &c) != 2 ? -EINVAL :
			      ph_add_item(r, d->foreign_ref, b, c);
		else if (!strcmp(tok, "pages")) {
			if (sscanf(v, "%lli:%lli", &a, &b) != 2 ||
			    a >= PH_DATA_PAGES || b > PH_DATA_PAGES - a) {
				err = -EINVAL;
				break;
			}
			for (c = a; !err && c < a + b; c++)
				err = ph_add_item(r, d->data_ref[c], 0, 7);
		} else {
			err = -EINVAL;
		}
	}
	if (!err && kv < 0)
		err = kv;
	if (!err && (q >= d->nq || !repeat || repeat > d->q[q].nr_ents))
		err = -EINVAL;
	if (err) {
		ph_printf("req: bad argument %s (%d)\n", tok ?: "", err);
	} else {
		/* repeat=N: N copies, ids counting up from id. */
		for (a = 0; a < repeat; a++, r->id++)
			ph_put_req(d, &d->q[q], r);
		if (!nopush) {
			ph_publish(&d->q[q], d->q[q].req_prod_pvt);
			err = ph_wait(d, q, wait);
		}
	}
	kfree(r);
	return err;
}

/* @count notifications (or as many as @ms allows) with no request. */
static int ph_kick(struct ph_queue *q, u64 count, u64 ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);
	u64 n = 0;

	while (n < count && time_before(jiffies, end)) {
		notify_remote_via_evtchn(q->evtchn);
		if (!(++n % 256))
			cond_resched();
	}
	ph_printf("kicked %llu times\n", n);
	return 0;
}

/*
 * Initialised and Closed in turn, as a frontend that restarts its rings
 * while its requests are still in flight.  The backend's state callback
 * waits on ph_lock meanwhile, so nothing here is torn down.
 */
static int ph_flap(struct ph_dev *d, u64 count, u64 ms)
{
	/* Not Closed: that is where the backend is when we write. */
	const unsigned int up = 1U << XenbusStateConnected |
				1U << XenbusStateClosing;
	const char *node = d->xdev->nodename;
	u64 n, connected = 0, closed = 0;
	struct ph_req *r;
	unsigned int i;

	if (d->feeder)
		return -EBUSY;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->op = 1;
	r->nitems = 1;
	for (n = 0; n < count; n++) {
		for (i = 0; i < d->nq; i++) {
			struct ph_queue *q = &d->q[i];

			memset(q->sring, 0, PAGE_SIZE << d->order);
			ph_put(q->sring, 4, 1, 4);	/* req_event */
			ph_put(q->sring, 12, 1, 4);	/* rsp_event */
			q->req_prod_pvt = 0;
			q->rsp_cons = 0;
		}
		xenbus_printf(XBT_NIL, node, "state", "%d",
			      XenbusStateInitialised);
		if (ph_be_wait(d, up, 3000) == XenbusStateConnected) {
			connected++;
			for (i = 0; i < 8; i++) {
				r->id = i;
				r->sector = i * 8;
				r->items[0].ref = d->data_ref[i];
				r->items[0].last = 7;
				ph_put_req(d, &d->q[0], r);
			}
			ph_publish(&d->q[0], d->q[0].req_prod_pvt);
		}
		msleep(ms);
		xenbus_printf(XBT_NIL, node, "state", "%d", XenbusStateClosed);
		closed += ph_be_wait(d, 1U << XenbusStateClosed, 5000) ==
			  XenbusStateClosed;
	}
	d->xdev->state = XenbusStateClosed;
	kfree(r);
	ph_printf("flapped %llu times: connected %llu, closed %llu\n", count,
		  connected, closed);
	return 0;
}

static int ph_exec(char *line)
{
	u64 abi = 64, order = 0, nq = 1, persistent = 1, wait = 15000;
	u64 q = 0, add = 0, first = 0, count = 1, seed = 1;
	u64 ms = 10000, every = 0, sector = 0, share = 0;
	struct ph_dev *d = ph;
	char *cmd, *tok, *v, *proto = NULL;
	int err = 0, kv = 0;

	cmd = strsep(&line, " \t\n");
	if (!d) {
		ph_printf("no vbd device bound\n");
		return -ENODEV;
	}
	if (!strcmp(cmd, "req")) {
		if (!d->up || d->xdev->state != XenbusStateConnected) {
			ph_printf("not connected\n");
			return -ENOTCONN;
		}
		return ph_cmd_req(d, line);
	}
	while (!err && (kv = ph_next_kv(&line, &tok, &v)) > 0) {
		if (!strcmp(tok, "abi"))
			err = ph_num(v, &abi);
		else if (!strcmp(tok, "order"))
			err = ph_num(v, &order);
		else if (!strcmp(tok, "queues"))
			err = ph_num(v, &nq);
		else if (!strcmp(tok, "persistent"))
			err = ph_num(v, &persistent);
		else if (!strcmp(tok, "proto"))
			proto = v;
		else if (!strcmp(tok, "wait"))
			err = ph_num(v, &wait);
		else if (!strcmp(tok, "q"))
			err = ph_num(v, &q);
		else if (!strcmp(tok, "add"))
			err = ph_num(v, &add);
		else if (!strcmp(tok, "first"))
			err = ph_num(v, &first);
		else if (!strcmp(tok, "count"))
			err = ph_num(v, &count);
		else if (!strcmp(tok, "seed"))
			err = ph_num(v, &seed);
		else if (!strcmp(tok, "ms"))
			err = ph_num(v, &ms);
		else if (!strcmp(tok, "every"))
			err = ph_num(v, &every);
		else if (!strcmp(tok, "sector"))
			err = ph_num(v, &sector);
		else if (!strcmp(tok, "share"))
			err = ph_num(v, &share);
		else
			err = -EINVAL;
	}
	if (!err && kv < 0)
		err = kv;
	if (err) {
		ph_printf("bad argument\n");
		return err;
	}
	if (!strcmp(cmd, "connect")) {
		if (abi != 32 && abi != 64)
			return -EINVAL;
		return ph_connect(d, abi, order, nq, persistent, proto, wait,
				  share);
	}
	if (!strcmp(cmd, "disconnect")) {
		ph_disconnect(d);
		return 0;
	}
	if (!strcmp(cmd, "info")) {
		ph_info(d);
		ph_feed_report(d);
		return 0;
	}
	if (!strcmp(cmd, "unfeed")) {
		ph_feed_stop(d);
		return 0;
	}
	if (!d->up)
		return -ENOTCONN;
	if (!strcmp(cmd, "fill") || !strcmp(cmd, "verify") ||
	    !strcmp(cmd, "zero"))
		return ph_data(d, cmd, first, count, seed);
	if (q >= d->nq)
		return -EINVAL;
	if (!strcmp(cmd, "feed")) {
		if (d->xdev->state != XenbusStateConnected)
			return -ENOTCONN;
		return ph_feed_start(d, q, ms, every, sector);
	}
	if (!strcmp(cmd, "push")) {
		ph_publish(&d->q[q], d->q[q].req_prod_pvt);
		return ph_wait(d, q, wait);
	}
	if (!strcmp(cmd, "kick"))
		return ph_kick(&d->q[q], count, ms);
	if (!strcmp(cmd, "flap"))
		return ph_flap(d, count, ms);
	if (!strcmp(cmd, "prod")) {
		ph_publish(&d->q[q], d->q[q].req_prod_pvt + add);
		ph_printf("req_prod set to %u (queued %u, nr_ents %u)\n",
			  d->q[q].req_prod_pvt + (u32)add, d->q[q].req_prod_pvt,
			  d->q[q].nr_ents);
		return 0;
	}
	ph_printf("unknown command %s\n", cmd);
	return -EINVAL;
}

static ssize_t ph_ctl_write(struct file *f, const char __user *ubuf,
			    size_t len, loff_t *pos)
{
	char *line;
	int err;

	if (len >= PAGE_SIZE * 16)
		return -E2BIG;
	line = memdup_user_nul(ubuf, len);
	if (IS_ERR(line))
		return PTR_ERR(line);
	mutex_lock(&ph_lock);
	ph_out_len = 0;
	ph_out[0] = 0;
	err = ph_exec(line);
	if (err)
		ph_printf("error %d\n", err);
	mutex_unlock(&ph_lock);
	kfree(line);
	return err ?: len;
}

static ssize_t ph_ctl_read(struct file *f, char __user *ubuf, size_t len,
			   loff_t *pos)
{
	ssize_t r;

	mutex_lock(&ph_lock);
	r = simple_read_from_buffer(ubuf, len, pos, ph_out, ph_out_len);
	mutex_unlock(&ph_lock);
	return r;
}

static const struct file_operations ph_ctl_fops = {
	.owner = THIS_MODULE,
	.read = ph_ctl_read,
	.write = ph_ctl_write,
	.llseek = default_llseek,
};

/* ---- xenbus ---- */

static int ph_probe(struct xenbus_device *dev,
		    const struct xenbus_device_id *id)
{
	struct ph_dev *d;
	int err = 0;

	mutex_lock(&ph_lock);
	if (ph) {
		err = -EBUSY;	/* one device at a time */
		goto out;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		err = -ENOMEM;
		goto out;
	}
	d->xdev = dev;
	dev_set_drvdata(&dev->dev, d);
	ph = d;
	/*
	 * Closed until a connect command: xenbus makes insmod wait (up to
	 * 270 s) for every device of a new frontend driver below Connected.
	 */
	xenbus_switch_state(dev, XenbusStateClosed);
	dev_info(&dev->dev, "pgnt-hostile bound, backend %s\n", dev->otherend);
out:
	mutex_unlock(&ph_lock);
	return err;
}

static void ph_backend_changed(struct xenbus_device *dev,
			       enum xenbus_state state)
{
	struct ph_dev *d;

	mutex_lock(&ph_lock);
	d = dev_get_drvdata(&dev->dev);
	if (!d)
		goto out;
	/*
	 * @state was read before we got the lock, perhaps while a ctl
	 * command reconnected: act on what the backend says now.
	 */
	state = ph_be_state(d);
	dev_info(&dev->dev, "backend state %d\n", state);
	switch (state) {
	case XenbusStateClosing:
		/* Backend gave up or is being detached: close, keep memory. */
		if (dev->state != XenbusStateClosed)
			xenbus_frontend_closed(dev);
		break;
	case XenbusStateClosed:
		/* It has unmapped everything: now the pages may go. */
		if (d->up)
			ph_teardown(d);
		if (dev->state != XenbusStateClosed)
			xenbus_frontend_closed(dev);
		break;
	default:
		break;
	}
out:
	mutex_unlock(&ph_lock);
}

/* Built for the rig's guests only: 6.1 and later, where remove is void. */
static void ph_remove(struct xenbus_device *dev)
{
	struct ph_dev *d;

	mutex_lock(&ph_lock);
	d = dev_get_drvdata(&dev->dev);
	if (d) {
		if (d->up)
			ph_teardown(d);
		dev_set_drvdata(&dev->dev, NULL);
		if (ph == d)
			ph = NULL;
		kfree(d);
	}
	mutex_unlock(&ph_lock);
}

static const struct xenbus_device_id ph_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver ph_driver = {
	.ids = ph_ids,
	.probe = ph_probe,
	.remove = ph_remove,
	.otherend_changed = ph_backend_changed,
};

static int __init ph_init(void)
{
	int err;

	ph_out = kzalloc(PH_OUT_SIZE, GFP_KERNEL);
	if (!ph_out)
		return -ENOMEM;
	ph_dir = debugfs_create_dir("pgnt-hostile", NULL);
	debugfs_create_file("ctl", 0600, ph_dir, NULL, &ph_ctl_fops);
	err = xenbus_register_frontend(&ph_driver);
	if (err) {
		debugfs_remove_recursive(ph_dir);
		kfree(ph_out);
	}
	return err;
}

static void __exit ph_exit(void)
{
	xenbus_unregister_driver(&ph_driver);
	debugfs_remove_recursive(ph_dir);
	kfree(ph_out);
}

module_init(ph_init);
module_exit(ph_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hostile blkif frontend for testing block backends (tests only)");
