// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs every unit test and ends with the line "N passed, N failed".
 * With arguments, runs only the tests whose names contain one of them.
 */
#include <string.h>
#include "unit.h"

int unit_failed_checks;

extern const struct unit_test limits_tests[], budget_tests[], check_tests[],
	gcache_tests[], vdev_tests[], copy_tests[];
extern const unsigned int limits_tests_nr, budget_tests_nr, check_tests_nr,
	gcache_tests_nr, vdev_tests_nr, copy_tests_nr;

static const struct {
	const struct unit_test *tests;
	const unsigned int *nr;
} suites[] = {
	{ limits_tests, &limits_tests_nr },
	{ budget_tests, &budget_tests_nr },
	{ check_tests, &check_tests_nr },
	{ gcache_tests, &gcache_tests_nr },
	{ vdev_tests, &vdev_tests_nr },
	{ copy_tests, &copy_tests_nr },
};

static int selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int s, t, passed = 0, failed = 0;

	for (s = 0; s < ARRAY_LEN(suites); s++) {
		for (t = 0; t < *suites[s].nr; t++) {
			const struct unit_test *ut = &suites[s].tests[t];
			int before = unit_failed_checks;

			if (!selected(ut->name, argc, argv))
				continue;
			ut->fn();
			if (unit_failed_checks == before) {
				passed++;
				printf("PASS %s\n", ut->name);
			} else {
				failed++;
				printf("FAIL %s\n", ut->name);
			}
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed || !passed;
}
