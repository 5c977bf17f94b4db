/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_target.c - stub/program/target.c against real processes.
 *
 * The test forks a child of itself that starts a second thread, sets a
 * global to a known value and sleeps; since a forked child shares the
 * parent's address layout, &global and the other addresses taken here are
 * valid in the child.  Everything is then read through tgt__*, and after
 * every step the child's TracerPid and thread states are checked: nothing
 * here may ever stop it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/program/target.h"
#include "stub/program/tgtns.h"

#define MAGIC 0x1122334455667788ull

static int passed, failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		}                                                                                  \
	} while (0)

static volatile uint64_t known_global;

static void msleep(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
	for (;;)
		sleep(1);
	return arg;
}

/* A child of ourselves: two threads, known_global == MAGIC, then sleep. */
static pid_t spawn_child(void)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		pthread_t th;

		close(pfd[0]);
		if (pthread_create(&th, NULL, worker, NULL))
			_exit(1);
		pthread_setname_np(th, "tt-worker");
		known_global = MAGIC;
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		close(pfd[1]);
		for (;;)
			sleep(1);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(pfd[0]);
	return pid;
}

/* TracerPid 0 and no thread of pid in state t or T. */
static bool not_stopped(pid_t pid)
{
	struct tgt t = {.pid = pid, .root_fd = -1, .mem_fd = -1};
	struct tgt_thread *th = NULL;
	char *status = NULL, *p;
	bool ok = true;
	size_t n, i;

	if (tgt__read_proc(&t, "status", &status, &n))
		return false;
	p = strstr(status, "\nTracerPid:");
	if (!p || strtol(p + 11, NULL, 10) != 0)
		ok = false;
	free(status);
	if (tgt__threads(&t, &th, &n))
		return false;
	for (i = 0; i < n; i++)
		if (th[i].state == 't' || th[i].state == 'T')
			ok = false;
	free(th);
	return ok;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A pid that existed a moment ago and is now gone. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* The l_name of libc from the svr4 XML, or "" */
static void find_libc(const char *xml, char *out, size_t len)
{
	const char *p = xml, *q;

	out[0] = '\0';
	while ((p = strstr(p, "name=\"")) != NULL) {
		p += 6;
		q = strchr(p, '"');
		if (!q)
			return;
		if ((size_t)(q - p) < len && q - p > 10 && !memcmp(q - 10, "/libc.so.6", 10)) {
			memcpy(out, p, (size_t)(q - p));
			out[q - p] = '\0';
			return;
		}
		p = q;
	}
}

/* The NSpid line of /proc/PID/status (stub/program/tgtns.c): pure. */
static void test_nspid(void)
{
	static const char ok[] = "Name:\tx\nTgid:\t20155\nNSpid:\t20155\t7\t1\nNSpgid:\t1\n";
	static const char one[] = "NSpid:\t42\n";
	static const char *const bad[] = {
		"Name:\tx\n",	       "NSpid:\n",     "NSpid:\t12x\n",
		"NSpid:\t0\n",	       "NSpid:\t-3\n", "NSpid:\t99999999999\n",
		"NSpid:\t1 2 3 4 5\n",
	};
	pid_t ids[4] = {0};
	size_t i;

	CHECK(tgtns__parse_nspid(ok, sizeof(ok) - 1, ids, 4) == 3 && ids[0] == 20155 &&
	      ids[1] == 7 && ids[2] == 1);
	CHECK(tgtns__parse_nspid(one, sizeof(one) - 1, ids, 4) == 1 && ids[0] == 42);
	/* no newline at the end, cut short: what is there counts */
	CHECK(tgtns__parse_nspid(ok, sizeof(ok) - 12, ids, 4) == 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(tgtns__parse_nspid(bad[i], strlen(bad[i]), ids, 4) == 0);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char err[256], exe[PATH_MAX], libc[PATH_MAX], *argv[3];
	struct tgt_thread *th = NULL;
	struct tgt_map *maps = NULL, r;
	struct rsp_buf xml;
	struct tgt t, l;
	bool stop_ok = true, ok;
	uint64_t pc = 0, sp = 0, v = 0;
	size_t n = 0, i;
	pid_t child, gone, zombie;
	char *page, buf[512];
	ssize_t got;
	int ret, fd, tries;

	rsp_buf__init(&xml);
	test_nspid();

	/* page, then a hole where its neighbour was: a read across the end is partial */
	page = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || munmap(page + pg, pg)) {
		perror("mmap");
		return 1;
	}
	memset(page, 0xab, pg);

	child = spawn_child();
	if (child < 0) {
		perror("spawn_child");
		return 1;
	}

	/* attach and auxv */
	ret = tgt__attach(&t, child, err, sizeof(err));
	CHECK(ret == 0 && t.entry != 0 && t.phdr != 0 && t.pid == child && !t.launched);
	if (ret) {
		fprintf(stderr, "attach: %s\n", err);
		reap(child);
		return 1;
	}
	stop_ok &= not_stopped(child);

	/* threads: main first, then the named worker */
	ret = tgt__threads(&t, &th, &n);
	ok = ret == 0 && n >= 2 && th[0].tid == child && th[0].name[0] &&
	     !strcmp(th[1].name, "tt-worker") && th[1].tid > child &&
	     tgt__has_thread(&t, th[1].tid);
	CHECK(ok);
	stop_ok &= not_stopped(child);

	/* memory: the global, a partial read at a mapping's end, address 0 */
	got = tgt__read_mem(&t, (uint64_t)(uintptr_t)&known_global, &v, sizeof(v));
	CHECK(got == (ssize_t)sizeof(v) && v == MAGIC && known_global == 0);
	got = tgt__read_mem(&t, (uint64_t)(uintptr_t)(page + pg - 100), buf, 300);
	CHECK(got == 100 && (unsigned char)buf[0] == 0xab && (unsigned char)buf[99] == 0xab);
	got = tgt__read_mem(&t, 0, buf, 16);
	CHECK((got == -EFAULT || got == -EIO) && tgt__read_mem(&t, 0, buf, 0) == 0);
	stop_ok &= not_stopped(child);

	/* PC and SP of the worker, asleep in nanosleep: pc is in libc's text */
	ret = -EAGAIN;
	for (tries = 0; tries < 50 && ret == -EAGAIN && n >= 2; tries++) {
		ret = tgt__thread_pc_sp(&t, th[1].tid, &pc, &sp);
		if (ret == -EAGAIN)
			msleep(20);
	}
	ok = false;
	if (ret == 0 && tgt__region(&t, pc, &r) == 0)
		ok = !strcmp(r.perms, "r-xp") && strstr(r.path, "libc") && sp != 0;
	CHECK(ok);
	CHECK(tgt__thread_pc_sp(&t, 0, &pc, &sp) == -ESRCH);
	stop_ok &= not_stopped(child);

	/* maps, and the regions around a gap */
	ret = tgt__maps(&t, &maps, &n);
	ok = ret == 0 && n > 5;
	for (i = 1; ok && i < n; i++)
		ok = maps[i].start >= maps[i - 1].end && maps[i].start < maps[i].end;
	for (i = 0; ok && i < n; i++)
		if (!strcmp(maps[i].path, "[stack]"))
			break;
	CHECK(ok && i < n);
	free(maps);
	ok = tgt__region(&t, (uint64_t)(uintptr_t)(page + pg), &r) == 0 && r.perms[0] == '\0' &&
	     r.path[0] == '\0' && r.start == (uint64_t)(uintptr_t)(page + pg) && r.end > r.start;
	ok = ok && tgt__region(&t, (uint64_t)(uintptr_t)page, &r) == 0 &&
	     r.start <= (uint64_t)(uintptr_t)page && r.end == (uint64_t)(uintptr_t)(page + pg) &&
	     !strcmp(r.perms, "rw-p");
	ok = ok && tgt__region(&t, 0, &r) == 0 && r.start == 0 && r.perms[0] == '\0';
	CHECK(ok);
	stop_ok &= not_stopped(child);

	/* the dynamic linker's list */
	ret = tgt__libraries_svr4(&t, &xml);
	ok = ret == 0 && !xml.oom && xml.len > 20 &&
	     !strncmp(xml.data, "<library-list-svr4 version=\"1.0\" main-lm=\"0x", 44) &&
	     strstr(xml.data, "libc.so.6\"") && strstr(xml.data, " lmid=\"0x0\"/>") &&
	     !strcmp(xml.data + xml.len - 20, "</library-list-svr4>");
	CHECK(ok);
	find_libc(ok ? xml.data : "", libc, sizeof(libc));
	stop_ok &= not_stopped(child);

	/* files: the executable and libc by its l_name; nothing else */
	ok = tgt__exe_path(&t, exe, sizeof(exe)) == 0 && exe[0] == '/';
	fd = ok ? tgt__open_mapped_file(&t, exe) : -1;
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = libc[0] ? tgt__open_mapped_file(&t, libc) : -1;
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(tgt__open_mapped_file(&t, "/etc/shadow") == -EACCES &&
	      tgt__open_mapped_file(&t, "/etc/passwd") == -EACCES &&
	      tgt__open_mapped_file(&t, "/etc") == -EACCES);
	CHECK(tgt__open_mapped_file(&t, "just probing") == -ENOENT &&
	      tgt__open_mapped_file(&t, "/no/such/file") == -ENOENT);
	stop_ok &= not_stopped(child);
	CHECK(tgt__alive(&t));

	/* the child was read, never stopped: it still sleeps untraced */
	CHECK(stop_ok && not_stopped(child));
	tgt__close(&t);
	free(th);
	th = NULL;

	/* attach errors: a pid that is gone, a zombie */
	gone = dead_pid();
	ret = tgt__attach(&t, gone, err, sizeof(err));
	snprintf(buf, sizeof(buf), "%d", (int)gone);
	CHECK(ret == -ESRCH && strstr(err, buf) && t.root_fd < 0 && t.mem_fd < 0);
	zombie = fork();
	if (zombie == 0)
		_exit(3);
	for (tries = 0; tries < 100 && not_stopped(zombie); tries++) {
		char *stat = NULL;

		if (tgt__read_proc(&(struct tgt){.pid = zombie}, "stat", &stat, &n) == 0 &&
		    strstr(stat, ") Z ")) {
			free(stat);
			break;
		}
		free(stat);
		msleep(10);
	}
	ret = tgt__attach(&t, zombie, err, sizeof(err));
	snprintf(buf, sizeof(buf), "%d", (int)zombie);
	CHECK(ret < 0 && strstr(err, buf));
	waitpid(zombie, NULL, 0);

	/* launch: runs at once, never stopped; dies when killed */
	argv[0] = "/bin/sleep";
	argv[1] = "30";
	argv[2] = NULL;
	ret = tgt__launch(&l, argv, err, sizeof(err));
	ok = ret == 0 && l.launched && l.entry != 0 && tgt__alive(&l) && not_stopped(l.pid);
	CHECK(ok);
	if (ret == 0) {
		kill(l.pid, SIGKILL);
		for (tries = 0; tries < 500 && tgt__alive(&l); tries++)
			msleep(10);
		CHECK(!tgt__alive(&l) && l.exited && WIFSIGNALED(l.exit_status) &&
		      WTERMSIG(l.exit_status) == SIGKILL);
		tgt__close(&l);
	} else {
		fprintf(stderr, "launch: %s\n", err);
		failed++;
	}
	argv[0] = "/no/such/program";
	argv[1] = NULL;
	ret = tgt__launch(&l, argv, err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, "cannot run /no/such/program") &&
	      strstr(err, "No such file or directory"));

	reap(child);
	rsp_buf__free(&xml);
	munmap(page, pg);
	printf("target: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
