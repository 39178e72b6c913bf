/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Basic types for the kernel-independent code in common/.
 *
 * The same headers are compiled into the two modules and into the userspace
 * unit tests and benchmarks, which supply the kernel's basic types and
 * helpers themselves (tests/unit/pgnt_user.h).  This is the only place
 * that knows which of the two it is compiled for.
 */
#ifndef PGNT_TYPES_H
#define PGNT_TYPES_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include "pgnt_user.h"
#endif

#endif /* PGNT_TYPES_H */
