/* SPDX-License-Identifier: MIT */
/*
 * stub/base/sys.h - system calls the way the stub makes them.
 *
 * A few calls need the same few lines around them wherever they are made:
 * a write that may be cut short or interrupted, and openat2(2), which
 * glibc does not wrap and which bounds how a path resolves (inside a
 * target's root, or beneath a directory with no symlinks).  Each is
 * written once here.  Time is read with bpf/clock.h, below both stub/ and
 * bpf/.
 */
#ifndef STUB_SYS_H
#define STUB_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/openat2.h>

/* All n bytes of p to fd, again on EINTR: 0, -errno, or -EIO on a 0 write. */
int sys__write_all(int fd, const void *p, size_t n);
/*
 * openat2(2) of path under dirfd with flags (O_*) and resolve (RESOLVE_*):
 * fd, or -errno (errno is left set too; -ENOSYS before Linux 5.6).
 */
int sys__openat2(int dirfd, const char *path, int flags, uint64_t resolve);

#endif
