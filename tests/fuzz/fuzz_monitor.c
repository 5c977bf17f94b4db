/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_monitor.c - libFuzzer target for rsp/monitor.c.
 *
 * The input is a monitor command line, copied into a buffer of exactly its
 * size (not NUL-terminated) so reading one byte too far is an ASan report.
 * Beyond "no crash": every word lies NUL-terminated inside the line buffer,
 * words come in order of where they start, each start is inside the input
 * and not a blank; a name built from the first words matches them; and each
 * word read as a size or a number is either refused with a message or
 * within its bounds, and prints back to a value parsed the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/monitor.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_word(const char *w)
{
	uint64_t v, again;
	char msg[160], back[32];
	bool b;
	int err;

	msg[0] = '\0';
	err = rsp_mon_number(w, "set x", true, true, 0, 8192, &v, msg, sizeof(msg));
	check(err ? (msg[0] != '\0' && strlen(msg) < sizeof(msg)) : v <= 8192);
	if (!err) {
		snprintf(back, sizeof(back), "%" PRIu64, v);
		check(!rsp_mon_number(back, "set x", false, false, 0, 8192, &again, msg,
				      sizeof(msg)) &&
		      again == v);
	}
	err = rsp_mon_number(w, "n", false, false, 3, UINT64_MAX, &v, msg, sizeof(msg));
	check(err || v >= 3);
	err = rsp_mon_bool(w, "tlive", &b, msg, sizeof(msg));
	check(err == 0 || err == -EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rsp_mon_line l;
	char *line = malloc(size ? size : 1), msg[160], name[256];
	size_t i, o = 0;
	int err;

	memcpy(line, data, size);
	msg[0] = '\0';
	err = rsp_mon_split(line, size, &l, msg, sizeof(msg));
	if (err) {
		check(err == -EINVAL || err == -E2BIG);
		check(msg[0] != '\0');
		goto cleanup;
	}
	check(l.argc <= RSP_MON_WORDS_MAX);
	for (i = 0; i < l.argc; i++) {
		const char *w = l.argv[i];

		check(w >= l.buf && w < l.buf + sizeof(l.buf));
		check(memchr(w, '\0', (size_t)(l.buf + sizeof(l.buf) - w)) != NULL);
		check(l.start[i] < size && line[l.start[i]] != ' ' && line[l.start[i]] != '\t');
		check(!i || (l.start[i] > l.start[i - 1] && w > l.argv[i - 1]));
		check_word(w);
	}
	/* The first two words as a command name match (when they hold no blank). */
	for (i = 0; i < l.argc && i < 2; i++) {
		if (strpbrk(l.argv[i], " \t") || !l.argv[i][0] ||
		    strlen(l.argv[i]) + o + 2 > sizeof(name))
			goto cleanup;
		o += (size_t)snprintf(name + o, sizeof(name) - o, "%s%s", i ? " " : "", l.argv[i]);
	}
	if (i)
		check(rsp_mon_match(&l, name) == i);
cleanup:
	free(line);
	return 0;
}
