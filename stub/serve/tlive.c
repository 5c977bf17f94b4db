/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/tlive.c - `monitor tlive` streaming (see tlive.h).
 *
 * The line of a frame is a view's business (stub/views/tdump.c); when to
 * send it, and to whom, is the session's: the cursor and the one-second
 * window live in struct sess, and the lines go out as console packets
 * ahead of whatever the client sees next.  A circular store may drop
 * frames before they are shown: they are counted as left out, never
 * printed late or out of order.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bpf/clock.h"
#include "rsp/buf.h"
#include "stub/serve/session.h"
#include "stub/serve/tlive.h"
#include "stub/trace/trace.h"
#include "stub/trace/histo.h"
#include "stub/views/tdump.h"
#include "stub/views/thist.h"

void tlive__start(struct sess *s)
{
	tr__poll(s->tr);
	s->live_next = s->tr->store.created;
	s->live_win_ms = 0;
	s->live_lines = 0;
	s->live_skipped = 0;
	s->live_hist_ms = bpfc_clock__ms(CLOCK_MONOTONIC);
}

/* Histogram tracepoints (no frames): all of them reprinted once a second. */
static void hist_tick(struct sess *s, uint64_t now)
{
	uint32_t num;
	struct rsp_buf b;
	char msg[256];
	const char *p, *nl;

	if (now - s->live_hist_ms < 1000 || !histo__list(s->tr, &num, 1))
		return;
	s->live_hist_ms = now;
	rsp_buf__init(&b);
	if (!thist__text(s->tr, 0, &b, msg, sizeof(msg)))
		for (p = b.data; p && *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			sess__console(s, "%.*s\n", (int)(nl - p), p);
		}
	rsp_buf__free(&b);
}

void tlive__tick(struct sess *s)
{
	const struct tf_store *st = &s->tr->store;
	uint64_t oldest = st->created - tf_store__count(st), now = bpfc_clock__ms(CLOCK_MONOTONIC);
	struct rsp_buf b;

	if (!s->tlive || !s->running || s->nonstop)
		return;
	hist_tick(s, now);
	if (s->live_win_ms && now - s->live_win_ms >= 1000) {
		if (s->live_skipped)
			sess__console(s, "... %llu hits not shown\n",
				      (unsigned long long)s->live_skipped);
		s->live_win_ms = 0;
		s->live_lines = 0;
		s->live_skipped = 0;
	}
	/* Frames dropped from a circular store before they were shown count as left out. */
	if (s->live_next < oldest) {
		s->live_skipped += oldest - s->live_next;
		s->live_next = oldest;
	}
	rsp_buf__init(&b);
	for (; s->live_next < st->created; s->live_next++) {
		if (!s->live_win_ms)
			s->live_win_ms = now;
		if (s->live_lines >= TLIVE_PER_SEC) {
			s->live_skipped += st->created - s->live_next;
			s->live_next = st->created;
			break;
		}
		rsp_buf__reset(&b);
		if (!tdump__line(s->tr, s->tgt, (size_t)(s->live_next - oldest), &b)) {
			sess__console(s, "%s\n", b.data);
			s->live_lines++;
		}
	}
	rsp_buf__free(&b);
}
