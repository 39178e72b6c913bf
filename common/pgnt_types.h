/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Basic types for the kernel-independent code in common/.
 *
 * The same headers are compiled into the two modules and into the userspace
 * unit tests and fuzzers (tests/unit/).  This is the only place that knows
 * which of the two it is compiled for.
 */
#ifndef PGNT_TYPES_H
#define PGNT_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/build_bug.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif
#ifndef READ_ONCE
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#endif
#ifndef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#endif
#endif /* __KERNEL__ */

#endif /* PGNT_TYPES_H */
