/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers_xfer.c - the qXfer rows of the handler table.
 *
 * Each qXfer object (features, auxv, exec-file, libraries-svr4, threads,
 * osdata, traceframe-info) is generated whole at offset 0 of a read and
 * kept in the session (s->xfer), then sliced for every later offset, so a
 * client reading an object in parts sees one consistent snapshot of a
 * target that never stops.  The rows themselves sit in the one table of
 * stub/serve/handlers.c, which also produces the qSupported features.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "rsp/parse.h"
#include "stub/program/osdata.h"
#include "stub/program/regs.h"
#include "stub/program/target.h"
#include "stub/serve/handlers.h"
#include "stub/serve/session.h"
#include "stub/trace/trace.h"
#include "stub/views/frame.h"

/* Slice an object for qXfer: 'm' + part, or 'l' + the last part. */
static int put_xfer_slice(struct rsp_buf *r, const void *obj, size_t len, uint64_t off,
			  uint64_t want)
{
	size_t n;

	if (off >= len)
		return rsp_buf__putc(r, 'l');
	if (want > SESS_PACKET_SIZE / 2)
		want = SESS_PACKET_SIZE / 2;
	n = len - (size_t)off;
	if (n > want) {
		rsp_buf__putc(r, 'm');
		return rsp_buf__put(r, (const char *)obj + off, (size_t)want);
	}
	rsp_buf__putc(r, 'l');
	return rsp_buf__put(r, (const char *)obj + off, n);
}

/* "annex:offset,length" after "qXfer:<object>:read:". */
static int parse_xfer_args(const char *a, size_t len, char *annex, size_t cap, uint64_t *off,
			   uint64_t *want)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, a, len);
	err = rsp_cur__token(&c, ":", annex, cap);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_u64(&c, off);
	if (!err)
		err = rsp_cur__expect(&c, ',');
	if (!err)
		err = rsp_cur__hex_u64(&c, want);
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

static int xfer_cached(struct sess *s, enum sess_xfer_obj which, const char *a, size_t len,
		       struct rsp_buf *r, int (*gen)(struct sess *, struct rsp_buf *))
{
	char annex[256];
	uint64_t off, want;
	struct rsp_buf *obj = &s->xfer[which];
	int err;

	if (parse_xfer_args(a, len, annex, sizeof(annex), &off, &want))
		return sess__error(s, r, "malformed qXfer");
	if (which == XFER_FEATURES && strcmp(annex, "target.xml"))
		return sess__error(s, r, "no such target description '%s'", annex);
	if (off == 0 || !obj->len) {
		rsp_buf__reset(obj);
		err = gen(s, obj);
		if (err || obj->oom) {
			rsp_buf__reset(obj);
			return sess__error(s, r, "cannot build object: %s",
					   strerror(err ? -err : ENOMEM));
		}
	}
	return put_xfer_slice(r, obj->data, obj->len, off, want);
}

static int gen_threads(struct sess *s, struct rsp_buf *o)
{
	struct tgt_thread *th = NULL;
	size_t n = 0, i;
	int err;

	err = tgt__threads(s->tgt, &th, &n);
	if (err)
		return err;
	rsp_buf__puts(o, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (i = 0; i < n; i++) {
		rsp_buf__puts(o, "<thread id=\"");
		sess__put_tid(s, o, th[i].tid);
		rsp_buf__puts(o, "\"");
		if (th[i].core >= 0)
			rsp_buf__printf(o, " core=\"%d\"", th[i].core);
		rsp_buf__puts(o, " name=\"");
		rsp_buf__put_xml(o, th[i].name);
		rsp_buf__puts(o, "\"/>\n");
	}
	rsp_buf__puts(o, "</threads>\n");
	free(th);
	return 0;
}

static int gen_libraries(struct sess *s, struct rsp_buf *o)
{
	return tgt__libraries_svr4(s->tgt, o);
}

static int gen_features(struct sess *s, struct rsp_buf *o)
{
	return regs_target_xml(o);
}

static int gen_traceframe(struct sess *s, struct rsp_buf *o)
{
	struct fview fv;
	int err;

	if (s->frame < 0 || fview__open(&fv, s->tr, s->tgt, (size_t)s->frame))
		return -ENOENT;
	err = fview__info_xml(&fv, o);
	fview__close(&fv);
	return err;
}

int hdl__xfer_traceframe(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (s->frame < 0)
		return sess__error(s, r, "no trace frame is selected");
	return xfer_cached(ctx, XFER_TRACEFRAME, a, len, r, gen_traceframe);
}

int hdl__xfer_threads(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return xfer_cached(ctx, XFER_THREADS, a, len, r, gen_threads);
}

int hdl__xfer_libraries(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return xfer_cached(ctx, XFER_LIBRARIES, a, len, r, gen_libraries);
}

int hdl__xfer_features(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return xfer_cached(ctx, XFER_FEATURES, a, len, r, gen_features);
}

/* qXfer:osdata:read:<annex>: the type list, or the processes (osdata.c). */
int hdl__xfer_osdata(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_buf *obj = &s->xfer[XFER_OSDATA];
	char annex[32];
	uint64_t off, want;
	int err;

	if (parse_xfer_args(a, len, annex, sizeof(annex), &off, &want))
		return sess__error(s, r, "malformed qXfer:osdata:read");
	if (off == 0 || !obj->len) {
		rsp_buf__reset(obj);
		err = osdata__xml(annex, s->tgt->pid, obj);
		if (err == -ENOENT)
			return sess__error(s, r, "no osdata type '%s'; try 'info os'", annex);
		if (err || obj->oom) {
			rsp_buf__reset(obj);
			return sess__error(s, r, "cannot list %s: %s", annex,
					   strerror(err ? -err : ENOMEM));
		}
	}
	return put_xfer_slice(r, obj->data, obj->len, off, want);
}

int hdl__xfer_auxv(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char annex[8];
	uint64_t off, want;
	char *buf = NULL;
	size_t n = 0;
	int err;

	if (parse_xfer_args(a, len, annex, sizeof(annex), &off, &want) || annex[0])
		return sess__error(s, r, "malformed qXfer:auxv:read");
	err = tgt__read_proc(s->tgt, "auxv", &buf, &n);
	if (err)
		return sess__error(s, r, "cannot read auxv of pid %d: %s", s->tgt->pid,
				   strerror(-err));
	put_xfer_slice(r, buf, n, off, want);
	free(buf);
	return 0;
}

int hdl__xfer_exec_file(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char annex[32], path[4096];
	uint64_t off, want, pid;
	int err;

	if (parse_xfer_args(a, len, annex, sizeof(annex), &off, &want))
		return sess__error(s, r, "malformed qXfer:exec-file:read");
	if (annex[0] &&
	    (rsp_parse_hex_u64(annex, strlen(annex), &pid) || pid != (uint64_t)s->tgt->pid))
		return sess__error(s, r, "bpfstub serves pid %d only", s->tgt->pid);
	err = tgt__exe_path(s->tgt, path, sizeof(path));
	if (err)
		return sess__error(s, r, "cannot read the executable of pid %d: %s", s->tgt->pid,
				   strerror(-err));
	return put_xfer_slice(r, path, strlen(path), off, want);
}
