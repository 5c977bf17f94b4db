/* SPDX-License-Identifier: MIT */
/*
 * stub/program/gobuildinfo.c - the Go build info blob; pure (see gobuildinfo.h).
 *
 * What it owns: the Go version a binary was built with (and its module
 * info), which says which pclntab and runtime layouts to expect and is
 * what a user asks first about a stripped service.  Both formats; each
 * varint is at most 10 bytes and every string inside what it was given.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "stub/program/gobuildinfo.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static uint64_t rdn(const unsigned char *p, unsigned n, bool be)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

/* A uvarint-prefixed string at *p (before end): 0 and the string, or -EINVAL. */
static int inline_str(const unsigned char **p, const unsigned char *end, const char **s,
		      size_t *len)
{
	uint64_t n = 0;
	unsigned shift;

	for (shift = 0;; shift += 7) {
		unsigned char c;

		if (shift > 63 || *p >= end)
			return -EINVAL;
		c = *(*p)++;
		n |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	if (n > GOBUILDINFO_MAX_STR || n > (uint64_t)(end - *p))
		return -EINVAL;
	*s = (const char *)*p;
	*len = (size_t)n;
	*p += n;
	return 0;
}

/* A Go string header at vaddr: 0 and the string, or -EINVAL. */
static int ptr_str(const struct gopcln_seg *segs, size_t nsegs, const struct gobuildinfo *bi,
		   uint64_t vaddr, const char **s, size_t *len)
{
	const unsigned char *h = gopcln_seg__at(segs, nsegs, vaddr, 2ull * bi->ptrsize);
	uint64_t data, n;

	if (!h)
		return -EINVAL;
	data = rdn(h, bi->ptrsize, bi->big_endian);
	n = rdn(h + bi->ptrsize, bi->ptrsize, bi->big_endian);
	if (n > GOBUILDINFO_MAX_STR)
		return -EINVAL;
	*len = (size_t)n;
	*s = "";
	if (!n)
		return 0;
	*s = (const char *)gopcln_seg__at(segs, nsegs, data, n);
	return *s ? 0 : -EINVAL;
}

int gobuildinfo__parse(const void *p, size_t len, const struct gopcln_seg *segs, size_t nsegs,
		       struct gobuildinfo *bi, char *err, size_t errlen)
{
	const unsigned char *b = p, *q, *end = b + len;

	memset(bi, 0, sizeof(*bi));
	if (!b || len < GOBUILDINFO_HDR || memcmp(b, GOBUILDINFO_MAGIC, GOBUILDINFO_MAGIC_LEN))
		return fail(err, errlen, "no Go build info (magic \"\\xff Go buildinf:\")");
	bi->ptrsize = b[14];
	if (bi->ptrsize != 4 && bi->ptrsize != 8)
		return fail(err, errlen, "Go build info: pointer size %u", bi->ptrsize);
	bi->big_endian = b[15] & 1;
	bi->inline_strings = b[15] & 2;
	if (bi->inline_strings) {
		q = b + GOBUILDINFO_HDR;
		if (inline_str(&q, end, &bi->version, &bi->version_len) ||
		    inline_str(&q, end, &bi->modinfo, &bi->modinfo_len))
			return fail(err, errlen, "Go build info: strings past its end");
	} else {
		uint64_t va = rdn(b + 16, bi->ptrsize, bi->big_endian);
		uint64_t ma = rdn(b + 16 + bi->ptrsize, bi->ptrsize, bi->big_endian);

		if (ptr_str(segs, nsegs, bi, va, &bi->version, &bi->version_len) ||
		    ptr_str(segs, nsegs, bi, ma, &bi->modinfo, &bi->modinfo_len))
			return fail(err, errlen,
				    "Go build info: version at %#llx or modinfo at %#llx not in "
				    "the file",
				    (unsigned long long)va, (unsigned long long)ma);
	}
	if (!bi->version_len)
		return fail(err, errlen, "Go build info: empty version");
	/* modinfo is framed by two 16-byte sentinels, the second after a newline */
	if (bi->modinfo_len >= 33 && bi->modinfo[bi->modinfo_len - 17] == '\n') {
		bi->modinfo += 16;
		bi->modinfo_len -= 32;
	}
	return 0;
}

long gobuildinfo__find(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t off;

	for (off = 0; b && off + GOBUILDINFO_HDR <= len && off <= LONG_MAX;
	     off += GOBUILDINFO_ALIGN)
		if (!memcmp(b + off, GOBUILDINFO_MAGIC, GOBUILDINFO_MAGIC_LEN))
			return (long)off;
	return -1;
}
