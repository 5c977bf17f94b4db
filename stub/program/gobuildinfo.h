/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gobuildinfo.h - the Go build info blob (.go.buildinfo), parsed purely.
 *
 * Every Go binary since 1.13 carries, at the start of section .go.buildinfo
 * (16-byte aligned, near the start of the data segment where there is no
 * section table), a 32-byte header:
 *
 *     "\xff Go buildinf:"   14 bytes of magic
 *     ptrsize              1 byte, 4 or 8
 *     flags                1 byte: bit 0 big-endian, bit 1 inline strings
 *     2 pointers           (pointer format) the addresses of two Go string
 *                          headers {data, len}: runtime.buildVersion and
 *                          runtime.modinfo
 *
 * With inline strings (Go 1.18 and later) the pointers are zero and the
 * header is followed by the two strings, each a uvarint length then the
 * bytes.  The pointer format (Go 1.13-1.17) needs the program's bytes at
 * link-time addresses: the loadable segments (struct gopcln_seg).
 *
 * Pure: every length, pointer and varint is checked against the bytes
 * given; strings are returned as (pointer, length) into them, not
 * NUL-terminated.  Fuzzed with the pclntab reader (tests/fuzz/fuzz_gopclntab.c).
 */
#ifndef STUB_PROGRAM_GOBUILDINFO_H
#define STUB_PROGRAM_GOBUILDINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "stub/program/gopclntab.h"

#define GOBUILDINFO_MAGIC     "\xff Go buildinf:"
#define GOBUILDINFO_MAGIC_LEN 14
#define GOBUILDINFO_HDR	      32
#define GOBUILDINFO_ALIGN     16
/* Longest string taken from the blob (a version is ~10 bytes, modinfo a few KiB). */
#define GOBUILDINFO_MAX_STR (1u << 20)

struct gobuildinfo {
	unsigned ptrsize;
	bool big_endian, inline_strings;
	const char *version; /* "go1.19.8", "devel go1.23-..." */
	size_t version_len;
	const char *modinfo; /* "path\t...\nmod\t...\n", framing removed; may be empty */
	size_t modinfo_len;
};

/*
 * Parse the blob at (p, len) (its magic first).  segs/nsegs are needed only
 * for the pointer format (may be NULL otherwise).  0, or -EINVAL with a
 * message in err[errlen] (may be NULL).
 */
int gobuildinfo__parse(const void *p, size_t len, const struct gopcln_seg *segs, size_t nsegs,
		       struct gobuildinfo *bi, char *err, size_t errlen);

/*
 * The first blob in (p, len) at a GOBUILDINFO_ALIGN-aligned offset (as Go
 * finds it in the first 64 KiB of the data segment): its offset, or -1.
 */
long gobuildinfo__find(const void *p, size_t len);

#endif
