// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-device statistics: /sys/bus/xen-backend/devices/vbd-D-N/statistics/.
 * Each file is the sum of one per-ring u64 counter over the device's ring
 * slots; the counters are written by the ring threads only, so reading
 * them needs no lock (a sum may mix two instants, as in the stock driver).
 * The files are those of stats_table.h.
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "common.h"

/* A read-only file showing one u64 of struct pgbk_stats, summed. */
struct pgbk_stat_attr {
	struct device_attribute dattr;
	size_t offset;			/* of the counter in struct pgbk_stats */
};

static u64 pgbk_stat_sum(struct pgbk_be *be, size_t offset)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; be && i < PGNT_QUEUES_MAX; i++)
		sum += READ_ONCE(*(u64 *)((char *)&be->stats[i] + offset));
	return sum;
}

static ssize_t pgbk_stat_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	struct pgbk_stat_attr *sa = container_of(attr, struct pgbk_stat_attr,
						 dattr);

	return sysfs_emit(buf, "%llu\n",
			  pgbk_stat_sum(dev_get_drvdata(d), sa->offset));
}

/* The attribute of file _name, showing pgbk_stats._member. */
#define PGBK_STAT_ATTR(_name, _member)					\
	(&((struct pgbk_stat_attr) {					\
		.dattr = __ATTR(_name, 0444, pgbk_stat_show, NULL),	\
		.offset = offsetof(struct pgbk_stats, _member),		\
	}).dattr.attr)

static struct attribute *pgbk_stats_attrs[] = {
#define PGBK_STAT(name)		PGBK_STAT_ATTR(name, c[PGBK_ST_##name]),
#define PGBK_STAT_ERR(name, verdict)					\
	PGBK_STAT_ATTR(err_##name, err[verdict]),
#include "stats_table.h"
	NULL
};

/* The err_ files, counted. */
enum {
#define PGBK_STAT_ERR(name, ...)	PGBK_ERR_##name,
#include "stats_table.h"
	PGBK_ERR_NR
};

/* Every counter has its file. */
static_assert(ARRAY_SIZE(pgbk_stats_attrs) == PGBK_ST_NR + PGBK_ERR_NR + 1);

const struct attribute_group pgbk_stats_group = {
	.name = "statistics",
	.attrs = pgbk_stats_attrs,
};
