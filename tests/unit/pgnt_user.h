/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's basic types and helpers, for compiling common/ in userspace
 * (unit tests, benchmarks).  Included by common/pgnt_types.h when
 * __KERNEL__ is not defined.
 */
#ifndef PGNT_USER_H
#define PGNT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#ifndef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#endif

#endif
