/* SPDX-License-Identifier: MIT */
/*
 * bpf/probe.c - runtime address -> (file, offset) -> uprobe perf event.
 *
 * Each step distrusts the one before: the maps line says the address is
 * executable, the ELF program headers must agree that the file offset is
 * code (a PT_LOAD with PF_X), and the file opened must be the one mapped
 * (same device and inode).  Only then does the kernel get the probe, and it
 * gets the very file checked: the open fd, named as /proc/self/fd/N.
 *
 * That file comes from /proc/PID/map_files/START-END when bpfstub may
 * follow those links (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN): they work
 * in containers and for files deleted or replaced since they were mapped.
 * Without it (a user given only CAP_SYS_PTRACE, CAP_BPF and CAP_PERFMON)
 * the path maps shows is opened inside the target's root (openat2 with
 * RESOLVE_IN_ROOT: no escape through '..' or absolute symlinks) and
 * accepted only if its (dev, ino) is what maps shows for the mapping; a
 * deleted or replaced file is refused, never guessed.  The uprobe PMU
 * is used directly through perf_event_open (its type number comes from
 * sysfs), so nothing depends on tracefs being mounted, and the perf event
 * is bound to the target pid so the breakpoint only fires in that process.
 *
 * A probe at an SDT site with a semaphore carries the semaphore's file
 * offset as the uprobe's reference counter (config bits 32-63): the kernel
 * raises it while the probe is installed (stub/program/sdt.h says why).
 *
 * On Linux 6.6+ the probe is a uprobe_multi link of one site instead of a
 * perf event (bpfc_probe__attach_ex(); the program loaded for it): its
 * release takes no global lock, where a perf event's program is taken off
 * under bpf_event_mutex across an RCU grace period, so that releases of
 * perf events run one after another and hold up new attaches.
 *
 * Nothing here stops, signals or ptraces the target.  The target may
 * exit at any moment; every step then fails with an error, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>

#include "bpf/probe.h"
#include "rsp/buf.h"

#define UPROBE_TYPE_PATH "/sys/bus/event_source/devices/uprobe/type"
/* include/linux/trace_events.h: where the uprobe PMU takes ref_ctr_offset in attr.config. */
#define UPROBE_REF_CTR_SHIFT 32
#define DELETED_SUFFIX	     " (deleted)"

/*
 * uprobe_multi links (Linux 6.6), which Debian 12's libbpf 1.1 and its
 * 6.1 uapi headers do not know: the BPF_LINK_CREATE attributes as
 * include/uapi/linux/bpf.h has them (the attach type: probe.h).
 */
struct link_create_umulti {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 umulti_flags;
	__u32 pid;
	__u32 pad;
};

/* Find addr in /proc/PID/maps and fill the mapping fields of p. */
static int find_mapping(struct bpfc_probe *p, char *err, size_t errlen)
{
	char fname[64], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = NULL;
	int ret;

	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)p->pid);
	f = fopen(fname, "re");
	if (!f) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		rsp_buf__msgf(err, errlen, "cannot read %s: %s", fname, strerror(-ret));
		goto cleanup;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long start, end, off, inode;
		unsigned int major, minor;
		char perms[5];
		int n = 0;
		size_t l;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off,
			   &major, &minor, &inode, &n) < 7)
			continue;
		if (p->addr < start || p->addr >= end)
			continue;
		found = true;
		p->map_start = start;
		p->map_end = end;
		p->map_offset = off;
		p->map_inode = inode;
		p->map_dev = makedev(major, minor);
		l = strcspn(line + n, "\n");
		if (l >= sizeof(p->map_path))
			l = sizeof(p->map_path) - 1;
		memcpy(p->map_path, line + n, l);
		p->map_path[l] = '\0';
		if (perms[2] != 'x')
			found = false;
		else if (!inode || p->map_path[0] != '/') {
			ret = -ENOENT;
			rsp_buf__msgf(
				err, errlen,
				"address 0x%llx is in an anonymous executable mapping of pid %d "
				"(uprobes need a file)",
				(unsigned long long)p->addr, (int)p->pid);
			goto cleanup;
		}
		break;
	}
	if (ferror(f)) {
		/* The process exited while we read its maps. */
		ret = -ESRCH;
		rsp_buf__msgf(err, errlen, "cannot read %s: %s", fname, strerror(ESRCH));
		goto cleanup;
	}
	if (!found) {
		ret = -ENOENT;
		rsp_buf__msgf(err, errlen,
			      "address 0x%llx is not in an executable mapping of pid %d",
			      (unsigned long long)p->addr, (int)p->pid);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(line);
	if (f)
		fclose(f);
	return ret;
}

/* Check that p->file_offset is code in the ELF file fd; read the original bytes. */
static int check_elf(struct bpfc_probe *p, int fd, char *err, size_t errlen)
{
	Elf *elf = NULL;
	GElf_Ehdr eh;
	size_t i, nph;
	bool found = false;
	__u64 seg_end = 0;
	ssize_t n;
	int ret;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		ret = -ENOSYS;
		rsp_buf__msgf(err, errlen, "libelf: %s", elf_errmsg(-1));
		goto cleanup;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    elf_getphdrnum(elf, &nph)) {
		ret = -ENOEXEC;
		rsp_buf__msgf(err, errlen, "%s is not an x86-64 ELF file", p->map_path);
		goto cleanup;
	}
	for (i = 0; i < nph && !found; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (p->file_offset >= ph.p_offset && p->file_offset - ph.p_offset < ph.p_filesz) {
			found = true;
			seg_end = ph.p_offset + ph.p_filesz;
		}
	}
	if (!found) {
		ret = -ENOENT;
		rsp_buf__msgf(
			err, errlen,
			"address 0x%llx (offset 0x%llx in %s) is not in an executable segment",
			(unsigned long long)p->addr, (unsigned long long)p->file_offset,
			p->map_path);
		goto cleanup;
	}
	p->norig = seg_end - p->file_offset < BPFC_PROBE_ORIG_LEN ? seg_end - p->file_offset
								  : BPFC_PROBE_ORIG_LEN;
	n = pread(fd, p->orig, p->norig, (off_t)p->file_offset);
	if (n <= 0) {
		ret = n < 0 ? -errno : -EIO;
		rsp_buf__msgf(err, errlen, "cannot read %s at 0x%llx: %s", p->map_path,
			      (unsigned long long)p->file_offset, strerror(-ret));
		p->norig = 0;
		goto cleanup;
	}
	p->norig = (size_t)n;
	ret = 0;
cleanup:
	if (elf)
		elf_end(elf);
	return ret;
}

static void map_files_path(const struct bpfc_probe *p, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", (int)p->pid,
		 (unsigned long long)p->map_start, (unsigned long long)p->map_end);
}

/*
 * map_path as the target sees it: maps names a chroot'ed target's files by
 * the host's path, its root directory (readlink root, "/" for a container
 * with its own mount namespace) in front.  root is "/proc/PID/root".
 */
static const char *in_root(const struct bpfc_probe *p, const char *root)
{
	char dir[PATH_MAX];
	ssize_t r = readlink(root, dir, sizeof(dir) - 1);

	while (r > 1 && dir[r - 1] == '/')
		r--;
	if (r <= 1 || dir[0] != '/' || strncmp(p->map_path, dir, (size_t)r) ||
	    p->map_path[r] != '/')
		return p->map_path;
	return p->map_path + r;
}

/*
 * The mapped file by its path inside the target's root, only if it is
 * still the (dev, ino) maps shows.  why: why map_files was not used (0
 * if it was not tried).  fd or -errno + message.
 */
static int open_in_root(const struct bpfc_probe *p, int why, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	size_t l = strlen(p->map_path), sl = strlen(DELETED_SUFFIX);
	char root[64], because[160] = "";
	int rfd = -1, fd = -1, ret;
	struct stat st;

	if (why)
		snprintf(because, sizeof(because),
			 " (/proc/%d/map_files: %s; following it needs CAP_CHECKPOINT_RESTORE)",
			 (int)p->pid, strerror(why));
	if (l >= sl && !strcmp(p->map_path + l - sl, DELETED_SUFFIX)) {
		ret = -ENOENT;
		rsp_buf__msgf(err, errlen, "%.*s was deleted or replaced since pid %d mapped it%s",
			      (int)(l - sl), p->map_path, (int)p->pid, because);
		goto cleanup;
	}
	snprintf(root, sizeof(root), "/proc/%d/root", (int)p->pid);
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		rsp_buf__msgf(err, errlen, "cannot open %s: %s%s", root, strerror(errno), because);
		goto cleanup;
	}
	fd = (int)syscall(SYS_openat2, rfd, in_root(p, root), &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		/* pre-5.6 kernel: the (dev, ino) check below still bounds what opens */
		fd = openat(rfd, in_root(p, root) + 1, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		ret = -errno;
		rsp_buf__msgf(err, errlen, "cannot open %s in pid %d's root: %s%s", p->map_path,
			      (int)p->pid, strerror(errno), because);
		goto cleanup;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -ENOENT;
		rsp_buf__msgf(err, errlen, "%s is not a regular file", p->map_path);
		goto cleanup;
	}
	if (st.st_ino != p->map_inode || st.st_dev != p->map_dev) {
		ret = -ESTALE;
		rsp_buf__msgf(err, errlen,
			      "%s in pid %d's root is not the file it maps (replaced since, or "
			      "another file system's view)%s",
			      p->map_path, (int)p->pid, because);
		goto cleanup;
	}
	ret = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	return ret;
}

/* Open the mapped file as how says, p->path saying where; fd or -errno + message. */
static int open_mapped(struct bpfc_probe *p, enum bpfc_probe_path how, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, why = 0;

	if (how != BPFC_PROBE_PATH_REAL) {
		map_files_path(p, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			snprintf(p->path, sizeof(p->path), "%s", path);
			return fd;
		}
		why = errno;
		if (why == ENOENT || how == BPFC_PROBE_PATH_MAP_FILES) {
			rsp_buf__msgf(err, errlen, "cannot open %s (%s): %s", path, p->map_path,
				      strerror(why));
			return why == ENOENT ? -ESRCH : -why;
		}
	}
	snprintf(p->path, sizeof(p->path), "/proc/%d/root%.4000s", (int)p->pid, p->map_path);
	return open_in_root(p, why, err, errlen);
}

/* resolve(), leaving the checked file open: fd or -errno + message. */
static int resolve_fd(struct bpfc_probe *p, pid_t pid, __u64 addr, enum bpfc_probe_path how,
		      char *err, size_t errlen)
{
	int fd = -1, ret;

	memset(p, 0, sizeof(*p));
	p->perf_fd = -1;
	p->link_fd = -1;
	p->pid = pid;
	p->addr = addr;
	if (pid <= 0) {
		ret = -ESRCH;
		rsp_buf__msgf(err, errlen, "invalid pid %d", (int)pid);
		goto cleanup;
	}
	ret = find_mapping(p, err, errlen);
	if (ret)
		goto cleanup;
	p->file_offset = addr - p->map_start + p->map_offset;
	fd = open_mapped(p, how, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto cleanup;
	}
	ret = check_elf(p, fd, err, errlen);
	if (!ret) {
		ret = fd;
		fd = -1;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	return ret;
}

int bpfc_probe__resolve(struct bpfc_probe *p, pid_t pid, __u64 addr, char *err, size_t errlen)
{
	int fd = resolve_fd(p, pid, addr, BPFC_PROBE_PATH_AUTO, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int uprobe_type(void)
{
	char buf[32];
	ssize_t n;
	int fd, t;

	fd = open(UPROBE_TYPE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENODEV;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENODEV;
	buf[n] = '\0';
	if (sscanf(buf, "%d", &t) != 1 || t < 0)
		return -ENODEV;
	return t;
}

/* Create the perf event for path; fd or -errno. */
static int open_uprobe(const struct bpfc_probe *p, int type, const char *path)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (__u32)type;
	attr.config1 = (__u64)(uintptr_t)path;
	attr.config2 = p->file_offset;
	attr.config = p->ref_ctr_offset << UPROBE_REF_CTR_SHIFT;
	fd = (int)syscall(SYS_perf_event_open, &attr, p->pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Is CAP_SYS_ADMIN in this thread's effective set? */
static bool sys_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

int bpfc_probe__prog_attach_type(void)
{
	return !sys_admin() && bpfc_probe__multi_ok() ? BPFC_TRACE_UPROBE_MULTI : 0;
}

/* A uprobe_multi link of one site for path, in process pid (0: every process): fd or -errno. */
static int link_umulti(const struct bpfc_probe *p, int prog_fd, const char *path, pid_t pid)
{
	struct link_create_umulti a;
	__u64 off = p->file_offset, ref = p->ref_ctr_offset;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (__u32)prog_fd;
	a.attach_type = BPFC_TRACE_UPROBE_MULTI;
	a.path = (__u64)(uintptr_t)path;
	a.offsets = (__u64)(uintptr_t)&off;
	a.ref_ctr_offsets = ref ? (__u64)(uintptr_t)&ref : 0;
	a.cnt = 1;
	a.pid = (__u32)pid;
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

bool bpfc_probe__multi_ok(void)
{
	static const struct bpf_insn ret0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	static int ok = -1;
	struct bpfc_probe p;
	const char *no;
	int fd, l;

	if (ok >= 0)
		return ok;
	ok = 0;
	no = getenv("BPFSTUB_NO_UPROBE_MULTI");
	if (no && *no && strcmp(no, "0"))
		return false;
	fd = bpfc_probe__load_multi(ret0, 2);
	if (fd < 0)
		return false;
	/* A kernel that has the links looks the path up: ENOENT; one that has not: EINVAL. */
	memset(&p, 0, sizeof(p));
	p.pid = getpid();
	l = link_umulti(&p, fd, "/nonexistent/bpfstub-uprobe-multi-probe", p.pid);
	if (l >= 0)
		close(l);
	ok = l == -ENOENT;
	close(fd);
	return ok;
}

int bpfc_probe__load_multi(const struct bpf_insn *insns, size_t n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	opts.expected_attach_type = (enum bpf_attach_type)BPFC_TRACE_UPROBE_MULTI;
	return bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bpfstub_umulti", "GPL", insns, n, &opts);
}

int bpfc_probe__attach(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
		       enum bpfc_probe_path how, char *err, size_t errlen)
{
	return bpfc_probe__attach_refctr(p, pid, addr, prog_fd, how, 0, err, errlen);
}

int bpfc_probe__attach_refctr(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
			      enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err,
			      size_t errlen)
{
	return bpfc_probe__attach_ex(p, pid, addr, prog_fd,
				     bpfc_probe__prog_attach_type() == BPFC_TRACE_UPROBE_MULTI, how,
				     ref_ctr_offset, err, errlen);
}

/* attach_ex() and attach_shared(): the link fires in link_pid, or in every process (0). */
static int attach(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd, bool multi,
		  enum bpfc_probe_path how, __u64 ref_ctr_offset, pid_t link_pid, char *err,
		  size_t errlen)
{
	char path[64];
	int fd = -1, type, ret;

	ret = resolve_fd(p, pid, addr, how, err, errlen);
	if (ret < 0)
		goto cleanup;
	fd = ret;
	if (ref_ctr_offset >> (64 - UPROBE_REF_CTR_SHIFT)) {
		ret = -E2BIG;
		rsp_buf__msgf(err, errlen, "the SDT semaphore of 0x%llx is beyond 4 GiB into %s",
			      (unsigned long long)addr, p->map_path);
		goto cleanup;
	}
	p->ref_ctr_offset = ref_ctr_offset;
	if (prog_fd < 0) {
		ret = -EBADF;
		rsp_buf__msgf(err, errlen, "no BPF program to attach");
		goto cleanup;
	}
	type = multi ? 0 : uprobe_type();
	if (type < 0) {
		ret = type;
		rsp_buf__msgf(err, errlen, "the kernel has no uprobe PMU (%s)", UPROBE_TYPE_PATH);
		goto cleanup;
	}

	/* The kernel follows this magic link to the very file checked above. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = multi ? link_umulti(p, prog_fd, path, link_pid) : open_uprobe(p, type, path);
	if (ret < 0) {
		/* 524 is the kernel's ENOTSUPP: an instruction uprobes refuse (e.g. lock-prefixed).
		 */
		rsp_buf__msgf(
			err, errlen, "cannot create a uprobe at 0x%llx (%s+0x%llx) in pid %d%s%s: %s",
			(unsigned long long)addr, p->map_path, (unsigned long long)p->file_offset,
			(int)pid, link_pid ? "" : " (for every process of the file)",
			p->ref_ctr_offset ? " with its SDT semaphore as reference counter" : "",
			ret == -524 ? "the kernel cannot put a uprobe on this instruction (try "
				      "another address, e.g. the next line)"
			: ret == -EINVAL && p->ref_ctr_offset
				? "Invalid argument (another uprobe at this address has no or "
				  "another reference counter: see the kernel log)"
				: strerror(-ret));
		goto cleanup;
	}
	if (multi) {
		/* The link is the probe: no perf event. */
		p->link_fd = ret;
		ret = 0;
		goto cleanup;
	}
	p->perf_fd = ret;

	ret = bpf_link_create(prog_fd, p->perf_fd, BPF_PERF_EVENT, NULL);
	if (ret >= 0) {
		p->link_fd = ret;
		ret = 0;
		goto cleanup;
	}
	/* Kernels without perf links: the ioctl interface. */
	if (ioctl(p->perf_fd, PERF_EVENT_IOC_SET_BPF, prog_fd) ||
	    ioctl(p->perf_fd, PERF_EVENT_IOC_ENABLE, 0)) {
		ret = -errno;
		rsp_buf__msgf(err, errlen,
			      "cannot attach the BPF program to the uprobe at 0x%llx: %s",
			      (unsigned long long)addr, strerror(errno));
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ret)
		bpfc_probe__detach(p);
	return ret;
}

int bpfc_probe__attach_ex(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd, bool multi,
			  enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err, size_t errlen)
{
	return attach(p, pid, addr, prog_fd, multi, how, ref_ctr_offset, pid, err, errlen);
}

int bpfc_probe__attach_shared(struct bpfc_probe *p, pid_t pid, __u64 addr, int prog_fd,
			      enum bpfc_probe_path how, __u64 ref_ctr_offset, char *err,
			      size_t errlen)
{
	if (!bpfc_probe__multi_ok()) {
		memset(p, 0, sizeof(*p));
		p->perf_fd = p->link_fd = -1;
		rsp_buf__msgf(err, errlen,
			      "a uprobe for several processes needs uprobe_multi links (Linux 6.6)");
		return -EOPNOTSUPP;
	}
	return attach(p, pid, addr, prog_fd, true, how, ref_ctr_offset, 0, err, errlen);
}

void bpfc_probe__detach(struct bpfc_probe *p)
{
	if (p->link_fd >= 0)
		close(p->link_fd);
	if (p->perf_fd >= 0)
		close(p->perf_fd);
	p->link_fd = -1;
	p->perf_fd = -1;
}

const __u8 *bpfc_probe__orig_bytes(const struct bpfc_probe *p, size_t *len)
{
	*len = p->norig;
	return p->orig;
}

void bpfc_probe__patch_orig(__u64 at, const __u8 *orig, size_t norig, __u64 addr, void *buf,
			    size_t len)
{
	static const __u8 nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
	size_t n = 1, i;
	__u8 *b = buf;

	if (!norig)
		return;
	if (norig >= sizeof(nop5) && !memcmp(orig, nop5, sizeof(nop5)))
		n = sizeof(nop5);
	for (i = 0; i < n; i++) {
		__u64 a = at + i;

		if (a >= addr && a - addr < len)
			b[a - addr] = orig[i];
	}
}

void bpfc_probe__patch(const struct bpfc_probe *p, __u64 addr, void *buf, size_t len)
{
	bpfc_probe__patch_orig(p->addr, p->orig, p->norig, addr, buf, len);
}
