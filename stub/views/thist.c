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

static void stats_lines(const struct histo_snap *s, const struct histo_row *r, const char *indent,
			struct rsp_buf *out)
{
	static const struct {
		const char *name;
		double q;
	} qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};
	char a[32], b[32], c[32];
	size_t i;

	fmt_val(s, (double)r->h.min, a, sizeof(a));
	fmt_val(s, (double)r->h.max, b, sizeof(b));
	fmt_val(s, r->h.count ? (double)r->h.sum / (double)r->h.count : 0, c, sizeof(c));
	rsp_buf__printf(out, "%scount %llu  min %s  max %s  mean %s\n%s", indent,
			(unsigned long long)r->h.count, a, b, c, indent);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		fmt_val(s,
			thist__percentile(r->h.b, s->nb, s->k, r->h.count, r->h.min, r->h.max,
					  qs[i].q),
			a, sizeof(a));
		rsp_buf__printf(out, "%s %s  ", qs[i].name, a);
	}
	rsp_buf__printf(out, "(bucket-accurate: %s)\n",
			s->k ? "interpolated within a bucket" : "a power of two");
}

static void chart(const struct histo_snap *s, const struct histo_row *r, const char *indent,
		  struct rsp_buf *out)
{
	uint32_t i, first = s->nb, last = 0;
	uint64_t top = 0;

	for (i = 0; i < s->nb; i++) {
		if (!r->h.b[i])
			continue;
		first = i < first ? i : first;
		last = i;
		top = r->h.b[i] > top ? r->h.b[i] : top;
	}
	for (i = first; i <= last && first < s->nb; i++) {
		uint64_t lo, hi;
		char l[24], h[24], range[56];
		uint32_t j;

		/* A run of three or more empty buckets is one line. */
		for (j = i; j <= last && !r->h.b[j]; j++)
			;
		if (j - i >= 3) {
			rsp_buf__printf(out, "%s%-22s %8s\n", indent, "...", "0");
			i = j - 1;
			continue;
		}

		bpfc_hist__bounds(i, s->k, &lo, &hi);
		fmt_bound(s, lo, false, l, sizeof(l));
		fmt_bound(s, hi, hi == UINT64_MAX, h, sizeof(h));
		snprintf(range, sizeof(range), "[%s, %s)", l, h);
		rsp_buf__printf(out, "%s%-22s %8llu ", indent, range,
				(unsigned long long)r->h.b[i]);
		bar(out, r->h.b[i], top);
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

static void one_text(const struct histo_snap *s, struct rsp_buf *out)
{
	uint64_t total = 0;
	size_t i, shown;
	char key[96];

	for (i = 0; i < s->nrows; i++)
		total += s->rows[i].h.count;
	rsp_buf__printf(out, "tracepoint %u: %s %s%s%s: %llu %s%s\n", s->num,
			s->mode == BPFC_HIST_COUNT ? "count of" : "histogram of", s->what,
			s->by[0] ? " by " : "", s->by, (unsigned long long)total,
			s->mode == BPFC_HIST_LATENCY ? "calls" : "hits",
			s->installed ? "" : " (not installed)");
	not_counted(s, out);
	if (!total) {
		rsp_buf__puts(out, "  nothing counted yet\n");
		return;
	}
	if (s->key == BPFC_HK_NONE) {
		if (s->mode != BPFC_HIST_COUNT) {
			stats_lines(s, &s->rows[0], "  ", out);
			chart(s, &s->rows[0], "  ", out);
		}
		return;
	}
	shown = s->nrows;
	if (shown > THIST_TOP_KEYS + (size_t)(s->nrows && s->rows[s->nrows - 1].other))
		shown = THIST_TOP_KEYS;
	if (s->mode == BPFC_HIST_COUNT) {
		uint64_t top = s->rows[0].h.count;

		for (i = 0; i < s->nrows; i++)
			top = s->rows[i].h.count > top ? s->rows[i].h.count : top;
		for (i = 0; i < shown; i++) {
			key_text(s, &s->rows[i], key, sizeof(key));
			rsp_buf__printf(out, "  %s = %-24s %8llu ", s->by, key,
					(unsigned long long)s->rows[i].h.count);
			bar(out, s->rows[i].h.count, top);
			rsp_buf__putc(out, '\n');
		}
	} else {
		for (i = 0; i < shown; i++) {
			key_text(s, &s->rows[i], key, sizeof(key));
			rsp_buf__printf(out, "  %s = %s:\n", s->by, key);
			stats_lines(s, &s->rows[i], "    ", out);
			chart(s, &s->rows[i], "    ", out);
		}
	}
	if (shown < s->nrows)
		rsp_buf__printf(out,
				"  ... %zu more keys (monitor thist %u json FILE has them all)\n",
				s->nrows - shown, s->num);
}

/* The histogram tracepoints asked for: num, or all (0). */
static int which(struct trace *tr, uint32_t num, uint32_t *nums, size_t *n, char *msg, size_t mlen)
{
	struct histo_snap s;
	int err;

	if (num) {
		err = histo__snap(tr, num, &s, msg, mlen);
		if (err)
			return err;
		histo__snap_free(&s);
		nums[0] = num;
		*n = 1;
		return 0;
	}
	*n = histo__list(tr, nums, MAX_HISTS);
	return 0;
}

int thist__text(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen)
{
	uint32_t nums[MAX_HISTS];
	struct histo_snap s;
	size_t n, i;
	int err;

	err = which(tr, num, nums, &n, msg, mlen);
	if (err)
		return err;
	if (!n)
		return rsp_buf__puts(out, "no histograms: define one with 'monitor trace -hist' or "
					  "'monitor trace -count'\n");
	for (i = 0; i < n; i++) {
		err = histo__snap(tr, nums[i], &s, msg, mlen);
		if (err)
			return err;
		one_text(&s, out);
		histo__snap_free(&s);
	}
	return out->oom ? -ENOMEM : 0;
}

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

static void json_row(const struct histo_snap *s, const struct histo_row *r, struct rsp_buf *out)
{
	static const struct {
		const char *name;
		double q;
	} qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};
	uint32_t i;
	bool first = true;

	rsp_buf__puts(out, "{\"key\": ");
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
			(unsigned long long)r->h.max,
			r->h.count ? (double)r->h.sum / (double)r->h.count : 0.0);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		rsp_buf__printf(out, ", \"%s\": %.3f", qs[i].name,
				thist__percentile(r->h.b, s->nb, s->k, r->h.count, r->h.min,
						  r->h.max, qs[i].q));
	rsp_buf__puts(out, ", \"buckets\": [");
	for (i = 0; i < s->nb; i++) {
		uint64_t lo, hi;

		if (!r->h.b[i])
			continue;
		bpfc_hist__bounds(i, s->k, &lo, &hi);
		rsp_buf__printf(out, "%s{\"lo\": %llu, \"hi\": %llu, \"count\": %llu}",
				first ? "" : ", ", (unsigned long long)lo, (unsigned long long)hi,
				(unsigned long long)r->h.b[i]);
		first = false;
	}
	rsp_buf__puts(out, "]}");
}

static void one_json(const struct histo_snap *s, struct rsp_buf *out)
{
	static const char *const kind[] = {"value", "latency", "count"};
	size_t i;

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
	for (i = 0; i < s->nrows; i++) {
		if (i)
			rsp_buf__puts(out, ", ");
		json_row(s, &s->rows[i], out);
	}
	rsp_buf__puts(out, "]}");
}

int thist__json(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen)
{
	uint32_t nums[MAX_HISTS];
	struct histo_snap s;
	size_t n, i;
	int err;

	err = which(tr, num, nums, &n, msg, mlen);
	if (err)
		return err;
	rsp_buf__puts(out, "{\"histograms\": [");
	for (i = 0; i < n; i++) {
		err = histo__snap(tr, nums[i], &s, msg, mlen);
		if (err)
			return err;
		if (i)
			rsp_buf__puts(out, ",\n");
		one_json(&s, out);
		histo__snap_free(&s);
	}
	rsp_buf__puts(out, "]}\n");
	return out->oom ? -ENOMEM : 0;
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
	struct histo_snap s;
	int err;

	/* A histogram that does not exist is said before any file is made. */
	if (num) {
		err = histo__snap(tr, num, &s, msg, mlen);
		if (err)
			return err;
		histo__snap_free(&s);
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
