/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers_trace.c - the tracepoint packets.
 *
 * These are the handlers behind the QT and qT rows of the one table in
 * handlers.c: they parse (rsp/trace.c), call the trace state (trace.c) and
 * format the reply.  Errors are "E.<text>" so GDB shows the user why, e.g.
 * "Target returns error code '.while-stepping needs single-stepping...'".
 *
 * Trace frames: QTFrame selects one for this session (s->frame); while one
 * is selected, g, p, m and qXfer:traceframe-info answer from it through a
 * frame view (stub/views/frame.h, opened by handlers.c): registers from its
 * R block, with rip always the tracepoint's address and what BPF cannot see
 * unavailable; memory from its M blocks, or live for what cannot have
 * changed (QTro ranges, read-only file mappings).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsp/parse.h"
#include "rsp/trace.h"
#include "stub/program/target.h"
#include "stub/serve/handlers.h"
#include "stub/serve/server.h"
#include "stub/serve/session.h"
#include "stub/trace/audit_trace.h"
#include "stub/trace/trace.h"
#include "stub/trace/tracefile.h"
#include "stub/views/frame.h"
#include "stub/views/thist.h"

static int reply_msg(struct rsp_buf *r, int err, const char *msg)
{
	rsp_buf__reset(r);
	return rsp_buf__printf(r, "E.%s", msg[0] ? msg : strerror(err < 0 ? -err : err));
}

int hdl__qtinit(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	s->frame = -1;
	audit_tr__tinit(s->tr);
	tr__clear(s->tr);
	return rsp_buf__puts(r, "OK");
}

static int qtdp(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char msg[256] = "";
	int err;

	if (len && a[0] == '-') {
		struct rsp_qtdp_actions *acts = malloc(sizeof(*acts));
		const char *w;

		if (!acts)
			return -ENOMEM;
		err = rsp_parse_qtdp_actions(a + 1, len - 1, acts);
		if (err) {
			free(acts);
			return reply_msg(r, err, "malformed QTDP actions");
		}
		/* Keep the action text after "<n>:<addr>:" for the upload later. */
		w = memchr(a + 1, ':', len - 1);
		w = w ? memchr(w + 1, ':', len - (size_t)(w + 1 - a)) : NULL;
		w = w ? w + 1 : a + len;
		err = tr__define_actions(s->tr, acts, w,
					 len - (size_t)(w - a) - (acts->more ? 1 : 0), msg,
					 sizeof(msg));
		if (!err)
			audit_tr__qtdp_actions(s->tr, acts->num, acts->addr, w,
					       len - (size_t)(w - a) - (acts->more ? 1 : 0));
		free(acts);
	} else {
		struct rsp_qtdp_hdr h;

		err = rsp_parse_qtdp_hdr(a, len, &h);
		if (err == -EOPNOTSUPP)
			return reply_msg(r, err,
					 "static tracepoints (-m, ust markers) are not supported; "
					 "use an ordinary or fast tracepoint");
		if (err)
			return reply_msg(r, err, "malformed QTDP");
		err = tr__define(s->tr, &h, msg, sizeof(msg));
		if (!err)
			audit_tr__qtdp(s->tr, h.num, h.addr);
	}
	if (err)
		return reply_msg(r, err, msg);
	return rsp_buf__puts(r, "OK");
}

/*
 * A tracepoint defined while tracing is installed at once: its deep
 * collection may read DWARF that only the debuginfod servers have
 * (GDB reads this reply, like QTStart's and QTEnable's, allowing O packets).
 */
int hdl__qtdp(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	int err;

	sess__debuginfod_window(ctx, true);
	err = qtdp(ctx, a, len, r);
	sess__debuginfod_window(ctx, false);
	return err;
}

int hdl__qtdpsrc(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtdpsrc src;
	char msg[128] = "";
	int err;

	err = rsp_parse_qtdpsrc(a, len, &src);
	if (err)
		return reply_msg(r, err, "malformed QTDPsrc");
	err = tr__define_src(s->tr, &src, msg, sizeof(msg));
	if (err)
		return reply_msg(r, err, msg);
	audit_tr__qtdpsrc(s->tr, &src);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtdv(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtdv v;
	char msg[128] = "";
	int err;

	err = rsp_parse_qtdv(a, len, &v);
	if (err)
		return reply_msg(r, err, "malformed QTDV");
	err = tr__define_tsv(s->tr, &v, msg, sizeof(msg));
	if (err)
		return reply_msg(r, err, msg);
	audit_tr__qtdv(s->tr, &v);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtro(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtro *ro = malloc(sizeof(*ro));
	int err;

	if (!ro)
		return -ENOMEM;
	err = rsp_parse_qtro(a, len, ro);
	if (!err)
		err = tr__set_ro(s->tr, ro);
	free(ro);
	if (err)
		return reply_msg(r, err, "malformed QTro");
	return rsp_buf__puts(r, "OK");
}

int hdl__qtdisconnected(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len != 1 || (a[0] != '0' && a[0] != '1'))
		return reply_msg(r, -EINVAL, "malformed QTDisconnected");
	audit_tr__gdb_setting(s->tr, "disconnected-tracing", s->tr->disconnected_ok, a[0] == '1',
			      true);
	s->tr->disconnected_ok = a[0] == '1';
	return rsp_buf__puts(r, "OK");
}

int hdl__qtbuffer(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtbuffer b;

	if (rsp_parse_qtbuffer(a, len, &b))
		return reply_msg(r, -EINVAL, "malformed QTBuffer");
	if (!b.is_size) {
		audit_tr__gdb_setting(s->tr, "circular-trace-buffer", s->tr->circular, b.circular,
				      true);
		s->tr->circular = b.circular;
		return rsp_buf__puts(r, "OK");
	}
	if (b.size >= 0 && (b.size < TF_MIN_SIZE || b.size > TF_MAX_SIZE)) {
		rsp_buf__printf(r, "E.trace buffer size must be between %u and %u bytes",
				TF_MIN_SIZE, TF_MAX_SIZE);
		return 0;
	}
	audit_tr__gdb_setting(s->tr, "trace-buffer-size", s->tr->buf_size,
			      b.size < 0 ? 0 : (uint64_t)b.size, false);
	s->tr->buf_size = b.size < 0 ? 0 : (size_t)b.size;
	return rsp_buf__puts(r, "OK");
}

static void set_hex(char **dst, const struct rsp_hexblob *b)
{
	free(*dst);
	*dst = strndup(b->hex, 2 * b->len);
}

int hdl__qtnotes(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtnotes n;

	if (rsp_parse_qtnotes(a, len, &n))
		return reply_msg(r, -EINVAL, "malformed QTNotes");
	if (n.has_user)
		set_hex(&s->tr->user_hex, &n.user);
	if (n.has_notes)
		set_hex(&s->tr->notes_hex, &n.notes);
	if (n.has_tstop)
		set_hex(&s->tr->stop_notes_hex, &n.tstop);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtstart(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char msg[512] = "";
	int err;

	if (len)
		return 0;
	s->frame = -1;
	sess__debuginfod_window(s, true);
	err = tr__start(s->tr, msg, sizeof(msg));
	sess__debuginfod_window(s, false);
	if (err)
		return reply_msg(r, err, msg);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtstop(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	tr__stop(s->tr, TR_STOP_USER, 0, NULL);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtstatus(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	return tr__status(s->tr, r);
}

int hdl__qtp(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t num, addr;

	if (rsp_parse_tp_addr(a, len, &num, &addr) || num > UINT32_MAX)
		return reply_msg(r, -EINVAL, "malformed qTP");
	if (tr__tp_status(s->tr, (uint32_t)num, addr, r))
		return reply_msg(r, -ENOENT, "no such tracepoint");
	return 0;
}

static int enable(struct sess *s, const char *a, size_t len, struct rsp_buf *r, bool on)
{
	uint64_t num, addr;
	char msg[256] = "";
	int err;

	if (rsp_parse_tp_addr(a, len, &num, &addr) || num > UINT32_MAX)
		return reply_msg(r, -EINVAL, "malformed QTEnable/QTDisable");
	sess__debuginfod_window(s, on);
	err = tr__enable(s->tr, (uint32_t)num, addr, on, msg, sizeof(msg));
	sess__debuginfod_window(s, false);
	if (err)
		return reply_msg(r, err, msg);
	audit_tr__enable(s->tr, (uint32_t)num, addr, on);
	return rsp_buf__puts(r, "OK");
}

int hdl__qtenable(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return enable(ctx, a, len, r, true);
}

int hdl__qtdisable(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return enable(ctx, a, len, r, false);
}

/* ---- trace state variables ---------------------------------------------- */

static int put_tsv(struct rsp_buf *r, const struct tp_tsv *v)
{
	return rsp_buf__printf(r, "%x:%016llx:%d:%s", v->num, (unsigned long long)v->initial,
			       v->builtin ? 1 : 0, v->name_hex ? v->name_hex : "");
}

int hdl__qtsv(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (s->tsv_next >= s->tr->ntsvs)
		return rsp_buf__putc(r, 'l');
	return put_tsv(r, &s->tr->tsvs[s->tsv_next++]);
}

int hdl__qtfv(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	s->tsv_next = 0;
	return hdl__qtsv(ctx, a, len, r);
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int hdl__qtv(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct fview fv;
	struct tp_tsv *v;
	uint64_t num;
	int64_t val;
	int err;

	if (rsp_parse_hex_u64(a, len, &num) || num > UINT32_MAX)
		return reply_msg(r, -EINVAL, "malformed qTV");
	v = tr__find_tsv(s->tr, (uint32_t)num);
	if (!v)
		return rsp_buf__putc(r, 'U');
	if (s->frame >= 0) {
		/* The value the selected frame recorded, if it did. */
		err = fview__open(&fv, s->tr, s->tgt, (size_t)s->frame);
		if (!err)
			err = fview__tsv(&fv, (uint32_t)num, &val);
		fview__close(&fv);
		if (err)
			return rsp_buf__putc(r, 'U');
		return rsp_buf__printf(r, "V%llx", (unsigned long long)val);
	}
	if (v->builtin && v->num == 1)
		return rsp_buf__printf(r, "V%llx", (unsigned long long)wall_us());
	if (v->builtin)
		return rsp_buf__putc(r, 'U');
	return rsp_buf__printf(r, "V%llx", (unsigned long long)tr__tsv_value(s->tr, v));
}

/* ---- frames ------------------------------------------------------------- */

static bool frame_matches(const struct trace *tr, const struct tf_frame *f,
			  const struct rsp_qtframe *q)
{
	uint64_t pc;

	switch (q->kind) {
	case RSP_QTF_TDP:
		return f->tp == q->a;
	case RSP_QTF_PC:
		return fview__frame_pc(tr, f) == q->a;
	case RSP_QTF_RANGE:
		pc = fview__frame_pc(tr, f);
		return pc >= q->a && pc <= q->b;
	case RSP_QTF_OUTSIDE:
		pc = fview__frame_pc(tr, f);
		return pc < q->a || pc > q->b;
	default:
		return false;
	}
}

int hdl__qtframe(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_qtframe q;
	struct tf_frame f;
	size_t n, count;

	if (rsp_parse_qtframe(a, len, &q))
		return reply_msg(r, -EINVAL, "malformed QTFrame");
	/* Let frames still in the ring buffer be found too. */
	tr__poll(s->tr);
	count = tf_store__count(&s->tr->store);
	if (q.kind == RSP_QTF_NUMBER) {
		if (q.a == 0xffffffff) {
			s->frame = -1;
			return rsp_buf__puts(r, "F-1");
		}
		/* Not found: the selection stays, as gdbserver (GDB keeps its
		 * own when the user's tfind fails). */
		if (q.a >= count)
			return rsp_buf__puts(r, "F-1");
		n = (size_t)q.a;
	} else {
		/* Search forward from the frame after the current one, as gdbserver. */
		for (n = (size_t)(s->frame + 1); n < count; n++)
			if (!tf_store__get(&s->tr->store, n, &f) && frame_matches(s->tr, &f, &q))
				break;
		if (n >= count)
			return rsp_buf__puts(r, "F-1");
	}
	tf_store__get(&s->tr->store, n, &f);
	s->frame = (long)n;
	return rsp_buf__printf(r, "F%zxT%x", n, f.tp);
}

/* ---- upload, raw frames, saving ----------------------------------------- */

static int collect_item(void *ctx, const char *item)
{
	struct sess *s = ctx;
	char **u = realloc(s->upload, (s->nupload + 1) * sizeof(*u));

	if (!u)
		return -ENOMEM;
	s->upload = u;
	u[s->nupload] = strdup(item);
	if (!u[s->nupload])
		return -ENOMEM;
	s->nupload++;
	return 0;
}

int hdl__qtsp(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (s->upload_next >= s->nupload)
		return rsp_buf__putc(r, 'l');
	return rsp_buf__puts(r, s->upload[s->upload_next++]);
}

int hdl__qtfp(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	int err;

	sess__upload_free(s);
	err = tr__upload(s->tr, collect_item, s);
	if (err) {
		sess__upload_free(s);
		return reply_msg(r, err, "cannot list the tracepoints");
	}
	return hdl__qtsp(ctx, a, len, r);
}

int hdl__qtbuffer_read(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t off, n;
	uint8_t *buf;
	size_t got;

	if (rsp_parse_qtbuffer_read(a, len, &off, &n))
		return reply_msg(r, -EINVAL, "malformed qTBuffer");
	if (n > (SESS_PACKET_SIZE - 16) / 2)
		n = (SESS_PACKET_SIZE - 16) / 2;
	tr__poll(s->tr);
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	got = tf_store__read_raw(&s->tr->store, off, buf, n);
	if (got)
		rsp_buf__put_hex(r, buf, got);
	else
		rsp_buf__putc(r, 'l');
	free(buf);
	return 0;
}

int hdl__qtsave(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char name[4096], msg[512] = "";
	int err;

	if (rsp_parse_hex_string(a, len, name, sizeof(name)) || !name[0])
		return reply_msg(r, -EINVAL, "malformed QTSave");
	tr__poll(s->tr);
	err = tfile__save_beneath(s->tr, s->opts->save_dirfd, s->opts->save_dir, name, msg,
				  sizeof(msg));
	audit_tr__tsave(s->tr, "gdb", name, err, msg);
	if (err)
		return reply_msg(r, err, msg);
	/* Histograms (no frames) beside it: NAME.hist.json (stub/views/thist.h). */
	err = thist__save_beside(s->tr, s->opts->save_dirfd, s->opts->save_dir, name, msg,
				 sizeof(msg));
	if (err) {
		audit_tr__tsave(s->tr, "gdb", name, err, msg);
		return reply_msg(r, err, msg);
	}
	return rsp_buf__puts(r, "OK");
}
