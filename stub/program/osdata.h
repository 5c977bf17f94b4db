/* SPDX-License-Identifier: MIT */
/*
 * stub/program/osdata.h - qXfer:osdata:read objects (GDB's `info os`, Eclipse CDT's
 * process list in its connect dialog, -list-thread-groups --available).
 */
#ifndef STUB_OSDATA_H
#define STUB_OSDATA_H

#include <sys/types.h>

#include "rsp/buf.h"

/* At most this many processes are listed. */
#define OSDATA_PROCESSES_MAX 4096

/*
 * Write the osdata XML for annex into out: "" is the list of types (only
 * "processes"), "processes" the processes owned by the user who owns pid
 * (the process bpfstub serves), as gdbserver formats them.  -ENOENT for any
 * other annex.
 */
int osdata__xml(const char *annex, pid_t pid, struct rsp_buf *out);

#endif
