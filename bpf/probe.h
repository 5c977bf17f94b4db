/* SPDX-License-Identifier: MIT */
/*
 * bpf/probe.h - put a uprobe at a runtime address of a live process.
 *
 * GDB speaks in runtime addresses; the kernel's uprobes speak in (file,
 * offset) pairs.  bpfc_probe__attach() translates through /proc/PID/maps,
 * checks the address lies in code (an executable mapping and, in the ELF
 * file itself, an executable PT_LOAD), creates a uprobe perf event that
 * fires only in the target's address space (all its threads) and attaches
 * a loaded BPF program to it.  The file is opened through
 * /proc/PID/map_files/START-END, which resolves to the very file mapped
 * even inside another mount namespace or after the file was deleted or
 * replaced.  Following map_files needs CAP_CHECKPOINT_RESTORE (or
 * CAP_SYS_ADMIN); without it the file is opened by its path inside the
 * target's root (/proc/PID/root, no escape through '..' or symlinks) and
 * its device and inode must be the ones /proc/PID/maps shows.  Either way
 * the kernel is handed that open file (/proc/self/fd/N), so a path
 * swapped after the checks cannot redirect the probe.
 *
 * While the probe exists the kernel has written a breakpoint (int3) into
 * the target's copy of the code page.  Memory reads served to GDB must not
 * show it, so the probe keeps the original bytes from the file:
 * bpfc_probe__patch() puts them back into a buffer read from live memory.
 *
 * Detach is closing the fds; if the holder dies the kernel closes them
 * and removes the breakpoint, so a crashed stub leaves no trace behind.
 * Closing waits for the kernel (two RCU grace periods, ~110 ms): the stub
 * stops a probe's program first and hands the fds to bpf/reap.h, which
 * closes them off the serving thread; bpfc_probe__detach() closes them
 * here and now (calibration, failed attaches, tools).
 */
#ifndef BPF_PROBE_H
#define BPF_PROBE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define BPFC_PROBE_ORIG_LEN 16
/* enum bpf_attach_type's BPF_TRACE_UPROBE_MULTI (Linux 6.6; not in 6.1's headers). */
#define BPFC_TRACE_UPROBE_MULTI 48

enum bpfc_probe_path {
	BPFC_PROBE_PATH_AUTO,	   /* map_files, then the real path */
	BPFC_PROBE_PATH_MAP_FILES, /* /proc/PID/map_files/START-END only */
	BPFC_PROBE_PATH_REAL,	   /* PATH under /proc/PID/root only, (dev, ino) checked */
};

struct bpfc_probe {
	pid_t pid;
	__u64 addr;			      /* runtime address */
	__u64 map_start, map_end, map_offset; /* the mapping containing addr */
	__u64 file_offset;		      /* of addr in the file */
	__u64 ref_ctr_offset;		      /* file offset of an SDT semaphore, 0 none */
	__u64 map_inode;		      /* the mapped file's inode, as maps shows it */
	dev_t map_dev;			      /* and its device */
	char map_path[PATH_MAX];	      /* the path as /proc/PID/maps shows it */
	char path[PATH_MAX];		      /* where the file was opened: map_files or root */
	__u8 orig[BPFC_PROBE_ORIG_LEN];	      /* file bytes at addr */
	size_t norig;			      /* valid bytes in orig (less near a segment's end) */
	int perf_fd;			      /* -1 when not attached or a uprobe_multi link */
	int link_fd;			      /* -1 when attached through the ioctl fallback */
};

/*
 * Find addr in pid's mappings and its file (map_files, else the checked
 * path: BPFC_PROBE_PATH_AUTO); fill everything but the fds (left -1).
 * -ESRCH (no such pid), -ENOENT (not code: message names the address and
 * pid), -ENOEXEC (not an x86-64 ELF), -ESTALE (the path now names another
 * file), other -errno.  The message for the caller goes to err (may be
 * NULL).
 */
int bpfc_probe__resolve(struct bpfc_probe *p, pid_t pid, __u64 addr, char *err, size_t errlen);

/* Resolve, then create the uprobe and attach prog_fd.  0 or -errno + message. */
int bpfc_probe__attach(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
		       enum bpfc_probe_path how, char *err, size_t errlen);

/*
 * The same, with a reference counter: ref_ctr_offset is the file offset
 * (in the same file) of a 2-byte SDT semaphore, which the kernel raises in
 * the target while the probe is installed and lowers when it goes (the
 * uprobe PMU's config bits 32-63; Linux 4.20).  0: none, as attach().
 */
int bpfc_probe__attach_refctr(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
			      enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err,
			      size_t errlen);

/*
 * How the uprobe is made.  A perf event of the uprobe PMU takes
 * CAP_SYS_ADMIN since Linux 6.16 (and the stable kernels it went back
 * to: "perf: Revert to requiring CAP_SYS_ADMIN for uprobes"); a BPF
 * uprobe_multi link (Linux 6.6) takes only CAP_BPF and CAP_PERFMON.  So
 * without CAP_SYS_ADMIN (bpfstub after stub/serve/privs.c dropped it, or a user
 * given only the documented capabilities) probes are uprobe_multi links,
 * and their programs must be loaded for it: prog_attach_type() is the
 * expected_attach_type for bpf_prog_load() of a program to attach here,
 * BPFC_TRACE_UPROBE_MULTI or 0 (perf event).  The program is the same.
 * bpfc_probe__attach() and _refctr() follow it; the trace's own programs
 * choose explicitly (bpfc_probe__attach_ex(), below).
 */
int bpfc_probe__prog_attach_type(void);

/*
 * bpfc_probe__attach_refctr(), through a uprobe_multi link of one site (Linux 6.6) when multi
 * is true: prog_fd must then be loaded for it (bpfc_probe__load_multi(),
 * bpfc_prog.multi).  Such a link is released without the global mutex a
 * perf event's BPF program is taken off under, so releases run in
 * parallel (bpf/reap.h); the probe has a link_fd and no perf_fd.
 */
int bpfc_probe__attach_ex(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd, bool multi,
			  enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err, size_t errlen);
/*
 * The same uprobe_multi link, resolved in pid's mappings (its file and
 * offset) but firing in *every* process that maps that file: one uprobe
 * per site whatever the number of processes (a process set selects in its
 * program: bpf/procs.h).  The same inode seen from another mount
 * namespace is the same file.  -EOPNOTSUPP without uprobe_multi links.
 */
int bpfc_probe__attach_shared(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
			      enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err,
			      size_t errlen);
/*
 * Does the kernel have uprobe_multi links?  Asked once (a program loaded
 * for them, a link to a path that does not exist: ENOENT says yes).
 * BPFSTUB_NO_UPROBE_MULTI=1 in the environment says no.
 */
bool bpfc_probe__multi_ok(void);
struct bpf_insn;
/* Load insns as a program for uprobe_multi links: fd or -errno. */
int bpfc_probe__load_multi(const struct bpf_insn *insns, size_t n);

/* Remove the probe (idempotent; valid after any attach or resolve call). */
void bpfc_probe__detach(struct bpfc_probe *p);

/* The original bytes at the probe address (*len of them). */
const __u8 *bpfc_probe__orig_bytes(const struct bpfc_probe *p, size_t *len);

/*
 * buf holds len bytes read from the target at addr: put back the original
 * bytes wherever the kernel's breakpoint may be (1 byte, or 5 when the
 * instruction is a 5-byte nop the kernel may turn into a call).
 */
void bpfc_probe__patch(const struct bpfc_probe *p, __u64 addr, void *buf, size_t len);
/* The same for a probe at `at` whose original bytes are orig (norig of them). */
void bpfc_probe__patch_orig(__u64 at, const __u8 *orig, size_t norig, __u64 addr, void *buf,
			    size_t len);

#endif
