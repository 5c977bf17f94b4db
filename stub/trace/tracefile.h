/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/tracefile.h - GDB trace files (tfile) written by bpfstub itself.
 */
#ifndef STUB_TRACEFILE_H
#define STUB_TRACEFILE_H

#include <stddef.h>

struct trace;

/* The whole trace, in GDB's trace file format, to fd. */
int tfile__write(struct trace *tr, int fd);
/*
 * QTSave: write name (relative to, or an absolute path inside, the
 * --save-dir directory save_dir, opened as save_dirfd; -1 when none was
 * given) atomically, never overwriting, never through '..' or a symlink.
 */
int tfile__save_beneath(struct trace *tr, int save_dirfd, const char *save_dir, const char *name,
			char *msg, size_t mlen);
/* --save-on-exit: the operator's own path; atomic, never overwriting. */
int tfile__save_path(struct trace *tr, const char *path, char *msg, size_t mlen);

/*
 * The same rules for another file (a histogram's JSON, stub/views/thist.h):
 * its bytes from wr(ctx, fd), 0 or -errno.
 */
int tfile__save_beneath_with(int (*wr)(void *ctx, int fd), void *ctx, int save_dirfd,
			     const char *save_dir, const char *name, char *msg, size_t mlen);
int tfile__save_path_with(int (*wr)(void *ctx, int fd), void *ctx, const char *path, char *msg,
			  size_t mlen);

#endif
