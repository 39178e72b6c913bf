// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-blkfront-pgnt: per-device statistics, read-only, in
 * /sys/block/xvdX/pgnt/.  Ring counters are summed over the rings under
 * each ring's lock; the ring array itself is held stable by info->mutex.
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "common.h"

static struct pgfe_info *pgfe_dev_info(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

/* Keep the counters of a ring being torn down (under info->mutex). */
void pgfe_stats_retire(struct pgfe_info *info,
		       const struct pgfe_ring_stats *st)
{
	unsigned int s;

	lockdep_assert_held(&info->mutex);
	for (s = 0; s < PGFE_ST_NR; s++)
		info->retired.c[s] += st->c[s];
}

/* Sum of one counter over all rings, past and present. */
static u64 pgfe_sum(struct pgfe_info *info, enum pgfe_stat s)
{
	unsigned long flags;
	unsigned int i;
	u64 sum = info->retired.c[s];

	lockdep_assert_held(&info->mutex);
	for (i = 0; info->rings && i < info->f.nr_rings; i++) {
		struct pgfe_ring *ring = &info->rings[i];

		spin_lock_irqsave(&ring->lock, flags);
		sum += ring->st.c[s];
		spin_unlock_irqrestore(&ring->lock, flags);
	}
	return sum;
}

/* A read-only file showing one counter, summed. */
struct pgfe_stat_attr {
	struct device_attribute dattr;
	enum pgfe_stat st;
};

static ssize_t pgfe_stat_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct pgfe_stat_attr *sa = container_of(attr, struct pgfe_stat_attr,
						 dattr);
	struct pgfe_info *info = pgfe_dev_info(dev);
	u64 v;

	mutex_lock(&info->mutex);
	v = pgfe_sum(info, sa->st);
	mutex_unlock(&info->mutex);
	return sysfs_emit(buf, "%llu\n", v);
}

/* The attribute of counter _name, a file of the same name. */
#define PGFE_STAT_ATTR(_name)						\
	(&((struct pgfe_stat_attr) {					\
		.dattr = __ATTR(_name, 0444, pgfe_stat_show, NULL),	\
		.st = PGFE_ST_##_name,					\
	}).dattr.attr)

/* Pool occupancy summed over the rings: pages owned, or granted for good. */
static ssize_t pgfe_pool_show(struct device *dev, char *buf, bool persistent)
{
	struct pgfe_info *info = pgfe_dev_info(dev);
	unsigned long flags;
	unsigned int i, sum = 0;

	mutex_lock(&info->mutex);
	for (i = 0; info->rings && i < info->f.nr_rings; i++) {
		struct pgfe_ring *ring = &info->rings[i];

		spin_lock_irqsave(&ring->lock, flags);
		sum += persistent ? ring->pool.nr_persistent :
				    ring->pool.nr_pages;
		spin_unlock_irqrestore(&ring->lock, flags);
	}
	mutex_unlock(&info->mutex);
	return sysfs_emit(buf, "%u\n", sum);
}

static ssize_t pool_pages_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return pgfe_pool_show(dev, buf, false);
}
static DEVICE_ATTR_RO(pool_pages);

static ssize_t pool_grants_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return pgfe_pool_show(dev, buf, true);
}
static DEVICE_ATTR_RO(pool_grants);

/* Requests per ring, "r0 r1 ...": shows the spread over the queues. */
static ssize_t ring_requests_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct pgfe_info *info = pgfe_dev_info(dev);
	unsigned long flags;
	unsigned int i;
	ssize_t n = 0;

	mutex_lock(&info->mutex);
	for (i = 0; info->rings && i < info->f.nr_rings; i++) {
		struct pgfe_ring *ring = &info->rings[i];
		u64 v;

		spin_lock_irqsave(&ring->lock, flags);
		v = ring->st.c[PGFE_ST_requests];
		spin_unlock_irqrestore(&ring->lock, flags);
		n += sysfs_emit_at(buf, n, "%s%llu", i ? " " : "", v);
	}
	mutex_unlock(&info->mutex);
	n += sysfs_emit_at(buf, n, "\n");
	return n;
}
static DEVICE_ATTR_RO(ring_requests);

static const char *const pgfe_state_names[] = {
	[PGFE_DISCONNECTED] = "disconnected",
	[PGFE_CONNECTED] = "connected",
	[PGFE_SUSPENDED] = "suspended",
	[PGFE_BROKEN] = "broken",
};

/* The negotiated state in one line, for tests and bug reports. */
static ssize_t negotiated_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct pgfe_info *info = pgfe_dev_info(dev);
	ssize_t n;

	mutex_lock(&info->mutex);
	n = sysfs_emit(buf,
		       "state=%s queues=%u ring_order=%u max_segs=%u persistent=%u untrusted=%u flush_op=%u fua=%u discard=%u secure_discard=%u\n",
		       pgfe_state_names[READ_ONCE(info->state)],
		       info->f.nr_rings, info->f.ring_order, info->f.max_segs,
		       info->f.persistent, info->f.untrusted,
		       READ_ONCE(info->f.flush_op), READ_ONCE(info->f.fua),
		       info->f.discard, info->f.secure_discard);
	mutex_unlock(&info->mutex);
	return n;
}
static DEVICE_ATTR_RO(negotiated);

static ssize_t reconnects_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct pgfe_info *info = pgfe_dev_info(dev);
	u64 v;

	mutex_lock(&info->mutex);
	v = info->reconnects;
	mutex_unlock(&info->mutex);
	return sysfs_emit(buf, "%llu\n", v);
}
static DEVICE_ATTR_RO(reconnects);

static struct attribute *pgfe_stat_attrs[] = {
#define PGFE_STAT(name)		PGFE_STAT_ATTR(name),
#include "stats_table.h"
	&dev_attr_pool_pages.attr,
	&dev_attr_pool_grants.attr,
	&dev_attr_ring_requests.attr,
	&dev_attr_negotiated.attr,
	&dev_attr_reconnects.attr,
	NULL,
};

static const struct attribute_group pgfe_stat_group = {
	.name = "pgnt",
	.attrs = pgfe_stat_attrs,
};

const struct attribute_group *pgfe_disk_groups[] = {
	&pgfe_stat_group,
	NULL,
};
