/* SPDX-License-Identifier: MIT */
/*
 * stub/views/ctf.c - the stored frames as a CTF 1.8 trace (see ctf.h).
 *
 * GDB's own `tsave -ctf` writes GDB's trace file in CTF clothing: raw
 * register and memory blocks, and no clock, so no reader can put two
 * nodes' traces on one time line.  This writes what a person reads
 * instead: one event per stored frame, its fields the frame's numbers and
 * its tframes line (tdump__line, the same text `monitor tframes` prints,
 * never formatted twice), stamped by a clock class of ns since the Unix
 * epoch whose values are the frame's $trace_timestamp (the node's
 * CLOCK_REALTIME, in microseconds).  babeltrace2 given several such
 * directories interleaves their events by that clock.
 *
 * The directory holds two files: `metadata`, the plain-text TSDL
 * description, and `stream`, one packet (header: magic 0xC1FC1FC1, the
 * trace's uuid, stream id 0; context: timestamp_begin/end, content and
 * packet size) of little-endian events, every integer byte-aligned and
 * every string NUL-terminated.  Events within a stream must not go back
 * in time, and frames are stored as the ring buffer hands them over,
 * which across CPUs may be a few microseconds out of order: events are
 * written in (timestamp, frame number) order, each keeping its frame
 * number.  A frame without a timestamp takes the one of the frame stored
 * before it.
 *
 * Where the files go, and that they are never half written, is
 * stub/trace/tracefile.c's business (tfile__save_dir_beneath_with).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/base/sys.h"
#include "stub/program/target.h"
#include "stub/trace/framestore.h"
#include "stub/trace/tracefile.h"
#include "stub/trace/trace.h"
#include "stub/views/ctf.h"
#include "stub/views/frame.h"
#include "stub/views/tdump.h"

#define CTF_MAGIC	0xC1FC1FC1u
#define CTF_MAX_CLASSES 16
#define HDR_SIZE	(4 + 16 + 4)		    /* packet header: magic, uuid, stream_id */
#define CTX_SIZE	(4 * 8)			    /* packet context: 4 x uint64 */
#define FLUSH_AT	(1u << 20)		    /* bytes of events buffered before a write */
#define NO_KIND		((const struct tp_kind *)0) /* frames of a tracepoint since deleted */

struct ctf_ev {
	uint64_t ts; /* ns since the epoch */
	uint32_t n;  /* the frame's number in the store */
	uint32_t cls;
};

struct ctf_w {
	struct trace *tr;
	struct tgt *tgt;
	struct ctf_ev *evs;
	size_t nevs;
	const struct tp_kind *kinds[CTF_MAX_CLASSES]; /* event class i: kinds[i] */
	size_t nkinds;
	uint8_t uuid[16];
	char *msg;
	size_t mlen;
};

/* ---- the frames, in time order ---------------------------------------- */

static int class_of(struct ctf_w *w, const struct tp_kind *k, uint32_t *cls)
{
	size_t i;

	for (i = 0; i < w->nkinds; i++)
		if (w->kinds[i] == k) {
			*cls = (uint32_t)i;
			return 0;
		}
	if (w->nkinds == CTF_MAX_CLASSES)
		return -E2BIG;
	w->kinds[w->nkinds] = k;
	*cls = (uint32_t)w->nkinds++;
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ctf_ev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int collect(struct ctf_w *w)
{
	size_t i, total = tf_store__count(&w->tr->store);
	uint64_t prev = 0;
	bool sorted = true;
	struct tf_frame f;
	const struct tp *tp;
	int64_t us;
	uint32_t cls;
	int err;

	/* Every kind that makes frames has its class, frames or not. */
	tr__foreach(w->tr, tp)
		if (!tp->kind->no_frames && class_of(w, tp->kind, &cls))
			return -E2BIG;
	if (!total)
		return 0;
	w->evs = calloc(total, sizeof(*w->evs));
	if (!w->evs) {
		snprintf(w->msg, w->mlen, "no memory for %zu frames", total);
		return -ENOMEM;
	}
	for (i = 0; i < total; i++) {
		struct ctf_ev *e = &w->evs[w->nevs];

		if (tf_store__get(&w->tr->store, i, &f))
			break;
		tp = tr__first(w->tr, f.tp);
		err = class_of(w, tp ? tp->kind : NO_KIND, &e->cls);
		if (err)
			return err;
		if (tr__frame_builtin(w->tr, &f, TR_TSV_TIMESTAMP, &us) && us >= 0)
			prev = (uint64_t)us * 1000;
		e->ts = prev;
		e->n = (uint32_t)i;
		sorted &= !w->nevs || e->ts >= e[-1].ts;
		w->nevs++;
	}
	if (!sorted)
		qsort(w->evs, w->nevs, sizeof(*w->evs), ev_cmp);
	return 0;
}

/* ---- metadata ----------------------------------------------------------- */

/* A TSDL string literal: '"' and '\' escaped, anything not printable ASCII as '?'. */
static void put_str(struct rsp_buf *b, const char *s)
{
	rsp_buf__putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rsp_buf__putc(b, '\\');
		rsp_buf__putc(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	rsp_buf__putc(b, '"');
}

static void put_uuid(struct rsp_buf *b, const uint8_t *u)
{
	int i;

	rsp_buf__putc(b, '"');
	for (i = 0; i < 16; i++)
		rsp_buf__printf(b, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
				u[i]);
	rsp_buf__putc(b, '"');
}

static const char *class_what(const struct tp_kind *k)
{
	if (k == NO_KIND)
		return "a frame of a tracepoint no longer defined";
	return k->name;
}

static int metadata(struct ctf_w *w, struct rsp_buf *b)
{
	char host[256] = "?", exe[4096] = "?";
	size_t i;

	if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "?");
	if (w->tgt)
		tgt__exe_path(w->tgt, exe, sizeof(exe));
	rsp_buf__puts(b,
		      "/* CTF 1.8 */\n\n"
		      "/* Written by bpfstub's monitor tsave-ctf (stub/views/ctf.c). */\n\n"
		      "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
		      "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
		      "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
		      "typealias integer { size = 64; align = 8; signed = true; } := int64_t;\n"
		      "typealias integer { size = 64; align = 8; signed = false; base = 16; } "
		      ":= uint64_hex_t;\n\n"
		      "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = ");
	put_uuid(b, w->uuid);
	rsp_buf__puts(b, ";\n\tbyte_order = le;\n"
			 "\tpacket.header := struct {\n"
			 "\t\tuint32_t magic;\n\t\tuint8_t uuid[16];\n\t\tuint32_t stream_id;\n"
			 "\t};\n};\n\n"
			 "env {\n\ttracer_name = \"bpfstub\";\n\ttracer_version = ");
	put_str(b, BPFSTUB_VERSION);
	rsp_buf__puts(b, ";\n\thostname = ");
	put_str(b, host);
	rsp_buf__puts(b, ";\n\texecutable = ");
	put_str(b, exe);
	rsp_buf__printf(b,
			";\n\tpid = %d;\n\tframes = %zu;\n\tframes_lost = %llu;\n"
			"\tno_latency = %d;\n};\n\n",
			w->tgt ? (int)w->tgt->pid : -1, w->nevs, (unsigned long long)w->tr->lost,
			CTF_NO_LATENCY);
	rsp_buf__puts(b, "clock {\n\tname = \"realtime\";\n"
			 "\tdescription = \"the node's CLOCK_REALTIME: each frame's "
			 "$trace_timestamp (microseconds) in ns\";\n"
			 "\tfreq = 1000000000;\n\tprecision = 1000;\n"
			 "\toffset_s = 0;\n\toffset = 0;\n\tabsolute = TRUE;\n};\n\n"
			 "typealias integer { size = 64; align = 8; signed = false; "
			 "map = clock.realtime.value; } := uint64_clock_t;\n\n"
			 "stream {\n\tid = 0;\n"
			 "\tpacket.context := struct {\n"
			 "\t\tuint64_clock_t timestamp_begin;\n\t\tuint64_clock_t timestamp_end;\n"
			 "\t\tuint64_t content_size;\n\t\tuint64_t packet_size;\n\t};\n"
			 "\tevent.header := struct {\n"
			 "\t\tuint32_t id;\n\t\tuint64_clock_t timestamp;\n\t};\n};\n");
	for (i = 0; i < w->nkinds; i++) {
		rsp_buf__puts(b, "\n/* ");
		rsp_buf__puts(b, class_what(w->kinds[i]));
		rsp_buf__puts(b, " */\nevent {\n\tname = ");
		if (w->kinds[i] == NO_KIND)
			rsp_buf__puts(b, "\"bpfstub:frame\"");
		else
			rsp_buf__printf(b, "\"bpfstub:%s\"", w->kinds[i]->name);
		rsp_buf__printf(b,
				";\n\tid = %zu;\n\tstream_id = 0;\n"
				"\tfields := struct {\n"
				"\t\tuint32_t tp;\n\t\tint64_t pid;\n\t\tint64_t tid;\n"
				"\t\tuint64_hex_t pc;\n\t\tint64_t latency_ns;\n"
				"\t\tuint64_t frame;\n\t\tstring text;\n\t};\n};\n",
				i);
	}
	return b->oom ? -ENOMEM : 0;
}

/* ---- the stream ----------------------------------------------------------- */

static void put_le(struct rsp_buf *b, uint64_t v, size_t n)
{
	uint8_t x[8];
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	rsp_buf__put(b, x, n);
}

/* The frame's tframes line after "  tp N  ": its text field. */
static const char *text_of(const char *line, uint32_t tp)
{
	char mark[32];
	const char *p;

	snprintf(mark, sizeof(mark), "  tp %u  ", tp);
	p = strstr(line, mark);
	return p ? p + strlen(mark) : line;
}

static int event(struct ctf_w *w, const struct ctf_ev *e, struct rsp_buf *line, struct rsp_buf *b)
{
	struct tf_frame f;
	int64_t pid, tid, lat;
	int err;

	err = tf_store__get(&w->tr->store, e->n, &f);
	if (err)
		return err;
	rsp_buf__reset(line);
	err = tdump__line(w->tr, w->tgt, e->n, line);
	if (err)
		return err;
	if (!tr__frame_builtin(w->tr, &f, TR_TSV_PID, &pid))
		pid = w->tgt ? w->tgt->pid : -1;
	if (!tr__frame_builtin(w->tr, &f, TR_TSV_THREAD, &tid))
		tid = -1;
	if (!tr__frame_builtin(w->tr, &f, TR_TSV_LATENCY, &lat) || lat < 0)
		lat = CTF_NO_LATENCY;
	put_le(b, e->cls, 4);
	put_le(b, e->ts, 8);
	put_le(b, f.tp, 4);
	put_le(b, (uint64_t)pid, 8);
	put_le(b, (uint64_t)tid, 8);
	put_le(b, fview__frame_pc(w->tr, &f), 8);
	put_le(b, (uint64_t)lat, 8);
	put_le(b, e->n, 8);
	rsp_buf__puts(b, text_of(line->data ? line->data : "", f.tp));
	rsp_buf__putc(b, '\0');
	return b->oom ? -ENOMEM : 0;
}

static int write_stream(struct ctf_w *w, int fd)
{
	static const uint8_t zero[HDR_SIZE + CTX_SIZE];
	struct rsp_buf b, line;
	uint64_t total = sizeof(zero);
	size_t i;
	int err;

	rsp_buf__init(&b);
	rsp_buf__init(&line);
	/* The packet's header and context, rewritten once the size is known. */
	err = sys__write_all(fd, zero, sizeof(zero));
	for (i = 0; !err && i < w->nevs; i++) {
		err = event(w, &w->evs[i], &line, &b);
		if (!err && (b.len >= FLUSH_AT || i + 1 == w->nevs)) {
			err = sys__write_all(fd, b.data, b.len);
			total += b.len;
			rsp_buf__reset(&b);
		}
	}
	if (!err) {
		put_le(&b, CTF_MAGIC, 4);
		rsp_buf__put(&b, w->uuid, 16);
		put_le(&b, 0, 4);
		put_le(&b, w->nevs ? w->evs[0].ts : 0, 8);
		put_le(&b, w->nevs ? w->evs[w->nevs - 1].ts : 0, 8);
		put_le(&b, total * 8, 8); /* content_size, bits */
		put_le(&b, total * 8, 8); /* packet_size, bits */
		err = b.oom ? -ENOMEM : 0;
	}
	if (!err && pwrite(fd, b.data, b.len, 0) != (ssize_t)b.len)
		err = -EIO;
	rsp_buf__free(&line);
	rsp_buf__free(&b);
	return err;
}

/* ---- the files -------------------------------------------------------- */

static int write_file(struct ctf_w *w, int dirfd, const char *name, bool stream)
{
	struct rsp_buf b;
	int fd, err;

	fd = tfile__create_in(dirfd, name);
	if (fd < 0)
		return fd;
	if (stream) {
		err = write_stream(w, fd);
	} else {
		rsp_buf__init(&b);
		err = metadata(w, &b);
		if (!err)
			err = sys__write_all(fd, b.data, b.len);
		rsp_buf__free(&b);
	}
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int write_dir(void *ctx, int dirfd)
{
	struct ctf_w *w = ctx;
	int err;

	/* Here, once the name is known to be good: the frames are read once. */
	err = collect(w);
	if (err == -E2BIG)
		snprintf(w->msg, w->mlen, "more than %d kinds of tracepoint", CTF_MAX_CLASSES);
	if (!err)
		err = write_file(w, dirfd, "metadata", false);
	if (!err)
		err = write_file(w, dirfd, "stream", true);
	if (err && !w->msg[0])
		snprintf(w->msg, w->mlen, "cannot write the trace: %s", strerror(-err));
	return err;
}

int ctf__save(struct trace *tr, struct tgt *t, int save_dirfd, const char *save_dir,
	      const char *name, size_t *events, char *msg, size_t mlen)
{
	struct ctf_w w = {.tr = tr, .tgt = t, .msg = msg, .mlen = mlen};
	int err;

	msg[0] = '\0';
	*events = 0;
	if (getrandom(w.uuid, sizeof(w.uuid), 0) != (ssize_t)sizeof(w.uuid)) {
		snprintf(msg, mlen, "no random bytes for the trace's uuid");
		return -EIO;
	}
	w.uuid[6] = (w.uuid[6] & 0x0f) | 0x40; /* a version 4 uuid */
	w.uuid[8] = (w.uuid[8] & 0x3f) | 0x80;
	err = tfile__save_dir_beneath_with(write_dir, &w, save_dirfd, save_dir, name, msg, mlen);
	if (!err)
		*events = w.nevs;
	free(w.evs);
	return err;
}
