/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/histo.h - histogram and count tracepoints (issue 20):
 *
 *   monitor trace -hist [-k K] [-keys N] FUNC [if COND] [by EXPR]
 *   monitor trace -hist [-k K] [-keys N] EXPR at LOCATION [if COND] [by EXPR]
 *   monitor trace -count [-keys N] LOCATION [if COND] [by EXPR]
 *
 * The first is FUNC's latency (an entry probe and one location per return
 * instruction, found as `trace -return` finds them; COND and the key are
 * evaluated at the entry, over FUNC's arguments); the second any value at
 * a location; the third the hits alone.  Each hit goes into a per-CPU BPF
 * map (bpf/hist.h): no frame, no ring buffer record, so a hot function's
 * distribution costs its uprobe trap and nothing more, and the overhead
 * guard applies only its CPU-share budget to it (struct tp_kind's
 * no_frames).  The maps belong to the tracepoint, as frames belong to the
 * trace: they outlive the client (disconnected tracing) and the run
 * (tstop), and a new run (tstart) starts them from zero.
 *
 * histo__snap() reads one tracepoint's histograms, summed over the CPUs,
 * keys sorted by count, for stub/views/thist.c to print.
 */
#ifndef STUB_HISTO_H
#define STUB_HISTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/hist.h"

struct trace;
struct tp;
struct rsp_buf;
struct tp_kind;

extern const struct tp_kind tp_kind_hist;

/* `monitor trace -hist|-count ...`: words[0] is "-hist" or "-count".  0 or -errno, msg. */
int histo__define(struct trace *tr, const char *const *words, size_t nwords, struct rsp_buf *out,
		  char *msg, size_t mlen);

struct histo_row {
	bool other;		     /* keys past the limit */
	bool str;		     /* a string key (key), else an integer (ival) */
	char key[BPFC_HIST_STR + 1]; /* NUL-terminated */
	uint64_t ival;
	struct bpfc_hist_sum h; /* h.b: nbuckets, owned by the snapshot */
};

struct histo_snap {
	uint32_t num;
	char line[256]; /* the command as typed */
	char what[200]; /* "latency of work", "len at size_of", "hits at size_of" */
	char by[128];	/* the key's text, "" none */
	enum bpfc_hist_mode mode;
	enum bpfc_hist_keykind key;
	bool sgn; /* an integer key (or value) is signed */
	uint32_t k, nb;
	uint32_t keys_max;
	uint64_t bias_ns; /* latency: subtracted in the kernel */
	uint64_t hits;	  /* uprobe hits of its locations (return sites) this run */
	struct bpfc_hist_stats st;
	struct histo_row *rows; /* keys by count, descending (then "other"); one when unkeyed */
	size_t nrows;
	bool installed;
};

/* Is tp a histogram or count tracepoint? */
bool histo__is(const struct tp *tp);
/* The histogram tracepoints' numbers, ascending (at most max): how many. */
size_t histo__list(const struct trace *tr, uint32_t *nums, size_t max);
/* Tracepoint num's histograms now: 0, -ENOENT (no such histogram tracepoint), -errno. */
int histo__snap(struct trace *tr, uint32_t num, struct histo_snap *out, char *msg, size_t mlen);
void histo__snap_free(struct histo_snap *s);

#endif
