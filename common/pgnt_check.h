/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validation of what the other end writes into shared memory.
 *
 * The backend copies each guest request out of the shared ring into a
 * private struct pgnt_req (READ_ONCE per field, whatever the ring ABI) and
 * only ever looks at that copy; the functions here decide whether the copy
 * may be acted upon.  The frontend checks every response against the request
 * it actually sent, using the id pool below.
 *
 * Kernel-independent: the modules and the userspace unit tests and fuzzers
 * compile the very same code (see pgnt_types.h).
 */
#ifndef PGNT_CHECK_H
#define PGNT_CHECK_H

#include "pgnt.h"

/* Why a request or response was refused; PGNT_OK when it was not. */
enum pgnt_verdict {
	PGNT_OK = 0,
	PGNT_BAD_OP,		/* unknown, reserved or unoffered operation */
	PGNT_BAD_NSEGS,		/* segment count 0 or above the limit */
	PGNT_BAD_SEGMENT,	/* first/last sector outside the page */
	PGNT_BAD_RANGE,		/* sectors past the end of the device */
	PGNT_BAD_ALIGN,		/* not a multiple of the logical block */
	PGNT_BAD_READONLY,	/* write-type request to a read-only vbd */
	PGNT_BAD_INDIRECT_OP,	/* indirect request wrapping a non-r/w op */
	PGNT_NOT_SUPPORTED,	/* feature not advertised: EOPNOTSUPP */
	PGNT_BAD_ID,		/* response id out of range */
	PGNT_BAD_NOT_IN_FLIGHT,	/* response for an id not in flight */
	PGNT_BAD_RSP_OP,	/* response op differs from the request's */
	PGNT_BAD_STATUS,	/* unknown response status */
	PGNT_VERDICT_NR
};

static inline const char *pgnt_verdict_name(enum pgnt_verdict v)
{
	switch (v) {
	case PGNT_OK:			return "ok";
	case PGNT_BAD_OP:		return "bad_op";
	case PGNT_BAD_NSEGS:		return "bad_nsegs";
	case PGNT_BAD_SEGMENT:		return "bad_segment";
	case PGNT_BAD_RANGE:		return "bad_range";
	case PGNT_BAD_ALIGN:		return "bad_align";
	case PGNT_BAD_READONLY:		return "bad_readonly";
	case PGNT_BAD_INDIRECT_OP:	return "bad_indirect_op";
	case PGNT_NOT_SUPPORTED:	return "not_supported";
	case PGNT_BAD_ID:		return "bad_id";
	case PGNT_BAD_NOT_IN_FLIGHT:	return "bad_not_in_flight";
	case PGNT_BAD_RSP_OP:		return "bad_rsp_op";
	case PGNT_BAD_STATUS:		return "bad_status";
	case PGNT_VERDICT_NR:
		break;
	}
	return "unknown";
}

/*
 * The blkif status a refused request is answered with.  An operation we
 * do not know or did not offer gets EOPNOTSUPP, as from the stock backend:
 * the protocol's answer to "not supported", which lets a frontend that
 * tries a newer operation tell it from a malformed request of a known one
 * (BLKIF_RSP_ERROR).
 */
static inline s16 pgnt_verdict_status(enum pgnt_verdict v)
{
	if (v == PGNT_OK)
		return PGNT_RSP_OKAY;
	if (v == PGNT_NOT_SUPPORTED || v == PGNT_BAD_OP)
		return PGNT_RSP_EOPNOTSUPP;
	return PGNT_RSP_ERROR;
}

/* ---- backend: rings and requests ---- */

/*
 * A guest-written producer index is sane when it lies between the requests
 * we have taken (@req_cons) and the most the ring holds beyond the last
 * response we produced.  An index behind @req_cons, even one within the
 * entries in flight, would read as some four billion new requests: the
 * slots after ours, stale, again and again.  Index arithmetic wraps, as on
 * the wire; the caller keeps req_cons - rsp_prod_pvt <= ring_entries.
 */
static inline bool pgnt_ring_prod_ok(u32 req_prod, u32 req_cons,
				     u32 rsp_prod_pvt, u32 ring_entries)
{
	return (u32)(req_prod - req_cons) <=
	       (u32)(rsp_prod_pvt + ring_entries - req_cons);
}

/*
 * True when no value of @v[0..n) repeats.  The ring refs of all queues
 * and pages, and the event channels of all queues: two rings on one page
 * would both consume the same requests and answer into each other's
 * slots.  Quadratic, for the few hundred values a connect has at most.
 */
static inline bool pgnt_all_distinct(const u32 *v, u32 n)
{
	u32 i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (v[i] == v[j])
				return false;
	return true;
}

/* What a vbd offers; requests are checked against it. */
struct pgnt_dev_limits {
	u64 sectors;		/* device size in 512-byte sectors */
	u32 lbs_sectors;	/* logical block size in sectors, power of 2 */
	u32 max_indirect_segs;	/* advertised; 0 = no indirect requests */
	bool readonly;
	bool flush;		/* feature-flush-cache advertised */
	bool barrier;		/* feature-barrier advertised */
	bool discard;		/* feature-discard advertised */
	bool secure_discard;	/* discard-secure advertised */
};

/* Private, stable copy of one ring request (never read twice from the ring). */
struct pgnt_req {
	u64 id;
	u64 sector;		/* first sector: r/w, indirect, discard */
	u64 nr_sectors;		/* discard only */
	u16 nr_segs;		/* u8 on the wire for direct requests */
	u16 handle;
	u8 op;			/* operation as written on the ring */
	u8 indirect_op;		/* indirect requests only */
	u8 discard_flags;	/* discard only: PGNT_DISCARD_SECURE */
};

/* The operation a request performs: the wrapped one for indirect requests. */
static inline u8 pgnt_req_data_op(const struct pgnt_req *r)
{
	return r->op == PGNT_OP_INDIRECT ? r->indirect_op : r->op;
}

static inline bool pgnt_op_writes(u8 op)
{
	return op == PGNT_OP_WRITE || op == PGNT_OP_WRITE_BARRIER ||
	       op == PGNT_OP_FLUSH_DISKCACHE || op == PGNT_OP_DISCARD;
}

/*
 * Sector range [@sector, @sector + @nr) lies on the device and on logical
 * block boundaries.  Written so that no sum can overflow.
 */
static inline enum pgnt_verdict pgnt_range_check(u64 sector, u64 nr,
						 const struct pgnt_dev_limits *l)
{
	/* Read once: a resize may change it while rings check requests. */
	u64 size = READ_ONCE(l->sectors);
	u64 mask = (u64)l->lbs_sectors - 1;

	if (sector > size || nr > size - sector)
		return PGNT_BAD_RANGE;
	if (l->lbs_sectors && ((sector | nr) & mask))
		return PGNT_BAD_ALIGN;
	return PGNT_OK;
}

/* One data segment of a read/write request (direct or from an indirect page). */
static inline enum pgnt_verdict pgnt_seg_check(u8 first_sect, u8 last_sect,
					       const struct pgnt_dev_limits *l)
{
	u32 nsec;

	if (last_sect >= PGNT_SECTORS_PER_PAGE || first_sect > last_sect)
		return PGNT_BAD_SEGMENT;
	nsec = (u32)last_sect - first_sect + 1;
	if (l->lbs_sectors && ((first_sect | nsec) & (l->lbs_sectors - 1)))
		return PGNT_BAD_ALIGN;
	return PGNT_OK;
}

/*
 * Everything that can be said about a request before its segments are read:
 * operation, feature, segment count, read-only, and the whole range of a
 * discard.  The range of a read/write depends on its segments: check it with
 * pgnt_range_check() once they are summed.
 */
static inline enum pgnt_verdict pgnt_req_check(const struct pgnt_req *r,
					       const struct pgnt_dev_limits *l)
{
	u8 op = pgnt_req_data_op(r);
	u32 max_segs = PGNT_SEGS_DIRECT;

	switch (r->op) {
	case PGNT_OP_READ:
	case PGNT_OP_WRITE:
		break;
	case PGNT_OP_WRITE_BARRIER:
		if (!l->barrier)
			return PGNT_NOT_SUPPORTED;
		break;
	case PGNT_OP_FLUSH_DISKCACHE:
		if (!l->flush)
			return PGNT_NOT_SUPPORTED;
		break;
	case PGNT_OP_DISCARD:
		if (!l->discard)
			return PGNT_NOT_SUPPORTED;
		if (l->readonly)
			return PGNT_BAD_READONLY;
		if ((r->discard_flags & PGNT_DISCARD_SECURE) &&
		    !l->secure_discard)
			return PGNT_NOT_SUPPORTED;
		if (!r->nr_sectors)
			return PGNT_BAD_RANGE;
		return pgnt_range_check(r->sector, r->nr_sectors, l);
	case PGNT_OP_INDIRECT:
		if (!l->max_indirect_segs)
			return PGNT_BAD_OP;
		if (r->indirect_op != PGNT_OP_READ &&
		    r->indirect_op != PGNT_OP_WRITE)
			return PGNT_BAD_INDIRECT_OP;
		max_segs = l->max_indirect_segs;
		break;
	default:
		return PGNT_BAD_OP;
	}

	if (pgnt_op_writes(op) && l->readonly)
		return PGNT_BAD_READONLY;
	if (r->nr_segs > max_segs || r->nr_segs > PGNT_SEGS_WIRE_MAX)
		return PGNT_BAD_NSEGS;
	/* Only a flush (or barrier) may come without data. */
	if (!r->nr_segs && (op == PGNT_OP_READ || op == PGNT_OP_WRITE))
		return PGNT_BAD_NSEGS;
	return PGNT_OK;
}

/* ---- frontend: request ids and responses ---- */

/*
 * Pool of request ids 0..nr-1 with a free list threaded through @next.
 * An id's link is PGNT_ID_BUSY while its request is in flight, so a second
 * response for the same id, or one for an id never sent, is recognised.
 */
#define PGNT_ID_BUSY	0xffffffffU

struct pgnt_ids {
	u32 *next;	/* nr links, storage owned by the caller */
	u32 nr;
	u32 free;	/* head of the free list; nr when empty */
	u32 in_flight;
};

static inline void pgnt_ids_init(struct pgnt_ids *ids, u32 *storage, u32 nr)
{
	u32 i;

	ids->next = storage;
	ids->nr = nr;
	for (i = 0; i < nr; i++)
		storage[i] = i + 1;
	ids->free = 0;
	ids->in_flight = 0;
}

/* Take a free id; -1 when all are in flight. */
static inline s32 pgnt_ids_get(struct pgnt_ids *ids)
{
	u32 id = ids->free;

	if (id >= ids->nr)
		return -1;
	ids->free = ids->next[id];
	ids->next[id] = PGNT_ID_BUSY;
	ids->in_flight++;
	return (s32)id;
}

static inline bool pgnt_ids_busy(const struct pgnt_ids *ids, u64 id)
{
	return id < ids->nr && ids->next[id] == PGNT_ID_BUSY;
}

/* Give back an id whose request completed; -1 if it was not in flight. */
static inline int pgnt_ids_put(struct pgnt_ids *ids, u64 id)
{
	if (!pgnt_ids_busy(ids, id))
		return -1;
	ids->next[id] = ids->free;
	ids->free = (u32)id;
	ids->in_flight--;
	return 0;
}

/*
 * A response may complete a request only if its id is one we sent and have
 * not seen completed, it echoes the operation we sent (for an indirect
 * request: the wrapped operation, or the indirect op itself), and its status
 * is one the protocol defines.
 */
static inline enum pgnt_verdict pgnt_rsp_check(const struct pgnt_ids *ids,
					       u64 id, u8 sent_op,
					       u8 sent_data_op, u8 rsp_op,
					       s16 status)
{
	if (id >= ids->nr)
		return PGNT_BAD_ID;
	if (!pgnt_ids_busy(ids, id))
		return PGNT_BAD_NOT_IN_FLIGHT;
	if (rsp_op != sent_op && rsp_op != sent_data_op)
		return PGNT_BAD_RSP_OP;
	if (status != PGNT_RSP_OKAY && status != PGNT_RSP_ERROR &&
	    status != PGNT_RSP_EOPNOTSUPP)
		return PGNT_BAD_STATUS;
	return PGNT_OK;
}

#endif /* PGNT_CHECK_H */
