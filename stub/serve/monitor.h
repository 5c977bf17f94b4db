/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/monitor.h - bpfstub's `monitor` commands (qRcmd).
 *
 * One static table in monitor.c holds every command: its name (one or
 * more words), usage, one line of help and the function that runs it; the
 * same table answers `monitor help`.  The line is taken apart by the pure
 * rsp/monitor.c.  handlers.c decodes qRcmd (bad hex: an error reply) and
 * answers OK after the output, which goes to the client's console (O
 * packets); a mistake in the command is one console line naming it (GDB
 * shows an "E.text" reply to qRcmd as hex garbage, "E01" as "Protocol
 * error with Rcmd").
 */
#ifndef STUB_MONITOR_H
#define STUB_MONITOR_H

#include <stddef.h>
#include <stdint.h>

struct sess;
struct trace;

/*
 * Run one command line (qRcmd's, decoded): its output, or one line naming
 * the mistake, goes to s's console.  0 or -errno.
 */
int mon__run(struct sess *s, const char *line);

/*
 * A setting's value (`monitor set NAME WORD`, or the command line's
 * --NAME WORD): 0, or -errno with msg naming the mistake, prefixed by what.
 */
int mon__parse_setting(const char *name, const char *word, const char *what, uint32_t *out,
		       char *msg, size_t mlen);
/* Store a value mon__parse_setting accepted.  0 or -ENOENT. */
int mon__store_setting(struct trace *tr, const char *name, uint32_t v);

#endif
