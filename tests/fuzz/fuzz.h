/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the libFuzzer harnesses of common/: a reader that
 * turns the fuzzer's bytes into values (zeros once they run out, so every
 * input is valid), and the check that turns a broken invariant into a
 * crash the fuzzer records.
 */
#ifndef PGNT_FUZZ_H
#define PGNT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "pgnt_types.h"

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_more(const struct fz *f)
{
	return f->n > 0;
}

static inline u8 fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline u16 fz_u16(struct fz *f)
{
	u16 v = fz_u8(f);

	return v | (u16)fz_u8(f) << 8;
}

static inline u32 fz_u32(struct fz *f)
{
	u32 v = fz_u16(f);

	return v | (u32)fz_u16(f) << 16;
}

static inline u64 fz_u64(struct fz *f)
{
	u64 v = fz_u32(f);

	return v | (u64)fz_u32(f) << 32;
}

/*
 * A 32-bit value, shaped by one selector byte: the small values and the
 * edges (around 0, around the u32 limit, around a power of two) are where
 * checks go wrong, and random 32-bit values rarely land there.
 */
static inline u32 fz_u32_shaped(struct fz *f)
{
	u8 sel = fz_u8(f);

	switch (sel & 7) {
	case 0:
		return fz_u8(f);
	case 1:
		return fz_u16(f);
	case 2:
		return 0xffffffffU - fz_u8(f);
	case 3:
		return (1U << (fz_u8(f) & 31)) + (u32)(int8_t)fz_u8(f);
	default:
		return fz_u32(f);
	}
}

static inline u64 fz_u64_shaped(struct fz *f)
{
	u8 sel = fz_u8(f);

	switch (sel & 7) {
	case 0:
		return fz_u8(f);
	case 1:
		return fz_u16(f);
	case 2:
		return ~0ULL - fz_u16(f);
	case 3:
		return (1ULL << (fz_u8(f) & 63)) + (u64)(s64)(int8_t)fz_u8(f);
	case 4:
		return fz_u32(f);
	default:
		return fz_u64(f);
	}
}

/* A broken invariant: say which, then crash so that libFuzzer saves the input. */
#define FZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant violated: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define FZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* PGNT_FUZZ_H */
