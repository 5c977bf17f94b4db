/* SPDX-License-Identifier: MIT */
/*
 * stub/program/target.h - the live process bpfstub serves, seen only through /proc.
 *
 * Everything here reads; nothing writes to, signals (except kill(pid, 0)),
 * ptrace-attaches or stops the target.  Threads come from /proc/PID/task,
 * memory through process_vm_readv (falling back to /proc/PID/mem), a
 * thread's PC and SP from /proc/PID/task/TID/syscall while it is blocked in
 * a syscall, files through /proc/PID/root so a target in a container works.
 */
#ifndef STUB_TARGET_H
#define STUB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rsp_buf;
struct tgt_set; /* stub/program/procset.h */

struct tgt {
	pid_t pid;
	bool launched;	    /* we forked it: qAttached says 0 and vKill may kill it */
	int root_fd;	    /* O_PATH of /proc/PID/root, for openat2(RESOLVE_IN_ROOT) */
	int mem_fd;	    /* /proc/PID/mem, O_RDONLY, fallback for process_vm_readv */
	uint64_t entry;	    /* AT_ENTRY */
	uint64_t phdr;	    /* AT_PHDR */
	uint64_t phnum;	    /* AT_PHNUM */
	uint64_t base;	    /* AT_BASE (interpreter), 0 if static */
	uint64_t load_bias; /* AT_PHDR - p_vaddr of the program's PT_PHDR (0 non-PIE) */
	bool exited;	    /* reaped (launched) or gone */
	int exit_status;    /* wait status when launched and reaped */
	/* Containers (stub/program/tgtns.h), filled at attach: */
	pid_t ns_pid;	    /* its pid in its own pid namespace (NSpid), 0 if it shares ours */
	bool own_mnt_ns;    /* another mount namespace than bpfstub's */
	char root_dir[256]; /* a chroot's root as the host sees it (else ""): cut from paths */
	/*
	 * Several processes of one executable (stub/program/procset.h), this
	 * one their leader: what GDB sees, where addresses are defined.  NULL:
	 * this process alone.  Set after tgt__attach(), owned by the caller.
	 */
	const struct tgt_set *set;
};

struct tgt_thread {
	pid_t tid;
	char name[32]; /* comm, NUL-terminated */
	int core;      /* processor it last ran on, -1 if unknown */
	char state;    /* from stat: R S D T t Z ... */
};

/*
 * Attach to a running pid: check it exists and that we may read it, open
 * its root and mem, read its auxv.  On failure returns -errno and writes a
 * user-facing message (naming the pid and, for EPERM, the capability) to err.
 */
int tgt__attach(struct tgt *t, pid_t pid, char *err, size_t errlen);
/*
 * fork + exec argv (no ptrace: it runs at once).  Returns when exec has
 * succeeded (or failed, with the message in err), then attaches as above.
 */
int tgt__launch(struct tgt *t, char *const argv[], char *err, size_t errlen);
void tgt__close(struct tgt *t);
/* Still there?  For a launched child, reaps it (WNOHANG) and records the status. */
bool tgt__alive(struct tgt *t);

/* Threads, sorted by tid, the main thread first.  *out is malloc'd. */
int tgt__threads(struct tgt *t, struct tgt_thread **out, size_t *n);
bool tgt__has_thread(struct tgt *t, pid_t tid);

/*
 * Read target memory.  Returns the number of bytes read from the start of
 * the range (a partial read stops at the first unreadable byte), or -errno
 * when not even the first byte could be read.
 */
ssize_t tgt__read_mem(struct tgt *t, uint64_t addr, void *buf, size_t len);

/*
 * PC and SP of a thread from /proc/PID/task/TID/syscall, valid while the
 * thread is blocked in a syscall.  -EAGAIN when it is running (the caller
 * then reports AT_ENTRY), -ESRCH when the thread is gone.
 */
int tgt__thread_pc_sp(struct tgt *t, pid_t tid, uint64_t *pc, uint64_t *sp);

/* Whole file from /proc/PID/<name> ("auxv", "maps", "cmdline"): malloc'd. */
int tgt__read_proc(struct tgt *t, const char *name, char **buf, size_t *len);
/* readlink /proc/PID/exe (the path as the target sees it, also in a chroot). */
int tgt__exe_path(struct tgt *t, char *out, size_t len);

/* One line of /proc/PID/maps. */
struct tgt_map {
	uint64_t start, end, offset;
	char perms[5]; /* "r-xp" */
	uint64_t inode;
	char path[512]; /* "" for anonymous */
};
/* All mappings, in address order, paths as the target sees them.  *out is malloc'd. */
int tgt__maps(struct tgt *t, struct tgt_map **out, size_t *n);

/*
 * The region containing addr, or the gap before the next mapping (perms ""
 * and path "").  Used for LLDB's qMemoryRegionInfo.
 */
int tgt__region(struct tgt *t, uint64_t addr, struct tgt_map *r);

/*
 * The dynamic linker's list of loaded objects, walked in live memory from
 * the executable's DT_DEBUG (r_debug) entry, as GDB's
 * qXfer:libraries-svr4:read XML (<library-list-svr4 .../>).  A static
 * program gets an empty list.
 */
int tgt__libraries_svr4(struct tgt *t, struct rsp_buf *xml);

/*
 * Open path (as the target sees it: resolved under /proc/PID/root, no
 * escape through '..' or absolute symlinks) for reading, but only if it is
 * a file the target has mapped (its executable or a shared object): else
 * -EACCES.  Returns an fd or -errno.
 */
int tgt__open_mapped_file(struct tgt *t, const char *path);

/*
 * Open the file of mapping m itself (through /proc/PID/map_files, which
 * works in containers and for deleted files; else its path as above),
 * checked to be the inode m maps: an fd, or -errno (-ESTALE if the path
 * now names another file).
 */
int tgt__open_mapping(struct tgt *t, const struct tgt_map *m);

#endif
