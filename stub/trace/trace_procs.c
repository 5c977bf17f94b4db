/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace_procs.c - a run over several processes: which of them
 * collect, their frames counted per process, their CPU time summed for
 * the overhead guard (stub/trace/trace_procs.h says what decides).
 *
 * Its own file because the rest of the trace needs only three facts from
 * it: whether programs check a process map (tr->procs.map_fd), that each
 * frame names its process, and the set's CPU time.  Nothing here changes
 * a definition or a frame.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/procs.h"
#include "rsp/buf.h"
#include "stub/program/procset.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "stub/trace/trace_procs.h"

bool tr_procs__multi(const struct trace *tr)
{
	return tr->tgt && tr->tgt->set;
}

void tr_procs__init(struct trace *tr)
{
	struct tr_procs *p = &tr->procs;

	memset(p, 0, sizeof(*p));
	p->map_fd = -1;
	p->track.fork_fd = p->track.exit_fd = p->track.exec_fd = -1;
	p->track.fork_link = p->track.exit_link = p->track.exec_link = -1;
	p->viewer_uid = -1;
	p->audience_uid = -1;
}

void tr_procs__fini(struct trace *tr)
{
	struct tr_procs *p = &tr->procs;

	bpfc_procs__untrack(&p->track);
	if (p->map_fd >= 0)
		close(p->map_fd);
	p->map_fd = -1;
	free(p->hits);
	p->hits = NULL;
	free(p->cpu);
	p->cpu = NULL;
}

/* May the run's audience see pid? */
static bool visible(const struct tr_procs *p, pid_t pid)
{
	return p->audience_uid < 0 ||
	       tgt_set__owned_by(pid, (uid_t)p->audience_uid, p->audience_gid_known,
				 (gid_t)p->audience_gid);
}

/* Put every member the audience may see into the map: how many are in. */
static size_t admit(struct trace *tr)
{
	struct tr_procs *p = &tr->procs;
	pid_t *v = NULL;
	size_t n = 0, i, in = 0;

	if (tgt_set__members(tr->tgt->set, &v, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (bpfc_procs__has(p->map_fd, (__u32)v[i])) {
			in++;
			continue;
		}
		if (visible(p, v[i]) && !bpfc_procs__add(p->map_fd, (__u32)v[i]))
			in++;
	}
	free(v);
	return in;
}

int tr_procs__start(struct trace *tr, char *msg, size_t mlen)
{
	struct tr_procs *p = &tr->procs;
	const struct tgt_set *s;
	__u32 old[256];
	char why[200];
	int err, n, i;

	if (!tr_procs__multi(tr))
		return 0;
	s = tr->tgt->set;
	p->audience_uid = p->viewer_uid;
	p->audience_gid_known = p->viewer_gid_known;
	p->audience_gid = p->viewer_gid;
	free(p->hits);
	p->hits = NULL;
	p->hits_other = 0;
	bpfc_procs__untrack(&p->track);
	p->tracking = false;
	/* Every process of the file, seen by anyone: the uprobe alone decides. */
	if (s->mode == TGT_SET_EXE && p->audience_uid < 0) {
		if (p->map_fd >= 0)
			close(p->map_fd);
		p->map_fd = -1;
		return 0;
	}
	if (p->map_fd < 0) {
		p->map_fd = bpfc_procs__create();
		if (p->map_fd < 0) {
			err = p->map_fd;
			snprintf(msg, mlen, "cannot create the process map: %s", strerror(-err));
			return err;
		}
	}
	/* A fresh map: what the last run admitted is asked again. */
	while ((n = bpfc_procs__list(p->map_fd, old, sizeof(old) / sizeof(old[0]))) > 0)
		for (i = 0; i < n; i++)
			bpfc_procs__del(p->map_fd, old[i]);
	/*
	 * The tracker first, so that no child forked while the set is read is
	 * missed: one forked by a member already in the map joins in the
	 * kernel, one forked before its parent joined is in /proc by then.
	 */
	if (s->mode != TGT_SET_PIDS) {
		err = bpfc_procs__track(&p->track, p->map_fd, p->audience_uid >= 0, why,
					sizeof(why));
		if (err) {
			snprintf(msg, mlen, "cannot follow the processes' forks: %s", why);
			return err;
		}
		p->tracking = true;
	}
	if (!admit(tr)) {
		bpfc_procs__untrack(&p->track);
		p->tracking = false;
		snprintf(msg, mlen,
			 p->audience_uid >= 0
				 ? "no process of the set is yours to debug (uid %lld): nothing "
				   "to trace"
				 : "no process of the set runs any more",
			 (long long)p->audience_uid);
		return -ESRCH;
	}
	/* --children: a child forked before the tracker ran, whose parent was not in yet. */
	if (s->mode == TGT_SET_CHILDREN)
		admit(tr);
	return 0;
}

void tr_procs__stop(struct trace *tr)
{
	bpfc_procs__untrack(&tr->procs.track);
	tr->procs.tracking = false;
}

void tr_procs__tick(struct trace *tr)
{
	struct tr_procs *p = &tr->procs;

	/* A process that exec'd the file (or exec'd again) since: checked now. */
	if (tr_procs__multi(tr) && p->map_fd >= 0 && tr->tgt->set->mode == TGT_SET_EXE)
		admit(tr);
}

void tr_procs__count(struct trace *tr, uint32_t pid)
{
	struct tr_procs *p = &tr->procs;
	size_t i, k;

	if (!p->hits) {
		p->hits = calloc(TR_PROCS_HITS_SLOTS, sizeof(*p->hits));
		if (!p->hits) {
			p->hits_other++;
			return;
		}
	}
	for (i = 0; i < TR_PROCS_HITS_SLOTS; i++) {
		k = (pid * 2654435761u + i) % TR_PROCS_HITS_SLOTS;
		if (p->hits[k].pid == pid || !p->hits[k].pid) {
			p->hits[k].pid = pid;
			p->hits[k].frames++;
			return;
		}
	}
	p->hits_other++;
}

size_t tr_procs__top(const struct trace *tr, uint32_t *pids, uint64_t *frames, size_t n)
{
	const struct tr_procs *p = &tr->procs;
	size_t i, j, m, k = 0;

	for (i = 0; p->hits && n && i < TR_PROCS_HITS_SLOTS; i++) {
		if (!p->hits[i].pid)
			continue;
		for (j = 0; j < k && frames[j] >= p->hits[i].frames; j++)
			;
		if (j == n)
			continue;
		m = k < n ? k : n - 1;
		for (; m > j; m--) {
			frames[m] = frames[m - 1];
			pids[m] = pids[m - 1];
		}
		frames[j] = p->hits[i].frames;
		pids[j] = p->hits[i].pid;
		if (k < n)
			k++;
	}
	return k;
}

int tr_procs__cpu_ns(struct trace *tr, uint64_t *ns)
{
	struct tr_procs *p = &tr->procs;
	pid_t *v = NULL;
	size_t n = 0, i, j;
	void *nc;
	int err;

	/* Each process's increase since the last look: one that exits keeps what it used. */
	err = tgt_set__members(tr->tgt->set, &v, &n);
	if (err)
		return err;
	nc = calloc(n ? n : 1, sizeof(*p->cpu));
	if (!nc) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t now = 0, before = 0;

		if (tgt_set__cpu_ns(v[i], &now))
			continue;
		for (j = 0; j < p->ncpu; j++)
			if (p->cpu[j].pid == (uint32_t)v[i]) {
				before = p->cpu[j].ns;
				break;
			}
		/* A process first seen counts from now (its past is not the run's). */
		if (j < p->ncpu && now > before)
			p->cpu_total_ns += now - before;
		((typeof(p->cpu))nc)[i].pid = (uint32_t)v[i];
		((typeof(p->cpu))nc)[i].ns = now;
	}
	free(p->cpu);
	p->cpu = nc;
	p->ncpu = n;
	free(v);
	*ns = p->cpu_total_ns;
	return 0;
}

void tr_procs__status(struct trace *tr, struct rsp_buf *b)
{
	const struct tr_procs *p = &tr->procs;
	uint32_t pids[5];
	uint64_t frames[5];
	char what[PATH_MAX + 64];
	pid_t *v = NULL;
	size_t n = 0, k, i;

	if (!tr_procs__multi(tr))
		return;
	tgt_set__describe(tr->tgt->set, what, sizeof(what));
	tgt_set__members(tr->tgt->set, &v, &n);
	free(v);
	rsp_buf__printf(b, "processes: %s, leader pid %d (what the client sees); %zu running now\n",
			what, (int)tr->tgt->pid, n);
	if (tr->state != TR_NOT_RUN) {
		rsp_buf__puts(b, "  collected in: ");
		if (p->map_fd < 0)
			rsp_buf__puts(b, "every process running the file (one uprobe per site)");
		else
			rsp_buf__printf(b, "the processes of a BPF process map%s",
					tr->tgt->set->mode != TGT_SET_PIDS
						? ", children joining at fork"
						: "");
		if (p->audience_uid >= 0)
			rsp_buf__printf(b, ", only those uid %lld owns",
					(long long)p->audience_uid);
		rsp_buf__putc(b, '\n');
	}
	k = tr_procs__top(tr, pids, frames, 5);
	if (!k)
		return;
	rsp_buf__puts(b, "  most frames:");
	for (i = 0; i < k; i++)
		rsp_buf__printf(b, "%s pid %u: %llu", i ? "," : "", pids[i],
				(unsigned long long)frames[i]);
	if (p->hits_other)
		rsp_buf__printf(b, "; %llu of processes not counted",
				(unsigned long long)p->hits_other);
	rsp_buf__putc(b, '\n');
}
