/* SPDX-License-Identifier: MIT */
/*
 * stub/monitor.h - bpfstub's `monitor` commands (qRcmd).
 *
 * One static table in monitor.c holds every command: its name (one or
 * more words), usage, one line of help and the function that runs it; the
 * same table answers `monitor help`.  The line is taken apart by the pure
 * rsp/monitor.c.  Output goes to the client's console (O packets), then
 * OK; a mistake is one console line naming it (GDB would show "E.text"
 * replies to qRcmd as hex garbage, and "E01" as "Protocol error").
 */
#ifndef STUB_MONITOR_H
#define STUB_MONITOR_H

#include <stddef.h>

struct rsp_buf;

/* qRcmd,<hex>, a row of handlers.c's table (ctx: the struct sess). */
int mon__rcmd(void *ctx, const char *args, size_t len, struct rsp_buf *r);

#endif
