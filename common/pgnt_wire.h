/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The values common/ repeats from Xen's blkif.h and the kernel, pinned to
 * the real headers so that they cannot drift.  Kernel-only (unlike the
 * rest of common/, the userspace tests do not include it): each module
 * includes it once, in one of its .c files.
 */
#ifndef PGNT_WIRE_H
#define PGNT_WIRE_H

#ifndef __KERNEL__
#error "pgnt_wire.h checks the kernel's headers: kernel builds only"
#endif

#include <linux/blkdev.h>
#include <xen/interface/io/blkif.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "pgnt.h"

static_assert(PGNT_SEGS_DIRECT == BLKIF_MAX_SEGMENTS_PER_REQUEST);
static_assert(PGNT_INDIRECT_PAGES_MAX == BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
static_assert(sizeof(struct blkif_request_segment) == PGNT_SEGMENT_WIRE_SIZE);
static_assert(sizeof(struct blkif_request_segment) *
	      PGNT_SEGS_PER_INDIRECT_PAGE == XEN_PAGE_SIZE);
static_assert(PGNT_OP_READ == BLKIF_OP_READ);
static_assert(PGNT_OP_WRITE == BLKIF_OP_WRITE);
static_assert(PGNT_OP_WRITE_BARRIER == BLKIF_OP_WRITE_BARRIER);
static_assert(PGNT_OP_FLUSH_DISKCACHE == BLKIF_OP_FLUSH_DISKCACHE);
static_assert(PGNT_OP_DISCARD == BLKIF_OP_DISCARD);
static_assert(PGNT_OP_INDIRECT == BLKIF_OP_INDIRECT);
static_assert(PGNT_DISCARD_SECURE == BLKIF_DISCARD_SECURE);
static_assert(PGNT_RSP_EOPNOTSUPP == BLKIF_RSP_EOPNOTSUPP);
static_assert(PGNT_RSP_ERROR == BLKIF_RSP_ERROR);
static_assert(PGNT_RSP_OKAY == BLKIF_RSP_OKAY);
static_assert(PGNT_VDISK_READONLY == VDISK_READONLY);
static_assert(PGNT_VDISK_CDROM == VDISK_CDROM);
static_assert(PGNT_XEN_PAGE_SIZE == XEN_PAGE_SIZE);
static_assert(PGNT_SECTOR_SHIFT == SECTOR_SHIFT);
static_assert(PGNT_RING_PAGES_MAX == XENBUS_MAX_RING_GRANTS);

#endif /* PGNT_WIRE_H */
