/* SPDX-License-Identifier: MIT */
/*
 * bpf/hist.h - distributions in the kernel: histograms and counts that
 * cost a hit no frame.
 *
 * A hot function's question is usually its distribution (p50, p99, which
 * argument is slow), which needs no frame per hit: bpftrace answers it with
 * in-kernel maps (hist, lhist, count).  bpfc_hist__build() compiles one
 * tracepoint location into a program that adds the hit to a histogram held
 * in a per-CPU BPF map and writes nothing to the ring buffer:
 *
 *   value    `trace -hist EXPR at LOC`: EXPR (agent bytecode leaving one
 *            word) at the hit
 *   latency  `trace -hist FUNC`: ns from FUNC's entry (an entry program,
 *            bpfc_hist__entry_build(), stores the time, and the key, under
 *            the call's key: bpf/latency.h) to this return site, less the
 *            run's bias (clamped at zero, counted)
 *   count    `trace -count LOC`: the hit alone
 *
 * Buckets are log2-linear (bpftrace's hist(n, k)): values below 2^k each
 * their own bucket, then every power of two [2^p, 2^(p+1)) split in 2^k
 * equal buckets.  A histogram is one map value: count, sum, ~min, max (per
 * CPU, so exact), then the buckets.  With a key (`by EXPR`: an integer, or
 * a string of at most BPFC_HIST_STR bytes: a C char *, a Go string), one
 * histogram per key lives in a per-CPU hash of at most keys_max keys; a
 * key past the limit goes to the "other" histogram (slot 0 of the array
 * map, which holds the only histogram of an unkeyed one).  What could not
 * be counted (a value or key that could not be read, a return whose entry
 * was not seen, a latency under the bias) is counted in the stats map.
 *
 * The bucket arithmetic (bpfc_hist__index, __bounds) is pure and shared
 * with the views that print the histograms.
 */
#ifndef BPF_HIST_H
#define BPF_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/ax.h"
#include "bpf/latency.h"
#include "bpf/prog.h"

#define BPFC_HIST_K_MAX	   5u	  /* 2^5 buckets per power of two */
#define BPFC_HIST_STR	   64u	  /* bytes of a string key */
#define BPFC_HIST_KEYS_MAX 65536u /* keys a keyed histogram may hold */
#define BPFC_HIST_KEYS_DEF 1024u
#define BPFC_HIST_MEM_MAX  (256ull << 20) /* bytes of maps one histogram may take */

enum bpfc_hist_mode {
	BPFC_HIST_VALUE,   /* the value of an expression */
	BPFC_HIST_LATENCY, /* ns since the entry */
	BPFC_HIST_COUNT,   /* hits only */
};

enum bpfc_hist_keykind {
	BPFC_HK_NONE,
	BPFC_HK_INT,   /* one word */
	BPFC_HK_CSTR,  /* a pointer to a NUL-terminated string */
	BPFC_HK_GOSTR, /* a pointer, then a length */
};

/* One histogram's map value: the header, then nbuckets counts. */
struct bpfc_hist_val {
	__u64 count;
	__u64 sum;
	__u64 min_inv; /* ~min: zero-initialised means "none yet" */
	__u64 max;
	__u64 b[];
};

/* What was not counted (per CPU, summed when read). */
struct bpfc_hist_stats {
	__u64 no_entry; /* a return whose entry was not seen (the call began before) */
	__u64 failed;	/* a value, key or condition could not be read */
	__u64 clamped;	/* latency under the bias: counted as 0 */
	__u64 other;	/* hits of keys past keys_max (also in the "other" histogram) */
	__u64 neg;	/* a signed value below zero: not in the histogram */
};

struct bpfc_hist_maps {
	enum bpfc_hist_mode mode;
	enum bpfc_hist_keykind key;
	__u32 k;	/* 0..BPFC_HIST_K_MAX */
	__u32 keys_max; /* keyed: at most this many keys */
	int arr_fd;	/* per-CPU array: [0] the (other) histogram, [1] zeros */
	int hash_fd;	/* keyed: per-CPU hash key -> histogram; else -1 */
	int stats_fd;	/* per-CPU array of one struct bpfc_hist_stats */
	int ent_fd;	/* latency: LRU hash call -> {entry ns, key}; else -1 */
};

/* Buckets of one histogram (none in count mode). */
static inline __u32 bpfc_hist__nbuckets(enum bpfc_hist_mode mode, __u32 k)
{
	return mode == BPFC_HIST_COUNT ? 0 : (65u - k) << k;
}

/* Bytes of a key in the hash (0: unkeyed). */
static inline __u32 bpfc_hist__keysize(enum bpfc_hist_keykind key)
{
	return key == BPFC_HK_NONE ? 0 : key == BPFC_HK_INT ? 8 : BPFC_HIST_STR;
}

/* The bucket of v (k <= BPFC_HIST_K_MAX). */
__u32 bpfc_hist__index(__u64 v, __u32 k);
/* Bucket idx holds [*lo, *hi); *hi saturates at UINT64_MAX for the last. */
void bpfc_hist__bounds(__u32 idx, __u32 k, uint64_t *lo, uint64_t *hi);

/* Create the maps m describes (mode, key, k, keys_max set): 0 or -errno with msg. */
int bpfc_hist__maps_create(struct bpfc_hist_maps *m, char *msg, size_t mlen);
void bpfc_hist__maps_close(struct bpfc_hist_maps *m);
/* Zero every histogram and the stats (a new run). */
int bpfc_hist__maps_clear(struct bpfc_hist_maps *m);

struct bpfc_hist_spec {
	const struct bpfc_hist_maps *maps;
	__u32 slot; /* its hits in counters_fd, for the overhead guard */
	int counters_fd;
	const struct bpfc_stop *stop;
	bool procs;
	int procs_fd;
	/* Agent bytecode; a condition: BPFC_AX_COND; value and key leave 1 (2: a Go string) words.
	 */
	const struct bpfc_expr *cond;  /* value/count: at the site; latency: at the entry */
	const struct bpfc_expr *value; /* BPFC_HIST_VALUE */
	const struct bpfc_expr *keyx;  /* keyed: at the site; latency: at the entry */
	const struct bpfc_lat *lat;    /* latency: the calls' key (map_fd = maps->ent_fd) */
	__u64 bias_ns;		       /* latency: subtracted, clamped at zero */
	bool sgn;		       /* value: signed (a negative one is counted in stats.neg) */
};

/* The program of one location (a return site in latency mode): 0 or -errno, out->msg. */
int bpfc_hist__build(const struct bpfc_hist_spec *spec, struct bpfc_prog *out);
/* Latency: the entry program (time and key under the call). */
int bpfc_hist__entry_build(const struct bpfc_hist_spec *spec, struct bpfc_prog *out);

/* One histogram read, summed over the CPUs. */
struct bpfc_hist_sum {
	uint64_t count, sum, min, max; /* min, max: valid when count > 0 */
	uint64_t *b;		       /* nbuckets, the caller's */
};

/* key: NULL for [0] (the histogram of an unkeyed one, else "other"). 0, -ENOENT, -errno. */
int bpfc_hist__read(const struct bpfc_hist_maps *m, const void *key, struct bpfc_hist_sum *out);
/*
 * Every key of a keyed histogram: keys (keysize bytes each) into a malloc'd
 * array *keys, their number *n.  0 or -errno.
 */
int bpfc_hist__keys(const struct bpfc_hist_maps *m, void **keys, size_t *n);
int bpfc_hist__stats(const struct bpfc_hist_maps *m, struct bpfc_hist_stats *out);

#endif
