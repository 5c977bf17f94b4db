/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_rsp.c - unit tests for rsp/: framer, parsers, dispatch.
 *
 * Plain C, no framework.  Most tests are tables: one row per input, good
 * and malformed side by side, so a new corner case is one line.  Framer
 * rows are written as the bytes on the wire, with "#??" standing for "the
 * right checksum for the body since the last '$'", and every row is fed
 * whole, byte by byte and in a few odd chunk sizes; all must give the same
 * events.  A failed check prints one line; the last line is the summary
 * "unit: N passed, M failed" and the exit status is non-zero on failure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_COUNTERS
#include "rsp/buf.h"
#include "rsp/dispatch.h"
#include "rsp/framer.h"
#include "rsp/parse.h"
#include "tests/unit/check.h"

/* ---------------------------------------------------------------- hex */

static void test_hex_u64(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		uint64_t v;
	} t[] = {
		{S("0"), 0, 0},
		{S("1"), 0, 1},
		{S("a"), 0, 10},
		{S("F"), 0, 15},
		{S("deadBEEF"), 0, 0xdeadbeef},
		{S("123456789abcdef0"), 0, 0x123456789abcdef0},
		{S("ffffffffffffffff"), 0, UINT64_MAX},
		{S("FFFFFFFFFFFFFFFF"), 0, UINT64_MAX},
		{S("00000000000000001"), 0, 1},
		{S("0000000000000000ffffffffffffffff"), 0, UINT64_MAX},
		{S("000000000000000000000000000000000000000000"), 0, 0},
		{S("10000000000000000"), -ERANGE, 0},
		{S("fffffffffffffffff"), -ERANGE, 0},
		{S("11111111111111111"), -ERANGE, 0},
		{S("ffffffffffffffff0"), -ERANGE, 0},
		{S(""), -EINVAL, 0},
		{S("g"), -EINVAL, 0},
		{S("1g"), -EINVAL, 0},
		{S(" 1"), -EINVAL, 0},
		{S("1 "), -EINVAL, 0},
		{S("-1"), -EINVAL, 0},
		{S("+1"), -EINVAL, 0},
		{S("0x10"), -EINVAL, 0},
		{S("1\0"), -EINVAL, 0},
		{S("\0001"), -EINVAL, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0x5a5a;
		int err = rsp_parse_hex_u64(t[i].in, t[i].len, &v);

		CHECKF(err == t[i].err, "hex_u64(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		if (!t[i].err)
			CHECKF(v == t[i].v, "hex_u64(\"%s\") value %llx", show(t[i].in, t[i].len),
			       (unsigned long long)v);
		else
			CHECKF(v == 0x5a5a, "hex_u64(\"%s\") wrote on error",
			       show(t[i].in, t[i].len));
	}
}

static void test_cursor(void)
{
	static const char in[] = "12,34:zz";
	struct rsp_cursor c;
	uint8_t bytes[4];
	uint64_t v;
	size_t n;
	char tok[8];

	rsp_cur__init(&c, in, sizeof(in) - 1);
	CHECK(rsp_cur__left(&c) == 8);
	CHECK(rsp_cur__hex_u64(&c, &v) == 0 && v == 0x12);
	CHECK(c.p == in + 2);
	/* a failing primitive leaves the cursor alone */
	CHECK(rsp_cur__hex_u64(&c, &v) == -EINVAL && c.p == in + 2);
	CHECK(rsp_cur__expect(&c, ':') == -EINVAL && c.p == in + 2);
	CHECK(rsp_cur__end(&c) == -EINVAL);
	CHECK(rsp_cur__expect(&c, ',') == 0 && c.p == in + 3);
	CHECK(!rsp_cur__skip(&c, "35") && c.p == in + 3);
	CHECK(rsp_cur__skip(&c, "34") && c.p == in + 5);
	CHECK(rsp_cur__skip(&c, "") && c.p == in + 5);
	CHECK(!rsp_cur__skip(&c, ":zzz") && c.p == in + 5);
	CHECK(rsp_cur__skip(&c, ":") && c.p == in + 6);
	CHECK(rsp_cur__hex_bytes(&c, NULL, bytes, sizeof(bytes), &n) == -EINVAL && c.p == in + 6);
	CHECK(rsp_cur__token(&c, ",", tok, sizeof(tok)) == 0 && strcmp(tok, "zz") == 0);
	CHECK(rsp_cur__end(&c) == 0);
	CHECK(rsp_cur__expect(&c, 'z') == -EINVAL);
	CHECK(rsp_cur__hex_u64(&c, &v) == -EINVAL);

	/* the cursor never reads past end, even with a digit right after */
	rsp_cur__init(&c, "12345", 2);
	CHECK(rsp_cur__hex_u64(&c, &v) == 0 && v == 0x12 && c.p == c.end);
	rsp_cur__init(&c, "abc", 2);
	CHECK(!rsp_cur__skip(&c, "abc") && c.p == c.end - 2);
	rsp_cur__init(&c, "10000000000000000,1", 19);
	CHECK(rsp_cur__hex_u64(&c, &v) == -ERANGE && c.p == c.end - 19);
}

static void test_hex_s64(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		int64_t v;
		size_t used;
	} t[] = {
		{S("-1"), 0, -1, 2},
		{S("1"), 0, 1, 1},
		{S("-0"), 0, 0, 2},
		{S("-a,"), 0, -10, 2},
		{S("7fffffffffffffff"), 0, INT64_MAX, 16},
		{S("-7fffffffffffffff"), 0, -INT64_MAX, 17},
		{S("8000000000000000"), -ERANGE, 0, 0},
		{S("-8000000000000000"), -ERANGE, 0, 0},
		{S("-10000000000000000"), -ERANGE, 0, 0},
		{S("-"), -EINVAL, 0, 0},
		{S("--1"), -EINVAL, 0, 0},
		{S("- 1"), -EINVAL, 0, 0},
		{S(""), -EINVAL, 0, 0},
		{S("x"), -EINVAL, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_cursor c;
		int64_t v = 77;
		int err;

		rsp_cur__init(&c, t[i].in, t[i].len);
		err = rsp_cur__hex_s64(&c, &v);
		CHECKF(err == t[i].err, "hex_s64(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		CHECKF((size_t)(c.p - t[i].in) == t[i].used, "hex_s64(\"%s\") used %zu",
		       show(t[i].in, t[i].len), (size_t)(c.p - t[i].in));
		if (!t[i].err)
			CHECKF(v == t[i].v, "hex_s64(\"%s\") = %lld", show(t[i].in, t[i].len),
			       (long long)v);
	}
}

static void test_hex_bytes(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *stop;
		size_t cap;
		int err;
		const char *out;
		size_t n;
		size_t used;
	} t[] = {
		{S("0102ff"), NULL, 8, 0, "\x01\x02\xff", 3, 6},
		{S("0102ff"), NULL, 3, 0, "\x01\x02\xff", 3, 6},
		{S("AbCd"), NULL, 8, 0, "\xab\xcd", 2, 4},
		{S("0102:rest"), ":", 8, 0, "\x01\x02", 2, 4},
		{S("0102,03;04"), ",;", 8, 0, "\x01\x02", 2, 4},
		{S(":0102"), ":", 8, 0, "", 0, 0},
		{S(""), NULL, 0, 0, "", 0, 0},
		{S("00"), "", 1, 0, "\0", 1, 2},
		{S("010203"), NULL, 2, -E2BIG, NULL, 0, 0},
		{S("01"), NULL, 0, -E2BIG, NULL, 0, 0},
		{S("1"), NULL, 8, -EINVAL, NULL, 0, 0},
		{S("012"), NULL, 8, -EINVAL, NULL, 0, 0},
		{S("0g"), NULL, 8, -EINVAL, NULL, 0, 0},
		{S("01 02"), NULL, 8, -EINVAL, NULL, 0, 0},
		{S("01\0002"), NULL, 8, -EINVAL, NULL, 0, 0},
		{S("0102:"), ",", 8, -EINVAL, NULL, 0, 0},
		{S("-1"), NULL, 8, -EINVAL, NULL, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_cursor c;
		uint8_t out[8];
		size_t n = 99;
		int err;

		rsp_cur__init(&c, t[i].in, t[i].len);
		err = rsp_cur__hex_bytes(&c, t[i].stop, out, t[i].cap, &n);
		CHECKF(err == t[i].err, "hex_bytes(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		CHECKF((size_t)(c.p - t[i].in) == t[i].used, "hex_bytes(\"%s\") used %zu",
		       show(t[i].in, t[i].len), (size_t)(c.p - t[i].in));
		if (!t[i].err)
			CHECKF(n == t[i].n && memcmp(out, t[i].out, n) == 0,
			       "hex_bytes(\"%s\") gave %zu bytes \"%s\"", show(t[i].in, t[i].len),
			       n, show((char *)out, n));
	}
}

static void test_token(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *stop;
		size_t cap;
		int err;
		const char *out;
		size_t used;
	} t[] = {
		{S("auxv:read"), ":", 32, 0, "auxv", 4},
		{S("abc"), ":", 4, 0, "abc", 3},
		{S("abc"), NULL, 4, 0, "abc", 3},
		{S("abcd"), ":", 4, -E2BIG, NULL, 0},
		{S("abcd:"), ":", 5, 0, "abcd", 4},
		{S(""), ":", 1, 0, "", 0},
		{S(""), ":", 0, -E2BIG, NULL, 0},
		{S(":x"), ":", 1, 0, "", 0},
		{S("a,b;c"), ",;", 8, 0, "a", 1},
		{S("a;b,c"), ",;", 8, 0, "a", 1},
		{S("a b\x80\xff:"), ":", 8, 0, "a b\x80\xff", 5},
		{S("a\0b"), ":", 8, -EINVAL, NULL, 0},
		{S("ab\0:x"), ":", 8, -EINVAL, NULL, 0},
		{S("ab:\0"), ":", 8, 0, "ab", 2},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_cursor c;
		char out[32];
		int err;

		rsp_cur__init(&c, t[i].in, t[i].len);
		err = rsp_cur__token(&c, t[i].stop, out, t[i].cap);
		CHECKF(err == t[i].err, "token(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		CHECKF((size_t)(c.p - t[i].in) == t[i].used, "token(\"%s\") used %zu",
		       show(t[i].in, t[i].len), (size_t)(c.p - t[i].in));
		if (!t[i].err)
			CHECKF(strcmp(out, t[i].out) == 0, "token(\"%s\") = \"%s\"",
			       show(t[i].in, t[i].len), show(out, strlen(out)));
	}
}

static void test_hex_list(void)
{
	static const struct {
		const char *in;
		size_t len;
		char sep;
		size_t n;
		int err;
		uint64_t v[3];
	} t[] = {
		{S("1,2,3"), ',', 3, 0, {1, 2, 3}},
		{S("1;ff"), ';', 2, 0, {1, 0xff, 0}},
		{S("abc"), ',', 1, 0, {0xabc, 0, 0}},
		{S(""), ',', 0, 0, {0, 0, 0}},
		{S("1"), ',', 0, -EINVAL, {0}},
		{S(""), ',', 1, -EINVAL, {0}},
		{S("1,2"), ',', 3, -EINVAL, {0}},
		{S("1,2,3,4"), ',', 3, -EINVAL, {0}},
		{S("1,2,"), ',', 2, -EINVAL, {0}},
		{S(",1,2"), ',', 2, -EINVAL, {0}},
		{S("1,,2"), ',', 2, -EINVAL, {0}},
		{S("1;2"), ',', 2, -EINVAL, {0}},
		{S("1,10000000000000000"), ',', 2, -ERANGE, {0}},
		{S("1,2\0"), ',', 2, -EINVAL, {0}},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v[3] = {0, 0, 0};
		int err = rsp_parse_hex_list(t[i].in, t[i].len, t[i].sep, v, t[i].n);

		CHECKF(err == t[i].err, "hex_list(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		if (!t[i].err)
			CHECKF(memcmp(v, t[i].v, sizeof(v)) == 0, "hex_list(\"%s\") values",
			       show(t[i].in, t[i].len));
	}
}

static void test_hex_string(void)
{
	static const struct {
		const char *in;
		size_t len;
		size_t cap;
		int err;
		const char *out;
	} t[] = {
		{S("616263"), 4, 0, "abc"},
		{S("616263"), 64, 0, "abc"},
		{S("2f746d702f78"), 64, 0, "/tmp/x"},
		{S("414243"), 64, 0, "ABC"},
		{S(""), 1, 0, ""},
		{S("616263"), 3, -E2BIG, NULL},
		{S(""), 0, -E2BIG, NULL},
		{S("610062"), 64, -EINVAL, NULL},
		{S("00"), 64, -EINVAL, NULL},
		{S("61a"), 64, -EINVAL, NULL},
		{S("zz"), 64, -EINVAL, NULL},
		{S("61,62"), 64, -EINVAL, NULL},
		{S("61\0"), 64, -EINVAL, NULL},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char out[64];
		int err = rsp_parse_hex_string(t[i].in, t[i].len, out, t[i].cap);

		CHECKF(err == t[i].err, "hex_string(\"%s\", %zu) = %d, want %d",
		       show(t[i].in, t[i].len), t[i].cap, err, t[i].err);
		if (!t[i].err)
			CHECKF(strcmp(out, t[i].out) == 0, "hex_string(\"%s\") = \"%s\"",
			       show(t[i].in, t[i].len), out);
	}
}

/* ---------------------------------------------------------------- thread ids */

#define N   RSP_TID_NONE
#define ALL RSP_TID_ALL

static void test_tid(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		int64_t pid, tid;
	} t[] = {
		{S("p1.2"), 0, 1, 2},
		{S("p1a.1b"), 0, 0x1a, 0x1b},
		{S("P1.2"), -EINVAL, 0, 0},
		{S("p1"), 0, 1, ALL},
		{S("p1.-1"), 0, 1, -1},
		{S("p-1"), 0, -1, ALL},
		{S("p-1.-1"), 0, -1, -1},
		{S("p0.0"), 0, 0, 0},
		{S("p7fffffffffffffff.7fffffffffffffff"), 0, INT64_MAX, INT64_MAX},
		{S("1f"), 0, N, 0x1f},
		{S("-1"), 0, N, -1},
		{S("0"), 0, N, 0},
		{S("0001"), 0, N, 1},
		{S(""), -EINVAL, 0, 0},
		{S("p"), -EINVAL, 0, 0},
		{S("p.1"), -EINVAL, 0, 0},
		{S("p1."), -EINVAL, 0, 0},
		{S("p1.2.3"), -EINVAL, 0, 0},
		{S("p1.2x"), -EINVAL, 0, 0},
		{S("p1,2"), -EINVAL, 0, 0},
		{S("1.2"), -EINVAL, 0, 0},
		{S("-2"), -EINVAL, 0, 0},
		{S("-"), -EINVAL, 0, 0},
		{S("-1f"), -EINVAL, 0, 0},
		{S("-01"), -EINVAL, 0, 0},
		{S("--1"), -EINVAL, 0, 0},
		{S("x"), -EINVAL, 0, 0},
		{S("p-2"), -EINVAL, 0, 0},
		{S("p1.-2"), -EINVAL, 0, 0},
		{S("1 "), -EINVAL, 0, 0},
		{S("1\0"), -EINVAL, 0, 0},
		{S("8000000000000000"), -ERANGE, 0, 0},
		{S("p8000000000000000"), -ERANGE, 0, 0},
		{S("p1.8000000000000000"), -ERANGE, 0, 0},
		{S("10000000000000000"), -ERANGE, 0, 0},
	};
	struct rsp_cursor c;
	struct rsp_tid tid;
	static const char in[] = ";thread:p1.2;rest";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_tid r = {123, 456};
		int err = rsp_parse_tid(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "tid(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err)
			CHECKF(r.pid == t[i].pid && r.tid == t[i].tid, "tid(\"%s\") = %lld.%lld",
			       show(t[i].in, t[i].len), (long long)r.pid, (long long)r.tid);
		else
			CHECKF(r.pid == 123 && r.tid == 456, "tid(\"%s\") wrote on error",
			       show(t[i].in, t[i].len));
	}

	/* the cursor form stops at the first byte that is not part of the id */
	rsp_cur__init(&c, in, sizeof(in) - 1);
	CHECK(rsp_cur__skip(&c, ";thread:"));
	CHECK(rsp_cur__tid(&c, &tid) == 0 && tid.pid == 1 && tid.tid == 2);
	CHECK(c.p == in + 12 && *c.p == ';');
	rsp_cur__init(&c, S("p1x"));
	CHECK(rsp_cur__tid(&c, &tid) == 0 && tid.pid == 1 && tid.tid == ALL && *c.p == 'x');
	rsp_cur__init(&c, S("-1:"));
	CHECK(rsp_cur__tid(&c, &tid) == 0 && tid.pid == N && tid.tid == -1 && *c.p == ':');
	/* and does not move on failure */
	rsp_cur__init(&c, S("p1.;"));
	CHECK(rsp_cur__tid(&c, &tid) == -EINVAL && c.p == c.end - 4);
	/* a tid cut short by len is not extended by the bytes after it */
	rsp_cur__init(&c, "p12.34", 5);
	CHECK(rsp_cur__tid(&c, &tid) == 0 && tid.pid == 0x12 && tid.tid == 3);
	rsp_cur__init(&c, "-1", 1);
	CHECK(rsp_cur__tid(&c, &tid) == -EINVAL);
}

/* ---------------------------------------------------------------- packets */

static void test_mem(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		uint64_t addr, n;
	} t[] = {
		{S("401000,10"), 0, 0x401000, 0x10},
		{S("0,0"), 0, 0, 0},
		{S("ffffffffffffffff,ffffffffffffffff"), 0, UINT64_MAX, UINT64_MAX},
		{S("7ffff7dd1000,1000"), 0, 0x7ffff7dd1000, 0x1000},
		{S("401000,10,"), -EINVAL, 0, 0},
		{S("401000,10:"), -EINVAL, 0, 0},
		{S(",10"), -EINVAL, 0, 0},
		{S("401000"), -EINVAL, 0, 0},
		{S("401000,"), -EINVAL, 0, 0},
		{S("401000;10"), -EINVAL, 0, 0},
		{S("401000,,10"), -EINVAL, 0, 0},
		{S(""), -EINVAL, 0, 0},
		{S("1,10000000000000000"), -ERANGE, 0, 0},
		{S("10000000000000000,1"), -ERANGE, 0, 0},
		{S("1,2\0"), -EINVAL, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_mem_req r;
		int err = rsp_parse_mem(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "mem(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err)
			CHECKF(r.addr == t[i].addr && r.len == t[i].n, "mem(\"%s\") values",
			       show(t[i].in, t[i].len));
	}
}

static void test_write(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		uint64_t addr, n;
		size_t data_off, data_len;
	} t[] = {
		{S("1000,3:abc"), 0, 0x1000, 3, 7, 3},
		{S("1000,3:616263"), 0, 0x1000, 3, 7, 6},
		{S("1000,0:"), 0, 0x1000, 0, 7, 0},
		{S("1000,4:\0}x:"), 0, 0x1000, 4, 7, 4},
		{S("1000,3"), -EINVAL, 0, 0, 0, 0},
		{S("1000:abc"), -EINVAL, 0, 0, 0, 0},
		{S("1000,3abc"), -EINVAL, 0, 0, 0, 0},
		{S(",3:"), -EINVAL, 0, 0, 0, 0},
		{S("1000,:"), -EINVAL, 0, 0, 0, 0},
		{S(""), -EINVAL, 0, 0, 0, 0},
		{S("1000,10000000000000000:"), -ERANGE, 0, 0, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_write_req r;
		int err = rsp_parse_write(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "write(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err)
			CHECKF(r.addr == t[i].addr && r.len == t[i].n &&
				       r.data == t[i].in + t[i].data_off &&
				       r.data_len == t[i].data_len,
			       "write(\"%s\") values", show(t[i].in, t[i].len));
	}
}

static void test_qxfer(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		const char *object, *op, *annex;
		uint64_t offset, length;
	} t[] = {
		{S("features:read:target.xml:0,fff"), 0, "features", "read", "target.xml", 0,
		 0xfff},
		{S("libraries-svr4:read::0,fff"), 0, "libraries-svr4", "read", "", 0, 0xfff},
		{S("auxv:read::1000,ffb"), 0, "auxv", "read", "", 0x1000, 0xffb},
		{S("exec-file:read:1f2e:0,1000"), 0, "exec-file", "read", "1f2e", 0, 0x1000},
		{S("libraries-svr4:read:start=7f00;prev=7f10:0,fff"), 0, "libraries-svr4", "read",
		 "start=7f00;prev=7f10", 0, 0xfff},
		{S("siginfo:write::0,10"), 0, "siginfo", "write", "", 0, 0x10},
		{S("features:read:target.xml:0"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:target.xml:0,"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:target.xml:0,fff,"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:target.xml"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:target.xml:"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S(""), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S(":read::0,1"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:frob::0,1"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:::0,1"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:readxxxx::0,1"), -E2BIG, NULL, NULL, NULL, 0, 0},
		{S("features:read:a:b:0,1"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:a\0b:0,1"), -EINVAL, NULL, NULL, NULL, 0, 0},
		{S("features:read:x:10000000000000000,1"), -ERANGE, NULL, NULL, NULL, 0, 0},
		{S("features:read:x:0,g"), -EINVAL, NULL, NULL, NULL, 0, 0},
	};
	struct rsp_xfer_req r;
	char in[600];
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int err = rsp_parse_qxfer(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "qxfer(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err)
			CHECKF(strcmp(r.object, t[i].object) == 0 && strcmp(r.op, t[i].op) == 0 &&
				       strcmp(r.annex, t[i].annex) == 0 &&
				       r.offset == t[i].offset && r.length == t[i].length,
			       "qxfer(\"%s\") values", show(t[i].in, t[i].len));
	}

	/* field sizes: object 31 + NUL fits, 32 does not; annex 255 / 256 */
	for (k = 30; k <= 33; k++) {
		memset(in, 'o', k);
		strcpy(in + k, ":read:a:0,1");
		CHECKF(rsp_parse_qxfer(in, strlen(in), &r) == (k < 32 ? 0 : -E2BIG),
		       "qxfer object of %zu bytes", k);
	}
	for (k = 254; k <= 257; k++) {
		strcpy(in, "features:read:");
		memset(in + 14, 'a', k);
		strcpy(in + 14 + k, ":0,1");
		CHECKF(rsp_parse_qxfer(in, strlen(in), &r) == (k < 256 ? 0 : -E2BIG),
		       "qxfer annex of %zu bytes", k);
		if (k == 255)
			CHECK(strlen(r.annex) == 255);
	}
}

static void test_thread_suffix(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		bool present;
		int64_t pid, tid;
	} t[] = {
		{S(""), 0, false, 0, 0},
		{S(";thread:p1.2;"), 0, true, 1, 2},
		{S(";thread:p1.2"), 0, true, 1, 2},
		{S(";thread:1f;"), 0, true, N, 0x1f},
		{S(";thread:-1;"), 0, true, N, -1},
		{S(";thread:p1a;"), 0, true, 0x1a, ALL},
		{S(";thread:"), -EINVAL, false, 0, 0},
		{S(";thread:;"), -EINVAL, false, 0, 0},
		{S(";thread:p1.2;;"), -EINVAL, false, 0, 0},
		{S(";thread:p1.2;x"), -EINVAL, false, 0, 0},
		{S(";thread:p1.2:"), -EINVAL, false, 0, 0},
		{S("thread:p1.2;"), -EINVAL, false, 0, 0},
		{S(";thread;p1.2"), -EINVAL, false, 0, 0},
		{S(";Thread:1;"), -EINVAL, false, 0, 0},
		{S(";"), -EINVAL, false, 0, 0},
		{S("x"), -EINVAL, false, 0, 0},
		{S(";thread:8000000000000000;"), -ERANGE, false, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_thread_suffix s;
		int err = rsp_parse_thread_suffix(t[i].in, t[i].len, &s);

		CHECKF(err == t[i].err, "thread_suffix(\"%s\") = %d, want %d",
		       show(t[i].in, t[i].len), err, t[i].err);
		if (!t[i].err)
			CHECKF(s.present == t[i].present && (!s.present || (s.tid.pid == t[i].pid &&
									    s.tid.tid == t[i].tid)),
			       "thread_suffix(\"%s\") values", show(t[i].in, t[i].len));
	}
}

static void test_p(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		uint64_t regno;
		bool present;
		int64_t pid, tid;
	} t[] = {
		{S("10"), 0, 0x10, false, 0, 0},
		{S("0"), 0, 0, false, 0, 0},
		{S("10;thread:p1a.1b;"), 0, 0x10, true, 0x1a, 0x1b},
		{S("a;thread:-1"), 0, 0xa, true, N, -1},
		{S("A;thread:2f;"), 0, 0xa, true, N, 0x2f},
		{S(""), -EINVAL, 0, false, 0, 0},
		{S(";thread:1;"), -EINVAL, 0, false, 0, 0},
		{S("10;"), -EINVAL, 0, false, 0, 0},
		{S("g"), -EINVAL, 0, false, 0, 0},
		{S("10x"), -EINVAL, 0, false, 0, 0},
		{S("10=1234"), -EINVAL, 0, false, 0, 0},
		{S("10;thread:"), -EINVAL, 0, false, 0, 0},
		{S("10000000000000000"), -ERANGE, 0, false, 0, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_reg_req r;
		int err = rsp_parse_p(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "p(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err)
			CHECKF(r.regno == t[i].regno && r.thread.present == t[i].present &&
				       (!t[i].present || (r.thread.tid.pid == t[i].pid &&
							  r.thread.tid.tid == t[i].tid)),
			       "p(\"%s\") values", show(t[i].in, t[i].len));
	}
}

/* vCont actions rendered "c", "C05", "c@1.2", "s@N.31" ('@' = has tid) and ';'-joined */
static void render_vcont(const struct rsp_vcont *v, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < v->n && o < cap - 64; i++) {
		const struct rsp_vcont_action *a = &v->a[i];

		if (i)
			out[o++] = ';';
		out[o++] = a->action;
		if (a->action == 'C' || a->action == 'S')
			o += (size_t)sprintf(out + o, "%02x", a->sig);
		if (a->has_tid) {
			if (a->tid.pid == RSP_TID_NONE)
				o += (size_t)sprintf(out + o, "@N");
			else
				o += (size_t)sprintf(out + o, "@%lld", (long long)a->tid.pid);
			o += (size_t)sprintf(out + o, ".%lld", (long long)a->tid.tid);
		}
		out[o] = '\0';
	}
}

static void test_vcont(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		const char *want;
	} t[] = {
		{S("c"), 0, "c"},
		{S("c:p1.2"), 0, "c@1.2"},
		{S("s:p1.2;c"), 0, "s@1.2;c"},
		{S("C05"), 0, "C05"},
		{S("C1f:1f"), 0, "C1f@N.31"},
		{S("S0b:p1.-1"), 0, "S0b@1.-1"},
		{S("t"), 0, "t"},
		{S("t:p1"), 0, "t@1.-1"},
		{S("c:-1"), 0, "c@N.-1"},
		{S("r1000,2000:p1.2;c"), 0, "r@1.2;c"},
		{S("r1000,2000"), 0, "r"},
		{S("s:p1.2;s:p1.3;c"), 0, "s@1.2;s@1.3;c"},
		{S(""), -EINVAL, NULL},
		{S(";"), -EINVAL, NULL},
		{S("c;"), -EINVAL, NULL},
		{S(";c"), -EINVAL, NULL},
		{S("c;;c"), -EINVAL, NULL},
		{S("x"), -EINVAL, NULL},
		{S("cc"), -EINVAL, NULL},
		{S("C"), -EINVAL, NULL},
		{S("C5"), -EINVAL, NULL},
		{S("C0g"), -EINVAL, NULL},
		{S("C055"), -EINVAL, NULL},
		{S("S"), -EINVAL, NULL},
		{S("c:"), -EINVAL, NULL},
		{S("c:p1.2:3"), -EINVAL, NULL},
		{S("c:p1.2x"), -EINVAL, NULL},
		{S("c:p1.2,"), -EINVAL, NULL},
		{S("r1000"), -EINVAL, NULL},
		{S("r1000,"), -EINVAL, NULL},
		{S("r,2"), -EINVAL, NULL},
		{S("c\0"), -EINVAL, NULL},
		{S("c:8000000000000000"), -ERANGE, NULL},
	};
	struct rsp_vcont v;
	char got[512], in[256];
	size_t i, k, o;
	int err;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		err = rsp_parse_vcont(t[i].in, t[i].len, &v);
		CHECKF(err == t[i].err, "vcont(\"%s\") = %d, want %d", show(t[i].in, t[i].len), err,
		       t[i].err);
		if (!t[i].err) {
			render_vcont(&v, got, sizeof(got));
			CHECKF(strcmp(got, t[i].want) == 0, "vcont(\"%s\") = \"%s\", want \"%s\"",
			       show(t[i].in, t[i].len), got, t[i].want);
		}
	}

	/* RSP_VCONT_MAX actions fit, one more is -E2BIG */
	for (k = RSP_VCONT_MAX; k <= RSP_VCONT_MAX + 1; k++) {
		for (o = 0, i = 0; i < k; i++)
			o += (size_t)sprintf(in + o, "%ss", i ? ";" : "");
		err = rsp_parse_vcont(in, o, &v);
		CHECKF(err == (k <= RSP_VCONT_MAX ? 0 : -E2BIG), "vcont with %zu actions = %d", k,
		       err);
		if (!err)
			CHECK(v.n == k);
	}
}

static void test_vfile_open(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		const char *path;
		uint64_t flags, mode;
	} t[] = {
		{S("2f746d702f78,0,1a4"), 0, "/tmp/x", 0, 0x1a4},
		{S("2F746D70,241,1ff"), 0, "/tmp", 0x241, 0x1ff},
		{S(",0,0"), 0, "", 0, 0},
		{S("2f74,0"), -EINVAL, NULL, 0, 0},
		{S("2f74"), -EINVAL, NULL, 0, 0},
		{S("2f7,0,0"), -EINVAL, NULL, 0, 0},
		{S("2f00,0,0"), -EINVAL, NULL, 0, 0},
		{S("2f,0,0,"), -EINVAL, NULL, 0, 0},
		{S("2f,,0"), -EINVAL, NULL, 0, 0},
		{S("2f;0;0"), -EINVAL, NULL, 0, 0},
		{S("/tmp,0,0"), -EINVAL, NULL, 0, 0},
		{S("2f,0,10000000000000000"), -ERANGE, NULL, 0, 0},
	};
	static struct rsp_vfile_open r;
	static char in[2 * 4100 + 16];
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int err = rsp_parse_vfile_open(t[i].in, t[i].len, &r);

		CHECKF(err == t[i].err, "vfile_open(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		if (!t[i].err)
			CHECKF(strcmp(r.path, t[i].path) == 0 && r.flags == t[i].flags &&
				       r.mode == t[i].mode,
			       "vfile_open(\"%s\") values", show(t[i].in, t[i].len));
	}
	/* path of 4095 bytes + NUL fits, 4096 does not */
	for (k = 4095; k <= 4096; k++) {
		for (i = 0; i < k; i++)
			memcpy(in + 2 * i, "61", 2);
		strcpy(in + 2 * k, ",0,0");
		CHECKF(rsp_parse_vfile_open(in, strlen(in), &r) == (k < 4096 ? 0 : -E2BIG),
		       "vfile_open path of %zu bytes", k);
	}
}

#define MP  1
#define SW  2
#define HW  4
#define FK  8
#define VC  16
#define XML 32

static void test_qsupported(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		unsigned want;
	} t[] = {
		{S(""), 0, 0},
		{S(":multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-"
		   "events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;"
		   "xmlRegisters=i386"),
		 0, MP | SW | HW | FK | VC | XML},
		{S(":xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"), 0,
		 XML | MP | FK},
		{S(":multiprocess+"), 0, MP},
		{S(":swbreak+;hwbreak+"), 0, SW | HW},
		{S(":multiprocess-"), 0, 0},
		{S(":multiprocess+;multiprocess-"), 0, 0},
		{S(":swbreak?"), 0, 0},
		{S(":vContSupported+"), 0, VC},
		{S(":unknown+;other=1;what?"), 0, 0},
		{S(":xmlRegisters="), 0, 0},
		{S(":fork-events+"), 0, FK},
		{S(":vfork-events+"), 0, 0},
		{S(":multiprocess=1"), 0, 0},
		{S("multiprocess+"), -EINVAL, 0},
		{S(";multiprocess+"), -EINVAL, 0},
		{S(":"), -EINVAL, 0},
		{S(":;"), -EINVAL, 0},
		{S(":swbreak+;"), -EINVAL, 0},
		{S(":swbreak+;;hwbreak+"), -EINVAL, 0},
		{S(":swbreak"), -EINVAL, 0},
		{S(":+"), -EINVAL, 0},
		{S(":-"), -EINVAL, 0},
		{S(":=x"), -EINVAL, 0},
		{S(":-swbreak+"), -EINVAL, 0},
		{S(":sw break+"), -EINVAL, 0},
		{S(":sw+break+"), -EINVAL, 0},
		{S(":swbreak+\0"), -EINVAL, 0},
		{S(":a=b\0"), -EINVAL, 0},
		{S(": swbreak+"), -EINVAL, 0},
		{S("::swbreak+"), -EINVAL, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		struct rsp_client_features f;
		unsigned got;
		int err;

		memset(&f, 0xff, sizeof(f));
		err = rsp_parse_qsupported(t[i].in, t[i].len, &f);
		CHECKF(err == t[i].err, "qsupported(\"%s\") = %d, want %d", show(t[i].in, t[i].len),
		       err, t[i].err);
		if (t[i].err)
			continue;
		got = (f.multiprocess ? MP : 0) | (f.swbreak ? SW : 0) | (f.hwbreak ? HW : 0) |
		      (f.fork_events ? FK : 0) | (f.vcont_supported ? VC : 0) |
		      (f.xml_registers ? XML : 0);
		CHECKF(got == t[i].want, "qsupported(\"%s\") = %#x, want %#x",
		       show(t[i].in, t[i].len), got, t[i].want);
	}
}

/* ---------------------------------------------------------------- framer */

/* Replace each "#??" with the checksum of the bytes since the last '$'. */
static size_t fill_checksums(const char *in, size_t len, char *out)
{
	size_t i, start = 0;
	uint8_t sum;

	memcpy(out, in, len);
	for (i = 0; i < len; i++) {
		if (out[i] == '$')
			start = i + 1;
		if (out[i] == '#' && i + 2 < len && out[i + 1] == '?' && out[i + 2] == '?') {
			size_t j;

			for (sum = 0, j = start; j < i; j++)
				sum += (uint8_t)out[j];
			sprintf(out + i + 1, "%02x", sum);
			out[i + 3] = i + 3 < len ? in[i + 3] : '\0';
		}
	}
	return len;
}

static void render_event(const struct rsp_event *ev, char *out, size_t cap)
{
	switch (ev->type) {
	case RSP_EV_NONE:
		snprintf(out, cap, "NONE");
		break;
	case RSP_EV_PACKET:
		snprintf(out, cap, "P:%s", show(ev->data, ev->len));
		break;
	case RSP_EV_ACK:
		snprintf(out, cap, "+");
		break;
	case RSP_EV_NAK:
		snprintf(out, cap, "-");
		break;
	case RSP_EV_INTERRUPT:
		snprintf(out, cap, "^C");
		break;
	case RSP_EV_BAD_CHECKSUM:
		snprintf(out, cap, "CSUM");
		break;
	case RSP_EV_TOO_LONG:
		snprintf(out, cap, "LONG");
		break;
	case RSP_EV_BAD_PACKET:
		snprintf(out, cap, "BAD");
		break;
	default:
		snprintf(out, cap, "?%d", (int)ev->type);
	}
}

/*
 * Feed in[] to a fresh framer in chunks of `chunk` bytes (0: all at once),
 * checking the feed contract on the way, and render the events
 * space-separated into out.
 */
static void run_framer(const char *in, size_t len, size_t max, size_t chunk, char *out, size_t cap,
		       unsigned long *skipped)
{
	struct rsp_framer f;
	struct rsp_event ev;
	size_t off = 0, o = 0;

	out[0] = '\0';
	*skipped = 0;
	if (!CHECK(rsp_framer__init(&f, max) == 0))
		return;
	while (off < len) {
		size_t end = chunk ? off + chunk : len;

		if (end > len)
			end = len;
		while (off < end) {
			size_t used = rsp_framer__feed(&f, in + off, end - off, &ev);

			if (!CHECKF(used > 0 && used <= end - off, "feed used %zu of %zu", used,
				    end - off))
				goto out;
			off += used;
			if (ev.type == RSP_EV_NONE) {
				CHECKF(off == end, "NONE before the input ran out");
				continue;
			}
			if (ev.type == RSP_EV_PACKET) {
				CHECK(ev.len <= max);
				CHECK(ev.data[ev.len] == '\0');
			}
			if (o && o < cap - 1)
				out[o++] = ' ';
			render_event(&ev, out + o, cap - o);
			o += strlen(out + o);
		}
	}
	/* an empty feed changes nothing */
	CHECK(rsp_framer__feed(&f, in, 0, &ev) == 0 && ev.type == RSP_EV_NONE);
out:
	*skipped = f.skipped;
	rsp_framer__free(&f);
}

static void test_framer_table(void)
{
	static const struct {
		const char *in;
		size_t len;
		size_t max;
		const char *want;
		long skipped; /* -1: don't care */
	} t[] = {
		/* acks, naks, interrupts */
		{S("+"), 64, "+", 0},
		{S("-"), 64, "-", 0},
		{S("\x03"), 64, "^C", 0},
		{S("+-\x03+"), 64, "+ - ^C +", 0},
		/* plain packets, checksum digits in either case */
		{S("$#00"), 64, "P:", 0},
		{S("$OK#9a"), 64, "P:OK", 0},
		{S("$OK#9A"), 64, "P:OK", 0},
		{S("$g#67"), 64, "P:g", 0},
		{S("$qSupported:multiprocess+;swbreak+#??"), 64,
		 "P:qSupported:multiprocess+;swbreak+", 0},
		{S("$m401000,10#??"), 64, "P:m401000,10", 0},
		{S("$vCont;c:p1.2#??"), 64, "P:vCont;c:p1.2", 0},
		/* bad checksums */
		{S("$OK#9b"), 64, "CSUM", 0},
		{S("$OK#00"), 64, "CSUM", 0},
		{S("$OK#9b$OK#9a"), 64, "CSUM P:OK", 0},
		/* bad checksum digits: the packet is malformed, the digit consumed */
		{S("$OK#9g"), 64, "BAD", 0},
		{S("$OK#g9"), 64, "BAD", 1},
		{S("$OK#$OK#9a"), 64, "BAD", 5},
		{S("$OK# 9a+"), 64, "BAD +", 2},
		/* escapes */
		{S("$}]#??"), 64, "P:}", 0},
		{S("$}\x03#??"), 64, "P:#", 0},
		{S("$}\x04#??"), 64, "P:$", 0},
		{S("$}\x0a#??"), 64, "P:*", 0},
		{S("$a}]b}\003c#??"), 64, "P:a}b#c", 0},
		{S("$}\x20#??"), 64, "P:\\x00", 0},
		{S("$}}#??"), 64, "P:]", 0},
		{S("$a}#??"), 64, "BAD", 0},
		{S("$a}$OK#9a"), 64, "P:OK", 0},
		/* run-length encoding: X*n is X repeated n - 29 more times */
		{S("$0* #??"), 64, "P:0000", 0},
		{S("$0*\"#??"), 64, "P:000000", 0},
		{S("$ab*!c#??"), 64, "P:abbbbbc", 0},
		{S("$}]*!#??"), 64, "P:}}}}}", 0},
		{S("$x* * #??"), 64, "P:xxxxxxx", 0},
		{S("$0*~#??"), 98,
		 "P:"
		 "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		 "00000000000000000",
		 0},
		{S("$0*~#??"), 97, "LONG", 0},
		{S("$0*}#??"), 200,
		 "P:"
		 "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		 "0000000000000000",
		 0},
		{S("$* #??"), 64, "BAD", 0},
		{S("$*x#??"), 64, "BAD", 0},
		{S("$0*#??"), 64, "BAD", 0},
		{S("$0*\x1f#??"), 64, "BAD", 0},
		{S("$0*\x7f#??"), 64, "BAD", 0},
		{S("$0*\xff#??"), 64, "BAD", 0},
		{S("$0*$OK#9a"), 64, "P:OK", 0},
		{S("$* #??$OK#9a"), 64, "BAD P:OK", 0},
		/* max_payload: exactly fits, one over, over by RLE; stream stays in sync */
		{S("$abcd#??"), 4, "P:abcd", 0},
		{S("$abcde#??"), 4, "LONG", 0},
		{S("$abcde#??$ok#??"), 4, "LONG P:ok", 0},
		{S("$abcdefghijklmnopqrstuvwxyz#??+"), 4, "LONG +", 0},
		{S("$a* #??"), 4, "P:aaaa", 0},
		{S("$a*!#??"), 4, "LONG", 0},
		{S("$abcd}]#??"), 4, "LONG", 0},
		{S("$abcde#00"), 4, "CSUM", 0},
		{S("$#00$a#61"), 0, "P: LONG", 0},
		/* '$' restarts; '+', '-', 0x03 inside a body are data */
		{S("$abc$OK#9a"), 64, "P:OK", 0},
		{S("$$$OK#9a"), 64, "P:OK", 0},
		{S("$a+-\003b#??"), 64, "P:a+-\\x03b", 0},
		{S("$a\0b#??"), 64, "P:a\\x00b", 0},
		{S("$\xff\x80#??"), 64, "P:\\xff\\x80", 0},
		/* several packets and events in one feed */
		{S("$a#61$b#62+"), 64, "P:a P:b +", 0},
		{S("+$qC#b4+$g#67-\x03"), 64, "+ P:qC + P:g - ^C", 0},
		{S("\x03$vCtrlC#??"), 64, "^C P:vCtrlC", 0},
		/* garbage between packets is skipped and counted */
		{S("xyz$OK#9a\r\nfoo+"), 64, "P:OK +", 8},
		{S("#9a$OK#9a"), 64, "P:OK", 3},
		{S("%Stop:T05#??"), 64, "", 12},
		{S("}*#\x04"), 64, "", 4},
		{S(""), 64, "", 0},
		/* incomplete input: no event yet */
		{S("$OK"), 64, "", 0},
		{S("$OK#9"), 64, "", 0},
	};
	static const size_t chunks[] = {0, 1, 2, 3, 7};
	char in[512], got[2048], first[2048];
	unsigned long skipped;
	size_t i, k, len;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		len = fill_checksums(t[i].in, t[i].len, in);
		for (k = 0; k < ARRAY_SIZE(chunks); k++) {
			run_framer(in, len, t[i].max, chunks[k], got, sizeof(got), &skipped);
			if (k == 0) {
				CHECKF(strcmp(got, t[i].want) == 0,
				       "framer(\"%s\", max %zu) = \"%s\", want \"%s\"",
				       show(in, len), t[i].max, got, t[i].want);
				if (t[i].skipped >= 0)
					CHECKF(skipped == (unsigned long)t[i].skipped,
					       "framer(\"%s\") skipped %lu, want %ld",
					       show(in, len), skipped, t[i].skipped);
				strcpy(first, got);
			} else {
				CHECKF(strcmp(got, first) == 0,
				       "framer(\"%s\") in chunks of %zu = \"%s\", whole = \"%s\"",
				       show(in, len), chunks[k], got, first);
			}
		}
	}
}

static void test_framer_feed_contract(void)
{
	static const char in[] = "$a#61+xx$b#62";
	struct rsp_framer f;
	struct rsp_event ev;
	size_t used;

	if (!CHECK(rsp_framer__init(&f, 16) == 0))
		return;
	/* one event per call, consumed count points just past it */
	used = rsp_framer__feed(&f, in, sizeof(in) - 1, &ev);
	CHECK(used == 5 && ev.type == RSP_EV_PACKET && ev.len == 1 && ev.data[0] == 'a');
	used = rsp_framer__feed(&f, in + 5, sizeof(in) - 6, &ev);
	CHECK(used == 1 && ev.type == RSP_EV_ACK);
	used = rsp_framer__feed(&f, in + 6, 4, &ev);
	CHECK(used == 4 && ev.type == RSP_EV_NONE && ev.data == NULL && ev.len == 0);
	CHECK(f.skipped == 2 && f.state == RSP_FS_BODY);
	used = rsp_framer__feed(&f, in + 10, 3, &ev);
	CHECK(used == 3 && ev.type == RSP_EV_PACKET && ev.len == 1 && ev.data[0] == 'b');
	CHECK(f.state == RSP_FS_IDLE);
	rsp_framer__free(&f);
	CHECK(f.pkt == NULL);
	rsp_framer__free(&f); /* twice is harmless */

	CHECK(rsp_framer__init(&f, SIZE_MAX) == -ENOMEM);
	CHECK(rsp_framer__init(&f, 0) == 0);
	rsp_framer__free(&f);
}

static void test_encode(void)
{
	struct rsp_framer f;
	struct rsp_event ev;
	struct rsp_buf b;
	unsigned char all[256];
	size_t i, used, esc;

	rsp_buf__init(&b);
	CHECK(rsp_frame__encode(&b, '$', "OK", 2) == 0 && strcmp(b.data, "$OK#9a") == 0);
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, '$', "", 0) == 0 && strcmp(b.data, "$#00") == 0);
	rsp_buf__reset(&b);
	/* the checksum covers the escaped bytes: '}' + ']' = 0xda */
	CHECK(rsp_frame__encode(&b, '$', "}", 1) == 0 && strcmp(b.data, "$}]#da") == 0);
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, '$', "$#*", 3) == 0 &&
	      strcmp(b.data, "$}\x04}\x03}\x0a#88") == 0);
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, '%', "Stop:T05", 8) == 0 &&
	      strcmp(b.data, "%Stop:T05#99") == 0);
	rsp_buf__reset(&b);
	/* appends to what is there */
	rsp_buf__puts(&b, "+");
	CHECK(rsp_frame__encode(&b, '$', "OK", 2) == 0 && strcmp(b.data, "+$OK#9a") == 0);
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, 'x', "OK", 2) == -EINVAL && b.len == 0);
	/* never run-length encoded */
	CHECK(rsp_frame__encode(&b, '$', "0000000000", 10) == 0 &&
	      strcmp(b.data, "$0000000000#e0") == 0);
	rsp_buf__reset(&b);

	if (!CHECK(rsp_framer__init(&f, 256) == 0))
		goto out;

	/* every byte value alone: escaped exactly when special, and round-trips */
	for (i = 0; i < 256; i++) {
		unsigned char ch = (unsigned char)i;

		rsp_buf__reset(&b);
		CHECK(rsp_frame__encode(&b, '$', &ch, 1) == 0);
		esc = ch == '$' || ch == '#' || ch == '}' || ch == '*';
		CHECKF(b.len == 5 + esc, "encode byte %#zx: %zu bytes", i, b.len);
		if (esc)
			CHECKF(b.data[1] == '}' && (unsigned char)b.data[2] == (ch ^ 0x20),
			       "encode byte %#zx escape", i);
		used = rsp_framer__feed(&f, b.data, b.len, &ev);
		CHECKF(used == b.len && ev.type == RSP_EV_PACKET && ev.len == 1 &&
			       (unsigned char)ev.data[0] == ch,
		       "round trip of byte %#zx", i);
	}

	/* all 256 values in one payload, forwards and backwards */
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, '$', all, sizeof(all)) == 0);
	used = rsp_framer__feed(&f, b.data, b.len, &ev);
	CHECK(used == b.len && ev.type == RSP_EV_PACKET && ev.len == 256 &&
	      memcmp(ev.data, all, 256) == 0);
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	rsp_buf__reset(&b);
	CHECK(rsp_frame__encode(&b, '$', all, sizeof(all)) == 0);
	for (used = 0; used < b.len - 1; used++) {
		CHECK(rsp_framer__feed(&f, b.data + used, 1, &ev) == 1 && ev.type == RSP_EV_NONE);
	}
	CHECK(rsp_framer__feed(&f, b.data + used, 1, &ev) == 1 && ev.type == RSP_EV_PACKET &&
	      ev.len == 256 && memcmp(ev.data, all, 256) == 0);
	rsp_framer__free(&f);
out:
	rsp_buf__free(&b);
}

/* ---------------------------------------------------------------- dispatch */

static int h_any(void *ctx, const char *args, size_t len, struct rsp_buf *reply)
{
	return 0;
}

static const struct rsp_handler tbl[] = {
	{"?", NULL, h_any},
	{"g", NULL, h_any},
	{"m", NULL, h_any},
	{"q", NULL, h_any},
	{"qC", NULL, h_any},
	{"qSupported", NULL, h_any},
	{"qXfer:", NULL, h_any},
	{"qXfer:features:read:", "qXfer:features:read+", h_any},
	{"qXfer:auxv:read:", "qXfer:auxv:read+", h_any},
	{"qXfer:exec-file:read:", "qXfer:exec-file:read+", h_any},
	{"vCont", NULL, h_any},
	{"vCont?", "vContSupported+", h_any},
	{"vFile:", NULL, h_any},
	{"vFile:open:", "qXfer:auxv:read+", h_any},
	{NULL, "no-packet-feature+", NULL},
	{"QStartNoAckMode", "QStartNoAckMode+", h_any},
	{"QStartNoAckMode", "", h_any},
	{"Z0,", "swbreak+", h_any},
};

static void test_dispatch(void)
{
	static const struct {
		const char *pkt;
		size_t len;
		const char *want; /* NULL: no handler */
		size_t idx;
	} t[] = {
		{S("?"), "?", 0},
		{S("g"), "g", 1},
		{S("m401000,10"), "m", 2},
		{S("mx"), "m", 2},
		{S("qC"), "qC", 4},
		{S("qCRC:1,2"), "q", 3},
		{S("qC:1"), "qC", 4},
		{S("qC\0"), "q", 3},
		{S("qSupported"), "qSupported", 5},
		{S("qSupported:multiprocess+"), "qSupported", 5},
		{S("qSupportedX"), "q", 3},
		{S("qXfer:features:read:target.xml:0,fff"), "qXfer:features:read:", 7},
		{S("qXfer:auxv:read::0,fff"), "qXfer:auxv:read:", 8},
		{S("qXfer:libraries:read::0,1"), "qXfer:", 6},
		{S("qXfer:auxv:read"), "qXfer:", 6},
		{S("q"), "q", 3},
		{S("vCont;c"), "vCont", 10},
		{S("vCont"), "vCont", 10},
		{S("vCont?"), "vCont?", 11},
		{S("vContX"), NULL, 0},
		{S("vFile:open:2f,0,0"), "vFile:open:", 13},
		{S("vFile:close:3"), "vFile:", 12},
		{S("vFile"), NULL, 0},
		{S("QStartNoAckMode"), "QStartNoAckMode", 15},
		{S("QStartNoAckModeX"), NULL, 0},
		{S("Q"), NULL, 0},
		{S("Z0,401000,1"), "Z0,", 17},
		{S("Z1,401000,1"), NULL, 0},
		{S(""), NULL, 0},
		{S("x"), NULL, 0},
	};
	size_t i, nlen;
	struct rsp_buf b;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		const struct rsp_handler *h;

		nlen = 999;
		h = rsp_dispatch__find(tbl, ARRAY_SIZE(tbl), t[i].pkt, t[i].len, &nlen);
		if (!t[i].want) {
			CHECKF(!h && nlen == 0, "find(\"%s\") = \"%s\", want none",
			       show(t[i].pkt, t[i].len), h ? h->name : "");
			continue;
		}
		CHECKF(h == &tbl[t[i].idx] && nlen == strlen(t[i].want),
		       "find(\"%s\") = \"%s\" (%zu), want \"%s\"", show(t[i].pkt, t[i].len),
		       h ? h->name : "(none)", nlen, t[i].want);
	}
	CHECK(rsp_dispatch__find(tbl, 0, "g", 1, &nlen) == NULL && nlen == 0);
	CHECK(rsp_dispatch__find(tbl, ARRAY_SIZE(tbl), "g", 1, NULL) == &tbl[1]);
	/* the length bounds the packet even when the bytes go on */
	CHECK(rsp_dispatch__find(tbl, ARRAY_SIZE(tbl), "qCRC:", 2, &nlen) == &tbl[4] && nlen == 2);

	rsp_buf__init(&b);
	CHECK(rsp_dispatch__supported(tbl, ARRAY_SIZE(tbl), 0x4000, &b) == 0);
	CHECKF(b.data && strcmp(b.data, "PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;"
					"qXfer:exec-file:read+;vContSupported+;"
					"no-packet-feature+;QStartNoAckMode+;swbreak+") == 0,
	       "supported = \"%s\"", b.data ? b.data : "(null)");
	rsp_buf__reset(&b);
	CHECK(rsp_dispatch__supported(tbl, 0, 0x3fff, &b) == 0 &&
	      strcmp(b.data, "PacketSize=3fff") == 0);
	rsp_buf__reset(&b);
	rsp_buf__puts(&b, "x");
	CHECK(rsp_dispatch__supported(tbl, 3, 0x10, &b) == 0 &&
	      strcmp(b.data, "xPacketSize=10") == 0);
	rsp_buf__free(&b);
}

/* ---------------------------------------------------------------- buf */

static void test_buf(void)
{
	struct rsp_buf b;

	rsp_buf__init(&b);
	CHECK(rsp_buf__put_hex(&b, "\x01\xab", 2) == 0 && strcmp(b.data, "01ab") == 0);
	CHECK(rsp_buf__put_le_hex(&b, 0x1234, 4) == 0 && strcmp(b.data, "01ab34120000") == 0);
	rsp_buf__consume(&b, 4);
	CHECK(strcmp(b.data, "34120000") == 0 && b.len == 8);
	rsp_buf__reset(&b);
	CHECK(rsp_buf__put_xml(&b, "<a&'\">") == 0 &&
	      strcmp(b.data, "&lt;a&amp;&apos;&quot;&gt;") == 0);
	rsp_buf__reset(&b);
	CHECK(rsp_buf__put_unavail(&b, 2) == 0 && strcmp(b.data, "xxxx") == 0);
	CHECK(rsp_buf__reserve(&b, RSP_BUF_MAX + 1) == -ENOMEM && b.oom);
	CHECK(rsp_buf__putc(&b, 'x') == -ENOMEM);
	rsp_buf__free(&b);
}

int main(void)
{
	test_hex_u64();
	test_cursor();
	test_hex_s64();
	test_hex_bytes();
	test_token();
	test_hex_list();
	test_hex_string();
	test_tid();
	test_mem();
	test_write();
	test_qxfer();
	test_thread_suffix();
	test_p();
	test_vcont();
	test_vfile_open();
	test_qsupported();
	test_framer_table();
	test_framer_feed_contract();
	test_encode();
	test_dispatch();
	test_buf();
	return check_summary("unit");
}
