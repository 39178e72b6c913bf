/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Virtual-device numbers to xvd device numbers and names, exactly as the
 * stock frontend assigns them, so that fstab, root= and udev rules survive
 * a switch of drivers.  The numbering comes from Xen's public blkif.h
 * ("Virtual device numbers"): xvd disks under major 202 with 16 minors
 * each, an extended scheme (bit 28 set) with 256 minors per disk, and the
 * emulated IDE and SCSI majors of HVM guests mapped onto xvd disks.
 *
 * Kernel-independent (see pgnt_types.h), for the frontend and the unit
 * tests.
 */
#ifndef PGNT_VDEV_H
#define PGNT_VDEV_H

#include "pgnt_types.h"

#define PGNT_VBD_MAJOR			202
#define PGNT_VDEV_EXTENDED		0x10000000U	/* bit 28 */
#define PGNT_PARTS_PER_DISK		16
#define PGNT_PARTS_PER_EXT_DISK		256
/* dev_t minors are 20 bits. */
#define PGNT_MINORS_MAX			0x100000U
/* "xvd", up to 4 letters for 2^20 minors, a partition number, NUL. */
#define PGNT_VDEV_NAME_MAX		16

/* An emulated disk major and the first xvd disk index it maps to. */
struct pgnt_emul_major {
	u16 major;
	u16 first_disk;
	u16 minors_per_disk;
};

/*
 * The xvd minor of @vdevice and the minors per disk of its numbering
 * scheme (16, or 256 when extended).  A minor that is not a multiple of
 * @parts names one exported partition.  -1 when the number has no xvd
 * equivalent.
 */
static inline int pgnt_vdev_translate(u32 vdevice, u32 *minor, u32 *parts)
{
	/* IDE majors carry two disks of 64 minors, SCSI majors 16 of 16. */
	static const struct pgnt_emul_major emul[] = {
		{ 3, 0, 64 }, { 22, 2, 64 }, { 33, 4, 64 }, { 34, 6, 64 },
		{ 56, 8, 64 }, { 57, 10, 64 }, { 88, 12, 64 }, { 89, 14, 64 },
		{ 90, 16, 64 }, { 91, 18, 64 },
		{ 8, 0, 16 }, { 65, 16, 16 }, { 66, 32, 16 }, { 67, 48, 16 },
		{ 68, 64, 16 }, { 69, 80, 16 }, { 70, 96, 16 }, { 71, 112, 16 },
		{ 128, 128, 16 }, { 129, 144, 16 }, { 130, 160, 16 },
		{ 131, 176, 16 }, { 132, 192, 16 }, { 133, 208, 16 },
		{ 134, 224, 16 }, { 135, 240, 16 },
		{ 0, 0, 0 }
	};
	const struct pgnt_emul_major *e;
	u32 major, m, p = PGNT_PARTS_PER_DISK;

	if (vdevice & PGNT_VDEV_EXTENDED) {
		m = vdevice & ~PGNT_VDEV_EXTENDED;
		p = PGNT_PARTS_PER_EXT_DISK;
	} else {
		major = vdevice >> 8;
		m = vdevice & 0xff;
		if (major != PGNT_VBD_MAJOR) {
			for (e = emul; e->major && e->major != major; e++)
				;
			if (!e->major)
				return -1;
			/* Partitions beyond 15 have no xvd equivalent. */
			if (m % e->minors_per_disk >= PGNT_PARTS_PER_DISK)
				return -1;
			m = (e->first_disk + m / e->minors_per_disk) *
			    PGNT_PARTS_PER_DISK + m % e->minors_per_disk;
		}
	}
	/* The whole disk's minors must fit, whichever the vbd names. */
	if (m >= PGNT_MINORS_MAX || m / p * p + p > PGNT_MINORS_MAX)
		return -1;
	*minor = m;
	*parts = p;
	return 0;
}

/*
 * The device name of @minor: "xvd", the disk index in bijective base 26
 * (a..z, aa..zz, aaa...), then the partition number for a single exported
 * partition.  @buf holds PGNT_VDEV_NAME_MAX bytes.
 */
static inline void pgnt_vdev_name(char *buf, u32 minor, u32 parts)
{
	char rev[8];
	u32 index = minor / parts + 1, part = minor % parts;
	int n = 0, pos = 0;

	buf[pos++] = 'x';
	buf[pos++] = 'v';
	buf[pos++] = 'd';
	while (index && n < (int)sizeof(rev)) {
		index--;
		rev[n++] = (char)('a' + index % 26);
		index /= 26;
	}
	while (n)
		buf[pos++] = rev[--n];
	if (part) {
		n = 0;
		while (part) {
			rev[n++] = (char)('0' + part % 10);
			part /= 10;
		}
		while (n)
			buf[pos++] = rev[--n];
	}
	buf[pos] = '\0';
}

#endif /* PGNT_VDEV_H */
