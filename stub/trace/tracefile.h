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

/*
 * A new directory name (a CTF trace: stub/views/ctf.h) with the same
 * rules: beneath --save-dir (refused without one), no '..' or symlink,
 * never an existing name, created 0700 under a hidden name and renamed
 * into place (RENAME_NOREPLACE) once wr(ctx, dirfd) returned 0; on an
 * error nothing stays.  wr creates its files with tfile__create_in() and
 * may set msg.  0 or -errno with msg.
 */
int tfile__save_dir_beneath_with(int (*wr)(void *ctx, int dirfd), void *ctx, int save_dirfd,
				 const char *save_dir, const char *name, char *msg, size_t mlen);
/* A new file name in dirfd: O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600.  fd or -errno. */
int tfile__create_in(int dirfd, const char *name);

#endif
