/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_rsp_monitor.c - unit tests for rsp/monitor.c: splitting
 * a `monitor` line into words, matching command names, and the values
 * commands take (sizes, bounded numbers, on/off).
 *
 * Every input is copied into a malloc'd buffer of exactly its length, so
 * under ASan a parser that reads one byte too far fails loudly.  The last
 * line is "rsp-monitor: N passed, M failed".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_COUNTERS
#include "rsp/monitor.h"
#include "tests/unit/check.h"

/* The words of line joined with '|', or "E<errno>: msg". */
static const char *split(const char *line)
{
	static char out[2048];
	static struct rsp_mon_line l;
	size_t len = strlen(line), i, o = 0;
	char *copy = malloc(len ? len : 1), msg[160] = "";
	int err;

	memcpy(copy, line, len);
	err = rsp_mon_split(copy, len, &l, msg, sizeof(msg));
	if (err) {
		snprintf(out, sizeof(out), "E%d: %s", -err, msg);
	} else {
		out[0] = '\0';
		for (i = 0; i < l.argc; i++)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s@%zu", i ? "|" : "",
					      l.argv[i], l.start[i]);
	}
	free(copy);
	return out;
}

static void test_split(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{"", ""},
		{"   ", ""},
		{"help", "help@0"},
		{"  status  ", "status@2"},
		{"set stack-window 4k", "set@0|stack-window@4|4k@17"},
		{"set\tdeep-collect\toff", "set@0|deep-collect@4|off@17"},
		{"trace \"a b\" if x > 1", "trace@0|a b@6|if@12|x@15|>@17|1@19"},
		{"say 'it''s'", "say@0|its@4"},
		{"say \"q\\\"x\"", "say@0|q\"x@4"},
		{"say 'a\\b'", "say@0|a\\b@4"},
		{"a\"b c\"d", "ab cd@0"},
		{"say \"unterminated", "E22: unterminated \" quote"},
		{"say 'x", "E22: unterminated ' quote"},
		{"bad\x01", "E22: control character 0x01 in the command"},
		{"say \"\\\x02\"", "E22: control character 0x02 in the command"},
		{"say \"trailing\\", "E22: unterminated \" quote"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = split(rows[i].in);

		CHECKF(!strcmp(got, rows[i].want), "split(%s) = '%s', want '%s'",
		       show(rows[i].in, strlen(rows[i].in)), got, rows[i].want);
	}
}

static void test_split_limits(void)
{
	char line[RSP_MON_LINE_MAX + 2];
	size_t i;

	memset(line, 'a', sizeof(line));
	line[RSP_MON_LINE_MAX] = '\0';
	CHECKF(strncmp(split(line), "E", 1) != 0, "a %d-byte word splits", RSP_MON_LINE_MAX);
	line[RSP_MON_LINE_MAX] = 'a';
	line[RSP_MON_LINE_MAX + 1] = '\0';
	CHECK(!strncmp(split(line), "E7: command longer than", 23));
	/* Words up to the limit, then one too many. */
	for (i = 0; i < RSP_MON_WORDS_MAX; i++) {
		line[2 * i] = 'w';
		line[2 * i + 1] = ' ';
	}
	line[2 * RSP_MON_WORDS_MAX] = '\0';
	CHECK(strncmp(split(line), "E", 1) != 0);
	line[2 * RSP_MON_WORDS_MAX] = 'x';
	line[2 * RSP_MON_WORDS_MAX + 1] = '\0';
	CHECK(!strcmp(split(line), "E7: more than 32 words"));
	/* The most words of the shortest kind all fit in buf. */
	memset(line, ' ', RSP_MON_LINE_MAX);
	for (i = 0; i < RSP_MON_WORDS_MAX; i++)
		line[i * 2] = '"', line[i * 2 + 1] = '"';
	line[RSP_MON_LINE_MAX] = '\0';
	CHECK(strncmp(split(line), "E", 1) != 0);
}

static void test_match(void)
{
	struct rsp_mon_line l;
	char msg[100];

	rsp_mon_split("set stack-window 4k", 19, &l, msg, sizeof(msg));
	CHECK(rsp_mon_match(&l, "set stack-window") == 2);
	CHECK(rsp_mon_match(&l, "set") == 1);
	CHECK(rsp_mon_match(&l, "set deep-collect") == 0);
	CHECK(rsp_mon_match(&l, "set stack-window 4k now") == 0);
	CHECK(rsp_mon_match(&l, "set stack") == 0);
	CHECK(rsp_mon_match(&l, "se") == 0);
	CHECK(rsp_mon_match(&l, "") == 0);
	rsp_mon_split("", 0, &l, msg, sizeof(msg));
	CHECK(rsp_mon_match(&l, "help") == 0);
}

static void num(const char *in, bool sizes, bool off, uint64_t max, int want_err, uint64_t want,
		const char *want_msg)
{
	size_t len = strlen(in);
	char *copy = malloc(len + 1), msg[160] = "";
	uint64_t v = 12345;
	int err;

	memcpy(copy, in, len + 1);
	err = rsp_mon_number(copy, "set x", sizes, off, 0, max, &v, msg, sizeof(msg));
	CHECKF(err == want_err, "number(%s) = %d, want %d (%s)", in, err, want_err, msg);
	if (!err && !want_err)
		CHECKF(v == want, "number(%s) = %llu, want %llu", in, (unsigned long long)v,
		       (unsigned long long)want);
	if (want_msg)
		CHECKF(!strcmp(msg, want_msg), "number(%s) says '%s', want '%s'", in, msg,
		       want_msg);
	free(copy);
}

static void test_numbers(void)
{
	num("512", true, true, 8192, 0, 512, NULL);
	num("0", true, true, 8192, 0, 0, NULL);
	num("off", true, true, 8192, 0, 0, NULL);
	num("4k", true, true, 8192, 0, 4096, NULL);
	num("8K", true, true, 8192, 0, 8192, NULL);
	num("0x200", true, true, 8192, 0, 512, NULL);
	num("0X1k", true, true, 8192, 0, 1024, NULL);
	num("1m", true, true, 1u << 20, 0, 1u << 20, NULL);
	num("9000", true, true, 8192, -ERANGE, 0, "set x: 9000 is out of bounds (0..8192)");
	num("9k", true, true, 8192, -ERANGE, 0, "set x: 9216 is out of bounds (0..8192)");
	num("12x", true, true, 8192, -EINVAL, 0,
	    "set x: '12x' is not a size (off or BYTES, e.g. 512 or 4k)");
	num("off", true, false, 8192, -EINVAL, 0, "set x: 'off' is not a size (e.g. 512 or 4k)");
	num("4k", false, false, 8192, -EINVAL, 0, "set x: '4k' is not a number");
	num("", true, true, 8192, -EINVAL, 0, NULL);
	num("k", true, true, 8192, -EINVAL, 0, NULL);
	num("0x", true, true, 8192, -EINVAL, 0, NULL);
	num("-1", true, true, 8192, -EINVAL, 0, NULL);
	num("+1", true, true, 8192, -EINVAL, 0, NULL);
	num(" 1", true, true, 8192, -EINVAL, 0, NULL);
	num("18446744073709551615", false, false, UINT64_MAX, 0, UINT64_MAX, NULL);
	num("18446744073709551616", false, false, UINT64_MAX, -ERANGE, 0, NULL);
	num("18014398509481984k", true, false, UINT64_MAX, -ERANGE, 0, NULL);
	num("0xffffffffffffffff", false, false, UINT64_MAX, 0, UINT64_MAX, NULL);
	num("0x1ffffffffffffffff", false, false, UINT64_MAX, -ERANGE, 0, NULL);
}

static void test_bool(void)
{
	static const struct {
		const char *in;
		int err;
		bool v;
	} rows[] = {
		{"on", 0, true},  {"off", 0, false}, {"1", 0, true},	 {"0", 0, false},
		{"yes", 0, true}, {"no", 0, false},  {"On", -EINVAL, 0}, {"", -EINVAL, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char msg[100] = "";
		bool v = !rows[i].v;
		int err = rsp_mon_bool(rows[i].in, "tlive", &v, msg, sizeof(msg));

		CHECKF(err == rows[i].err, "bool(%s) = %d", rows[i].in, err);
		if (!err)
			CHECKF(v == rows[i].v, "bool(%s) = %d", rows[i].in, v);
	}
	{
		char msg[100];
		bool v;

		rsp_mon_bool("maybe", "tlive", &v, msg, sizeof(msg));
		CHECK(!strcmp(msg, "tlive: 'maybe' is not on or off"));
	}
}

static void test_durations(void)
{
	static const struct {
		const char *in;
		int err;
		uint64_t v;
		const char *fmt; /* rsp_mon_fmt_duration of v */
	} rows[] = {
		{"90s", 0, 90, "90s"},
		{"90", 0, 90, "90s"},
		{"30m", 0, 1800, "30m"},
		{"90m", 0, 5400, "90m"},
		{"2h", 0, 7200, "2h"},
		{"1d", 0, 86400, "1d"},
		{"off", 0, 0, "off"},
		{"30d", 0, 2592000, "30d"},
		{"31d", -ERANGE, 0, NULL},
		{"0", -ERANGE, 0, NULL},
		{"0s", -ERANGE, 0, NULL},
		{"-1h", -EINVAL, 0, NULL},
		{"1y", -EINVAL, 0, NULL},
		{"h", -EINVAL, 0, NULL},
		{"", -EINVAL, 0, NULL},
		{"1.5h", -EINVAL, 0, NULL},
		{"99999999999999999999d", -ERANGE, 0, NULL},
		{"9999999999999999d", -ERANGE, 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char msg[160] = "", fmt[32];
		uint64_t v = 12345;
		int err =
			rsp_mon_duration(rows[i].in, "set t", 1, 30 * 86400, &v, msg, sizeof(msg));

		CHECKF(err == rows[i].err, "duration(%s) = %d, want %d (%s)", rows[i].in, err,
		       rows[i].err, msg);
		if (err || rows[i].err)
			continue;
		CHECKF(v == rows[i].v, "duration(%s) = %llu", rows[i].in, (unsigned long long)v);
		rsp_mon_fmt_duration(v, fmt, sizeof(fmt));
		CHECKF(!strcmp(fmt, rows[i].fmt), "fmt(%llu) = %s", (unsigned long long)v, fmt);
	}
	{
		char msg[160];
		uint64_t v;

		rsp_mon_duration("5x", "set t", 1, 60, &v, msg, sizeof(msg));
		CHECK(!strcmp(msg, "set t: '5x' is not a duration (off, or a number with s, m, h "
				   "or d: 90s, 30m, 2h)"));
		rsp_mon_duration("2m", "set t", 1, 60, &v, msg, sizeof(msg));
		CHECK(!strcmp(msg, "set t: 2m is too long (at most 60s)"));
	}
}

int main(void)
{
	test_split();
	test_split_limits();
	test_match();
	test_numbers();
	test_bool();
	test_durations();
	return check_summary("rsp-monitor");
}
