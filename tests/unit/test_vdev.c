// SPDX-License-Identifier: GPL-2.0-only
/* Virtual-device numbers to xvd minors and names (common/pgnt_vdev.h). */
#include <string.h>
#include "pgnt_vdev.h"
#include "unit.h"

#define XVD(minor)	((PGNT_VBD_MAJOR << 8) | (minor))
#define EXT(minor)	(PGNT_VDEV_EXTENDED | (minor))

struct vdev_case {
	u32 vdevice;
	int ret;
	u32 minor, parts;
	const char *name;
};

static const struct vdev_case cases[] = {
	{ XVD(0), 0, 0, 16, "xvda" },		/* 51712 */
	{ XVD(16), 0, 16, 16, "xvdb" },		/* 51728 */
	{ XVD(1), 0, 1, 16, "xvda1" },
	{ XVD(15), 0, 15, 16, "xvda15" },
	{ XVD(32 + 2), 0, 34, 16, "xvdc2" },
	{ XVD(255), 0, 255, 16, "xvdp15" },
	{ EXT(0), 0, 0, 256, "xvda" },
	{ EXT(26 * 256), 0, 6656, 256, "xvdaa" },
	{ EXT(26 * 256 + 3), 0, 6659, 256, "xvdaa3" },
	{ EXT(701 * 256), 0, 701 * 256, 256, "xvdzz" },
	{ EXT(702 * 256), 0, 702 * 256, 256, "xvdaaa" },
	{ (3 << 8) | 0, 0, 0, 16, "xvda" },	/* hda */
	{ (3 << 8) | 64, 0, 16, 16, "xvdb" },	/* hdb */
	{ (3 << 8) | 65, 0, 17, 16, "xvdb1" },
	{ (22 << 8) | 0, 0, 32, 16, "xvdc" },	/* hdc */
	{ (8 << 8) | 0, 0, 0, 16, "xvda" },	/* sda */
	{ (8 << 8) | 17, 0, 17, 16, "xvdb1" },	/* sdb1 */
	{ (65 << 8) | 0, 0, 256, 16, "xvdq" },	/* sdq */
	{ (135 << 8) | 255, 0, 4095, 16, "xvdiv15" },	/* disk 255 */
	{ (7 << 8) | 0, -1, 0, 0, NULL },	/* not a disk major */
	{ (3 << 8) | 20, -1, 0, 0, NULL },	/* hda20: no xvd partition */
	{ EXT(PGNT_MINORS_MAX), -1, 0, 0, NULL },
	/* the last disk of the extended range, 4096 = "fan" */
	{ EXT(PGNT_MINORS_MAX - 256), 0, PGNT_MINORS_MAX - 256, 256, "xvdfan" },
	{ EXT(PGNT_MINORS_MAX - 1), 0, PGNT_MINORS_MAX - 1, 256, "xvdfan255" },
};

static void translate_and_name(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct vdev_case *c = &cases[i];
		u32 minor = 0xdead, parts = 0xdead;
		char name[PGNT_VDEV_NAME_MAX];
		int ret = pgnt_vdev_translate(c->vdevice, &minor, &parts);

		EXPECT_EQ(ret, (u64)(s64)c->ret);
		if (ret || c->ret) {
			if (ret != c->ret)
				fprintf(stderr, "  vdevice %#x\n", c->vdevice);
			continue;
		}
		EXPECT_EQ(minor, c->minor);
		EXPECT_EQ(parts, c->parts);
		pgnt_vdev_name(name, minor, parts);
		if (strcmp(name, c->name))
			fprintf(stderr, "  vdevice %#x: name %s, want %s\n",
				c->vdevice, name, c->name);
		EXPECT(strcmp(name, c->name) == 0);
	}
}

/* Every minor of the extended range names itself within the buffer. */
static void names_fit_the_buffer(void)
{
	char name[PGNT_VDEV_NAME_MAX + 8];
	u32 m;

	for (m = 0; m < PGNT_MINORS_MAX; m += 97) {
		memset(name, 'X', sizeof(name));
		pgnt_vdev_name(name, m, PGNT_PARTS_PER_EXT_DISK);
		EXPECT(strlen(name) < PGNT_VDEV_NAME_MAX);
		EXPECT(strncmp(name, "xvd", 3) == 0);
	}
}

UNIT_SUITE(vdev_tests) = {
	{ "vdev/translate_and_name", translate_and_name },
	{ "vdev/names_fit_the_buffer", names_fit_the_buffer },
};
const unsigned int vdev_tests_nr = ARRAY_LEN(vdev_tests);
