/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal userspace test harness for the kernel-independent code in
 * common/.  A test is a function; it fails when any EXPECT in it fails.
 */
#ifndef PGNT_UNIT_H
#define PGNT_UNIT_H

#include <stdio.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

extern int unit_failed_checks;

#define EXPECT(cond) do {						\
	if (!(cond)) {							\
		unit_failed_checks++;					\
		fprintf(stderr, "  %s:%d: expected %s\n",		\
			__FILE__, __LINE__, #cond);			\
	}								\
} while (0)

#define EXPECT_EQ(a, b) do {						\
	unsigned long long _a = (unsigned long long)(a);		\
	unsigned long long _b = (unsigned long long)(b);		\
	if (_a != _b) {							\
		unit_failed_checks++;					\
		fprintf(stderr, "  %s:%d: %s == %llu, expected %s == %llu\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
	}								\
} while (0)

#define UNIT_SUITE(name) const struct unit_test name[]

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
