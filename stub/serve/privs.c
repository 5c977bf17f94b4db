/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/privs.c - least privilege: once bpfstub listens and has opened the
 * target, it keeps only the capabilities it still needs and sets
 * no_new_privs.
 *
 * bpfstub runs as root on production hosts and speaks a protocol without
 * authentication, so what a subverted bpfstub could do should be no more
 * than what serving one live process needs.  srv__run() calls
 * privs__drop() after the listening socket exists (or, for stdio, before
 * the first packet) and before any client is served; the launch mode has
 * forked its child before that.  What stays, each only if held at start
 * (a user given file capabilities may hold fewer), and why:
 *
 *   CAP_SYS_PTRACE   read the target: /proc/PID/mem, maps, environ, auxv,
 *                    /proc/PID/root, and perf_event_open bound to its pid,
 *                    when it is another user's process (or holds
 *                    capabilities bpfstub lacks).
 *   CAP_PERFMON      create uprobe perf events (the uprobe PMU) and load
 *                    tracing BPF programs that read user memory.
 *   CAP_BPF          create BPF maps and load programs (ring buffer,
 *                    counters, the collectors of every tracepoint); also
 *                    the hit-cost calibration at the first tstart.
 *   CAP_DAC_READ_SEARCH
 *                    read another user's target at all: its /proc/PID/mem
 *                    (0600) and auxv (0400, read again at every tstart and
 *                    qXfer:auxv) are files of its owner.  Also read the
 *                    target's files (executable, libraries, the debug
 *                    info next to them) whatever their mode or the mode
 *                    of the directories above them: a binary in another
 *                    user's 0700 home, a rootless container's rootfs, a
 *                    0711 executable.  uid 0 without it is just another
 *                    user to the permission checks.  Read and search
 *                    only: it writes nothing.
 *   CAP_CHECKPOINT_RESTORE
 *                    follow /proc/PID/map_files/START-END, the one way to
 *                    the file a mapping really maps when it was deleted or
 *                    replaced since (a library upgraded under a running
 *                    service) or lives in another mount namespace.  Without
 *                    it bpfstub opens the path maps shows inside the
 *                    target's root and accepts it only if its (dev, ino)
 *                    is the mapping's (bpf/probe.c, stub/program/target.c), so a
 *                    deleted or replaced file is refused, not guessed.
 *
 * Kernels older than 5.8 have no CAP_BPF and CAP_PERFMON: there
 * CAP_SYS_ADMIN stands for both and is kept instead.  Nothing else is:
 * no CAP_SYS_ADMIN (uprobes go through the PMU, not tracefs; map_files
 * takes CAP_CHECKPOINT_RESTORE), no CAP_DAC_OVERRIDE (bpfstub writes only
 * its --save-dir, --save-on-exit file and Unix socket, which uid 0 writes
 * as owner when they are root's), no CAP_SYS_RESOURCE (BPF memory is
 * charged to the memory cgroup, not RLIMIT_MEMLOCK, since 5.11).
 *
 * Everything else leaves the effective, permitted and inheritable sets,
 * the ambient set is cleared, and the bounding set is cut down to the
 * same list when bpfstub may (CAP_SETPCAP, which root has; it goes with
 * the rest): that order, because the bounding set cannot shrink once
 * CAP_SETPCAP is gone.  PR_SET_NO_NEW_PRIVS makes it final: no exec can
 * gain anything (set-uid bits and file capabilities are ignored), even as
 * uid 0.  The raw capget/capset system calls keep libcap out of the
 * dependencies.  capset changes the calling thread only; bpfstub has one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "bpf/probe.h"
#include "stub/serve/privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define BIT(c) (1ull << (c))

struct caps {
	unsigned long long eff, prm, inh;
};

static const char *const cap_names[] = {
	"cap_chown",
	"cap_dac_override",
	"cap_dac_read_search",
	"cap_fowner",
	"cap_fsetid",
	"cap_kill",
	"cap_setgid",
	"cap_setuid",
	"cap_setpcap",
	"cap_linux_immutable",
	"cap_net_bind_service",
	"cap_net_broadcast",
	"cap_net_admin",
	"cap_net_raw",
	"cap_ipc_lock",
	"cap_ipc_owner",
	"cap_sys_module",
	"cap_sys_rawio",
	"cap_sys_chroot",
	"cap_sys_ptrace",
	"cap_sys_pacct",
	"cap_sys_admin",
	"cap_sys_boot",
	"cap_sys_nice",
	"cap_sys_resource",
	"cap_sys_time",
	"cap_sys_tty_config",
	"cap_mknod",
	"cap_lease",
	"cap_audit_write",
	"cap_audit_control",
	"cap_setfcap",
	"cap_mac_override",
	"cap_mac_admin",
	"cap_syslog",
	"cap_wake_alarm",
	"cap_block_suspend",
	"cap_audit_read",
	"cap_perfmon",
	"cap_bpf",
	"cap_checkpoint_restore",
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	c->eff = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	c->inh = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{(__u32)c->eff, (__u32)c->prm, (__u32)c->inh},
		{(__u32)(c->eff >> 32), (__u32)(c->prm >> 32), (__u32)(c->inh >> 32)},
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* The highest capability this kernel knows. */
static int last_cap(void)
{
	int c = CAP_CHECKPOINT_RESTORE;

	while (c > 0 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
		c--;
	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

/* What bpfstub needs on this kernel (the essay above says why each). */
static unsigned long long wanted(int last)
{
	unsigned long long w = BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_READ_SEARCH);

	if (last >= CAP_BPF)
		w |= BIT(CAP_PERFMON) | BIT(CAP_BPF);
	if (last < CAP_BPF || !bpfc_probe__multi_ok())
		w |= BIT(CAP_SYS_ADMIN);
	if (last >= CAP_CHECKPOINT_RESTORE)
		w |= BIT(CAP_CHECKPOINT_RESTORE);
	return w;
}

/* "cap_a,cap_b" (lower case, as capsh prints them), or "none". */
static void names(unsigned long long set, char *buf, size_t n)
{
	size_t len = 0;
	int c;

	if (!n)
		return;
	buf[0] = '\0';
	for (c = 0; c < 64; c++) {
		int w;

		if (!(set & BIT(c)))
			continue;
		if (c < (int)(sizeof(cap_names) / sizeof(cap_names[0])))
			w = snprintf(buf + len, n - len, "%s%s", len ? "," : "", cap_names[c]);
		else
			w = snprintf(buf + len, n - len, "%scap_%d", len ? "," : "", c);
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
	if (!len)
		snprintf(buf, n, "none");
}

int privs__drop(char *msg, size_t n)
{
	char kept[512];
	struct caps c, now = {0};
	unsigned long long keep;
	bool bset = false;
	int last, i, err;

	last = last_cap();
	err = caps_get(&c);
	if (err) {
		snprintf(msg, n, "capget: %s", strerror(-err));
		goto cleanup;
	}
	keep = wanted(last) & c.prm;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		err = -errno;
		snprintf(msg, n, "cannot clear the ambient capabilities: %s", strerror(errno));
		goto cleanup;
	}
	/* The bounding set first: dropping from it takes CAP_SETPCAP, which goes next. */
	if (c.prm & BIT(CAP_SETPCAP)) {
		if (!(c.eff & BIT(CAP_SETPCAP))) {
			c.eff |= BIT(CAP_SETPCAP);
			err = caps_set(&c);
			if (err) {
				snprintf(msg, n, "capset: %s", strerror(-err));
				goto cleanup;
			}
		}
		for (i = 0; i <= last; i++) {
			if (keep & BIT(i) || prctl(PR_CAPBSET_READ, i, 0, 0, 0) <= 0)
				continue;
			if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0)) {
				err = -errno;
				snprintf(msg, n,
					 "cannot drop capability %d from the bounding set: %s", i,
					 strerror(errno));
				goto cleanup;
			}
		}
		bset = true;
	}
	c.eff = keep;
	c.prm = keep;
	c.inh = 0;
	err = caps_set(&c);
	if (err) {
		snprintf(msg, n, "capset: %s", strerror(-err));
		goto cleanup;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		snprintf(msg, n, "cannot set no_new_privs: %s", strerror(errno));
		goto cleanup;
	}
	err = caps_get(&now);
	if (!err && (now.eff != keep || now.prm != keep || now.inh))
		err = -EPERM;
	if (err) {
		snprintf(msg, n, "the capabilities did not drop (effective %llx, permitted %llx)",
			 now.eff, now.prm);
		goto cleanup;
	}
	names(keep, kept, sizeof(kept));
	snprintf(msg, n, "kept capabilities %s; no_new_privs set%s", kept,
		 bset ? "" : "; bounding set unchanged (no CAP_SETPCAP)");
cleanup:
	return err;
}

void privs__describe(char *buf, size_t n)
{
	char set[512] = "unknown";
	struct caps c;
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	if (!caps_get(&c))
		names(c.eff, set, sizeof(set));
	snprintf(buf, n, "capabilities: %s; no_new_privs: %d", set, nnp);
}
