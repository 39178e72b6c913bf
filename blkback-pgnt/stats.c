// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-device statistics: /sys/bus/xen-backend/devices/vbd-D-N/statistics/.
 * Each file is the sum of one per-ring u64 counter over the device's ring
 * slots; the counters are written by the ring threads only, so reading
 * them needs no lock (a sum may mix two instants, as in the stock driver).
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "common.h"

static u64 pgbk_stat_sum(struct device *d, enum pgbk_stat s)
{
	struct pgbk_be *be = dev_get_drvdata(d);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; be && i < PGNT_QUEUES_MAX; i++)
		sum += READ_ONCE(be->stats[i].c[s]);
	return sum;
}

static u64 pgbk_err_sum(struct device *d, enum pgnt_verdict v)
{
	struct pgbk_be *be = dev_get_drvdata(d);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; be && i < PGNT_QUEUES_MAX; i++)
		sum += READ_ONCE(be->stats[i].err[v]);
	return sum;
}

/* One read-only file per counter; the name is the counter's. */
#define PGBK_STAT_SHOW(name)						\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n",				\
			  pgbk_stat_sum(d, PGBK_ST_##name));		\
}									\
static DEVICE_ATTR_RO(name)

PGBK_STAT_SHOW(oo_req);
PGBK_STAT_SHOW(rd_req);
PGBK_STAT_SHOW(wr_req);
PGBK_STAT_SHOW(f_req);
PGBK_STAT_SHOW(ds_req);
PGBK_STAT_SHOW(rd_sect);
PGBK_STAT_SHOW(wr_sect);
PGBK_STAT_SHOW(pgrants_mapped);
PGBK_STAT_SHOW(pgrant_hits);
PGBK_STAT_SHOW(pgrant_misses);
PGBK_STAT_SHOW(pgrant_maps);
PGBK_STAT_SHOW(pgrant_unmaps);
PGBK_STAT_SHOW(copies);
PGBK_STAT_SHOW(reclaims);
PGBK_STAT_SHOW(budget_refusals);
PGBK_STAT_SHOW(err_grant);
PGBK_STAT_SHOW(err_io);
PGBK_STAT_SHOW(err_ring);

/* Refused requests, one file per reason: err_ + pgnt_verdict_name(). */
#define PGBK_ERR_SHOW(name, verdict)					\
static ssize_t err_##name##_show(struct device *d,			\
				 struct device_attribute *attr,		\
				 char *buf)				\
{									\
	return sysfs_emit(buf, "%llu\n", pgbk_err_sum(d, verdict));	\
}									\
static DEVICE_ATTR_RO(err_##name)

PGBK_ERR_SHOW(bad_op, PGNT_BAD_OP);
PGBK_ERR_SHOW(bad_nsegs, PGNT_BAD_NSEGS);
PGBK_ERR_SHOW(bad_segment, PGNT_BAD_SEGMENT);
PGBK_ERR_SHOW(bad_range, PGNT_BAD_RANGE);
PGBK_ERR_SHOW(bad_align, PGNT_BAD_ALIGN);
PGBK_ERR_SHOW(bad_readonly, PGNT_BAD_READONLY);
PGBK_ERR_SHOW(bad_indirect_op, PGNT_BAD_INDIRECT_OP);
PGBK_ERR_SHOW(not_supported, PGNT_NOT_SUPPORTED);

static struct attribute *pgbk_stats_attrs[] = {
	&dev_attr_oo_req.attr,
	&dev_attr_rd_req.attr,
	&dev_attr_wr_req.attr,
	&dev_attr_f_req.attr,
	&dev_attr_ds_req.attr,
	&dev_attr_rd_sect.attr,
	&dev_attr_wr_sect.attr,
	&dev_attr_pgrants_mapped.attr,
	&dev_attr_pgrant_hits.attr,
	&dev_attr_pgrant_misses.attr,
	&dev_attr_pgrant_maps.attr,
	&dev_attr_pgrant_unmaps.attr,
	&dev_attr_copies.attr,
	&dev_attr_reclaims.attr,
	&dev_attr_budget_refusals.attr,
	&dev_attr_err_grant.attr,
	&dev_attr_err_io.attr,
	&dev_attr_err_ring.attr,
	&dev_attr_err_bad_op.attr,
	&dev_attr_err_bad_nsegs.attr,
	&dev_attr_err_bad_segment.attr,
	&dev_attr_err_bad_range.attr,
	&dev_attr_err_bad_align.attr,
	&dev_attr_err_bad_readonly.attr,
	&dev_attr_err_bad_indirect_op.attr,
	&dev_attr_err_not_supported.attr,
	NULL
};

/* Every counter has its file. */
static_assert(ARRAY_SIZE(pgbk_stats_attrs) == PGBK_ST_NR + 8 + 1);

const struct attribute_group pgbk_stats_group = {
	.name = "statistics",
	.attrs = pgbk_stats_attrs,
};
