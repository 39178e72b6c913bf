/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frontend's per-ring counters, one line each; adding a line adds the
 * counter everywhere.  A user defines PGFE_STAT(name), then includes this
 * file (there is no include guard); the file undefines it at its end.
 * Each counter is pgfe_ring_stats.c[PGFE_ST_name], summed over the rings
 * in the file pgnt/name.
 */

PGFE_STAT(requests)
PGFE_STAT(rd_sectors)
PGFE_STAT(wr_sectors)
PGFE_STAT(indirect_reqs)	/* requests sent as BLKIF_OP_INDIRECT */
PGFE_STAT(bounced_segs)		/* segments copied to or from pool pages */
PGFE_STAT(gnt_reuse)		/* segments served by an existing grant */
PGFE_STAT(gnt_new)		/* grants issued (per request or persistent) */
PGFE_STAT(gnt_abandoned)	/* grants still mapped by the backend at end */
PGFE_STAT(bad_responses)
PGFE_STAT(errors)		/* responses with an error status */

#undef PGFE_STAT
