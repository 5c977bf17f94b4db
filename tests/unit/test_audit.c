/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_audit.c - the audit sinks' escaping (stub/base/audit.c): each
 * value as a JSON string and as a syslog value, exactly, for quotes,
 * backslashes, control characters, invalid UTF-8 and values past the cap;
 * then whole events appended to a file, each line checked by a small JSON
 * validator (a flat object of strings and numbers, valid UTF-8), with the
 * session and peer attribution.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "rsp/buf.h"
#include "stub/base/audit.h"
#include "tests/unit/check.h"

static char *json(const char *v)
{
	static char out[16384];
	struct rsp_buf b;

	rsp_buf__init(&b);
	audit__json_string(&b, v);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "(null)");
	rsp_buf__free(&b);
	return out;
}

static char *slog(const char *v)
{
	static char out[16384];
	struct rsp_buf b;

	rsp_buf__init(&b);
	audit__syslog_value(&b, v);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "(null)");
	rsp_buf__free(&b);
	return out;
}

#define JSON_IS(v, want)                                                                           \
	CHECKF(!strcmp(json(v), want), "json(%s): got %s, want %s", #v, json(v), want)
#define SLOG_IS(v, want)                                                                           \
	CHECKF(!strcmp(slog(v), want), "syslog(%s): got %s, want %s", #v, slog(v), want)

/* ---- a small JSON validator: one flat object of strings and numbers ---- */

static size_t utf8_ok(const unsigned char *p)
{
	int n = p[0] < 0x80		? 1
		: (p[0] & 0xe0) == 0xc0 ? 2
		: (p[0] & 0xf0) == 0xe0 ? 3
		: (p[0] & 0xf8) == 0xf0 ? 4
					: 0;
	uint32_t cp;
	int i;

	if (!n)
		return 0;
	cp = n == 1 ? p[0] : p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (size_t)n;
}

/* A JSON string at *pp; moves past it.  Its decoded ASCII-only copy in out (others '?'). */
static bool j_string(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t o = 0, n;

	if (*p++ != '"')
		return false;
	while (*p != '"') {
		char c = *p;

		if (!c || (unsigned char)c < 0x20)
			return false;
		if (c == '\\') {
			p++;
			if (strchr("\"\\/bfnrt", *p) && *p) {
				c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
				p++;
			} else if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return false;
				c = '?';
				p += 5;
			} else {
				return false;
			}
		} else {
			n = utf8_ok((const unsigned char *)p);
			if (!n)
				return false;
			if (n > 1)
				c = '?';
			p += n;
		}
		if (o + 1 < cap)
			out[o++] = c;
	}
	out[o] = '\0';
	*pp = p + 1;
	return true;
}

/* One line: {"k":"v"|number,...}; the value of key want (if any) into val. */
static bool j_line(const char *p, const char *want, char *val, size_t cap)
{
	char k[64], v[8192];

	if (val)
		val[0] = '\0';
	if (*p++ != '{')
		return false;
	for (;;) {
		if (!j_string(&p, k, sizeof(k)) || *p++ != ':')
			return false;
		if (*p == '"') {
			if (!j_string(&p, v, sizeof(v)))
				return false;
		} else {
			size_t n = strspn(p, "-0123456789");

			if (!n || n >= sizeof(v))
				return false;
			memcpy(v, p, n);
			v[n] = '\0';
			p += n;
		}
		if (want && val && cap && !strcmp(k, want)) {
			size_t l = strlen(v) < cap - 1 ? strlen(v) : cap - 1;

			memcpy(val, v, l);
			val[l] = '\0';
		}
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != ',')
			return false;
	}
}

static void test_json_escaping(void)
{
	char big[6000];

	JSON_IS("plain", "\"plain\"");
	JSON_IS("", "\"\"");
	JSON_IS("say \"hi\"", "\"say \\\"hi\\\"\"");
	JSON_IS("a\\b", "\"a\\\\b\"");
	JSON_IS("l1\nl2\r\tx", "\"l1\\nl2\\r\\tx\"");
	JSON_IS("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	JSON_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid UTF-8: a stray continuation, a lone lead, overlong, a surrogate, > U+10FFFF. */
	JSON_IS("a\x80z", "\"a\\ufffdz\"");
	JSON_IS("a\xc3", "\"a\\ufffd\"");
	JSON_IS("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	JSON_IS("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("\xff", "\"\\ufffd\"");

	/* Past the cap: 4096 bytes, then the marker. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(strlen(json(big)) == 1 + 4096 + strlen("...[truncated]") + 1);
	CHECK(strstr(json(big), "x...[truncated]\"") != NULL);
	/* Not cut inside a character: 4095 'x' then a 2-byte one stays out whole. */
	memset(big, 'x', 4095);
	strcpy(big + 4095, "\xc3\xa9tail");
	CHECK(strstr(json(big), "x...[truncated]\"") != NULL);
	CHECK(strstr(json(big), "\xc3") == NULL);
}

static void test_syslog_escaping(void)
{
	SLOG_IS("plain", "plain");
	SLOG_IS("", "\"\"");
	SLOG_IS("two words", "\"two words\"");
	SLOG_IS("k=v", "\"k=v\"");
	SLOG_IS("say \"hi\"", "\"say \\\"hi\\\"\"");
	SLOG_IS("a\\b", "a\\\\b");
	SLOG_IS("l1\nl2\tx\r", "l1\\nl2\\tx\\r");
	SLOG_IS("\x01\x7f", "\\x01\\x7f");
	SLOG_IS("caf\xc3\xa9", "caf\xc3\xa9");
	SLOG_IS("a\x80z\xff", "a\\x80z\\xff");
	SLOG_IS("\xed\xa0\x80", "\\xed\\xa0\\x80");
}

static char *read_all(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static void test_file_events(void)
{
	char dir[] = "/tmp/bpfstub-unit-audit-XXXXXX", path[256], err[256] = "", val[256];
	char big[9000], *all, *line, *save = NULL;
	char *lines[16] = {0};
	struct audit *a = NULL;
	struct stat st;
	int n = 0, i;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	CHECK(audit__new(&a, path, err, sizeof(err)) == 0 && a);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	audit__set_target(a, 4242);
	CHECK(audit__client(a)); /* no connection logged yet: stdio, or no access control */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	audit__log(a, "tp_source", "text", "collect \"x\"\n\\ \x01 \xff\xfe end", NULL);
	audit__connect(a, "127.0.0.1:40122", "1001", true, "");
	CHECK(audit__client(a));
	audit__log(a, "tp_define", "location", big, NULL);
	audit__log(a, "tp_detached", "by", "bpfstub", "why", "guard", NULL);
	audit__connect(a, "10.0.0.9:5", NULL, false, "busy");
	CHECK(audit__client(a)); /* the refused one does not end it */
	audit__disconnect(a);
	CHECK(!audit__client(a));
	audit__log(a, "tstop", "by", "bpfstub", NULL);
	audit__log(NULL, "ignored", "k", "v", NULL);
	audit__free(a);

	all = read_all(path);
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		CHECKF(j_line(line, NULL, NULL, 0), "not a JSON object: %.200s", line);
		CHECKF(strstr(line, "\"target_pid\":4242"), "no target_pid: %.200s", line);
		CHECKF(strstr(line, "\"bpfstub_pid\":"), "no bpfstub_pid: %.200s", line);
		CHECKF(!strncmp(line, "{\"time\":\"", 9) && line[32] == 'Z' && line[28] == '.',
		       "time not RFC 3339 with ms: %.60s", line);
		if (n < 16) {
			lines[n] = strdup(line);
		}
	}
	CHECKF(n == 7, "%d lines", n);
	if (n != 7)
		goto out;
	/* 0: escaped text, no session. */
	CHECK(j_line(lines[0], "text", val, sizeof(val)) &&
	      !strcmp(val, "collect \"x\"\n\\ ? ?? end"));
	CHECK(strstr(lines[0], "\"session\":0,"));
	CHECK(!strstr(lines[0], "\"peer\""));
	/* 1: the accepted connection opens session 1; its empty "why" is left out. */
	CHECK(strstr(strstr(lines[1], "\"peer\"") + 1, "\"peer\"") == NULL);
	CHECK(strstr(lines[1], "\"session\":1,"));
	CHECK(j_line(lines[1], "peer", val, sizeof(val)) && !strcmp(val, "127.0.0.1:40122"));
	CHECK(!strstr(lines[1], "\"why\""));
	/* 2: the client's change: session and peer; the value cut. */
	CHECK(strstr(lines[2], "\"session\":1,\"peer\":\"127.0.0.1:40122\",\"location\":\"yyy"));
	CHECK(strstr(lines[2], "y...[truncated]\"}"));
	CHECK(strlen(lines[2]) < 4096 + 200);
	/* 3: the stub's own: no peer. */
	CHECK(strstr(lines[3], "\"session\":1,\"by\":\"bpfstub\""));
	/* 4: a refused connection belongs to no session and does not end the current one. */
	CHECK(strstr(lines[4], "\"session\":0,\"peer\":\"10.0.0.9:5\""));
	/* 5: disconnect of session 1, with its peer; 6: after it, no session. */
	CHECK(strstr(lines[5], "\"event\":\"disconnect\"") &&
	      strstr(lines[5], "\"session\":1,\"peer\":\"127.0.0.1:40122\"}"));
	CHECK(strstr(lines[6], "\"session\":0,\"by\":\"bpfstub\""));
out:
	for (i = 0; i < 16; i++)
		free(lines[i]);

	/* A symlink is refused, a missing directory named. */
	{
		char link[300], msg[300] = "";

		snprintf(link, sizeof(link), "%s/link", dir);
		CHECK(symlink(path, link) == 0);
		a = NULL;
		CHECK(audit__new(&a, link, msg, sizeof(msg)) < 0 && !a);
		CHECKF(strstr(msg, "symbolic link"), "%s", msg);
		unlink(link);
		snprintf(link, sizeof(link), "%s/nope/x", dir);
		CHECK(audit__new(&a, link, msg, sizeof(msg)) == -ENOENT && !a);
		CHECKF(strstr(msg, "No such file or directory"), "%s", msg);
	}
	unlink(path);
	rmdir(dir);
}

/*
 * A write that fails (RLIMIT_FSIZE: EFBIG, a line cut short) is said once on
 * stderr, does not kill the process (SIGXFSZ ignored), and once writes work
 * again the cut line is ended so that the next events parse.
 */
static void test_write_error(void)
{
	char dir[] = "/tmp/bpfstub-unit-audit-XXXXXX", path[256], epath[256], err[256] = "";
	char v[200], *all, *line, *save = NULL, *last = NULL;
	struct rlimit old, lim;
	struct audit *a = NULL;
	int saved, efd, i, bad = 0, good = 0, said = 0;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	snprintf(epath, sizeof(epath), "%s/stderr", dir);
	CHECK(audit__new(&a, path, err, sizeof(err)) == 0);
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	fflush(stderr);
	saved = dup(2);
	efd = open(epath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(efd, 2);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 500;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	for (i = 0; i < 5; i++)
		audit__log(a, "tp_source", "text", v, NULL);
	setrlimit(RLIMIT_FSIZE, &old);
	audit__log(a, "tstop", "reason", "after", NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(efd);
	audit__free(a);

	all = read_all(epath);
	for (line = all; (line = strstr(line, "bpfstub: --audit ")); line++)
		said++;
	CHECKF(said == 1, "said %d times: %s", said, all);
	CHECKF(strstr(all, "short write") || strstr(all, "File too large"), "%s", all);
	all = read_all(path);
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (j_line(line, NULL, NULL, 0))
			good++;
		else
			bad++;
		last = line;
	}
	CHECKF(good == 2 && bad == 1, "%d lines parse, %d do not", good, bad);
	CHECK(last && strstr(last, "\"reason\":\"after\""));
	unlink(epath);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_json_escaping();
	test_syslog_escaping();
	test_file_events();
	test_write_error();
	return check_summary("test_audit");
}
