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

static u64 pgnt_stat_sum(struct device *d, enum pgnt_stat s)
{
	struct pgnt_be *be = dev_get_drvdata(d);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; be && i < PGNT_QUEUES_MAX; i++)
		sum += READ_ONCE(be->stats[i].c[s]);
	return sum;
}

static u64 pgnt_err_sum(struct device *d, enum pgnt_verdict v)
{
	struct pgnt_be *be = dev_get_drvdata(d);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; be && i < PGNT_QUEUES_MAX; i++)
		sum += READ_ONCE(be->stats[i].err[v]);
	return sum;
}

/* One read-only file per counter; the name is the counter's. */
#define PGNT_STAT_SHOW(name)						\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n",				\
			  pgnt_stat_sum(d, PGNT_ST_##name));		\
}									\
static DEVICE_ATTR_RO(name)

PGNT_STAT_SHOW(oo_req);
PGNT_STAT_SHOW(rd_req);
PGNT_STAT_SHOW(wr_req);
PGNT_STAT_SHOW(f_req);
PGNT_STAT_SHOW(ds_req);
PGNT_STAT_SHOW(rd_sect);
PGNT_STAT_SHOW(wr_sect);
PGNT_STAT_SHOW(pgrants_mapped);
PGNT_STAT_SHOW(pgrant_hits);
PGNT_STAT_SHOW(pgrant_misses);
PGNT_STAT_SHOW(pgrant_maps);
PGNT_STAT_SHOW(pgrant_unmaps);
PGNT_STAT_SHOW(copies);
PGNT_STAT_SHOW(reclaims);
PGNT_STAT_SHOW(budget_refusals);
PGNT_STAT_SHOW(err_grant);
PGNT_STAT_SHOW(err_io);
PGNT_STAT_SHOW(err_ring);

/* Refused requests, one file per reason: err_ + pgnt_verdict_name(). */
#define PGNT_ERR_SHOW(name, verdict)					\
static ssize_t err_##name##_show(struct device *d,			\
				 struct device_attribute *attr,		\
				 char *buf)				\
{									\
	return sysfs_emit(buf, "%llu\n", pgnt_err_sum(d, verdict));	\
}									\
static DEVICE_ATTR_RO(err_##name)

PGNT_ERR_SHOW(bad_op, PGNT_BAD_OP);
PGNT_ERR_SHOW(bad_nsegs, PGNT_BAD_NSEGS);
PGNT_ERR_SHOW(bad_segment, PGNT_BAD_SEGMENT);
PGNT_ERR_SHOW(bad_range, PGNT_BAD_RANGE);
PGNT_ERR_SHOW(bad_align, PGNT_BAD_ALIGN);
PGNT_ERR_SHOW(bad_readonly, PGNT_BAD_READONLY);
PGNT_ERR_SHOW(bad_indirect_op, PGNT_BAD_INDIRECT_OP);
PGNT_ERR_SHOW(not_supported, PGNT_NOT_SUPPORTED);

static struct attribute *pgnt_stats_attrs[] = {
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
static_assert(ARRAY_SIZE(pgnt_stats_attrs) == PGNT_ST_NR + 8 + 1);

const struct attribute_group pgnt_stats_group = {
	.name = "statistics",
	.attrs = pgnt_stats_attrs,
};
