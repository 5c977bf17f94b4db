/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/guard.c - the overhead guard, expiry and fill rate (see guard.h).
 *
 * Samples live in one ring of GUARD_SAMPLES per trace; each tracepoint
 * keeps its hit counter at the same indices.  A rate is the difference
 * between the newest sample and the oldest one inside the window (and
 * after the tracepoint was attached), so a packet storm calling tr__poll
 * many times a second changes nothing: sampling is by the clock.
 *
 * The guard judges and the trace acts: guard__tick() marks a location over
 * budget and says when the run expired, and tr__poll() detaches and stops
 * (stub/trace/trace.c).  So this file reads the trace and never calls it,
 * and the trace's objects form no circle (stub/trace/trace.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/calib.h"
#include "bpf/clock.h"
#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "stub/program/target.h"
#include "stub/trace/guard.h"
#include "stub/trace/trace.h"

/* The target's utime + stime in ns, from /proc/PID/stat. */
static int target_cpu_ns(struct trace *tr, uint64_t *ns)
{
	unsigned long long ut, st;
	char *buf = NULL, *p;
	size_t len = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int err, field;

	/* Several processes: the whole set's (stub/trace/trace_procs.h). */
	if (tr_procs__multi(tr))
		return tr_procs__cpu_ns(tr, ns);
	err = tgt__read_proc(tr->tgt, "stat", &buf, &len);
	if (err)
		return err;
	err = -EINVAL;
	/* The command name may hold anything, ')' too: fields start after the last one. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		goto cleanup;
	/* Past fields 3 (state) .. 13 (cmajflt): utime (14) and stime (15). */
	for (field = 2; field < 14 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
		goto cleanup;
	*ns = (ut + st) * (1000000000ull / (unsigned long long)hz);
	err = 0;
cleanup:
	free(buf);
	return err;
}

void guard__reset(struct trace *tr)
{
	memset(&tr->guard, 0, sizeof(tr->guard));
	/* hit-cost auto: measured once, on this kernel, before the first run. */
	if (!tr->hit_cost_ns && !tr->hit_cost_measured && !tr->hit_cost_msg[0] &&
	    bpfc_calib__hit_cost(&tr->hit_cost_measured, tr->hit_cost_msg,
				 sizeof(tr->hit_cost_msg)))
		tr->hit_cost_measured = 0;
}

uint32_t guard__hit_cost(const struct trace *tr)
{
	if (tr->hit_cost_ns)
		return tr->hit_cost_ns;
	return tr->hit_cost_measured ? tr->hit_cost_measured : TR_HIT_COST_DEFAULT;
}

void guard__tp_attached(struct tp *tp)
{
	memset(&tp->guard, 0, sizeof(tp->guard));
	tp->guard.since_us = bpfc_clock__us(CLOCK_MONOTONIC);
}

/* The index of sample i (0 = the first of the run); i < n. */
static size_t slot(size_t i)
{
	return i % GUARD_SAMPLES;
}

/* The oldest sample no older than `span` before the newest, and not before since_us. */
static size_t oldest_within(const struct guard *g, uint64_t span, uint64_t since_us)
{
	size_t last = g->n - 1, i = last;
	uint64_t now = g->t_us[slot(last)];

	while (i > 0 && last - (i - 1) < GUARD_SAMPLES) {
		uint64_t t = g->t_us[slot(i - 1)];

		if (t < since_us || now - t > span)
			break;
		i--;
	}
	return i;
}

/* Rate and share of tp over the window; false without enough samples. */
static bool measure(struct trace *tr, struct tp *tp)
{
	const struct guard *g = &tr->guard;
	size_t last = g->n - 1, first = oldest_within(g, GUARD_WINDOW_US, tp->guard.since_us);
	uint64_t dt = g->t_us[slot(last)] - g->t_us[slot(first)], dh, cost, cpu;

	if (first == last || dt < GUARD_MIN_SPAN_US)
		return false;
	dh = tp->guard.hits[slot(last)] - tp->guard.hits[slot(first)];
	tp->guard.rate = dh * 1000000u / dt;
	tp->guard.share = 0;
	cost = dh * guard__hit_cost(tr);
	cpu = g->cpu_ns[slot(last)] - g->cpu_ns[slot(first)];
	/* The traps are the target's own system time; an idle target's few hits do not count. */
	if (g->cpu_ok && cost * 100 >= dt * 1000 * GUARD_MIN_COST_PCT)
		tp->guard.share = (uint32_t)(cost * 100 / (cpu > cost ? cpu : cost));
	tp->guard.measured = true;
	return true;
}

static void trip(struct trace *tr, struct tp *tp)
{
	struct guard_tp *g = &tp->guard;
	char over[128];

	/* Which budget, with the figure compared against it. */
	if (!tp->kind->no_frames && tr->max_hit_rate && g->rate > tr->max_hit_rate)
		snprintf(over, sizeof(over),
			 "%llu hits/s > max-hit-rate %u/s (~%u%% of the target's CPU)",
			 (unsigned long long)g->rate, tr->max_hit_rate, g->share);
	else
		snprintf(over, sizeof(over),
			 "%llu hits/s, ~%u%% of the target's CPU > max-overhead %u%%",
			 (unsigned long long)g->rate, g->share, tr->max_overhead);
	snprintf(g->why, sizeof(g->why),
		 "tracepoint %u at 0x%llx detached by the overhead guard: %s; 'enable %u' "
		 "re-attaches it",
		 tp->num, (unsigned long long)tp->addr, over, tp->num);
	g->over = true; /* tr__poll detaches it */
}

static bool check_expiry(struct trace *tr, uint64_t now, char *msg, size_t n)
{
	char d[32];

	if (!tr->trace_timeout || now - tr->start_mono_us < (uint64_t)tr->trace_timeout * 1000000u)
		return false;
	rsp_mon_fmt_duration(tr->trace_timeout, d, sizeof(d));
	snprintf(msg, n, "bpfstub: trace-timeout: the run ended by itself after %s", d);
	return true;
}

bool guard__tick(struct trace *tr, char *expired, size_t n)
{
	struct guard *g = &tr->guard;
	uint64_t now = bpfc_clock__us(CLOCK_MONOTONIC), cpu = 0;
	struct tp *tp;
	size_t k;

	if (!tr__running(tr))
		return false;
	if (g->n && now - g->t_us[slot(g->n - 1)] < GUARD_PERIOD_US)
		return false;
	k = slot(g->n);
	g->t_us[k] = now;
	g->cpu_ok = !target_cpu_ns(tr, &cpu) && (g->n == 0 || g->cpu_ok);
	g->cpu_ns[k] = cpu;
	g->frames[k] = tr->store.created;
	g->bytes[k] = tr->store.appended;
	tr__foreach(tr, tp) {
		struct bpfc_counts c;

		tr__counts(tr, tp, &c);
		tp->guard.hits[k] = c.hits;
	}
	g->n++;
	tr__foreach(tr, tp) {
		if (!tp->installed || !measure(tr, tp))
			continue;
		/* A histogram's hit makes no frame: only its CPU share counts. */
		if ((!tp->kind->no_frames && tr->max_hit_rate &&
		     tp->guard.rate > tr->max_hit_rate) ||
		    (tr->max_overhead && tp->guard.share > tr->max_overhead))
			trip(tr, tp);
	}
	return check_expiry(tr, now, expired, n);
}

void guard__notes(const struct trace *tr, char *out, size_t n)
{
	const struct tp *tp;
	size_t used = 0;

	out[0] = '\0';
	tr__foreach(tr, tp) {
		const struct guard_tp *g = &tp->guard;
		int w;

		if (used >= n)
			break;
		if (!g->tripped)
			continue;
		w = snprintf(out + used, n - used, "%sbpfstub: %s", used ? "; " : "", g->why);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void guard__tp_status(const struct trace *tr, const struct tp *tp, struct rsp_buf *b)
{
	const struct guard_tp *g = &tp->guard;

	if (g->tripped)
		rsp_buf__printf(b, "    %s\n", g->why);
	else if (tp->installed && g->measured) {
		char rate[32] = "off", share[16] = "off";

		if (tp->kind->no_frames)
			snprintf(rate, sizeof(rate), "no hit-rate limit: no frames");
		else if (tr->max_hit_rate)
			snprintf(rate, sizeof(rate), "%u hits/s", tr->max_hit_rate);
		if (tr->max_overhead)
			snprintf(share, sizeof(share), "%u%%", tr->max_overhead);
		rsp_buf__printf(b, "    %llu hits/s, ~%u%% of the target's CPU (budget: %s, %s)\n",
				(unsigned long long)g->rate, g->share, rate, share);
	}
}

void guard__status(struct trace *tr, struct rsp_buf *b)
{
	const struct guard *g = &tr->guard;
	const struct tf_store *s = &tr->store;
	size_t last, first;
	uint64_t dt, fps = 0, bps = 0;

	if (tr->state == TR_STOP_FULL)
		rsp_buf__printf(b,
				"trace buffer full: the linear buffer (%zu bytes) holds %zu frames "
				"and took no more; 'set circular-trace-buffer on', then 'tstart', "
				"keeps the newest frames instead\n",
				s->size, tf_store__count(s));
	if (!tr__running(tr) || g->n < 2)
		return;
	last = g->n - 1;
	first = oldest_within(g, GUARD_FILL_US, 0);
	dt = g->t_us[slot(last)] - g->t_us[slot(first)];
	if (dt) {
		fps = (g->frames[slot(last)] - g->frames[slot(first)]) * 1000000u / dt;
		bps = (g->bytes[slot(last)] - g->bytes[slot(first)]) * 1000000u / dt;
	}
	rsp_buf__printf(b, "fill rate: %llu frames/s, %llu bytes/s over the last %.1f s",
			(unsigned long long)fps, (unsigned long long)bps, (double)dt / 1e6);
	if (!bps)
		rsp_buf__puts(b, "; the buffer is not filling\n");
	else if (tr->circular)
		rsp_buf__printf(b, "; circular: the oldest frames give way after ~%llu s\n",
				(unsigned long long)(tf_store__free(s) / bps));
	else
		rsp_buf__printf(b, "; full in ~%llu s at this rate\n",
				(unsigned long long)(tf_store__free(s) / bps));
}
