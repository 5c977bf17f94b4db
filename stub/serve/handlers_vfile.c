/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers_vfile.c - vFile: GDB and LLDB read the target's executable
 * and shared objects through these packets (symbols without a local copy).
 *
 * A root stub must not become a way to read the host's files, so a path is
 * opened only when the target has that very file mapped (matched by device
 * and inode against /proc/PID/map_files, tgt__open_mapped_file()), resolved
 * with openat2(RESOLVE_IN_ROOT) under /proc/PID/root so a target in a
 * container works.  The target's own /proc/PID[/task/TID]/maps is served too:
 * GDB reads it to find the vDSO.  Errors are GDB's File-I/O errno values.
 * These handlers sit in the one table of handlers.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsp/parse.h"
#include "stub/program/target.h"
#include "stub/serve/handlers.h"
#include "stub/serve/session.h"

/* The most one vFile:pread returns. */
#define VFILE_READ_MAX 0x10000

/* GDB's File-I/O errno values. */
static int fileio_errno(int e)
{
	switch (e) {
	case EPERM:
	case ENOENT:
	case EINTR:
	case EBADF:
	case EACCES:
	case EFAULT:
	case EBUSY:
	case EEXIST:
	case ENODEV:
	case ENOTDIR:
	case EISDIR:
	case EINVAL:
	case ENFILE:
	case EMFILE:
	case EFBIG:
	case ENOSPC:
	case ESPIPE:
	case EROFS:
		return e;
	case ENAMETOOLONG:
		return 91;
	default:
		return 9999;
	}
}

static int vfile_error(struct rsp_buf *r, int e)
{
	return rsp_buf__printf(r, "F-1,%x", fileio_errno(e));
}

int hdl__vfile_setfs(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t pid;

	if (rsp_parse_hex_u64(a, len, &pid))
		return vfile_error(r, EINVAL);
	/* Files are always resolved in the target's root. */
	if (pid && pid != (uint64_t)s->tgt->pid)
		return vfile_error(r, EINVAL);
	return rsp_buf__puts(r, "F0");
}

/*
 * GDB reads the target's own /proc/PID[/task/TID]/maps through vFile to find
 * the vDSO.  That describes the target, not the host: serve it.  Any other
 * path goes through tgt__open_mapped_file().
 */
static int target_proc_file(struct sess *s, const char *path)
{
	char want[64], name[8];
	int pid = 0, tid = 0, n = 0, fd;

	if (sscanf(path, "/proc/%d/task/%d/%7[a-z]%n", &pid, &tid, name, &n) == 3 && !path[n]) {
		if (!tgt__has_thread(s->tgt, tid))
			return -EACCES;
	} else if (sscanf(path, "/proc/%d/%7[a-z]%n", &pid, name, &n) != 2 || path[n]) {
		return -ENOENT;
	}
	if (pid != s->tgt->pid || (strcmp(name, "maps") && strcmp(name, "smaps")))
		return -EACCES;
	snprintf(want, sizeof(want), "/proc/%d/%s", pid, name);
	fd = open(want, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int hdl__vfile_open(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_vfile_open o;
	int fd, i;

	if (rsp_parse_vfile_open(a, len, &o))
		return vfile_error(r, EINVAL);
	if (o.flags != 0) /* FILEIO_O_RDONLY only */
		return vfile_error(r, EACCES);
	for (i = 0; i < SESS_VFILE_MAX && s->vfile_fd[i] >= 0; i++)
		;
	if (i == SESS_VFILE_MAX)
		return vfile_error(r, EMFILE);
	fd = target_proc_file(s, o.path);
	if (fd == -ENOENT)
		fd = tgt__open_mapped_file(s->tgt, o.path);
	if (fd < 0)
		return vfile_error(r, -fd);
	s->vfile_fd[i] = fd;
	return rsp_buf__printf(r, "F%x", i);
}

static int vfile_fd(struct sess *s, uint64_t n)
{
	return n < SESS_VFILE_MAX ? s->vfile_fd[n] : -1;
}

int hdl__vfile_pread(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t v[3];
	char *buf;
	ssize_t n;
	int fd;

	if (rsp_parse_hex_list(a, len, ',', v, 3))
		return vfile_error(r, EINVAL);
	fd = vfile_fd(s, v[0]);
	if (fd < 0)
		return vfile_error(r, EBADF);
	if (v[1] > VFILE_READ_MAX)
		v[1] = VFILE_READ_MAX;
	if (v[2] > INT64_MAX)
		return vfile_error(r, EINVAL);
	buf = malloc(v[1] ? v[1] : 1);
	if (!buf)
		return vfile_error(r, ENOMEM);
	n = pread(fd, buf, v[1], (off_t)v[2]);
	if (n < 0) {
		free(buf);
		return vfile_error(r, errno);
	}
	rsp_buf__printf(r, "F%zx;", (size_t)n);
	rsp_buf__put(r, buf, (size_t)n);
	free(buf);
	return 0;
}

int hdl__vfile_close(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t n;

	if (rsp_parse_hex_u64(a, len, &n) || vfile_fd(s, n) < 0)
		return vfile_error(r, EBADF);
	close(s->vfile_fd[n]);
	s->vfile_fd[n] = -1;
	return rsp_buf__puts(r, "F0");
}

static void put_be(unsigned char *p, uint64_t v, unsigned n)
{
	while (n--) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

int hdl__vfile_fstat(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	unsigned char st[64];
	struct stat sb;
	uint64_t n;
	int fd;

	if (rsp_parse_hex_u64(a, len, &n) || (fd = vfile_fd(s, n)) < 0)
		return vfile_error(r, EBADF);
	if (fstat(fd, &sb))
		return vfile_error(r, errno);
	/* struct fio_stat: big-endian, 64 bytes. */
	put_be(st + 0, sb.st_dev, 4);
	put_be(st + 4, sb.st_ino, 4);
	put_be(st + 8, sb.st_mode, 4);
	put_be(st + 12, sb.st_nlink, 4);
	put_be(st + 16, sb.st_uid, 4);
	put_be(st + 20, sb.st_gid, 4);
	put_be(st + 24, sb.st_rdev, 4);
	put_be(st + 28, (uint64_t)sb.st_size, 8);
	put_be(st + 36, (uint64_t)sb.st_blksize, 8);
	put_be(st + 44, (uint64_t)sb.st_blocks, 8);
	put_be(st + 52, (uint64_t)sb.st_atime, 4);
	put_be(st + 56, (uint64_t)sb.st_mtime, 4);
	put_be(st + 60, (uint64_t)sb.st_ctime, 4);
	rsp_buf__printf(r, "F%x;", (unsigned)sizeof(st));
	return rsp_buf__put(r, st, sizeof(st));
}
