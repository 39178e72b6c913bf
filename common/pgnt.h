/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-blk-pgnt: the persistent-grant block protocol as both of our modules
 * speak it, and the limits that bound what a guest can make dom0 map.
 *
 * This is the protocol header of the project.  The wire format itself is
 * defined by Xen's public blkif.h (shipped with the kernel headers); the
 * values repeated here are the ones the kernel-independent code in common/
 * needs, and pgnt_wire.h, which both modules include, pins them to blkif.h
 * with static_assert() so they cannot drift.
 */
#ifndef PGNT_H
#define PGNT_H

#include "pgnt_types.h"

#define PGNT_VERSION			"0.1.0"

/* ---- xenstore keys (all relative to the device's own directory) ---- */

/* Both ends: "1" when the end supports persistent grants. */
#define PGNT_XS_FEATURE_PERSISTENT	"feature-persistent"
#define PGNT_XS_FEATURE_INDIRECT	"feature-max-indirect-segments"
#define PGNT_XS_FEATURE_FLUSH		"feature-flush-cache"
#define PGNT_XS_FEATURE_BARRIER		"feature-barrier"
#define PGNT_XS_FEATURE_DISCARD		"feature-discard"
#define PGNT_XS_DISCARD_GRANULARITY	"discard-granularity"
#define PGNT_XS_DISCARD_ALIGNMENT	"discard-alignment"
#define PGNT_XS_DISCARD_SECURE		"discard-secure"
#define PGNT_XS_MAX_RING_PAGE_ORDER	"max-ring-page-order"
#define PGNT_XS_RING_PAGE_ORDER		"ring-page-order"
#define PGNT_XS_MAX_QUEUES		"multi-queue-max-queues"
#define PGNT_XS_NUM_QUEUES		"multi-queue-num-queues"
#define PGNT_XS_RING_REF		"ring-ref"	/* + index when order > 0 */
#define PGNT_XS_EVENT_CHANNEL		"event-channel"
#define PGNT_XS_PROTOCOL		"protocol"
#define PGNT_XS_QUEUE_FMT		"queue-%u"
#define PGNT_XS_SECTORS			"sectors"
#define PGNT_XS_INFO			"info"
#define PGNT_XS_SECTOR_SIZE		"sector-size"
#define PGNT_XS_PHYS_SECTOR_SIZE	"physical-sector-size"
#define PGNT_XS_MODE			"mode"
#define PGNT_XS_PARAMS			"params"
#define PGNT_XS_PHYSICAL_DEVICE		"physical-device"
#define PGNT_XS_TRUSTED			"trusted"
#define PGNT_XS_VIRTUAL_DEVICE		"virtual-device"
#define PGNT_XS_DEVICE_TYPE		"device-type"

#define PGNT_PROTO_X86_32		"x86_32-abi"
#define PGNT_PROTO_X86_64		"x86_64-abi"

/* ---- wire facts from blkif.h (pinned by static_assert in pgnt_wire.h) ---- */

/* Grants always cover 4 KiB Xen pages, whatever the kernel's PAGE_SIZE. */
#define PGNT_XEN_PAGE_SHIFT		12
#define PGNT_XEN_PAGE_SIZE		4096U
#define PGNT_SECTOR_SHIFT		9
static_assert(PGNT_XEN_PAGE_SIZE == 1U << PGNT_XEN_PAGE_SHIFT);
#define PGNT_SECTORS_PER_PAGE		(PGNT_XEN_PAGE_SIZE >> PGNT_SECTOR_SHIFT)

enum pgnt_op {
	PGNT_OP_READ = 0,
	PGNT_OP_WRITE = 1,
	PGNT_OP_WRITE_BARRIER = 2,
	PGNT_OP_FLUSH_DISKCACHE = 3,
	PGNT_OP_RESERVED_1 = 4,
	PGNT_OP_DISCARD = 5,
	PGNT_OP_INDIRECT = 6,
};

#define PGNT_DISCARD_SECURE		0x1

enum pgnt_rsp_status {
	PGNT_RSP_EOPNOTSUPP = -2,
	PGNT_RSP_ERROR = -1,
	PGNT_RSP_OKAY = 0,
};

#define PGNT_VDISK_CDROM		0x1
#define PGNT_VDISK_REMOVABLE		0x2
#define PGNT_VDISK_READONLY		0x4

/* Segments carried in a direct (non-indirect) request. */
#define PGNT_SEGS_DIRECT		11
/* Indirect grant pages one indirect request may name. */
#define PGNT_INDIRECT_PAGES_MAX		8
/* An indirect page is an array of 8-byte struct blkif_request_segment. */
#define PGNT_SEGMENT_WIRE_SIZE		8
#define PGNT_SEGS_PER_INDIRECT_PAGE	(PGNT_XEN_PAGE_SIZE / PGNT_SEGMENT_WIRE_SIZE)
/* Largest segment count the wire format can express in one request. */
#define PGNT_SEGS_WIRE_MAX		(PGNT_INDIRECT_PAGES_MAX * \
					 PGNT_SEGS_PER_INDIRECT_PAGE)

/* Shared ring: 64-byte header, then a power-of-two number of entries. */
#define PGNT_SRING_HEADER_SIZE		64

/* ---- limits of this implementation and module-parameter defaults ---- */

/* Rings: up to 2^4 = 16 pages per ring, as the stock drivers. */
#define PGNT_RING_PAGE_ORDER_MAX	4
#define PGNT_RING_PAGES_MAX		16U
static_assert(PGNT_RING_PAGES_MAX == 1U << PGNT_RING_PAGE_ORDER_MAX);
/* Queues (rings) per device; a ceiling for both module parameters. */
#define PGNT_QUEUES_MAX			32

/*
 * Indirect segments: the backend advertises at most this many (1 MiB per
 * request, like the stock backend); the frontend asks for 32 by default.
 */
#define PGNT_BACK_INDIRECT_SEGS_DEFAULT	256
#define PGNT_BACK_INDIRECT_SEGS_MAX	256
#define PGNT_FRONT_INDIRECT_SEGS_DEFAULT 32

/*
 * Persistent-grant budgets in the backend, in 4 KiB grant mappings.  A guest
 * can never make dom0 hold more persistent mappings than the smallest of the
 * three rooms left; beyond it the backend copies (GNTTABOP_copy) instead.
 * The arithmetic of the three levels is in pgnt_budget.h.
 *  - per ring: the stock driver's default, enough for a one-page ring of
 *    full direct requests three times over;
 *  - per guest domain: 32 MiB of mappings, all rings of all its disks;
 *  - global: 256 MiB of mappings in dom0, all guests.
 */
#define PGNT_GRANTS_PER_RING_DEFAULT	1056
#define PGNT_GRANTS_PER_DOMAIN_DEFAULT	8192
#define PGNT_GRANTS_GLOBAL_DEFAULT	65536
/* Idle persistent grants older than this are unmapped (LRU reclaim). */
#define PGNT_GRANT_UNUSED_SECONDS_DEFAULT 60

/*
 * Copy pages of the backend (the data path beyond a budget or without
 * persistent grants), dom0 memory allocated only when that path runs:
 * at most a ring's share per ring (at least one request's worth), and the
 * global default, 64 MiB, for all rings.  A ring's free pages go back to
 * dom0 once its copy path has been idle for the given seconds.
 */
#define PGNT_COPY_PAGES_RING_DEFAULT	1024
#define PGNT_COPY_PAGES_GLOBAL_DEFAULT	16384
#define PGNT_COPY_IDLE_SECONDS		10

/* ---- limit arithmetic (kernel-independent, unit-tested) ---- */

/* Largest power of two <= @n (0 for 0). */
static inline u32 pgnt_rounddown_pow2(u32 n)
{
	u32 p = 1;

	if (!n)
		return 0;
	while (p <= n / 2)
		p <<= 1;
	return p;
}

/*
 * Entries in a shared ring of 2^@order pages whose entries (the union of
 * request and response) are @entry_size bytes; 0 on bad arguments.
 */
static inline u32 pgnt_ring_entries(u32 order, u32 entry_size)
{
	u32 bytes;

	if (order > PGNT_RING_PAGE_ORDER_MAX || !entry_size)
		return 0;
	bytes = PGNT_XEN_PAGE_SIZE << order;
	return pgnt_rounddown_pow2((bytes - PGNT_SRING_HEADER_SIZE) /
				   entry_size);
}

/*
 * Indirect pages a frontend needs for a request of @segs segments, given
 * that it sends up to PGNT_SEGS_DIRECT segments in the direct form (0 then).
 * The protocol also allows a short indirect request, so a backend must not
 * use this: it maps DIV_ROUND_UP(nr_segments, PGNT_SEGS_PER_INDIRECT_PAGE)
 * frames for any indirect request.
 */
static inline u32 pgnt_indirect_pages(u32 segs)
{
	if (segs <= PGNT_SEGS_DIRECT)
		return 0;
	return (segs + PGNT_SEGS_PER_INDIRECT_PAGE - 1) /
		PGNT_SEGS_PER_INDIRECT_PAGE;
}

/*
 * Negotiated ring order: the frontend's request, which must not exceed what
 * the backend advertised.  Returns -1 when the request is out of range.
 */
static inline int pgnt_negotiate_ring_order(u32 requested, u32 backend_max)
{
	if (requested > backend_max || requested > PGNT_RING_PAGE_ORDER_MAX)
		return -1;
	return (int)requested;
}

/*
 * Negotiated queue count: a frontend asking for 0 queues or more than the
 * backend offers is broken (the backend must refuse it, not clamp silently).
 */
static inline int pgnt_negotiate_queues(u32 requested, u32 backend_max)
{
	if (!requested || requested > backend_max ||
	    requested > PGNT_QUEUES_MAX)
		return -1;
	return (int)requested;
}

#endif /* PGNT_H */
