/* SPDX-License-Identifier: MIT */
/*
 * bpf/reap.c - the threads that close released uprobes (bpf/reap.h).
 *
 * Jobs wait in a FIFO; a thread takes one, closes its fds with the lock
 * released, then takes it off the list of jobs being closed.  Both lists
 * are what bpfc_reap__patch() walks.  A thread is started when a job is
 * queued and no thread is idle, up to BPFC_REAP_THREADS; threads stay
 * until bpfc_reap__drain().
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/reap.h"

struct job {
	struct job *next;
	int link_fd, perf_fd;
	int tag;
	pid_t pid;
	__u64 addr;
	__u8 orig[BPFC_PROBE_ORIG_LEN];
	size_t norig;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER; /* a job queued, or quit */
static pthread_cond_t done = PTHREAD_COND_INITIALIZER; /* pending reached 0 */
static struct job *queued, **queued_tail = &queued, *closing;
static size_t nqueued, pending, idle, nthreads;
static pthread_t threads[BPFC_REAP_THREADS];
static unsigned short busy[BPFC_REAP_TAGS];
static bool quit;

static void close_fds(int link_fd, int perf_fd)
{
	/* The link first: it holds the perf event. */
	if (link_fd >= 0)
		close(link_fd);
	if (perf_fd >= 0)
		close(perf_fd);
}

static void *reaper(void *arg)
{
	struct job *j, **pp;

	pthread_mutex_lock(&mu);
	for (;;) {
		while (!queued && !quit) {
			idle++;
			pthread_cond_wait(&work, &mu);
			idle--;
		}
		if (!queued)
			break;
		j = queued;
		queued = j->next;
		if (!queued)
			queued_tail = &queued;
		nqueued--;
		j->next = closing;
		closing = j;
		pthread_mutex_unlock(&mu);

		close_fds(j->link_fd, j->perf_fd);

		pthread_mutex_lock(&mu);
		for (pp = &closing; *pp != j; pp = &(*pp)->next)
			;
		*pp = j->next;
		if (j->tag >= 0)
			busy[j->tag]--;
		if (!--pending)
			pthread_cond_broadcast(&done);
		free(j);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Under mu: one more thread, signals blocked (they are the serving thread's). */
static int spawn(void)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&threads[nthreads], NULL, reaper, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	nthreads++;
	return 0;
}

void bpfc_reap__probe(struct bpfc_probe *p, int tag)
{
	struct job *j;

	if (p->link_fd < 0 && p->perf_fd < 0)
		return;
	if (tag >= BPFC_REAP_TAGS)
		tag = -1;
	j = calloc(1, sizeof(*j));
	if (!j)
		goto now;
	j->link_fd = p->link_fd;
	j->perf_fd = p->perf_fd;
	j->tag = tag;
	j->pid = p->pid;
	j->addr = p->addr;
	j->norig = p->norig;
	memcpy(j->orig, p->orig, sizeof(j->orig));

	pthread_mutex_lock(&mu);
	if (nqueued >= idle && nthreads < BPFC_REAP_THREADS && spawn() && !nthreads) {
		pthread_mutex_unlock(&mu);
		free(j);
		goto now;
	}
	*queued_tail = j;
	queued_tail = &j->next;
	nqueued++;
	pending++;
	if (tag >= 0)
		busy[tag]++;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&mu);
	p->link_fd = -1;
	p->perf_fd = -1;
	return;
now:
	bpfc_probe__detach(p);
}

bool bpfc_reap__busy(int tag)
{
	bool b;

	if (tag < 0 || tag >= BPFC_REAP_TAGS)
		return false;
	pthread_mutex_lock(&mu);
	b = busy[tag] != 0;
	pthread_mutex_unlock(&mu);
	return b;
}

size_t bpfc_reap__pending(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = pending;
	pthread_mutex_unlock(&mu);
	return n;
}

static void patch_list(const struct job *j, pid_t pid, __u64 addr, void *buf, size_t len)
{
	for (; j; j = j->next)
		if (j->pid == pid)
			bpfc_probe__patch_orig(j->addr, j->orig, j->norig, addr, buf, len);
}

void bpfc_reap__patch(pid_t pid, __u64 addr, void *buf, size_t len)
{
	pthread_mutex_lock(&mu);
	patch_list(queued, pid, addr, buf, len);
	patch_list(closing, pid, addr, buf, len);
	pthread_mutex_unlock(&mu);
}

void bpfc_reap__drain(void)
{
	size_t i, n;

	pthread_mutex_lock(&mu);
	quit = true;
	pthread_cond_broadcast(&work);
	while (pending)
		pthread_cond_wait(&done, &mu);
	n = nthreads;
	pthread_mutex_unlock(&mu);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_lock(&mu);
	nthreads = 0;
	quit = false;
	pthread_mutex_unlock(&mu);
}
