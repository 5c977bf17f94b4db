/* SPDX-License-Identifier: MIT */
/*
 * rsp/monitor.h - the words of a `monitor` command line (qRcmd), pure.
 *
 * GDB's `monitor set stack-window 4k` arrives as qRcmd,<hex of the line>.
 * stub/serve/monitor.c decodes the hex and owns what commands mean; this file
 * only takes the line apart: words separated by blanks, "double" or
 * 'single' quotes around a word with blanks (a backslash escapes the next
 * character inside double quotes), and the values commands take (sizes
 * such as 512, 4k, 0x200 or "off"; numbers within bounds; on/off).  Each
 * word also keeps where it starts in the line, so a command can take the
 * rest of the line as it was typed (`trace LOC if a > b` in issue 10).
 *
 * Errors are one line naming the problem, for the user.
 */
#ifndef RSP_MONITOR_H
#define RSP_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_MON_LINE_MAX  1024 /* bytes of a command line */
#define RSP_MON_WORDS_MAX 32

struct rsp_mon_line {
	size_t argc;
	const char *argv[RSP_MON_WORDS_MAX]; /* NUL-terminated, inside buf */
	size_t start[RSP_MON_WORDS_MAX];     /* offset of each word in the line */
	char buf[RSP_MON_LINE_MAX + RSP_MON_WORDS_MAX];
};

/*
 * Split line (len bytes, not necessarily NUL-terminated) into words.
 * 0; -EINVAL (a NUL or control byte, an unterminated quote), -E2BIG (line
 * or word count over the limits), with a one-line reason in msg.
 */
int rsp_mon_split(const char *line, size_t len, struct rsp_mon_line *out, char *msg, size_t mlen);

/*
 * How many words of the command name `name` ("set stack-window": words
 * separated by single spaces) the line starts with: all of them, or 0.
 */
size_t rsp_mon_match(const struct rsp_mon_line *l, const char *name);

/*
 * A number: decimal or 0x hex, with an optional k/K (x1024) or m/M
 * (x1048576) suffix when `sizes`, and "off" (= 0) when `off`; then within
 * [min, max].  0 or -EINVAL / -ERANGE, msg saying why (naming `what`).
 */
int rsp_mon_number(const char *word, const char *what, bool sizes, bool off, uint64_t min,
		   uint64_t max, uint64_t *out, char *msg, size_t mlen);

/*
 * A duration in seconds: "off" (= 0), or decimal digits with an optional
 * unit s, m, h or d (no unit: seconds), within [min, max] unless off.
 * 0 or -EINVAL / -ERANGE, msg saying why (naming `what`).
 */
int rsp_mon_duration(const char *word, const char *what, uint64_t min, uint64_t max, uint64_t *out,
		     char *msg, size_t mlen);
/* secs in the largest unit that divides it ("2h", "90m", "45s"), or "off" for 0. */
void rsp_mon_fmt_duration(uint64_t secs, char *out, size_t n);
/* "on"/"off" (also 1/0, yes/no).  0 or -EINVAL. */
int rsp_mon_bool(const char *word, const char *what, bool *out, char *msg, size_t mlen);

#endif
