/* SPDX-License-Identifier: MIT */
/*
 * stub/program/tgtns.c - the target's namespaces, as bpfstub on the host sees them.
 *
 * A target in a container lives in its own PID namespace and its own mount
 * namespace with another root file system.  bpfstub runs beside it, in the
 * host's namespaces (a privileged pod with hostPID, `docker run --pid=host`),
 * and is given the host's pid; everything it reads about the process comes
 * from the host's /proc, and every file of it is opened through
 * /proc/PID/root (stub/program/target.c).  This file owns the two things a
 * namespace changes beyond that:
 *
 *  - pids: the kernel, BPF and GDB speak the host's pid and tids; the user
 *    of the container knows the ones its own ps shows.  The NSpid line of
 *    /proc/PID[/task/TID]/status lists the pid in every namespace from the
 *    reader's down to the task's own; the last is the container's.  It is
 *    read once for the process at attach and on demand for a thread, only
 *    when the process is in a namespace of its own (no cost otherwise).
 *  - paths: /proc/PID/maps and /proc/PID/exe name a file as seen from the
 *    reader's root.  For a container (pivot_root in a mount namespace of its
 *    own) that is the path inside the container, which is what openat2
 *    beneath /proc/PID/root wants.  For a chroot (same mount namespace,
 *    another root directory) it is the host's path, the root directory
 *    (readlink /proc/PID/root) in front: that prefix is cut, so every path
 *    the rest of bpfstub and the client see is the target's own.
 *
 * The NSpid parser is pure, unit-tested (tests/unit/test_target.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/program/target.h"
#include "stub/program/tgtns.h"

#define STATUS_MAX 16384

size_t tgtns__parse_nspid(const char *status, size_t len, pid_t *ids, size_t max)
{
	const char *p = status, *end = status + len, *eol;
	size_t n = 0;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > 6 && !memcmp(p, "NSpid:", 6)) {
			p += 6;
			while (p < eol) {
				long long v = 0;
				int digits = 0;

				while (p < eol && (*p == ' ' || *p == '\t'))
					p++;
				while (p < eol && *p >= '0' && *p <= '9' && digits < 10) {
					v = v * 10 + (*p - '0');
					p++;
					digits++;
				}
				if (!digits || (p < eol && *p != ' ' && *p != '\t') || v <= 0 ||
				    v > 0x7fffffff)
					return 0;
				if (n < max)
					ids[n] = (pid_t)v;
				n++;
			}
			return n <= max ? n : 0;
		}
		p = eol + 1;
	}
	return 0;
}

/* The last NSpid entry of /proc/PID[/task/TID]/status: 0 when it has only one. */
static pid_t read_ns_id(pid_t pid, pid_t tid)
{
	char path[96], buf[STATUS_MAX];
	pid_t ids[32];
	ssize_t r;
	size_t n;
	int fd;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r <= 0)
		return 0;
	n = tgtns__parse_nspid(buf, (size_t)r, ids, sizeof(ids) / sizeof(ids[0]));
	return n > 1 ? ids[n - 1] : 0;
}

/* Does /proc/PID/ns/NAME differ from bpfstub's own? */
static bool own_ns(pid_t pid, const char *name)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	if (stat(path, &a))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	if (stat(path, &b))
		return false;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

void tgtns__init(struct tgt *t)
{
	char path[64], root[sizeof(t->root_dir)];
	ssize_t r;

	t->ns_pid = read_ns_id(t->pid, 0);
	t->own_mnt_ns = own_ns(t->pid, "mnt");
	t->root_dir[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/root", (int)t->pid);
	r = readlink(path, root, sizeof(root));
	/* "/" (the host's, or a container's own seen from outside): nothing to cut */
	if (r > 1 && (size_t)r < sizeof(root) && root[0] == '/') {
		while (r > 1 && root[r - 1] == '/')
			r--;
		root[r] = '\0';
		if (r > 1)
			memcpy(t->root_dir, root, (size_t)r + 1);
	}
}

pid_t tgtns__tid(struct tgt *t, pid_t tid)
{
	if (!t->ns_pid || tid <= 0)
		return 0;
	if (tid == t->pid)
		return t->ns_pid;
	return read_ns_id(t->pid, tid);
}

void tgtns__path(const struct tgt *t, char *path)
{
	size_t n = strlen(t->root_dir);

	if (n > 1 && !strncmp(path, t->root_dir, n) && path[n] == '/')
		memmove(path, path + n, strlen(path + n) + 1);
}

int tgtns__describe(const struct tgt *t, char *out, size_t len)
{
	int k = 0;

	if (!len)
		return 0;
	out[0] = '\0';
	if (t->ns_pid)
		k = snprintf(out, len, "pid %d in its own pid namespace", (int)t->ns_pid);
	if (k >= 0 && (size_t)k < len && (t->own_mnt_ns || t->root_dir[0]))
		k += snprintf(out + k, len - (size_t)k,
			      "%s%s, files read through /proc/%d/root%s%s", k ? "; " : "",
			      t->own_mnt_ns ? "its own mount namespace" : "the host's mounts",
			      (int)t->pid, t->root_dir[0] ? " = " : "", t->root_dir);
	return k;
}
