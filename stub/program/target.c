/* SPDX-License-Identifier: MIT */
/*
 * stub/program/target.c - the live process, seen only through /proc.
 *
 * This file owns everything bpfstub knows about the process it serves:
 * whether it is there, its threads, its memory, its mappings, the shared
 * objects the dynamic linker has loaded and the files it may hand to the
 * debugger.  The one rule that shapes it is that the target must never be
 * stopped, not even for a moment: no ptrace attach, no SIGSTOP, nothing that
 * would set TracerPid or put a thread in state t/T.  So every question is
 * answered by reading:
 *
 *  - threads and their state from /proc/PID/task/TID/{comm,stat};
 *  - memory with process_vm_readv, and /proc/PID/mem when that fails
 *    (both are plain reads of the other address space);
 *  - a thread's PC and SP from /proc/PID/task/TID/syscall, which the kernel
 *    fills in while the thread is blocked in a system call, the state a
 *    server thread spends nearly all its life in;
 *  - the program's layout from /proc/PID/auxv and its program headers, read
 *    in live memory, and the library list from the dynamic linker's r_debug
 *    structure, found through the executable's DT_DEBUG entry;
 *  - files through /proc/PID/root with openat2(RESOLVE_IN_ROOT), so a
 *    target in a container gets its own /lib, and only files the target
 *    actually maps may be opened.
 *
 * The process lives on while we look at it: any /proc file may vanish
 * between two reads and any pointer in its memory may change under us.
 * Every read is therefore bounded and every failure is an error code,
 * never a crash; a thread that disappears mid-listing is simply skipped.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/program/target.h"
#include "stub/program/tgtns.h"

#define PROC_FILE_MAX (64u << 20)
#define MAX_PHNUM     512
#define MAX_DYN	      512
#define MAX_LINK_MAPS 4096
#define MAX_LIB_NAME  4096
#define MAX_MEM_READ  ((size_t)SSIZE_MAX)
#define AUXV_RETRIES  200

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Read all of an open fd (a /proc file reports size 0) into a NUL-terminated buffer. */
static int read_fd_all(int fd, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *p, *q;
	ssize_t r;
	int err;

	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	for (;;) {
		if (cap - n < 2) {
			if (cap >= PROC_FILE_MAX) {
				err = -EFBIG;
				goto fail;
			}
			q = realloc(p, cap * 2);
			if (!q) {
				err = -ENOMEM;
				goto fail;
			}
			p = q;
			cap *= 2;
		}
		r = read(fd, p + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	if (len)
		*len = n;
	return 0;
fail:
	free(p);
	return err;
}

/* Whole /proc/PID/<rel> file; rel may name a task subdirectory ("task/TID/stat"). */
static int read_proc_rel(pid_t pid, const char *rel, char **buf, size_t *len)
{
	char path[128];
	int fd, err;

	if (!rel || strstr(rel, ".."))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_fd_all(fd, buf, len);
	close(fd);
	return err;
}

/*
 * State letter of a task from a stat line: the field after the ')' that
 * closes comm (comm may itself hold spaces and ')').  Also the processor
 * (field 39) when core is non-NULL.
 */
static int parse_stat(const char *stat, char *state, int *core)
{
	const char *p = strrchr(stat, ')');
	int field;
	long v;

	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	p += 2;
	*state = *p;
	if (!core)
		return 0;
	*core = -1;
	/* p is at field 3; walk to field 39 */
	for (field = 3; field < 39 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p && *p >= '0' && *p <= '9') {
		v = strtol(p, NULL, 10);
		if (v >= 0 && v <= INT_MAX)
			*core = (int)v;
	}
	return 0;
}

static int task_state(pid_t pid, const char *rel, char *state)
{
	char *buf = NULL;
	int err;

	err = read_proc_rel(pid, rel, &buf, NULL);
	if (!err)
		err = parse_stat(buf, state, NULL);
	free(buf);
	return err;
}

static bool proc_gone(pid_t pid)
{
	char state;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	if (task_state(pid, "stat", &state))
		return true;
	return state == 'Z' || state == 'X' || state == 'x';
}

/*
 * The load bias of the executable: where its program headers are in
 * memory (AT_PHDR) minus where its ELF file says they are.
 */
static int compute_load_bias(struct tgt *t)
{
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh;
	char path[64];
	size_t i, n = (size_t)t->phnum, sz;
	ssize_t r;
	int fd, err = 0;

	t->load_bias = 0;
	if (!t->phdr || !n || n > MAX_PHNUM)
		return -ENOEXEC;
	sz = n * sizeof(*ph);
	ph = malloc(sz);
	if (!ph)
		return -ENOMEM;
	r = tgt__read_mem(t, t->phdr, ph, sz);
	if (r < 0 || (size_t)r != sz) {
		err = r < 0 ? (int)r : -EIO;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		if (ph[i].p_type == PT_PHDR) {
			t->load_bias = t->phdr - ph[i].p_vaddr;
			goto cleanup;
		}
	}
	/*
	 * No PT_PHDR: the PT_LOAD that maps the headers from the file.  Their
	 * file offset is e_phoff, from the executable's ELF header.
	 */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto cleanup; /* e.g. a kernel thread-like target: assume non-PIE */
	r = pread(fd, &eh, sizeof(eh), 0);
	close(fd);
	if (r != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		goto cleanup;
	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || eh.e_phoff < ph[i].p_offset ||
		    eh.e_phoff - ph[i].p_offset >= ph[i].p_filesz)
			continue;
		t->load_bias = t->phdr - (ph[i].p_vaddr + (eh.e_phoff - ph[i].p_offset));
		break;
	}
cleanup:
	free(ph);
	return err;
}

static int parse_auxv(struct tgt *t, const char *buf, size_t len)
{
	const Elf64_auxv_t *av = (const Elf64_auxv_t *)buf;
	size_t i, n = len / sizeof(*av);
	uint64_t phent = sizeof(Elf64_Phdr);

	t->entry = t->phdr = t->phnum = t->base = 0;
	for (i = 0; i < n; i++) {
		Elf64_auxv_t a;

		memcpy(&a, &av[i], sizeof(a));
		if (a.a_type == AT_NULL)
			break;
		switch (a.a_type) {
		case AT_ENTRY:
			t->entry = a.a_un.a_val;
			break;
		case AT_PHDR:
			t->phdr = a.a_un.a_val;
			break;
		case AT_PHNUM:
			t->phnum = a.a_un.a_val;
			break;
		case AT_PHENT:
			phent = a.a_un.a_val;
			break;
		case AT_BASE:
			t->base = a.a_un.a_val;
			break;
		default:
			break;
		}
	}
	if (!t->entry)
		return -EAGAIN;
	if (phent != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	return 0;
}

static void init_tgt(struct tgt *t, pid_t pid)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->root_fd = -1;
	t->mem_fd = -1;
}

static void perm_err(char *err, size_t errlen, pid_t pid)
{
	rsp_buf__msgf(err, errlen,
		      "cannot access pid %d: permission denied (bpfstub needs CAP_SYS_PTRACE and "
		      "CAP_DAC_READ_SEARCH to read another user's process; run as root)",
		      (int)pid);
}

int tgt__attach(struct tgt *t, pid_t pid, char *err, size_t errlen)
{
	char path[64], state, *auxv = NULL;
	size_t auxv_len = 0;
	int ret, tries;

	init_tgt(t, pid);
	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
		rsp_buf__msgf(err, errlen, "no process with pid %d", (int)pid);
		ret = -ESRCH;
		goto fail;
	}
	ret = task_state(pid, "stat", &state);
	if (ret == -ENOENT || ret == -ESRCH) {
		rsp_buf__msgf(err, errlen, "no process with pid %d", (int)pid);
		ret = -ESRCH;
		goto fail;
	}
	if (ret) {
		rsp_buf__msgf(err, errlen, "cannot read /proc/%d/stat: %s", (int)pid,
			      strerror(-ret));
		goto fail;
	}
	if (state == 'Z' || state == 'X' || state == 'x') {
		rsp_buf__msgf(err, errlen, "process %d has exited (it is a zombie)", (int)pid);
		ret = -ESRCH;
		goto fail;
	}

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	t->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->root_fd < 0) {
		ret = -errno;
		goto open_fail;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->mem_fd < 0) {
		ret = -errno;
		goto open_fail;
	}

	/*
	 * Right after exec (a launched child) the kernel may not have written
	 * the new auxv yet: it reads as zeros for a moment.  Retry briefly.
	 */
	for (tries = 0;; tries++) {
		free(auxv);
		auxv = NULL;
		ret = read_proc_rel(pid, "auxv", &auxv, &auxv_len);
		if (ret)
			goto open_fail;
		ret = parse_auxv(t, auxv, auxv_len);
		if (ret != -EAGAIN || tries >= AUXV_RETRIES)
			break;
		if (proc_gone(pid)) {
			rsp_buf__msgf(err, errlen, "process %d has exited", (int)pid);
			ret = -ESRCH;
			goto fail;
		}
		sleep_ms(1);
	}
	if (ret == -EAGAIN) {
		rsp_buf__msgf(
			err, errlen,
			"process %d has no AT_ENTRY in its auxv (exited or not a user program?)",
			(int)pid);
		ret = -ESRCH;
		goto fail;
	}
	if (ret) {
		rsp_buf__msgf(err, errlen,
			      "process %d: unsupported auxv (not a 64-bit ELF program?)", (int)pid);
		goto fail;
	}
	tgtns__init(t);
	ret = compute_load_bias(t);
	if (ret) {
		if (proc_gone(pid)) {
			rsp_buf__msgf(err, errlen, "process %d has exited", (int)pid);
			ret = -ESRCH;
		} else {
			rsp_buf__msgf(err, errlen, "cannot read the program headers of pid %d: %s",
				      (int)pid, strerror(-ret));
		}
		goto fail;
	}
	free(auxv);
	return 0;

open_fail:
	if (ret == -EACCES || ret == -EPERM) {
		perm_err(err, errlen, pid);
	} else if (ret == -ENOENT || ret == -ESRCH || proc_gone(pid)) {
		rsp_buf__msgf(err, errlen, "process %d has exited", (int)pid);
		ret = -ESRCH;
	} else {
		rsp_buf__msgf(err, errlen, "cannot access pid %d: %s", (int)pid, strerror(-ret));
	}
fail:
	free(auxv);
	tgt__close(t);
	return ret;
}

int tgt__launch(struct tgt *t, char *const argv[], char *err, size_t errlen)
{
	int pfd[2], child_errno = 0, ret, status;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	init_tgt(t, 0);
	if (!argv || !argv[0] || !argv[0][0]) {
		rsp_buf__msgf(err, errlen, "no program to run");
		return -EINVAL;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		ret = -errno;
		rsp_buf__msgf(err, errlen, "cannot run %s: pipe: %s", argv[0], strerror(-ret));
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		rsp_buf__msgf(err, errlen, "cannot run %s: fork: %s", argv[0], strerror(-ret));
		return ret;
	}
	if (pid == 0) {
		int e;

		close(pfd[0]);
		execvp(argv[0], argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0) {
			/* nothing more we can do */
		}
		_exit(127);
	}
	close(pfd[1]);
	/* EOF on the CLOEXEC pipe means the exec succeeded. */
	while (got < sizeof(child_errno)) {
		r = read(pfd[0], (char *)&child_errno + got, sizeof(child_errno) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	if (got) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (got != sizeof(child_errno) || child_errno <= 0)
			child_errno = EIO;
		rsp_buf__msgf(err, errlen, "cannot run %s: %s", argv[0], strerror(child_errno));
		return -child_errno;
	}
	ret = tgt__attach(t, pid, err, errlen);
	if (ret) {
		/* it may simply have been quick: say so rather than "zombie" */
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status))
				rsp_buf__msgf(err, errlen, "%s exited at once (status %d)", argv[0],
					      WEXITSTATUS(status));
			else if (WIFSIGNALED(status))
				rsp_buf__msgf(err, errlen, "%s was killed at once by signal %d",
					      argv[0], WTERMSIG(status));
			return ret;
		}
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return ret;
	}
	t->launched = true;
	return 0;
}

void tgt__close(struct tgt *t)
{
	close_fd(&t->root_fd);
	close_fd(&t->mem_fd);
}

bool tgt__alive(struct tgt *t)
{
	int status;
	pid_t r;

	if (t->exited || t->pid <= 0)
		return false;
	if (t->launched) {
		do
			r = waitpid(t->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return true;
		if (r == t->pid)
			t->exit_status = status;
		/* reaped now, or by someone else (ECHILD): gone either way */
		t->exited = true;
		return false;
	}
	if (proc_gone(t->pid)) {
		t->exited = true;
		return false;
	}
	return true;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int read_thread(pid_t pid, pid_t tid, struct tgt_thread *th)
{
	char rel[64], *buf = NULL;
	size_t len;
	int err;

	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->core = -1;
	snprintf(rel, sizeof(rel), "task/%d/comm", (int)tid);
	err = read_proc_rel(pid, rel, &buf, &len);
	if (err)
		return err;
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	snprintf(th->name, sizeof(th->name), "%s", buf);
	free(buf);
	buf = NULL;
	snprintf(rel, sizeof(rel), "task/%d/stat", (int)tid);
	err = read_proc_rel(pid, rel, &buf, NULL);
	if (!err)
		err = parse_stat(buf, &th->state, &th->core);
	free(buf);
	return err;
}

static int thread_cmp(const void *a, const void *b, void *arg)
{
	pid_t x = ((const struct tgt_thread *)a)->tid, y = ((const struct tgt_thread *)b)->tid;
	pid_t main_tid = *(const pid_t *)arg;

	if (x == y)
		return 0;
	if (x == main_tid)
		return -1;
	if (y == main_tid)
		return 1;
	return x < y ? -1 : 1;
}

int tgt__threads(struct tgt *t, struct tgt_thread **out, size_t *n)
{
	struct tgt_thread *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	char path[64];
	DIR *d = NULL;
	long tid;
	int err = 0;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	d = opendir(path);
	if (!d) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				err = -errno;
				goto cleanup;
			}
			break;
		}
		if (!is_number(de->d_name))
			continue;
		tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0 || tid > INT_MAX)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = reallocarray(v, cap, sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				goto cleanup;
			}
			v = nv;
		}
		/* a thread that exits while we look is simply not listed */
		if (read_thread(t->pid, (pid_t)tid, &v[cnt]) == 0)
			cnt++;
	}
	if (!cnt) {
		err = -ESRCH;
		goto cleanup;
	}
	qsort_r(v, cnt, sizeof(*v), thread_cmp, &t->pid);
	*out = v;
	*n = cnt;
	v = NULL;
cleanup:
	if (d)
		closedir(d);
	free(v);
	return err;
}

bool tgt__has_thread(struct tgt *t, pid_t tid)
{
	char rel[64];
	char state;

	if (tid <= 0)
		return false;
	snprintf(rel, sizeof(rel), "task/%d/stat", (int)tid);
	if (task_state(t->pid, rel, &state))
		return false;
	return state != 'Z' && state != 'X' && state != 'x';
}

static ssize_t pread_mem(struct tgt *t, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t r;

	if (t->mem_fd < 0)
		return -EIO;
	/* pread's offset is signed: the upper half is kernel space anyway */
	if (addr > (uint64_t)INT64_MAX)
		return -EIO;
	if (len > (uint64_t)INT64_MAX - addr)
		len = (size_t)((uint64_t)INT64_MAX - addr);
	while (done < len) {
		r = pread(t->mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (done)
				break;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	if (!done && len)
		return -EIO;
	return (ssize_t)done;
}

ssize_t tgt__read_mem(struct tgt *t, uint64_t addr, void *buf, size_t len)
{
	struct iovec local, remote;
	ssize_t r, more;

	if (!len)
		return 0;
	if (len > MAX_MEM_READ)
		len = MAX_MEM_READ;
	if (len - 1 > UINT64_MAX - addr) /* addr + len would wrap */
		len = (size_t)(UINT64_MAX - addr) + 1;
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = len;
	r = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
	if (r < 0 && errno == EINTR)
		r = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
	if (r < 0)
		return pread_mem(t, addr, buf, len);
	if ((size_t)r < len && r > 0) {
		/*
		 * Short: /proc/PID/mem may still reach what process_vm_readv
		 * cannot pin (VM_IO mappings such as [vvar]).
		 */
		more = pread_mem(t, addr + (uint64_t)r, (char *)buf + r, len - (size_t)r);
		if (more > 0)
			r += more;
	}
	if (r == 0)
		return -EIO;
	return r;
}

int tgt__thread_pc_sp(struct tgt *t, pid_t tid, uint64_t *pc, uint64_t *sp)
{
	char rel[64], *buf = NULL, *tok[10], *save = NULL, *s, *e1, *e2;
	unsigned long long vsp, vpc;
	size_t ntok = 0;
	int err;

	if (tid <= 0)
		return -ESRCH;
	snprintf(rel, sizeof(rel), "task/%d/syscall", (int)tid);
	err = read_proc_rel(t->pid, rel, &buf, NULL);
	if (err) {
		if (err == -ENOENT)
			err = -ESRCH;
		goto cleanup;
	}
	for (s = strtok_r(buf, " \t\n", &save); s && ntok < 10; s = strtok_r(NULL, " \t\n", &save))
		tok[ntok++] = s;
	if (ntok >= 1 && !strcmp(tok[0], "running")) {
		err = -EAGAIN;
		goto cleanup;
	}
	if (ntok != 3 && ntok != 9) {
		err = ntok == 0 ? -ESRCH : -EIO;
		goto cleanup;
	}
	errno = 0;
	vsp = strtoull(tok[ntok - 2], &e1, 16);
	vpc = strtoull(tok[ntok - 1], &e2, 16);
	if (errno || *e1 || *e2) {
		err = -EIO;
		goto cleanup;
	}
	*sp = vsp;
	*pc = vpc;
cleanup:
	free(buf);
	return err;
}

int tgt__read_proc(struct tgt *t, const char *name, char **buf, size_t *len)
{
	int err;

	*buf = NULL;
	if (len)
		*len = 0;
	if (!name || !*name || name[0] == '/')
		return -EINVAL;
	err = read_proc_rel(t->pid, name, buf, len);
	if (err == -ENOENT && proc_gone(t->pid))
		err = -ESRCH;
	return err;
}

int tgt__exe_path(struct tgt *t, char *out, size_t len)
{
	char path[64];
	ssize_t r;

	if (!len)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	r = readlink(path, out, len);
	if (r < 0) {
		out[0] = '\0';
		return errno == ENOENT ? -ESRCH : -errno;
	}
	if ((size_t)r >= len) {
		out[len - 1] = '\0';
		return -ENAMETOOLONG;
	}
	out[r] = '\0';
	tgtns__path(t, out);
	return 0;
}

/* One maps line (not NUL-terminated: it ends at eol); dev is optional. */
static int parse_map_line(const char *line, const char *eol, struct tgt_map *m, dev_t *dev)
{
	char tmp[1024 + 64];
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	char perms[5];
	size_t n = (size_t)(eol - line), plen;
	const char *p;
	int pos = 0;

	/* Fields before the path are short; copy enough to sscanf safely. */
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj, &min,
		   &ino, &pos) != 7)
		return -EIO;
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->offset = off;
	m->inode = ino;
	memcpy(m->perms, perms, sizeof(m->perms));
	if (dev)
		*dev = makedev(maj, min);
	p = line + pos;
	while (p < eol && *p == ' ')
		p++;
	plen = (size_t)(eol - p);
	if (plen >= sizeof(m->path))
		plen = sizeof(m->path) - 1;
	memcpy(m->path, p, plen);
	m->path[plen] = '\0';
	return 0;
}

int tgt__maps(struct tgt *t, struct tgt_map **out, size_t *n)
{
	struct tgt_map *v = NULL, *nv;
	size_t cnt = 0, cap = 0, len;
	char *buf = NULL, *line, *eol, *end;
	int err;

	*out = NULL;
	*n = 0;
	err = tgt__read_proc(t, "maps", &buf, &len);
	if (err)
		goto cleanup;
	end = buf + len;
	for (line = buf; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if (eol == line)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = reallocarray(v, cap, sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				goto cleanup;
			}
			v = nv;
		}
		if (parse_map_line(line, eol, &v[cnt], NULL) == 0)
			tgtns__path(t, v[cnt++].path);
	}
	if (!cnt && proc_gone(t->pid)) {
		err = -ESRCH;
		goto cleanup;
	}
	*out = v;
	*n = cnt;
	v = NULL;
cleanup:
	free(v);
	free(buf);
	return err;
}

int tgt__region(struct tgt *t, uint64_t addr, struct tgt_map *r)
{
	struct tgt_map *maps = NULL;
	uint64_t gap_start = 0, gap_end = UINT64_MAX;
	size_t i, n;
	int err;

	err = tgt__maps(t, &maps, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (addr >= maps[i].start && addr < maps[i].end) {
			*r = maps[i];
			goto cleanup;
		}
		if (maps[i].end <= addr && maps[i].end > gap_start)
			gap_start = maps[i].end;
		if (maps[i].start > addr && maps[i].start < gap_end)
			gap_end = maps[i].start;
	}
	memset(r, 0, sizeof(*r));
	r->start = gap_start;
	r->end = gap_end;
cleanup:
	free(maps);
	return 0;
}

static int read_u64(struct tgt *t, uint64_t addr, uint64_t *v)
{
	ssize_t r = tgt__read_mem(t, addr, v, sizeof(*v));

	if (r < 0)
		return (int)r;
	return r == sizeof(*v) ? 0 : -EIO;
}

/* The r_debug address from the executable's DT_DEBUG, 0 if none (yet). */
static int find_r_debug(struct tgt *t, uint64_t *r_debug, bool *dynamic)
{
	Elf64_Phdr *ph = NULL;
	Elf64_Dyn *dyn = NULL;
	uint64_t dyn_addr = 0;
	size_t i, n = (size_t)t->phnum, sz, ndyn;
	ssize_t r;
	int err = 0;

	*r_debug = 0;
	*dynamic = false;
	if (!t->phdr || !n || n > MAX_PHNUM)
		return 0;
	sz = n * sizeof(*ph);
	ph = malloc(sz);
	dyn = malloc(MAX_DYN * sizeof(*dyn));
	if (!ph || !dyn) {
		err = -ENOMEM;
		goto cleanup;
	}
	r = tgt__read_mem(t, t->phdr, ph, sz);
	if (r < 0 || (size_t)r != sz) {
		err = r < 0 ? (int)r : -EIO;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		if (ph[i].p_type == PT_DYNAMIC) {
			dyn_addr = ph[i].p_vaddr + t->load_bias;
			*dynamic = true;
			break;
		}
	}
	if (!*dynamic)
		goto cleanup;
	r = tgt__read_mem(t, dyn_addr, dyn, MAX_DYN * sizeof(*dyn));
	if (r < 0) {
		err = (int)r;
		goto cleanup;
	}
	ndyn = (size_t)r / sizeof(*dyn);
	for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_DEBUG) {
			*r_debug = dyn[i].d_un.d_ptr;
			break;
		}
	}
cleanup:
	free(ph);
	free(dyn);
	return err;
}

int tgt__libraries_svr4(struct tgt *t, struct rsp_buf *xml)
{
	uint64_t r_debug, lm, *seen = NULL;
	uint64_t l_addr, l_name, l_ld, l_next;
	size_t nseen = 0, i, namelen;
	char *name = NULL;
	bool dynamic, first = true;
	ssize_t r;
	int err;

	err = find_r_debug(t, &r_debug, &dynamic);
	if (err)
		goto cleanup;
	lm = 0;
	if (r_debug && read_u64(t, r_debug + 8, &lm))
		lm = 0; /* r_debug unreadable: treat as not yet set up */
	if (!lm) {
		rsp_buf__puts(xml, "<library-list-svr4 version=\"1.0\"/>");
		goto cleanup;
	}
	seen = malloc(MAX_LINK_MAPS * sizeof(*seen));
	name = malloc(MAX_LIB_NAME + 1);
	if (!seen || !name) {
		err = -ENOMEM;
		goto cleanup;
	}
	rsp_buf__printf(xml, "<library-list-svr4 version=\"1.0\" main-lm=\"0x%llx\">",
			(unsigned long long)lm);
	while (lm && nseen < MAX_LINK_MAPS) {
		for (i = 0; i < nseen; i++)
			if (seen[i] == lm)
				break;
		if (i < nseen)
			break; /* a cycle */
		seen[nseen++] = lm;
		if (read_u64(t, lm, &l_addr) || read_u64(t, lm + 8, &l_name) ||
		    read_u64(t, lm + 16, &l_ld) || read_u64(t, lm + 24, &l_next))
			break;
		if (!first && l_name) {
			r = tgt__read_mem(t, l_name, name, MAX_LIB_NAME);
			namelen = r > 0 ? strnlen(name, (size_t)r) : 0;
			name[namelen] = '\0';
			if (namelen) {
				rsp_buf__puts(xml, "<library name=\"");
				rsp_buf__put_xml(xml, name);
				rsp_buf__printf(
					xml,
					"\" lm=\"0x%llx\" l_addr=\"0x%llx\" l_ld=\"0x%llx\" "
					"lmid=\"0x0\"/>",
					(unsigned long long)lm, (unsigned long long)l_addr,
					(unsigned long long)l_ld);
			}
		}
		first = false;
		lm = l_next;
	}
	rsp_buf__puts(xml, "</library-list-svr4>");
cleanup:
	if (!err && xml->oom)
		err = -ENOMEM;
	free(seen);
	free(name);
	return err;
}

/* Is (dev, ino) the target's executable or a file it maps? */
static int is_mapped_file(struct tgt *t, const struct stat *want)
{
	char path[128], *buf = NULL, *line, *eol, *end;
	struct tgt_map m;
	struct stat st;
	size_t len;
	dev_t mdev;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	if (!stat(path, &st) && st.st_dev == want->st_dev && st.st_ino == want->st_ino)
		return 1;
	err = tgt__read_proc(t, "maps", &buf, &len);
	if (err)
		return err;
	end = buf + len;
	for (line = buf; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if (parse_map_line(line, eol, &m, &mdev) || !m.inode)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)t->pid,
			 (unsigned long long)m.start, (unsigned long long)m.end);
		if (!stat(path, &st)) {
			if (st.st_dev == want->st_dev && st.st_ino == want->st_ino) {
				err = 1;
				break;
			}
		} else if ((errno == EPERM || errno == EACCES) && m.inode == want->st_ino &&
			   mdev == want->st_dev) {
			/* map_files needs CAP_CHECKPOINT_RESTORE: trust maps' dev and inode */
			err = 1;
			break;
		}
	}
	free(buf);
	return err;
}

int tgt__open_mapped_file(struct tgt *t, const char *path)
{
	struct stat st;
	int fd, err;

	if (!path || path[0] != '/' || t->root_fd < 0)
		return -ENOENT;
	fd = sys__openat2(t->root_fd, path, O_RDONLY | O_CLOEXEC,
			  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd == -ENOSYS) {
		/* pre-5.6 kernel: the (dev, ino) check below still bounds what opens */
		fd = openat(t->root_fd, path + 1, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EACCES;
		goto fail;
	}
	err = is_mapped_file(t, &st);
	if (err < 0)
		goto fail;
	if (!err) {
		err = -EACCES;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int tgt__open_mapping(struct tgt *t, const struct tgt_map *m)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)t->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = tgt__open_mapped_file(t, m->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || st.st_ino != m->inode) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}
