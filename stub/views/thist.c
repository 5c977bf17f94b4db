/* SPDX-License-Identifier: MIT */
/*
 * stub/views/thist.c - histograms as text and JSON (stub/views/thist.h).
 *
 * A snapshot (stub/trace/histo.h: each key's counts summed over the CPUs)
 * is all it reads, so it needs no client and no run.  Percentiles come from
 * the buckets, interpolated within the one that holds the rank and clipped
 * to the exact min and max the kernel kept: they are accurate to a bucket
 * (with the default k = 2, a quarter of a power of two: under 25% of the
 * value), and say so.  Latencies are printed in the unit that reads best
 * (ns, us, ms, s); other values as numbers, bucket bounds as bpftrace
 * prints them (1K, 4M).
 *
 * What is printed is computed once: a histogram's view (its total, its
 * largest key) and each printed key's (mean, percentiles, the span and
 * top of its buckets).  Text and JSON are two tables of operations over
 * them (struct thist_ops: the document's frame, then a histogram's head,
 * how many keys it prints, each key, its tail), run by one renderer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/hist.h"
#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/trace/histo.h"
#include "stub/trace/tracefile.h"
#include "stub/trace/trace.h"
#include "stub/views/thist.h"

#define BAR_WIDTH 40
#define MAX_HISTS 64

/* ---- pure ------------------------------------------------------------------ */

double thist__percentile(const uint64_t *b, uint32_t nb, uint32_t k, uint64_t count, uint64_t min,
			 uint64_t max, double q)
{
	double target, before = 0, f, lo_d, hi_d;
	uint64_t lo, hi;
	uint32_t i;

	if (!count || !nb)
		return 0;
	if (q <= 0)
		return (double)min;
	if (q >= 1)
		return (double)max;
	target = q * (double)count;
	for (i = 0; i < nb; i++) {
		if (!b[i])
			continue;
		if (before + (double)b[i] >= target)
			break;
		before += (double)b[i];
	}
	if (i == nb)
		return (double)max;
	bpfc_hist__bounds(i, k, &lo, &hi);
	/* The bucket's values are lo .. hi - 1, within what was seen. */
	lo_d = (double)(lo > min ? lo : min);
	hi_d = (double)(hi - 1 < max ? hi - 1 : max);
	if (hi_d < lo_d)
		hi_d = lo_d;
	f = (target - before) / (double)b[i];
	return lo_d + f * (hi_d - lo_d);
}

void thist__fmt_ns(double ns, char *out, size_t n)
{
	static const struct {
		double div;
		const char *unit;
	} u[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		double v = ns / u[i].div;

		if (ns < u[i].div)
			continue;
		snprintf(out, n,
			 v < 10	   ? "%.2f %s"
			 : v < 100 ? "%.1f %s"
				   : "%.0f %s",
			 v, u[i].unit);
		return;
	}
	snprintf(out, n, "%.0f ns", ns);
}

void thist__fmt_num(uint64_t v, char *out, size_t n)
{
	static const char suffix[] = "KMGTPE";
	int s = -1;

	while (v >= 1024 && !(v & 1023) && s < 5) {
		v >>= 10;
		s++;
	}
	if (s < 0)
		snprintf(out, n, "%llu", (unsigned long long)v);
	else
		snprintf(out, n, "%llu%c", (unsigned long long)v, suffix[s]);
}

/* ---- the view: what both writers print, computed once --------------------- */

/* The percentiles printed, text and JSON alike. */
static const struct {
	const char *name;
	double q;
} quantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};
#define NQUANT (sizeof(quantiles) / sizeof(quantiles[0]))

/* One histogram (tracepoint). */
struct hist_view {
	const struct histo_snap *s;
	uint64_t total; /* every key's count */
	uint64_t top;	/* the largest key's count */
};

/* One key's histogram. */
struct row_view {
	const struct histo_row *r;
	double mean;	      /* 0 when empty */
	double pct[NQUANT];   /* at quantiles[] */
	uint32_t first, last; /* the non-empty buckets' span; first == nb: none */
	uint64_t top;	      /* the largest bucket */
};

struct bucket {
	uint64_t lo, hi, count; /* [lo, hi); hi UINT64_MAX: the last, to 2^64 */
};

static void hist_view__make(const struct histo_snap *s, struct hist_view *v)
{
	size_t i;

	v->s = s;
	v->total = v->top = 0;
	for (i = 0; i < s->nrows; i++) {
		v->total += s->rows[i].h.count;
		v->top = s->rows[i].h.count > v->top ? s->rows[i].h.count : v->top;
	}
}

static void row_view__make(const struct histo_snap *s, const struct histo_row *r,
			   struct row_view *v)
{
	const struct bpfc_hist_sum *h = &r->h;
	uint32_t i;

	v->r = r;
	v->mean = h->count ? (double)h->sum / (double)h->count : 0.0;
	for (i = 0; i < NQUANT; i++)
		v->pct[i] = thist__percentile(h->b, s->nb, s->k, h->count, h->min, h->max,
					      quantiles[i].q);
	v->first = s->nb;
	v->last = 0;
	v->top = 0;
	for (i = 0; i < s->nb; i++) {
		if (!h->b[i])
			continue;
		v->first = i < v->first ? i : v->first;
		v->last = i;
		v->top = h->b[i] > v->top ? h->b[i] : v->top;
	}
}

static struct bucket row_view__bucket(const struct histo_snap *s, const struct row_view *v,
				      uint32_t i)
{
	struct bucket b = {.count = v->r->h.b[i]};

	bpfc_hist__bounds(i, s->k, &b.lo, &b.hi);
	return b;
}

/*
 * A writer: the document's open, between histograms and close (none: what
 * is printed instead when there is no histogram; NULL: the empty document),
 * then per histogram its head, how many of its rows it prints (from the
 * first), each row, and its tail.
 */
struct thist_ops {
	const char *open, *between, *close, *none;
	void (*head)(const struct hist_view *v, struct rsp_buf *out);
	size_t (*nrows)(const struct hist_view *v);
	void (*row)(const struct hist_view *v, size_t i, const struct row_view *rv,
		    struct rsp_buf *out);
	void (*tail)(const struct hist_view *v, size_t shown, struct rsp_buf *out);
};

/* ---- text ------------------------------------------------------------------- */

static void fmt_val(const struct histo_snap *s, double v, char *out, size_t n)
{
	if (s->mode == BPFC_HIST_LATENCY)
		thist__fmt_ns(v, out, n);
	else if (v >= 1e6 || v == (double)(uint64_t)v)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.1f", v);
}

static void fmt_bound(const struct histo_snap *s, uint64_t v, bool last, char *out, size_t n)
{
	if (last)
		snprintf(out, n, "...");
	else if (s->mode == BPFC_HIST_LATENCY)
		thist__fmt_ns((double)v, out, n);
	else
		thist__fmt_num(v, out, n);
}

static void key_text(const struct histo_snap *s, const struct histo_row *r, char *out, size_t n)
{
	if (r->other)
		snprintf(out, n, "other (keys past the %u kept)", s->keys_max);
	else if (r->str)
		snprintf(out, n, "\"%s\"", r->key);
	else if (s->sgn)
		snprintf(out, n, "%lld", (long long)r->ival);
	else
		snprintf(out, n, "%llu", (unsigned long long)r->ival);
}

static void bar(struct rsp_buf *out, uint64_t c, uint64_t top)
{
	size_t w = top ? (size_t)((c * BAR_WIDTH + top - 1) / top) : 0, i;
	char line[BAR_WIDTH + 3];

	line[0] = '|';
	for (i = 0; i < BAR_WIDTH; i++)
		line[i + 1] = i < w ? '@' : ' ';
	line[BAR_WIDTH + 1] = '|';
	line[BAR_WIDTH + 2] = '\0';
	rsp_buf__puts(out, line);
}

static void stats_lines(const struct histo_snap *s, const struct row_view *v, const char *indent,
			struct rsp_buf *out)
{
	const struct bpfc_hist_sum *h = &v->r->h;
	char a[32], b[32], c[32];
	size_t i;

	fmt_val(s, (double)h->min, a, sizeof(a));
	fmt_val(s, (double)h->max, b, sizeof(b));
	fmt_val(s, v->mean, c, sizeof(c));
	rsp_buf__printf(out, "%scount %llu  min %s  max %s  mean %s\n%s", indent,
			(unsigned long long)h->count, a, b, c, indent);
	for (i = 0; i < NQUANT; i++) {
		fmt_val(s, v->pct[i], a, sizeof(a));
		rsp_buf__printf(out, "%s %s  ", quantiles[i].name, a);
	}
	rsp_buf__printf(out, "(bucket-accurate: %s)\n",
			s->k ? "interpolated within a bucket" : "a power of two");
}

static void chart(const struct histo_snap *s, const struct row_view *v, const char *indent,
		  struct rsp_buf *out)
{
	const uint64_t *b = v->r->h.b;
	uint32_t i;

	for (i = v->first; i <= v->last && v->first < s->nb; i++) {
		struct bucket bk;
		char l[24], h[24], range[56];
		uint32_t j;

		/* A run of three or more empty buckets is one line. */
		for (j = i; j <= v->last && !b[j]; j++)
			;
		if (j - i >= 3) {
			rsp_buf__printf(out, "%s%-22s %8s\n", indent, "...", "0");
			i = j - 1;
			continue;
		}

		bk = row_view__bucket(s, v, i);
		fmt_bound(s, bk.lo, false, l, sizeof(l));
		fmt_bound(s, bk.hi, bk.hi == UINT64_MAX, h, sizeof(h));
		snprintf(range, sizeof(range), "[%s, %s)", l, h);
		rsp_buf__printf(out, "%s%-22s %8llu ", indent, range, (unsigned long long)bk.count);
		bar(out, bk.count, v->top);
		rsp_buf__putc(out, '\n');
	}
}

static void not_counted(const struct histo_snap *s, struct rsp_buf *out)
{
	char bias[32];

	if (s->st.no_entry)
		rsp_buf__printf(out, "  %llu returns not timed (their call began before the run)\n",
				(unsigned long long)s->st.no_entry);
	if (s->st.failed)
		rsp_buf__printf(out,
				"  %llu hits not counted: a value, key or condition could not "
				"be read\n",
				(unsigned long long)s->st.failed);
	if (s->st.neg)
		rsp_buf__printf(out, "  %llu negative values not in the histogram\n",
				(unsigned long long)s->st.neg);
	if (s->bias_ns) {
		thist__fmt_ns((double)s->bias_ns, bias, sizeof(bias));
		rsp_buf__printf(out,
				"  latencies less the probes' own cost, %s (%llu under it "
				"counted as 0)\n",
				bias, (unsigned long long)s->st.clamped);
	}
}

static void text_head(const struct hist_view *v, struct rsp_buf *out)
{
	const struct histo_snap *s = v->s;

	rsp_buf__printf(out, "tracepoint %u: %s %s%s%s: %llu %s%s\n", s->num,
			s->mode == BPFC_HIST_COUNT ? "count of" : "histogram of", s->what,
			s->by[0] ? " by " : "", s->by, (unsigned long long)v->total,
			s->mode == BPFC_HIST_LATENCY ? "calls" : "hits",
			s->installed ? "" : " (not installed)");
	not_counted(s, out);
	if (!v->total)
		rsp_buf__puts(out, "  nothing counted yet\n");
}

/* Nothing when nothing was counted; an unkeyed count is its head; else the top keys. */
static size_t text_nrows(const struct hist_view *v)
{
	const struct histo_snap *s = v->s;

	if (!v->total)
		return 0;
	if (s->key == BPFC_HK_NONE)
		return s->mode != BPFC_HIST_COUNT;
	if (s->nrows > THIST_TOP_KEYS + (size_t)(s->nrows && s->rows[s->nrows - 1].other))
		return THIST_TOP_KEYS;
	return s->nrows;
}

static void text_row(const struct hist_view *v, size_t i, const struct row_view *rv,
		     struct rsp_buf *out)
{
	const struct histo_snap *s = v->s;
	char key[96];

	if (s->key == BPFC_HK_NONE) {
		stats_lines(s, rv, "  ", out);
		chart(s, rv, "  ", out);
		return;
	}
	key_text(s, rv->r, key, sizeof(key));
	if (s->mode == BPFC_HIST_COUNT) {
		rsp_buf__printf(out, "  %s = %-24s %8llu ", s->by, key,
				(unsigned long long)rv->r->h.count);
		bar(out, rv->r->h.count, v->top);
		rsp_buf__putc(out, '\n');
		return;
	}
	rsp_buf__printf(out, "  %s = %s:\n", s->by, key);
	stats_lines(s, rv, "    ", out);
	chart(s, rv, "    ", out);
}

static void text_tail(const struct hist_view *v, size_t shown, struct rsp_buf *out)
{
	const struct histo_snap *s = v->s;

	if (v->total && s->key != BPFC_HK_NONE && shown < s->nrows)
		rsp_buf__printf(out,
				"  ... %zu more keys (monitor thist %u json FILE has them all)\n",
				s->nrows - shown, s->num);
}

static const struct thist_ops text_ops = {
	.open = "",
	.between = "",
	.close = "",
	.none = "no histograms: define one with 'monitor trace -hist' or 'monitor trace -count'\n",
	.head = text_head,
	.nrows = text_nrows,
	.row = text_row,
	.tail = text_tail,
};

/* ---- JSON ------------------------------------------------------------------- */

static void json_str(struct rsp_buf *out, const char *p)
{
	rsp_buf__putc(out, '"');
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			rsp_buf__printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			rsp_buf__printf(out, "\\u%04x", c);
		else
			rsp_buf__putc(out, (char)c);
	}
	rsp_buf__putc(out, '"');
}

static void json_head(const struct hist_view *v, struct rsp_buf *out)
{
	static const char *const kind[] = {"value", "latency", "count"};
	const struct histo_snap *s = v->s;

	rsp_buf__printf(out, "{\"tracepoint\": %u, \"command\": ", s->num);
	json_str(out, s->line);
	rsp_buf__printf(out, ", \"kind\": \"%s\", \"what\": ", kind[s->mode]);
	json_str(out, s->what);
	rsp_buf__puts(out, ", \"by\": ");
	if (s->by[0])
		json_str(out, s->by);
	else
		rsp_buf__puts(out, "null");
	rsp_buf__printf(
		out,
		", \"unit\": \"%s\", \"k\": %u, \"hits\": %llu, \"keys_max\": %u, "
		"\"bias_ns\": %llu, \"not_counted\": {\"no_entry\": %llu, \"failed\": %llu, "
		"\"negative\": %llu, \"clamped\": %llu, \"other_hits\": %llu}, \"keys\": [",
		s->mode == BPFC_HIST_LATENCY ? "ns" : "", s->k, (unsigned long long)s->hits,
		s->keys_max, (unsigned long long)s->bias_ns, (unsigned long long)s->st.no_entry,
		(unsigned long long)s->st.failed, (unsigned long long)s->st.neg,
		(unsigned long long)s->st.clamped, (unsigned long long)s->st.other);
}

/* Every key. */
static size_t json_nrows(const struct hist_view *v)
{
	return v->s->nrows;
}

static void json_row(const struct hist_view *v, size_t i, const struct row_view *rv,
		     struct rsp_buf *out)
{
	const struct histo_snap *s = v->s;
	const struct histo_row *r = rv->r;
	bool first = true;
	uint32_t j;

	rsp_buf__puts(out, i ? ", {\"key\": " : "{\"key\": ");
	if (r->other || s->key == BPFC_HK_NONE)
		rsp_buf__puts(out, "null");
	else if (r->str)
		json_str(out, r->key);
	else if (s->sgn)
		rsp_buf__printf(out, "%lld", (long long)r->ival);
	else
		rsp_buf__printf(out, "%llu", (unsigned long long)r->ival);
	rsp_buf__printf(out, ", \"other\": %s, \"count\": %llu", r->other ? "true" : "false",
			(unsigned long long)r->h.count);
	if (s->mode == BPFC_HIST_COUNT) {
		rsp_buf__putc(out, '}');
		return;
	}
	rsp_buf__printf(out, ", \"sum\": %llu, \"min\": %llu, \"max\": %llu, \"mean\": %.3f",
			(unsigned long long)r->h.sum, (unsigned long long)r->h.min,
			(unsigned long long)r->h.max, rv->mean);
	for (j = 0; j < NQUANT; j++)
		rsp_buf__printf(out, ", \"%s\": %.3f", quantiles[j].name, rv->pct[j]);
	rsp_buf__puts(out, ", \"buckets\": [");
	for (j = rv->first; j <= rv->last && rv->first < s->nb; j++) {
		struct bucket bk;

		if (!r->h.b[j])
			continue;
		bk = row_view__bucket(s, rv, j);
		rsp_buf__printf(out, "%s{\"lo\": %llu, \"hi\": %llu, \"count\": %llu}",
				first ? "" : ", ", (unsigned long long)bk.lo,
				(unsigned long long)bk.hi, (unsigned long long)bk.count);
		first = false;
	}
	rsp_buf__puts(out, "]}");
}

static void json_tail(const struct hist_view *v, size_t shown, struct rsp_buf *out)
{
	rsp_buf__puts(out, "]}");
}

static const struct thist_ops json_ops = {
	.open = "{\"histograms\": [",
	.between = ",\n",
	.close = "]}\n",
	.none = NULL,
	.head = json_head,
	.nrows = json_nrows,
	.row = json_row,
	.tail = json_tail,
};

/* ---- the documents ------------------------------------------------------------ */

/* 0 if num is a histogram tracepoint, else -errno with msg saying why. */
static int exists(struct trace *tr, uint32_t num, char *msg, size_t mlen)
{
	struct histo_snap s;
	int err;

	err = histo__snap(tr, num, &s, msg, mlen);
	if (!err)
		histo__snap_free(&s);
	return err;
}

/* The histogram tracepoints asked for: num, or all (0). */
static int which(struct trace *tr, uint32_t num, uint32_t *nums, size_t *n, char *msg, size_t mlen)
{
	int err;

	if (num) {
		err = exists(tr, num, msg, mlen);
		if (err)
			return err;
		nums[0] = num;
		*n = 1;
		return 0;
	}
	*n = histo__list(tr, nums, MAX_HISTS);
	return 0;
}

/* One histogram: its view and each printed row's, each computed once, through ops. */
static void one(const struct thist_ops *ops, const struct histo_snap *s, struct rsp_buf *out)
{
	struct hist_view v;
	struct row_view rv;
	size_t i, shown;

	hist_view__make(s, &v);
	ops->head(&v, out);
	shown = ops->nrows(&v);
	for (i = 0; i < shown; i++) {
		row_view__make(s, &s->rows[i], &rv);
		ops->row(&v, i, &rv, out);
	}
	ops->tail(&v, shown, out);
}

static int render(const struct thist_ops *ops, struct trace *tr, uint32_t num, struct rsp_buf *out,
		  char *msg, size_t mlen)
{
	uint32_t nums[MAX_HISTS];
	struct histo_snap s;
	size_t n, i;
	int err;

	err = which(tr, num, nums, &n, msg, mlen);
	if (err)
		return err;
	if (!n && ops->none)
		return rsp_buf__puts(out, ops->none);
	rsp_buf__puts(out, ops->open);
	for (i = 0; i < n; i++) {
		err = histo__snap(tr, nums[i], &s, msg, mlen);
		if (err)
			return err;
		if (i)
			rsp_buf__puts(out, ops->between);
		one(ops, &s, out);
		histo__snap_free(&s);
	}
	rsp_buf__puts(out, ops->close);
	return out->oom ? -ENOMEM : 0;
}

int thist__text(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen)
{
	return render(&text_ops, tr, num, out, msg, mlen);
}

int thist__json(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen)
{
	return render(&json_ops, tr, num, out, msg, mlen);
}

/* ---- files -------------------------------------------------------------------- */

struct json_ctx {
	struct trace *tr;
	uint32_t num;
	char *msg;
	size_t mlen;
};

static int write_json(void *ctx, int fd)
{
	struct json_ctx *c = ctx;
	struct rsp_buf b;
	int err;

	rsp_buf__init(&b);
	err = thist__json(c->tr, c->num, &b, c->msg, c->mlen);
	if (!err)
		err = sys__write_all(fd, b.data, b.len);
	rsp_buf__free(&b);
	return err;
}

int thist__save(struct trace *tr, uint32_t num, int save_dirfd, const char *save_dir,
		const char *name, char *msg, size_t mlen)
{
	struct json_ctx c = {tr, num, msg, mlen};
	int err;

	/* A histogram that does not exist is said before any file is made. */
	if (num) {
		err = exists(tr, num, msg, mlen);
		if (err)
			return err;
	}
	if (save_dirfd == THIST_OPERATOR)
		return tfile__save_path_with(write_json, &c, name, msg, mlen);
	return tfile__save_beneath_with(write_json, &c, save_dirfd, save_dir, name, msg, mlen);
}

int thist__save_beside(struct trace *tr, int save_dirfd, const char *save_dir, const char *trace,
		       char *msg, size_t mlen)
{
	uint32_t nums[1];
	char name[4200];

	if (!histo__list(tr, nums, 1))
		return 0;
	if (snprintf(name, sizeof(name), "%s.hist.json", trace) >= (int)sizeof(name)) {
		rsp_buf__msgf(msg, mlen, "the name is too long");
		return -ENAMETOOLONG;
	}
	return thist__save(tr, 0, save_dirfd, save_dir, name, msg, mlen);
}
