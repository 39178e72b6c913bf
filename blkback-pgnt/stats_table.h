/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend's statistics, one line each; adding a line adds the counter
 * everywhere.  A user defines the macros it needs, then includes this file
 * (there is no include guard); the file undefines them all at its end.
 *
 *   PGBK_STAT(name)		a per-ring counter, pgbk_stats.c[PGBK_ST_name],
 *				file statistics/name
 *   PGBK_STAT_LOG(name, label)	the same, also printed by log_stats as
 *				"label N", in this order (defaults to
 *				PGBK_STAT(name))
 *   PGBK_STAT_ERR(name, verdict)	requests refused with that pgnt_verdict,
 *				pgbk_stats.err[verdict], file statistics/err_name
 *				(defaults to nothing)
 *
 * The first seven counters are the stock backend's names.
 */

#ifndef PGBK_STAT
#define PGBK_STAT(name)
#endif
#ifndef PGBK_STAT_LOG
#define PGBK_STAT_LOG(name, ...)	PGBK_STAT(name)
#endif
#ifndef PGBK_STAT_ERR
#define PGBK_STAT_ERR(...)
#endif

PGBK_STAT_LOG(rd_req,		"rd")
PGBK_STAT_LOG(wr_req,		"wr")
PGBK_STAT_LOG(f_req,		"f")		/* flush and barrier */
PGBK_STAT_LOG(ds_req,		"ds")		/* discard */
PGBK_STAT_LOG(oo_req,		"oo")		/* out of request slots/copy pages */
PGBK_STAT(rd_sect)
PGBK_STAT(wr_sect)
PGBK_STAT_LOG(pgrants_mapped,	"pgrants")	/* persistent grants now (a gauge) */
PGBK_STAT_LOG(pgrant_hits,	"hits")		/* segments found in the cache */
PGBK_STAT_LOG(pgrant_misses,	"misses")
PGBK_STAT_LOG(pgrant_maps,	"maps")		/* grant map operations */
PGBK_STAT_LOG(pgrant_unmaps,	"unmaps")
PGBK_STAT_LOG(copies,		"copies")	/* segments copied (GNTTABOP_copy) */
PGBK_STAT_LOG(reclaims,		"reclaims")	/* idle or over-budget unmaps */
PGBK_STAT_LOG(budget_refusals,	"refusals")	/* segments a budget kept unmapped */
PGBK_STAT(pgrant_leaks)				/* unmaps that failed, page kept */
PGBK_STAT(copy_pages)				/* copy pages held now (a gauge) */
PGBK_STAT(copy_fallbacks)			/* requests mapped for want of copy pages */
PGBK_STAT(events)				/* event-channel events handled */
PGBK_STAT(spurious_events)			/* of them, with no request (EOI delayed) */
PGBK_STAT(err_grant)				/* requests failed on a grant op */
PGBK_STAT(err_io)				/* requests the device failed */
PGBK_STAT(err_ring)				/* ring protocol violations */

/* Refused requests, one file per verdict: err_ + pgnt_verdict_name(). */
PGBK_STAT_ERR(bad_op,		PGNT_BAD_OP)
PGBK_STAT_ERR(bad_nsegs,	PGNT_BAD_NSEGS)
PGBK_STAT_ERR(bad_segment,	PGNT_BAD_SEGMENT)
PGBK_STAT_ERR(bad_range,	PGNT_BAD_RANGE)
PGBK_STAT_ERR(bad_align,	PGNT_BAD_ALIGN)
PGBK_STAT_ERR(bad_readonly,	PGNT_BAD_READONLY)
PGBK_STAT_ERR(bad_indirect_op,	PGNT_BAD_INDIRECT_OP)
PGBK_STAT_ERR(not_supported,	PGNT_NOT_SUPPORTED)

#undef PGBK_STAT
#undef PGBK_STAT_LOG
#undef PGBK_STAT_ERR
