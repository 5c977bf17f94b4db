/* SPDX-License-Identifier: MIT */
/*
 * rsp/monitor.c - the words of a `monitor` command line (see monitor.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rsp/monitor.h"

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

int rsp_mon_split(const char *line, size_t len, struct rsp_mon_line *out, char *msg, size_t mlen)
{
	size_t i = 0, o = 0;

	out->argc = 0;
	if (len > RSP_MON_LINE_MAX) {
		snprintf(msg, mlen, "command longer than %d bytes", RSP_MON_LINE_MAX);
		return -E2BIG;
	}
	for (;;) {
		char quote = 0;

		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			return 0;
		if (out->argc == RSP_MON_WORDS_MAX) {
			snprintf(msg, mlen, "more than %d words", RSP_MON_WORDS_MAX);
			return -E2BIG;
		}
		out->start[out->argc] = i;
		out->argv[out->argc++] = &out->buf[o];
		/* Each word adds at most its own bytes plus a NUL: buf holds them all. */
		for (; i < len && (quote || !is_blank(line[i])); i++) {
			unsigned char ch = (unsigned char)line[i];

			if (ch < 0x20 && ch != '\t') {
				snprintf(msg, mlen, "control character 0x%02x in the command", ch);
				return -EINVAL;
			}
			if (quote && ch == (unsigned char)quote) {
				quote = 0;
				continue;
			}
			if (!quote && (ch == '"' || ch == '\'')) {
				quote = (char)ch;
				continue;
			}
			if (quote == '"' && ch == '\\' && i + 1 < len)
				ch = (unsigned char)line[++i];
			if (ch < 0x20 && ch != '\t') {
				snprintf(msg, mlen, "control character 0x%02x in the command", ch);
				return -EINVAL;
			}
			out->buf[o++] = (char)ch;
		}
		if (quote) {
			snprintf(msg, mlen, "unterminated %c quote", quote);
			return -EINVAL;
		}
		out->buf[o++] = '\0';
	}
}

size_t rsp_mon_match(const struct rsp_mon_line *l, const char *name)
{
	size_t w = 0;

	while (*name) {
		size_t n = strcspn(name, " ");

		if (w >= l->argc || strlen(l->argv[w]) != n || memcmp(l->argv[w], name, n))
			return 0;
		w++;
		name += n;
		while (*name == ' ')
			name++;
	}
	return w;
}

/* Digits in base (10 or 16) into *v; -EINVAL if none or a bad one, -ERANGE on overflow. */
static int digits(const char *p, size_t n, unsigned base, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = p[i];
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (base == 16 && ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return -EINVAL;
		if (*v > (UINT64_MAX - d) / base)
			return -ERANGE;
		*v = *v * base + d;
	}
	return 0;
}

int rsp_mon_number(const char *word, const char *what, bool sizes, bool off, uint64_t min,
		   uint64_t max, uint64_t *out, char *msg, size_t mlen)
{
	size_t n = strlen(word);
	uint64_t v, mult = 1;
	unsigned base = 10;
	const char *p = word;
	int err;

	if (off && !strcmp(word, "off")) {
		v = 0;
		goto bounds;
	}
	if (sizes && n > 1) {
		char s = word[n - 1];

		if (s == 'k' || s == 'K')
			mult = 1024;
		else if (s == 'm' || s == 'M')
			mult = 1024 * 1024;
		if (mult > 1)
			n--;
	}
	if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		n -= 2;
	}
	err = digits(p, n, base, &v);
	if (err == -ERANGE || (!err && v > UINT64_MAX / mult)) {
		snprintf(msg, mlen, "%s: %.40s is too large (at most %llu)", what, word,
			 (unsigned long long)max);
		return -ERANGE;
	}
	if (err) {
		snprintf(msg, mlen, "%s: '%.40s' is not a %s", what, word,
			 sizes ? (off ? "size (off or BYTES, e.g. 512 or 4k)"
				      : "size (e.g. 512 or 4k)")
			       : "number");
		return -EINVAL;
	}
	v *= mult;
bounds:
	if (v < min || v > max) {
		snprintf(msg, mlen, "%s: %llu is out of bounds (%llu..%llu)", what,
			 (unsigned long long)v, (unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

static const struct {
	char suffix;
	uint64_t secs;
} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

int rsp_mon_duration(const char *word, const char *what, uint64_t min, uint64_t max, uint64_t *out,
		     char *msg, size_t mlen)
{
	size_t n = strlen(word), i;
	uint64_t v, mult = 1;
	int err;

	if (!strcmp(word, "off")) {
		*out = 0;
		return 0;
	}
	for (i = 0; n > 1 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (word[n - 1] == units[i].suffix) {
			mult = units[i].secs;
			n--;
			break;
		}
	}
	err = digits(word, n, 10, &v);
	if (err == -ERANGE || (!err && v > UINT64_MAX / mult) || (!err && v * mult > max)) {
		snprintf(msg, mlen, "%s: %.40s is too long (at most %llus)", what, word,
			 (unsigned long long)max);
		return -ERANGE;
	}
	if (err) {
		snprintf(msg, mlen,
			 "%s: '%.40s' is not a duration (off, or a number with s, m, h or d: "
			 "90s, 30m, 2h)",
			 what, word);
		return -EINVAL;
	}
	v *= mult;
	if (v < min) {
		snprintf(msg, mlen, "%s: %.40s is too short (at least %llus, or off)", what, word,
			 (unsigned long long)min);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

void rsp_mon_fmt_duration(uint64_t secs, char *out, size_t n)
{
	size_t i;

	for (i = 0; secs && i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs % units[i].secs == 0) {
			snprintf(out, n, "%llu%c", (unsigned long long)(secs / units[i].secs),
				 units[i].suffix);
			return;
		}
	}
	snprintf(out, n, "off");
}

int rsp_mon_bool(const char *word, const char *what, bool *out, char *msg, size_t mlen)
{
	static const char *const yes[] = {"on", "1", "yes"}, *const no[] = {"off", "0", "no"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(word, yes[i]) || !strcmp(word, no[i])) {
			*out = !strcmp(word, yes[i]);
			return 0;
		}
	}
	snprintf(msg, mlen, "%s: '%.40s' is not on or off", what, word);
	return -EINVAL;
}
