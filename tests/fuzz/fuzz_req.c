// SPDX-License-Identifier: GPL-2.0-only
/*
 * Request validation (common/pgnt_check.h) as the backend runs it on what
 * a guest writes into the ring: pgnt_req_check() on the private copy, then
 * for reads and writes pgnt_seg_check() on every segment and
 * pgnt_range_check() on their sum.  Whatever is accepted must be safe to
 * act on; whatever the protocol allows must be accepted.
 *
 * The two ring ABIs (x86_32, x86_64) differ only in field offsets, which
 * the driver's fetch handles; common/ sees the same struct pgnt_req with
 * the value ranges both carry: a u8 segment count in a direct request, a
 * u16 in an indirect one, u64 id, sector and discard length.  A "raw"
 * mode also feeds any u16 count to any operation, beyond the wire.
 */
#include "pgnt_check.h"
#include "fuzz.h"

/* Segments beyond what the input supplies are whole pages. */
struct seg {
	u8 first, last;
};

static void limits_from(struct fz *f, struct pgnt_dev_limits *l, bool *driver)
{
	u8 flags = fz_u8(f), sel = fz_u8(f);

	memset(l, 0, sizeof(*l));
	switch (sel & 3) {
	case 0:
		l->sectors = fz_u16(f);
		break;
	case 1:
		l->sectors = fz_u32(f);
		break;
	case 2:
		l->sectors = ~0ULL - fz_u16(f);
		break;
	default:
		l->sectors = fz_u64(f);
		break;
	}
	/* A power of two (the contract), or 0 for "no alignment". */
	switch ((sel >> 2) & 3) {
	case 0:
		l->lbs_sectors = 1;
		break;
	case 1:
		l->lbs_sectors = 1U << (fz_u8(f) & 3);	/* 512..4096 bytes */
		break;
	case 2:
		l->lbs_sectors = 1U << (fz_u8(f) & 31);
		break;
	default:
		l->lbs_sectors = 0;
		break;
	}
	/*
	 * The backend advertises 0 or 12..256 (main.c clamps its parameter);
	 * its per-request segment array is sized from that.  Other values
	 * check pgnt_req_check() on its own.
	 */
	*driver = false;
	switch ((sel >> 4) & 3) {
	case 0:
		l->max_indirect_segs = 0;
		*driver = true;
		break;
	case 1:
		l->max_indirect_segs = PGNT_SEGS_DIRECT + 1 +
			fz_u8(f) % (PGNT_BACK_INDIRECT_SEGS_MAX - PGNT_SEGS_DIRECT);
		*driver = true;
		break;
	case 2:
		l->max_indirect_segs = fz_u16(f);
		break;
	default:
		l->max_indirect_segs = fz_u32_shaped(f);
		break;
	}
	l->readonly = flags & 1;
	l->flush = flags & 2;
	l->barrier = flags & 4;
	l->discard = flags & 8;
	l->secure_discard = flags & 16;
}

static u8 op_from(struct fz *f)
{
	u8 b = fz_u8(f);

	return (b & 0x80) ? b : b % 8;	/* mostly the defined ops */
}

static u64 sector_from(struct fz *f, const struct pgnt_dev_limits *l)
{
	u8 sel = fz_u8(f);

	switch (sel & 3) {
	case 0:
		return fz_u16(f);
	case 1:	/* near the end of the device */
		return l->sectors - fz_u16(f);
	case 2:
		return l->sectors + fz_u8(f);
	default:
		return fz_u64_shaped(f);
	}
}

static void req_from(struct fz *f, const struct pgnt_dev_limits *l,
		     struct pgnt_req *r)
{
	u8 mode = fz_u8(f);

	memset(r, 0, sizeof(*r));
	r->op = op_from(f);
	r->id = fz_u64(f);
	r->handle = fz_u16(f);
	r->sector = sector_from(f, l);
	if (mode & 1) {		/* raw: any field to any operation */
		r->indirect_op = op_from(f);
		r->nr_segs = fz_u16(f);
		r->nr_sectors = sector_from(f, l);
		r->discard_flags = fz_u8(f);
		return;
	}
	/* As the backend's fetch fills it in from either ABI. */
	switch (r->op) {
	case PGNT_OP_DISCARD:
		r->discard_flags = fz_u8(f);
		r->nr_sectors = (mode & 2) ? l->sectors - r->sector + (u64)(int8_t)fz_u8(f)
					   : fz_u64_shaped(f);
		break;
	case PGNT_OP_INDIRECT:
		r->indirect_op = op_from(f);
		r->nr_segs = (mode & 2) ? fz_u16(f) : fz_u16(f) % 600;
		break;
	case PGNT_OP_READ:
	case PGNT_OP_WRITE:
	case PGNT_OP_WRITE_BARRIER:
	case PGNT_OP_FLUSH_DISKCACHE:
		r->nr_segs = (mode & 2) ? fz_u8(f) : fz_u8(f) % 16;
		break;
	default:
		break;
	}
}

static bool is_pow2_or_0(u32 x)
{
	return !(x & (x - 1));
}

/* The protocol, written out independently: may this request be acted upon? */
static bool spec_req_ok(const struct pgnt_req *r, const struct pgnt_dev_limits *l)
{
	u8 dop = r->op == PGNT_OP_INDIRECT ? r->indirect_op : r->op;
	u64 max_segs = PGNT_SEGS_DIRECT;
	unsigned __int128 end;

	switch (r->op) {
	case PGNT_OP_READ:
	case PGNT_OP_WRITE:
		break;
	case PGNT_OP_WRITE_BARRIER:
		if (!l->barrier)
			return false;
		break;
	case PGNT_OP_FLUSH_DISKCACHE:
		if (!l->flush)
			return false;
		break;
	case PGNT_OP_DISCARD:
		end = (unsigned __int128)r->sector + r->nr_sectors;
		return l->discard && !l->readonly &&
		       (!(r->discard_flags & PGNT_DISCARD_SECURE) || l->secure_discard) &&
		       r->nr_sectors >= 1 && end <= l->sectors &&
		       (!l->lbs_sectors || (r->sector % l->lbs_sectors == 0 &&
					    r->nr_sectors % l->lbs_sectors == 0));
	case PGNT_OP_INDIRECT:
		if (!l->max_indirect_segs)
			return false;
		if (r->indirect_op != PGNT_OP_READ && r->indirect_op != PGNT_OP_WRITE)
			return false;
		max_segs = l->max_indirect_segs;
		if (max_segs > PGNT_SEGS_WIRE_MAX)
			max_segs = PGNT_SEGS_WIRE_MAX;
		break;
	default:
		return false;
	}
	/* Everything but a read changes the disk (a flush included). */
	if (l->readonly && dop != PGNT_OP_READ)
		return false;
	if (r->nr_segs > max_segs)
		return false;
	if (!r->nr_segs && (dop == PGNT_OP_READ || dop == PGNT_OP_WRITE))
		return false;
	return true;
}

static bool spec_seg_ok(u8 first, u8 last, const struct pgnt_dev_limits *l)
{
	u32 nsec = (u32)last - first + 1;

	if (last >= PGNT_SECTORS_PER_PAGE || first > last)
		return false;
	return !l->lbs_sectors || (first % l->lbs_sectors == 0 &&
				   nsec % l->lbs_sectors == 0);
}

static enum pgnt_verdict spec_range(u64 sector, u64 nr,
				    const struct pgnt_dev_limits *l)
{
	if ((unsigned __int128)sector + nr > l->sectors)
		return PGNT_BAD_RANGE;
	if (l->lbs_sectors && (sector % l->lbs_sectors || nr % l->lbs_sectors))
		return PGNT_BAD_ALIGN;
	return PGNT_OK;
}

static void check_verdict_common(enum pgnt_verdict v)
{
	/* A request is never refused with a response-side verdict. */
	FZ_CHECK(v == PGNT_OK || v == PGNT_BAD_OP || v == PGNT_BAD_NSEGS ||
		 v == PGNT_BAD_SEGMENT || v == PGNT_BAD_RANGE ||
		 v == PGNT_BAD_ALIGN || v == PGNT_BAD_READONLY ||
		 v == PGNT_BAD_INDIRECT_OP || v == PGNT_NOT_SUPPORTED);
	FZ_CHECK(pgnt_verdict_status(v) ==
		 (v == PGNT_OK ? PGNT_RSP_OKAY :
		  v == PGNT_NOT_SUPPORTED ? PGNT_RSP_EOPNOTSUPP : PGNT_RSP_ERROR));
	FZ_CHECK(pgnt_verdict_name(v)[0] != '\0');
}

/* What the driver relies on once pgnt_req_check() said yes. */
static void check_accepted(const struct pgnt_req *r,
			   const struct pgnt_dev_limits *l, bool driver)
{
	u8 dop = pgnt_req_data_op(r);

	FZ_CHECK(r->op <= PGNT_OP_INDIRECT && r->op != PGNT_OP_RESERVED_1);
	FZ_CHECK(!l->readonly || dop == PGNT_OP_READ);
	FZ_CHECK(!l->readonly || !pgnt_op_writes(dop));
	FZ_CHECK(r->op != PGNT_OP_FLUSH_DISKCACHE || l->flush);
	FZ_CHECK(r->op != PGNT_OP_WRITE_BARRIER || l->barrier);
	if (r->op == PGNT_OP_DISCARD) {
		FZ_CHECK(l->discard);
		FZ_CHECK(!(r->discard_flags & PGNT_DISCARD_SECURE) || l->secure_discard);
		FZ_CHECK(r->nr_sectors > 0);
		FZ_CHECK((unsigned __int128)r->sector + r->nr_sectors <= l->sectors);
		return;
	}
	if (r->op == PGNT_OP_INDIRECT) {
		FZ_CHECK(l->max_indirect_segs > 0);
		FZ_CHECK(dop == PGNT_OP_READ || dop == PGNT_OP_WRITE);
		FZ_CHECK(r->nr_segs <= l->max_indirect_segs);
		FZ_CHECK(r->nr_segs <= PGNT_SEGS_WIRE_MAX);
		/* the backend maps this many indirect frames, from a fixed array */
		FZ_CHECK((r->nr_segs + PGNT_SEGS_PER_INDIRECT_PAGE - 1) /
			 PGNT_SEGS_PER_INDIRECT_PAGE <= PGNT_INDIRECT_PAGES_MAX);
	} else {
		FZ_CHECK(r->nr_segs <= PGNT_SEGS_DIRECT);
	}
	/* The per-request segment array holds max_indirect ?: 11 entries. */
	if (driver)
		FZ_CHECK(r->nr_segs <= (l->max_indirect_segs ? l->max_indirect_segs
							     : PGNT_SEGS_DIRECT));
	if (dop == PGNT_OP_READ || dop == PGNT_OP_WRITE)
		FZ_CHECK(r->nr_segs >= 1);
}

/* The backend's segment pass (pgbk_segs_check) over an accepted r/w request. */
static void check_segments(struct fz *f, const struct pgnt_req *r,
			   const struct pgnt_dev_limits *l)
{
	static struct seg segs[PGNT_SEGS_WIRE_MAX];
	enum pgnt_verdict v = PGNT_OK, want = PGNT_OK;
	u64 total = 0, wtotal = 0;
	unsigned int i, n = r->nr_segs;

	for (i = 0; i < n; i++) {
		if (fz_more(f)) {
			segs[i].first = fz_u8(f);
			segs[i].last = fz_u8(f);
		} else {
			segs[i].first = 0;
			segs[i].last = PGNT_SECTORS_PER_PAGE - 1;
		}
	}
	for (i = 0; i < n; i++) {
		bool ok = spec_seg_ok(segs[i].first, segs[i].last, l);

		v = pgnt_seg_check(segs[i].first, segs[i].last, l);
		check_verdict_common(v);
		FZ_CHECK((v == PGNT_OK) == ok);
		if (v != PGNT_OK)
			break;
		/* inside its 4 KiB page, whatever the offset */
		FZ_CHECK(segs[i].first <= segs[i].last);
		FZ_CHECK(((u32)segs[i].last + 1) << PGNT_SECTOR_SHIFT <= PGNT_XEN_PAGE_SIZE);
		total += segs[i].last - segs[i].first + 1;
	}
	for (i = 0; i < n && want == PGNT_OK; i++) {
		if (!spec_seg_ok(segs[i].first, segs[i].last, l))
			want = PGNT_BAD_SEGMENT;
		else
			wtotal += segs[i].last - segs[i].first + 1;
	}
	FZ_CHECK((v == PGNT_OK) == (want == PGNT_OK));
	if (v != PGNT_OK || !n)
		return;		/* a bare flush has no range */
	FZ_CHECK(total == wtotal);
	FZ_CHECK(total <= (u64)n * PGNT_SECTORS_PER_PAGE);
	v = pgnt_range_check(r->sector, total, l);
	check_verdict_common(v);
	FZ_CHECK(v == spec_range(r->sector, total, l));
	if (v == PGNT_OK) {
		FZ_CHECK((unsigned __int128)r->sector + total <= l->sectors);
		FZ_CHECK(!l->lbs_sectors || (r->sector % l->lbs_sectors == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct pgnt_dev_limits l;
	struct pgnt_req r;
	enum pgnt_verdict v;
	bool driver;
	u8 what = fz_u8(&f);

	limits_from(&f, &l, &driver);
	FZ_CHECK(is_pow2_or_0(l.lbs_sectors));
	if (what & 1) {
		/* The two checks on their own, on any values. */
		u64 sector = fz_u64_shaped(&f), nr = fz_u64_shaped(&f);
		u8 first = fz_u8(&f), last = fz_u8(&f);

		v = pgnt_range_check(sector, nr, &l);
		check_verdict_common(v);
		FZ_CHECK(v == spec_range(sector, nr, &l));
		v = pgnt_seg_check(first, last, &l);
		check_verdict_common(v);
		FZ_CHECK((v == PGNT_OK) == spec_seg_ok(first, last, &l));
		FZ_CHECK(v == PGNT_OK || v == PGNT_BAD_SEGMENT || v == PGNT_BAD_ALIGN);
		return 0;
	}
	req_from(&f, &l, &r);
	v = pgnt_req_check(&r, &l);
	check_verdict_common(v);
	FZ_CHECK(v != PGNT_BAD_SEGMENT);
	FZ_CHECK((v == PGNT_OK) == spec_req_ok(&r, &l));
	if (v != PGNT_OK)
		return 0;
	check_accepted(&r, &l, driver);
	if (r.op != PGNT_OP_DISCARD)
		check_segments(&f, &r, &l);
	return 0;
}
