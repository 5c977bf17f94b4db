/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/histo.c - histogram and count tracepoints (stub/trace/histo.h).
 *
 * A kind of tracepoint (struct tp_kind) whose program is its own: `load`
 * builds bpf/hist.c's program in place of the frame-collecting one, so a
 * hit writes no ring buffer record.  Every location of one tracepoint
 * shares one counted struct tp_hist: the maps (created at definition, so
 * a histogram too large for the machine is refused at once), the compiled
 * expressions and, for a latency histogram, the entry probe, which goes on
 * with the first return location and off with the last, as a return
 * tracepoint's does (stub/trace/retprobe.c, whose Capstone scan finds the
 * return sites: retprobe__sites).
 *
 * The expressions are `monitor trace`'s (stub/trace/montrace.c: mt__cond,
 * mt__value), resolved against the DWARF scope at the location, or for a
 * latency histogram at FUNC's entry, where the entry program evaluates
 * COND and the key and keeps the key with the entry time: a key names the
 * call's arguments ("which argument values are slow").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/reap.h"
#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "stub/program/dwarf.h"
#include "stub/program/program.h"
#include "stub/program/target.h"
#include "stub/trace/histo.h"
#include "stub/trace/montrace.h"
#include "stub/trace/retprobe.h"
#include "stub/trace/trace.h"

#define HISTO_K_DEFAULT 2u

struct tp_hist {
	unsigned refs, attached;
	char line[256];
	char what[200];
	char by[128];
	char cond[256];
	bool sgn; /* the value (value mode) or integer key is signed */
	struct bpfc_hist_maps maps;
	struct mt_value value, key;
	uint8_t *cond_code;
	size_t cond_len;
	uint64_t run_start; /* tr->start_us of the run the maps count */
	/* latency: the entry probe */
	uint64_t entry;
	unsigned entry_kind; /* enum bpfc_lat_site: which latency bias applies */
	struct bpfc_lat lat;
	struct bpfc_prog entry_prog;
	struct bpfc_probe entry_probe;
	struct bpfc_stop entry_stop;
	bool entry_stop_held, entry_on;
};

/* ---- the kind ------------------------------------------------------------- */

static void fill_spec(struct trace *tr, struct tp *tp, struct bpfc_hist_spec *s,
		      struct bpfc_expr x[3])
{
	struct tp_hist *h = tp->hist;

	memset(s, 0, sizeof(*s));
	s->maps = &h->maps;
	s->slot = tp->slot;
	s->counters_fd = tr->counters_fd;
	s->procs = tr->procs.map_fd >= 0 && tr_procs__multi(tr);
	s->procs_fd = tr->procs.map_fd;
	s->sgn = h->value.sgn;
	if (h->cond_code) {
		x[0].code = h->cond_code;
		x[0].len = h->cond_len;
		s->cond = &x[0];
	}
	if (h->value.code) {
		x[1].code = h->value.code;
		x[1].len = h->value.len;
		s->value = &x[1];
	}
	if (h->key.code) {
		x[2].code = h->key.code;
		x[2].len = h->key.len;
		s->keyx = &x[2];
	}
	if (h->maps.mode == BPFC_HIST_LATENCY) {
		h->lat.map_fd = h->maps.ent_fd;
		s->lat = &h->lat;
		/* The probes' own cost by the kind of its entry site (stub/trace/retprobe.h). */
		s->bias_ns = h->lat.bias_ns = retprobe__bias(tr, h->entry_kind);
	}
}

static int load_prog(struct bpfc_prog *p, int err, uint32_t num, const char *what, char *msg,
		     size_t mlen)
{
	if (err) {
		rsp_buf__msgf(msg, mlen, "tracepoint %u: %s", num, p->msg);
		return err;
	}
	p->multi = bpfc_probe__multi_ok();
	err = bpfc_prog__load(p);
	if (err)
		rsp_buf__msgf(msg, mlen, "tracepoint %u: the kernel refused its %s: %s%s%.200s",
			      num, what, strerror(-err), p->log ? ": " : "", p->log ? p->log : "");
	return err;
}

static int hist_load(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct tp_hist *h = tp->hist;
	struct bpfc_hist_spec s;
	struct bpfc_expr x[3];
	int err;

	/* A new run counts from zero; a location added to the run, or re-enabled, does not. */
	if (h->run_start != tr->start_us) {
		err = bpfc_hist__maps_clear(&h->maps);
		if (err) {
			rsp_buf__msgf(msg, mlen, "tracepoint %u: cannot clear its histograms: %s",
				      tp->num, strerror(-err));
			return err;
		}
		h->run_start = tr->start_us;
	}
	fill_spec(tr, tp, &s, x);
	s.stop = &tp->stop;
	bpfc_prog__free(&tp->prog);
	err = bpfc_hist__build(&s, &tp->prog);
	return load_prog(&tp->prog, err, tp->num, "histogram program", msg, mlen);
}

static int hist_entry_get(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct tp_hist *h = tp->hist;
	struct bpfc_hist_spec s;
	struct bpfc_expr x[3];
	char why[200];
	int err;

	if (h->maps.mode != BPFC_HIST_LATENCY)
		return 0;
	if (h->entry_on) {
		h->attached++;
		return 0;
	}
	if (!h->entry_stop_held) {
		err = tr__stop_take(tr, &h->entry_stop, msg, mlen);
		if (err)
			return err;
		h->entry_stop_held = true;
	}
	if (h->entry_prog.fd < 0) {
		fill_spec(tr, tp, &s, x);
		s.stop = &h->entry_stop;
		bpfc_prog__free(&h->entry_prog);
		err = bpfc_hist__entry_build(&s, &h->entry_prog);
		err = load_prog(&h->entry_prog, err, tp->num, "entry program", msg, mlen);
		if (err)
			return err;
	}
	if (tr_procs__multi(tr))
		err = bpfc_probe__attach_shared(&h->entry_probe, tr->tgt->pid, h->entry,
						h->entry_prog.fd, BPFC_PROBE_PATH_AUTO, 0, why,
						sizeof(why));
	else
		err = bpfc_probe__attach_ex(&h->entry_probe, tr->tgt->pid, h->entry,
					    h->entry_prog.fd, h->entry_prog.multi,
					    BPFC_PROBE_PATH_AUTO, 0, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(msg, mlen, "tracepoint %u: entry at 0x%llx: %s", tp->num,
			      (unsigned long long)h->entry, why);
		return err;
	}
	h->entry_on = true;
	h->attached++;
	return 0;
}

static void entry_release(struct tp_hist *h)
{
	if (h->entry_on) {
		bpfc_stop__set(&h->entry_stop, false);
		bpfc_reap__probe(&h->entry_probe, (int)h->entry_stop.id);
	}
	h->entry_on = false;
	bpfc_prog__free(&h->entry_prog);
	h->entry_stop_held = false;
}

static void hist_entry_put(struct tp *tp)
{
	struct tp_hist *h = tp->hist;

	if (h->maps.mode != BPFC_HIST_LATENCY || !h->attached || --h->attached)
		return;
	entry_release(h);
}

static bool hist_holds_stop(const struct tp *tp, uint32_t id)
{
	return tp->hist && tp->hist->entry_stop_held && tp->hist->entry_stop.id == id;
}

static void hist_unpatch(const struct tp *tp, uint64_t addr, void *buf, size_t len)
{
	if (tp->hist && tp->hist->entry_on)
		bpfc_probe__patch(&tp->hist->entry_probe, addr, buf, len);
}

static void hist_take(struct tp *tp, void *data)
{
	tp->hist = data;
	tp->hist->refs++;
}

static void hist_free_data(struct tp_hist *h)
{
	entry_release(h);
	bpfc_hist__maps_close(&h->maps);
	free(h->value.code);
	free(h->key.code);
	free(h->cond_code);
	free(h);
}

static void hist_put(struct tp *tp)
{
	struct tp_hist *h = tp->hist;

	tp->hist = NULL;
	if (!h || --h->refs)
		return;
	hist_free_data(h);
}

/* GDB sending back a location it uploaded: it stays a histogram. */
static void hist_keep(struct tp *from, struct tp *to)
{
	to->kind = from->kind;
	to->hist = from->hist;
	from->hist = NULL;
}

const struct tp_kind tp_kind_hist = {
	.name = "histogram",
	.outlives_qtinit = true,
	.entry_get = hist_entry_get,
	.entry_put = hist_entry_put,
	.holds_stop = hist_holds_stop,
	.unpatch = hist_unpatch,
	.take = hist_take,
	.keep = hist_keep,
	.free = hist_put,
	.load = hist_load,
	.no_frames = true,
};

bool histo__is(const struct tp *tp)
{
	return tp && tp->kind == &tp_kind_hist && tp->hist;
}

/* ---- definition ------------------------------------------------------------ */

static char *join_words(const char *const *w, size_t from, size_t to, char *out, size_t n)
{
	size_t i;

	out[0] = '\0';
	for (i = from; i < to; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i > from ? " " : "", w[i]);
	return out;
}

/* The key's and COND's texts compiled in scope sc. */
static int compile(struct trace *tr, struct tp_hist *h, const struct dw_scope *sc,
		   const char *vtext, char *msg, size_t mlen)
{
	int err = 0;

	if (h->cond[0])
		err = mt__cond(tr, sc, h->cond, &h->cond_code, &h->cond_len, msg, mlen);
	if (!err && vtext) {
		err = mt__value(tr, sc, vtext, false, &h->value, msg, mlen);
		h->sgn = h->value.sgn;
	}
	if (!err && h->by[0]) {
		err = mt__value(tr, sc, h->by, true, &h->key, msg, mlen);
		if (!err)
			h->maps.key = h->key.kind == MT_VAL_INT	   ? BPFC_HK_INT
				      : h->key.kind == MT_VAL_CSTR ? BPFC_HK_CSTR
								   : BPFC_HK_GOSTR;
		if (!err && h->maps.key == BPFC_HK_INT)
			h->sgn = h->key.sgn;
	}
	return err;
}

static int scope_at(struct trace *tr, uint64_t pc, struct dw_scope *sc, bool *have, char *msg,
		    size_t mlen)
{
	char why[300];

	*have = !dw_cache__scope_sym(tr->pgm->dwarf, tr->tgt, pc, sc, why, sizeof(why));
	if (!*have) {
		rsp_buf__msgf(msg, mlen, "no scope at 0x%llx for the expressions: %.200s",
			      (unsigned long long)pc, why);
		return -ENOENT;
	}
	return 0;
}

int histo__define(struct trace *tr, const char *const *w, size_t nw, struct rsp_buf *out, char *msg,
		  size_t mlen)
{
	bool count = !strcmp(w[0], "-count"), have = false;
	size_t i = 1, kat = 0, kif = 0, kby = 0, end;
	struct ret_func *f = NULL;
	struct tp_hist *h = calloc(1, sizeof(*h));
	struct dw_scope sc;
	char vtext[256] = "", where[256] = "";
	uint64_t v, pc = 0;
	uint32_t num;
	size_t added = 0;
	int err = -ENOMEM;

	if (!h)
		return -ENOMEM;
	h->maps.arr_fd = h->maps.hash_fd = h->maps.stats_fd = h->maps.ent_fd = -1;
	h->entry_prog.fd = -1;
	h->maps.k = HISTO_K_DEFAULT;
	h->maps.keys_max = BPFC_HIST_KEYS_DEF;
	join_words(w, 0, nw, h->line, sizeof(h->line));
	/* Options. */
	while (i + 1 < nw && w[i][0] == '-') {
		if (!strcmp(w[i], "-k") && !count)
			err = rsp_mon_number(w[i + 1], "-k", false, false, 0, BPFC_HIST_K_MAX, &v,
					     msg, mlen);
		else if (!strcmp(w[i], "-keys"))
			err = rsp_mon_number(w[i + 1], "-keys", false, false, 1, BPFC_HIST_KEYS_MAX,
					     &v, msg, mlen);
		else
			break;
		if (err)
			goto cleanup;
		if (!strcmp(w[i], "-k"))
			h->maps.k = (uint32_t)v;
		else
			h->maps.keys_max = (uint32_t)v;
		i += 2;
	}
	for (end = i; end < nw; end++) {
		if (!strcmp(w[end], "at") && !kat && !kif && !kby && !count)
			kat = end;
		else if (!strcmp(w[end], "if") && !kif && !kby)
			kif = end;
		else if (!strcmp(w[end], "by") && !kby)
			kby = end;
	}
	{
		size_t head_end = kat ? kat : kif ? kif : kby ? kby : nw;
		size_t loc_end = kif ? kif : kby ? kby : nw;

		err = -EINVAL;
		if (i >= head_end || (kat && kat + 2 != loc_end) ||
		    (kif && kif + 1 == (kby ? kby : nw)) || (kby && kby + 1 == nw) ||
		    (!kat && head_end != i + 1)) {
			rsp_buf__msgf(
				msg, mlen,
				count ? "usage: monitor trace -count [-keys N] LOCATION [if COND] "
					"[by EXPR]"
				      : "usage: monitor trace -hist [-k K] [-keys N] FUNC|EXPR at "
					"LOCATION [if COND] [by EXPR]");
			goto cleanup;
		}
		if (kat) {
			join_words(w, i, kat, vtext, sizeof(vtext));
			snprintf(where, sizeof(where), "%s", w[kat + 1]);
		} else {
			snprintf(where, sizeof(where), "%s", w[i]);
		}
		if (kif)
			join_words(w, kif + 1, kby ? kby : nw, h->cond, sizeof(h->cond));
		if (kby)
			join_words(w, kby + 1, nw, h->by, sizeof(h->by));
	}
	h->maps.mode = count ? BPFC_HIST_COUNT : kat ? BPFC_HIST_VALUE : BPFC_HIST_LATENCY;
	if (h->maps.mode == BPFC_HIST_LATENCY) {
		f = calloc(1, sizeof(*f));
		err = f ? retprobe__sites(tr, where, f, out, msg, mlen) : -ENOMEM;
		if (err)
			goto cleanup;
		h->entry = f->entry;
		h->entry_kind = f->entry_kind;
		h->lat.go = f->go;
		h->lat.go_stack_hi = f->stack_hi;
		pc = f->entry;
		snprintf(h->what, sizeof(h->what), "latency of %s", where);
	} else {
		err = mt__locate(tr, where, &pc, msg, mlen);
		if (err)
			goto cleanup;
		if (count)
			snprintf(h->what, sizeof(h->what), "hits at %s", where);
		else
			snprintf(h->what, sizeof(h->what), "%s at %s", vtext, where);
	}
	if (h->cond[0] || h->by[0] || vtext[0]) {
		err = scope_at(tr, pc, &sc, &have, msg, mlen);
		if (!err)
			err = compile(tr, h, &sc, vtext[0] ? vtext : NULL, msg, mlen);
		if (err)
			goto cleanup;
	}
	err = bpfc_hist__maps_create(&h->maps, msg, mlen);
	if (err)
		goto cleanup;
	num = tr__next_num(tr);
	if (h->maps.mode == BPFC_HIST_LATENCY) {
		err = tr__room(tr, f->s.nret, msg, mlen);
		for (i = 0; !err && i < f->s.nret; i++)
			err = tr__define_loc(tr, num, f->s.ret[i], &tp_kind_hist, h, NULL, 0, msg,
					     mlen);
	} else {
		err = tr__define_loc(tr, num, pc, &tp_kind_hist, h, NULL, 0, msg, mlen);
	}
	added = h->refs;
	if (added) {
		rsp_buf__printf(out, "tracepoint %u: %s of %s%s%s, in the kernel (no frames)", num,
				count ? "count" : "histogram", h->what, h->by[0] ? " by " : "",
				h->by);
		if (!count)
			rsp_buf__printf(out, ", %u buckets per power of two", 1u << h->maps.k);
		rsp_buf__printf(out, "\n");
		if (h->maps.mode == BPFC_HIST_LATENCY) {
			rsp_buf__printf(out, "  entry 0x%llx, %zu return instruction%s:",
					(unsigned long long)h->entry, f->s.nret,
					f->s.nret == 1 ? "" : "s");
			for (i = 0; i < f->s.nret; i++)
				rsp_buf__printf(out, " 0x%llx", (unsigned long long)f->s.ret[i]);
			rsp_buf__printf(out, "\n");
			if (f->s.ntail)
				rsp_buf__printf(out,
						"  %zu jmp%s may leave %s (tail calls): returns "
						"through them are not timed\n",
						f->s.ntail, f->s.ntail == 1 ? "" : "s", where);
		} else {
			rsp_buf__printf(out, "  at 0x%llx\n", (unsigned long long)pc);
		}
		if (h->cond[0])
			rsp_buf__printf(out, "  only when: %s%s\n", h->cond,
					h->maps.mode == BPFC_HIST_LATENCY ? " (at the entry)" : "");
		if (h->by[0])
			rsp_buf__printf(out,
					"  by: %s (%s; at most %u keys, the rest as \"other\")\n",
					h->by,
					h->maps.key == BPFC_HK_INT    ? "an integer"
					: h->maps.key == BPFC_HK_CSTR ? "a C string, 63 bytes"
								      : "a string, 64 bytes",
					h->maps.keys_max);
		rsp_buf__printf(out, "  'monitor thist %u' prints it\n", num);
	}
	if (err && added)
		rsp_buf__printf(out, "tracepoint %u: %zu locations defined\n", num, added);
	if (added)
		h = NULL; /* the locations own it */
cleanup:
	if (have)
		dw_scope__free(&sc);
	if (h)
		hist_free_data(h);
	free(f);
	return err;
}

/* ---- reading ----------------------------------------------------------------- */

size_t histo__list(const struct trace *tr, uint32_t *nums, size_t max)
{
	const struct tp *tp;
	size_t n = 0, i;

	tr__foreach(tr, tp) {
		if (!histo__is(tp))
			continue;
		for (i = 0; i < n && nums[i] != tp->num; i++)
			;
		if (i < n || n == max)
			continue;
		/* Insert in ascending order. */
		for (i = n; i > 0 && nums[i - 1] > tp->num; i--)
			nums[i] = nums[i - 1];
		nums[i] = tp->num;
		n++;
	}
	return n;
}

void histo__snap_free(struct histo_snap *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		free(s->rows[i].h.b);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct histo_row *x = a, *y = b;

	if (x->other != y->other)
		return x->other ? 1 : -1;
	if (x->h.count != y->h.count)
		return x->h.count > y->h.count ? -1 : 1;
	if (x->str)
		return strcmp(x->key, y->key);
	return x->ival < y->ival ? -1 : x->ival > y->ival;
}

static int add_row(struct histo_snap *s, const struct bpfc_hist_maps *m, const void *key,
		   bool other)
{
	struct histo_row *r;
	int err;

	r = realloc(s->rows, (s->nrows + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->rows = r;
	r = &s->rows[s->nrows];
	memset(r, 0, sizeof(*r));
	r->h.b = calloc(s->nb ? s->nb : 1, 8);
	if (!r->h.b)
		return -ENOMEM;
	s->nrows++;
	err = bpfc_hist__read(m, key, &r->h);
	if (err)
		return err == -ENOENT ? 0 : err;
	r->other = other;
	if (key && m->key == BPFC_HK_INT) {
		memcpy(&r->ival, key, 8);
	} else if (key) {
		r->str = true;
		memcpy(r->key, key, BPFC_HIST_STR);
		r->key[BPFC_HIST_STR] = '\0';
	}
	return 0;
}

int histo__snap(struct trace *tr, uint32_t num, struct histo_snap *s, char *msg, size_t mlen)
{
	const struct tp *tp, *first = NULL;
	const struct tp_hist *h;
	void *keys = NULL;
	size_t nkeys = 0, i, ks;
	int err;

	memset(s, 0, sizeof(*s));
	tr__foreach(tr, tp) {
		if (tp->num != num || !histo__is(tp))
			continue;
		if (!first)
			first = tp;
		s->hits += tr__hits(tr, tp);
		s->installed |= tp->installed;
	}
	if (!first) {
		rsp_buf__msgf(msg, mlen,
			      "tracepoint %u is not a histogram (monitor trace -hist or "
			      "-count)",
			      num);
		return -ENOENT;
	}
	h = first->hist;
	s->num = num;
	snprintf(s->line, sizeof(s->line), "%s", h->line);
	snprintf(s->what, sizeof(s->what), "%s", h->what);
	snprintf(s->by, sizeof(s->by), "%s", h->by);
	s->mode = h->maps.mode;
	s->key = h->maps.key;
	s->sgn = h->sgn;
	s->k = h->maps.k;
	s->nb = bpfc_hist__nbuckets(h->maps.mode, h->maps.k);
	s->keys_max = h->maps.keys_max;
	s->bias_ns = h->maps.mode == BPFC_HIST_LATENCY ? h->lat.bias_ns : 0;
	err = bpfc_hist__stats(&h->maps, &s->st);
	if (err)
		goto fail;
	if (h->maps.key == BPFC_HK_NONE) {
		err = add_row(s, &h->maps, NULL, false);
		if (err)
			goto fail;
		return 0;
	}
	err = bpfc_hist__keys(&h->maps, &keys, &nkeys);
	if (err)
		goto fail;
	ks = bpfc_hist__keysize(h->maps.key);
	for (i = 0; i < nkeys && !err; i++)
		err = add_row(s, &h->maps, (const char *)keys + i * ks, false);
	/* Keys past the limit: "other", when it counted any. */
	if (!err && s->st.other)
		err = add_row(s, &h->maps, NULL, true);
	free(keys);
	if (err)
		goto fail;
	if (s->nrows > 1) /* none yet: rows is NULL, which qsort may not be given */
		qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_rows);
	return 0;
fail:
	rsp_buf__msgf(msg, mlen, "tracepoint %u: cannot read its histograms: %s", num,
		      strerror(-err));
	histo__snap_free(s);
	return err;
}
