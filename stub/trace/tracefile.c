/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/tracefile.c - write the trace in GDB's trace file format (tfile).
 *
 * `tsave -r FILE` (QTSave) and `--save-on-exit FILE` make bpfstub write the
 * file itself, in exactly the layout GDB's own tsave produces: the header,
 * the register block size, the status line, the
 * trace state variables and tracepoint definitions (the qTfV/qTfP items),
 * a blank line, then the frames as stored (the same bytes qTBuffer serves)
 * and a zero tracepoint number to end.  `target tfile FILE` in any GDB
 * reads it back.
 *
 * The file is written where the operator allowed and nowhere else: QTSave
 * names are resolved beneath the --save-dir directory with openat2()
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so neither ".." nor a symlink
 * escapes), the data goes into an unnamed O_TMPFILE and is linked into
 * place at the end, so a reader never sees half a file and an existing
 * file is never overwritten (linkat fails with EEXIST).
 *
 * A directory of files (a CTF trace, stub/views/ctf.c) follows the same
 * rules: its name beneath --save-dir, built under a hidden name in a new
 * 0700 directory, each file created O_EXCL | O_NOFOLLOW with mode 0600,
 * and renamed into place with RENAME_NOREPLACE once whole: never an
 * existing directory, never half a trace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/program/regs.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "stub/trace/tracefile.h"

static int add_line(void *ctx, const char *item)
{
	struct rsp_buf *b = ctx;

	rsp_buf__puts(b, "tp ");
	rsp_buf__puts(b, item);
	return rsp_buf__putc(b, '\n');
}

/* Everything before the frames. */
static int header(struct trace *tr, struct rsp_buf *b)
{
	const struct tp *tp;
	struct rsp_buf x;
	size_t i;
	int err;

	rsp_buf__put(b, "\x7fTRACE0\n", 8);
	/* GDB writes the size in hex, whatever its manual says, and reads it so. */
	rsp_buf__printf(b, "R %x\n", REGS_G_SIZE);
	/*
	 * No "tdesc" lines: GDB 13 cannot read back a trace file carrying its
	 * own amd64 description (it loses the first line); without them it
	 * takes the layout from the executable, which is the same.
	 */
	rsp_buf__init(&x);
	err = tr__status(tr, &x);
	/* The status line is the qTStatus reply without its leading 'T'. */
	if (!err)
		rsp_buf__printf(b, "status %s\n", x.data + 1);
	rsp_buf__free(&x);
	for (i = 0; !err && i < tr->ntsvs; i++) {
		const struct tp_tsv *v = &tr->tsvs[i];

		rsp_buf__printf(b, "tsv %x:%llx:%d:%s\n", v->num, (unsigned long long)v->initial,
				v->builtin ? 1 : 0, v->name_hex ? v->name_hex : "");
	}
	if (!err)
		err = tr__upload(tr, add_line, b);
	/* Per-tracepoint hits and bytes, as GDB's own tsave records them. */
	tr__foreach(tr, tp) {
		if (err)
			break;
		rsp_buf__printf(b, "tp V%x:%llx:%llx:%llx\n", tp->num, (unsigned long long)tp->addr,
				(unsigned long long)tr__hits(tr, tp),
				(unsigned long long)tp->bytes);
	}
	rsp_buf__putc(b, '\n');
	return err ? err : b->oom ? -ENOMEM : 0;
}

int tfile__write(struct trace *tr, int fd)
{
	static const char end[2] = {0, 0};
	struct rsp_buf b;
	char chunk[65536];
	uint64_t off = 0;
	size_t n;
	int err;

	rsp_buf__init(&b);
	err = header(tr, &b);
	if (!err)
		err = sys__write_all(fd, b.data, b.len);
	rsp_buf__free(&b);
	while (!err && (n = tf_store__read_raw(&tr->store, off, chunk, sizeof(chunk))) > 0) {
		err = sys__write_all(fd, chunk, n);
		off += n;
	}
	if (!err)
		err = sys__write_all(fd, end, sizeof(end));
	return err;
}

/* Split "a/b/c" into the parent "a/b" (or ".") and the last component. */
static int split(const char *path, char *parent, size_t plen, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	*base = slash ? slash + 1 : path;
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return -EINVAL;
	n = slash ? (size_t)(slash - path) : 1;
	if (n + 1 > plen)
		return -ENAMETOOLONG;
	if (slash) {
		memcpy(parent, path, n);
		parent[n] = '\0';
		if (!n)
			strcpy(parent, "/");
	} else {
		strcpy(parent, ".");
	}
	return 0;
}

static int write_tfile(void *ctx, int fd)
{
	return tfile__write(ctx, fd);
}

/* Write into an unnamed file in dirfd, then link it as base: never a partial file. */
static int write_atomic(int (*wr)(void *ctx, int fd), void *ctx, int dirfd, const char *base,
			char *msg, size_t mlen)
{
	char proc[64];
	int fd, err;

	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, mlen, "cannot create a file there: %s", strerror(-err));
		return err;
	}
	err = wr(ctx, fd);
	if (!err && fsync(fd))
		err = -errno;
	if (err) {
		snprintf(msg, mlen, "cannot write the file: %s", strerror(-err));
		goto cleanup;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW)) {
		err = -errno;
		snprintf(msg, mlen, "%s",
			 err == -EEXIST ? "the file exists; bpfstub never overwrites"
					: strerror(-err));
	}
cleanup:
	close(fd);
	return err;
}

int tfile__save_beneath(struct trace *tr, int save_dirfd, const char *save_dir, const char *name,
			char *msg, size_t mlen)
{
	return tfile__save_beneath_with(write_tfile, tr, save_dirfd, save_dir, name, msg, mlen);
}

/*
 * The directory name's parent, resolved beneath the save directory (no
 * '..', no symlink), as an O_PATH fd, and its last component in *base.
 * -errno with msg; -EPERM without a save directory.
 */
static int open_parent(int save_dirfd, const char *save_dir, const char *name, const char **base,
		       const char *refusal, char *msg, size_t mlen)
{
	char parent[4096];
	const char *rel = name;
	size_t dlen;
	int pfd, err;

	if (save_dirfd < 0) {
		snprintf(msg, mlen, "%s", refusal);
		return -EPERM;
	}
	dlen = strlen(save_dir);
	/* An absolute name must point inside the save directory. */
	if (name[0] == '/') {
		if (strncmp(name, save_dir, dlen) ||
		    (name[dlen] != '/' && save_dir[dlen - 1] != '/')) {
			snprintf(msg, mlen, "'%s' is outside the save directory %s", name,
				 save_dir);
			return -EPERM;
		}
		rel = name + dlen;
		while (*rel == '/')
			rel++;
	}
	err = split(rel, parent, sizeof(parent), base);
	if (err) {
		snprintf(msg, mlen, "bad file name '%s'", name);
		return err;
	}
	pfd = sys__openat2(save_dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC,
			   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (pfd < 0)
		snprintf(msg, mlen, "'%s' is not a directory inside %s%s", parent, save_dir,
			 pfd == -EXDEV || pfd == -ELOOP ? " (no '..' or symlinks)" : "");
	return pfd;
}

int tfile__save_beneath_with(int (*wr)(void *ctx, int fd), void *ctx, int save_dirfd,
			     const char *save_dir, const char *name, char *msg, size_t mlen)
{
	const char *base;
	int pfd, err;

	pfd = open_parent(save_dirfd, save_dir, name, &base,
			  "bpfstub saves trace files only into a directory named with "
			  "--save-dir; use tsave without -r to save on the GDB side",
			  msg, mlen);
	if (pfd < 0)
		return pfd;
	/* The last component must not be a symlink either (linkat would not follow it). */
	err = write_atomic(wr, ctx, pfd, base, msg, mlen);
	close(pfd);
	return err;
}

int tfile__create_in(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/* A partial directory's files (only ours: it is new and 0700), then itself. */
static void remove_partial(int pfd, int dfd, const char *tmp)
{
	struct dirent *e;
	DIR *d;
	int fd = dup(dfd);

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dfd, e->d_name, 0);
	if (d)
		closedir(d);
	unlinkat(pfd, tmp, AT_REMOVEDIR);
}

int tfile__save_dir_beneath_with(int (*wr)(void *ctx, int dirfd), void *ctx, int save_dirfd,
				 const char *save_dir, const char *name, char *msg, size_t mlen)
{
	static unsigned int seq;
	const char *base;
	struct stat st;
	char tmp[64];
	int pfd, dfd = -1, err, i;

	msg[0] = '\0';
	pfd = open_parent(
		save_dirfd, save_dir, name, &base,
		"bpfstub writes files only beneath a directory named with --save-dir "
		"(bpfstub --save-dir DIR); GDB's own tsave -ctf DIR writes on the GDB side",
		msg, mlen);
	if (pfd < 0)
		return pfd;
	/* Said before anything is written; renameat2 below settles a race. */
	if (!fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(msg, mlen, "'%s' exists; bpfstub never overwrites", name);
		err = -EEXIST;
		goto cleanup;
	}
	/* Built under a hidden name, renamed into place once whole. */
	for (i = 0;; i++) {
		snprintf(tmp, sizeof(tmp), ".bpfstub-%d-%u.partial", (int)getpid(), seq++);
		if (!mkdirat(pfd, tmp, 0700))
			break;
		err = -errno;
		if (err != -EEXIST || i == 9) {
			snprintf(msg, mlen, "cannot create a directory there: %s", strerror(-err));
			goto cleanup;
		}
	}
	dfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		unlinkat(pfd, tmp, AT_REMOVEDIR);
		snprintf(msg, mlen, "cannot open the new directory: %s", strerror(-err));
		goto cleanup;
	}
	err = wr(ctx, dfd);
	if (!err && fsync(dfd))
		err = -errno;
	if (err && !msg[0])
		snprintf(msg, mlen, "cannot write the files: %s", strerror(-err));
	if (!err && renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE)) {
		err = -errno;
		snprintf(msg, mlen, "%s",
			 err == -EEXIST ? "the directory exists; bpfstub never overwrites"
					: strerror(-err));
	}
	if (err)
		remove_partial(pfd, dfd, tmp);
cleanup:
	if (dfd >= 0)
		close(dfd);
	close(pfd);
	return err;
}

int tfile__save_path(struct trace *tr, const char *path, char *msg, size_t mlen)
{
	return tfile__save_path_with(write_tfile, tr, path, msg, mlen);
}

int tfile__save_path_with(int (*wr)(void *ctx, int fd), void *ctx, const char *path, char *msg,
			  size_t mlen)
{
	char parent[4096];
	const char *base;
	int pfd, err;

	err = split(path, parent, sizeof(parent), &base);
	if (err) {
		snprintf(msg, mlen, "bad file name '%s'", path);
		return err;
	}
	pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
		snprintf(msg, mlen, "cannot open directory %s: %s", parent, strerror(-err));
		return err;
	}
	err = write_atomic(wr, ctx, pfd, base, msg, mlen);
	close(pfd);
	return err;
}
