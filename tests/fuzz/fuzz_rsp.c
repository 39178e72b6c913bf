// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frontend's request ids and response check (common/pgnt_check.h),
 * driven by random sequences of get, put, busy and response checks against
 * a model: one bool per id, and the operations each id was sent with.
 * A response that pgnt_rsp_check() accepts completes its request (the id
 * is put), as in the frontend's interrupt handler.
 */
#include "pgnt_check.h"
#include "fuzz.h"

/* The frontend has one id per ring entry: at most 2^4 pages of 112-byte entries. */
#define IDS_MAX		512

static bool busy[IDS_MAX];
static u8 sent_op[IDS_MAX], sent_dop[IDS_MAX];

/* An id as a backend would answer with: mostly near the pool, sometimes anything. */
static u64 id_from(struct fz *f, u32 nr)
{
	u8 sel = fz_u8(f);

	if (sel & 0x80)
		return fz_u64_shaped(f);
	return fz_u16(f) % (nr + 2);
}

static enum pgnt_verdict model_rsp(u32 nr, u64 id, u8 rsp_op, s16 status)
{
	if (id >= nr)
		return PGNT_BAD_ID;
	if (!busy[id])
		return PGNT_BAD_NOT_IN_FLIGHT;
	if (rsp_op != sent_op[id] && rsp_op != sent_dop[id])
		return PGNT_BAD_RSP_OP;
	if (status != PGNT_RSP_OKAY && status != PGNT_RSP_ERROR &&
	    status != PGNT_RSP_EOPNOTSUPP)
		return PGNT_BAD_STATUS;
	return PGNT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	u32 nr = fz_u16(&f) % (IDS_MAX + 1), in_flight = 0, i;
	/* exactly nr links, so that ASan sees any access beyond them */
	u32 *store = malloc((nr ? nr : 1) * sizeof(*store));
	struct pgnt_ids ids;
	unsigned int steps = 0;

	FZ_CHECK(store);
	memset(busy, 0, sizeof(busy));
	pgnt_ids_init(&ids, store, nr);
	FZ_CHECK(ids.nr == nr && ids.in_flight == 0);

	while (fz_more(&f) && steps++ < 1024) {
		u8 what = fz_u8(&f);
		u64 id;

		switch (what % 5) {
		case 0:
		case 1: {	/* send a request */
			s32 got = pgnt_ids_get(&ids);
			u8 b = fz_u8(&f);

			if (in_flight == nr) {
				FZ_CHECK(got == -1);
				break;
			}
			FZ_CHECK(got >= 0 && (u32)got < nr);
			FZ_CHECK(!busy[got]);
			busy[got] = true;
			in_flight++;
			if (b & 1) {
				sent_op[got] = PGNT_OP_INDIRECT;
				sent_dop[got] = (b & 2) ? PGNT_OP_WRITE : PGNT_OP_READ;
			} else {
				sent_op[got] = sent_dop[got] = (b >> 1) % 7;
			}
			break;
		}
		case 2: {	/* a response arrives */
			u8 sel = fz_u8(&f), rsp_op;
			s16 status;
			enum pgnt_verdict v, want;

			id = id_from(&f, nr);
			switch (sel & 3) {
			case 0:
				rsp_op = id < nr ? sent_op[id] : 0;
				break;
			case 1:
				rsp_op = id < nr ? sent_dop[id] : 0;
				break;
			default:
				rsp_op = fz_u8(&f);
				break;
			}
			status = (sel & 4) ? (s16)fz_u16(&f) : -(s16)((sel >> 3) % 3);
			want = model_rsp(nr, id, rsp_op, status);
			/* as the frontend calls it: the shadow's ops only for an id in range */
			v = pgnt_rsp_check(&ids, id, id < nr ? sent_op[id] : 0,
					   id < nr ? sent_dop[id] : 0, rsp_op, status);
			FZ_CHECK(v == want);
			if (v == PGNT_OK) {
				FZ_CHECK(pgnt_verdict_status(v) == PGNT_RSP_OKAY);
				FZ_CHECK(pgnt_ids_put(&ids, id) == 0);
				busy[id] = false;
				in_flight--;
			}
			break;
		}
		case 3: {	/* put directly (teardown, replay): any id */
			int ret;

			id = id_from(&f, nr);
			ret = pgnt_ids_put(&ids, id);
			FZ_CHECK(ret == ((id < nr && busy[id]) ? 0 : -1));
			if (!ret) {
				busy[id] = false;
				in_flight--;
			}
			break;
		}
		default:
			id = id_from(&f, nr);
			FZ_CHECK(pgnt_ids_busy(&ids, id) == (id < nr && busy[id]));
			break;
		}
		FZ_CHECK(ids.in_flight == in_flight);
		FZ_CHECK(ids.nr == nr);
	}

	/* The free list holds exactly the ids not in flight, each once. */
	for (i = 0; i < nr; i++)
		FZ_CHECK(pgnt_ids_busy(&ids, i) == busy[i]);
	while (in_flight < nr) {
		s32 got = pgnt_ids_get(&ids);

		FZ_CHECK(got >= 0 && (u32)got < nr && !busy[got]);
		busy[got] = true;
		in_flight++;
	}
	FZ_CHECK(pgnt_ids_get(&ids) == -1);
	FZ_CHECK(ids.in_flight == nr);
	for (i = 0; i < nr; i++)
		FZ_CHECK(pgnt_ids_put(&ids, i) == 0);
	FZ_CHECK(ids.in_flight == 0);
	free(store);
	return 0;
}
