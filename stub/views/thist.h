/* SPDX-License-Identifier: MIT */
/*
 * stub/views/thist.h - `monitor thist`: histogram tracepoints as a person
 * reads them (an ASCII bar chart per key, bpftrace's `[lo, hi)  count |@@@ |`,
 * with count, min, max, mean and bucket-accurate percentiles) and as JSON
 * (`monitor thist N json FILE`, and the FILE.hist.json beside a saved trace).
 * Text and JSON go into a buffer; where they go is the caller's business.
 */
#ifndef STUB_THIST_H
#define STUB_THIST_H

#include <stddef.h>
#include <stdint.h>

struct rsp_buf;
struct trace;

#define THIST_TOP_KEYS 20 /* keys printed per histogram, by count */

/* Tracepoint num's histograms (0: every histogram tracepoint) as text.  0 or -errno, msg. */
int thist__text(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen);
/* The same as one JSON document {"histograms": [...]}, every key. */
int thist__json(struct trace *tr, uint32_t num, struct rsp_buf *out, char *msg, size_t mlen);

/*
 * thist__json as file name, with tsave's rules (stub/trace/tracefile.h): a
 * client's name only beneath --save-dir (save_dir, opened as save_dirfd;
 * refused without one), no '..' or symlink, never overwriting, written
 * whole or not at all, mode 0600.  save_dirfd THIST_OPERATOR: name is the
 * operator's own path (--save-on-exit), never a client's.  0 or -errno with msg.
 */
#define THIST_OPERATOR (-1000)
int thist__save(struct trace *tr, uint32_t num, int save_dirfd, const char *save_dir,
		const char *name, char *msg, size_t mlen);
/* Beside a saved trace file: TRACE.hist.json, every histogram, when there is one. */
int thist__save_beside(struct trace *tr, int save_dirfd, const char *save_dir, const char *trace,
		       char *msg, size_t mlen);

/*
 * Pure, unit-tested.  The value below which a fraction q (0..1) of count
 * values lie, from log2-linear buckets b[nb] of parameter k (bpf/hist.h):
 * the bucket holding that rank, linearly interpolated within its values,
 * clipped to [min, max].  Accurate to the bucket.  0 when count is 0.
 */
double thist__percentile(const uint64_t *b, uint32_t nb, uint32_t k, uint64_t count, uint64_t min,
			 uint64_t max, double q);
/* ns as "850 ns", "12.3 us", "1.25 ms", "2.00 s". */
void thist__fmt_ns(double ns, char *out, size_t n);
/* A number as bpftrace labels buckets: 1024 multiples as 1K, 2M, ...; else as is. */
void thist__fmt_num(uint64_t v, char *out, size_t n);

#endif
