/* SPDX-License-Identifier: MIT */
/*
 * stub/program/debuginfo.h - where debug info comes from when the target's
 * file has none and no local debug file: the debuginfod servers.
 *
 * The DWARF layer (stub/program/dwarf.c) finds DWARF in the file itself,
 * by build-id under /usr/lib/debug and by .gnu_debuglink.  When all of
 * that fails, the cache (stub/program/dwarf_cache.c) asks this module for
 * the file's debug file from the servers in DEBUGINFOD_URLS, through
 * elfutils' own client library (libdebuginfod) and its cache
 * (DEBUGINFOD_CACHE_PATH, else $HOME/.cache/debuginfod_client).
 *
 * A download blocks the server, so it happens only while a client request
 * that may wait is being served (a monitor command, tstart, a tracepoint
 * defined while tracing: the serving layer opens that window with
 * dbgi__window), never while the loop drains frames or streams them; it
 * takes at most the window's budget (`monitor set debuginfod`, default
 * 10 s: the progress callback cancels it), and while it lasts a line
 * goes to the client's console every 2 s, which also keeps GDB waiting
 * for the reply.  Each file (by build-id) is asked once per program: what
 * was found, from which server, or why not, stays for `monitor status`;
 * after a timeout the servers are left alone for a minute.
 *
 * Trust: the build-id asked for is the one read from the target's own
 * file (never anything a client sent); the downloaded file must carry that
 * same build-id or it is refused; the cache directory must be bpfstub's
 * own user's and writable by nobody else, or nothing is asked
 * (docs/SECURITY.md).
 */
#ifndef STUB_DEBUGINFO_H
#define STUB_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

struct rsp_buf;
struct dbgi;

/* One line for the client's console, sent at once (no newline in it). */
typedef void (*dbgi_say_fn)(void *ctx, const char *line);

struct dbgi *dbgi__new(void);
void dbgi__free(struct dbgi *d);

/*
 * The window in which the servers may be asked: budget_s seconds per file
 * (0: debuginfod off), progress lines to say(ctx) (NULL: none).  A budget
 * different from the last window's forgets what failed, so `monitor set
 * debuginfod ...` retries.  dbgi__close_window ends it.  d may be NULL.
 */
void dbgi__open_window(struct dbgi *d, uint32_t budget_s, dbgi_say_fn say, void *ctx);
void dbgi__close_window(struct dbgi *d);
/* Is a window open, with a budget? */
int dbgi__may_ask(const struct dbgi *d);

/*
 * The separate debug file of the ELF file open at fd (not taken; path is
 * its name as the target maps it): 0 with *dbg_fd (the caller's to
 * close) and its path in the debuginfod cache, or -errno with msg:
 * -ENOSYS off (no DEBUGINFOD_URLS), -EAGAIN not asked (no window, or off
 * by setting: asking may come later), -ENOENT not on any server or no build-id, -ETIMEDOUT,
 * -ECONNREFUSED..., -EPERM (an unsafe cache directory), -EINVAL (the
 * server's file refused).
 */
int dbgi__find(struct dbgi *d, int fd, const char *path, int *dbg_fd, char *dpath, size_t dlen,
	       char *msg, size_t mlen);

/* `monitor status` lines: on or off and why, then one line per file asked. */
int dbgi__status(const struct dbgi *d, uint32_t budget_s, struct rsp_buf *out);

#endif
