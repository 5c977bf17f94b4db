/* SPDX-License-Identifier: MIT */
/*
 * stub/program/procset.h - several processes of one executable, served as
 * one target (--attach-exe PATH, --attach PID,PID,..., --attach PID
 * --children).
 *
 * The set names which processes belong; one of them, the *leader*, is
 * the struct tgt GDB and LLDB see (its memory, threads, files: where
 * tracepoint addresses are defined).  Everything here reads /proc and
 * nothing else: which processes run the executable (the (dev, ino) of
 * /proc/N/exe, which is the same file whatever mount namespace the
 * process lives in), who descends from whom (/proc/N/stat's ppid), and
 * whether a uid may debug a process as its owner (the rule
 * stub/serve/peer.c applies to a client, docs/SECURITY.md).
 */
#ifndef STUB_PROCSET_H
#define STUB_PROCSET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum tgt_set_mode {
	TGT_SET_EXE,	  /* every process running the file, now and later */
	TGT_SET_PIDS,	  /* the processes named */
	TGT_SET_CHILDREN, /* the process named and its descendants running its file */
};

#define TGT_SET_MAX_PIDS 64 /* --attach PID,PID,... */

struct tgt_set {
	enum tgt_set_mode mode;
	char exe[PATH_MAX]; /* the executable's path (as given, or the leader's /proc/N/exe) */
	dev_t dev;	    /* the executable file */
	ino_t ino;
	pid_t pids[TGT_SET_MAX_PIDS]; /* PIDS: the chosen; CHILDREN: the root (pids[0]) */
	size_t npids;
};

/* --attach-exe PATH: 0, or -errno + message (no such file, not a regular file). */
int tgt_set__init_exe(struct tgt_set *s, const char *path, char *err, size_t errlen);
/*
 * --attach PID,PID,... (children false) or --attach PID --children: every
 * pid must exist and run the first one's executable.  0 or -errno + message.
 */
int tgt_set__init_pids(struct tgt_set *s, const pid_t *pids, size_t n, bool children, char *err,
		       size_t errlen);
/* "PID,PID,...": 0 or -EINVAL (each a positive pid, at most TGT_SET_MAX_PIDS). */
int tgt_set__parse_pids(const char *arg, pid_t *pids, size_t *n);

/*
 * The process GDB sees: the first named, or for --attach-exe the oldest
 * process running the file (a service's master).  -ESRCH + message when none.
 */
int tgt_set__leader(const struct tgt_set *s, pid_t *pid, char *err, size_t errlen);

/* Does pid run the set's executable? */
bool tgt_set__runs_exe(const struct tgt_set *s, pid_t pid);
/* The processes of the set now, ascending: *out malloc'd.  0 or -errno. */
int tgt_set__members(const struct tgt_set *s, pid_t **out, size_t *n);

/*
 * Could uid (and gid, when gid_known) debug pid as its owner, by the
 * kernel's ptrace rule: real, effective and saved uids all uid, gids all
 * equal (and gid over a unix socket), dumpable (/proc/PID is the owner's).
 */
bool tgt_set__owned_by(pid_t pid, uid_t uid, bool gid_known, gid_t gid);

/* pid's utime + stime in ns (/proc/PID/stat): 0 or -errno. */
int tgt_set__cpu_ns(pid_t pid, uint64_t *ns);

/* Mode in words: "--attach-exe /srv/app", "--attach 12,13", "--attach 12 --children". */
void tgt_set__describe(const struct tgt_set *s, char *out, size_t len);

#endif
