/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/session.c - one client connection's state and its replies.
 *
 * The session is the transmit side of a client: sess__send() frames a reply
 * into the transmit queue (remembering it for a '-' retransmit).  Extra
 * packets a handler wants to send first (monitor output) are framed into
 * the same queue by sess__console(), so ordering is simply the order of
 * appends.  Dispatch is not here: hdl__packet() (handlers.c) runs a
 * packet's handler and queues its reply through this file, so the session
 * never calls up into the handlers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rsp/framer.h"
#include "stub/base/sys.h"
#include "stub/program/debuginfo.h"
#include "stub/program/program.h"
#include "stub/serve/server.h"
#include "stub/serve/session.h"
#include "stub/trace/trace.h"

void sess__init(struct sess *s, struct tgt *t, struct trace *tr, const struct srv_opts *opts)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->tgt = t;
	s->tr = tr;
	s->frame = -1;
	s->opts = opts;
	s->wfd = -1;
	s->stop_tid = t->pid;
	for (i = 0; i < XFER_NUM; i++)
		rsp_buf__init(&s->xfer[i]);
	for (i = 0; i < SESS_VFILE_MAX; i++)
		s->vfile_fd[i] = -1;
	rsp_buf__init(&s->notify);
	rsp_buf__init(&s->tx);
	rsp_buf__init(&s->last);
}

void sess__fini(struct sess *s)
{
	int i;

	for (i = 0; i < XFER_NUM; i++)
		rsp_buf__free(&s->xfer[i]);
	for (i = 0; i < SESS_VFILE_MAX; i++)
		if (s->vfile_fd[i] >= 0)
			close(s->vfile_fd[i]);
	free(s->thread_list);
	sess__upload_free(s);
	rsp_buf__free(&s->notify);
	rsp_buf__free(&s->tx);
	rsp_buf__free(&s->last);
}

void sess__upload_free(struct sess *s)
{
	size_t i;

	for (i = 0; i < s->nupload; i++)
		free(s->upload[i]);
	free(s->upload);
	s->upload = NULL;
	s->nupload = s->upload_next = 0;
}

void sess__log(struct sess *s, const char *dir, const char *p, size_t len)
{
	size_t i, n = len > 512 ? 512 : len;

	if (!s->opts || s->opts->verbose < 1)
		return;
	fprintf(stderr, "bpfstub: %s ", dir);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\n", len > n ? "..." : "");
}

int sess__send(struct sess *s, char start, const char *payload, size_t len)
{
	size_t at = s->tx.len;
	int err;

	sess__log(s, start == '%' ? "notify" : "->", payload, len);
	err = rsp_frame__encode(&s->tx, start, payload, len);
	if (err)
		return err;
	if (start == '$') {
		rsp_buf__reset(&s->last);
		rsp_buf__put(&s->last, s->tx.data + at, s->tx.len - at);
	}
	return s->tx.oom ? -ENOMEM : 0;
}

int sess__console(struct sess *s, const char *fmt, ...)
{
	struct rsp_buf text, pkt;
	va_list ap;
	int err;

	rsp_buf__init(&text);
	rsp_buf__init(&pkt);
	va_start(ap, fmt);
	rsp_buf__vprintf(&text, fmt, ap);
	va_end(ap);
	rsp_buf__putc(&pkt, 'O');
	rsp_buf__put_hex(&pkt, text.data ? text.data : "", text.len);
	err = pkt.oom ? -ENOMEM : sess__send(s, '$', pkt.data, pkt.len);
	rsp_buf__free(&text);
	rsp_buf__free(&pkt);
	return err;
}

void sess__say_now(void *ctx, const char *line)
{
	struct sess *s = ctx;

	sess__console(s, "%s\n", line);
	if (s->wfd >= 0 && s->tx.len && !sys__write_all(s->wfd, s->tx.data, s->tx.len))
		rsp_buf__reset(&s->tx);
}

void sess__debuginfod_window(struct sess *s, bool open)
{
	struct dbgi *d = s->tr && s->tr->pgm ? s->tr->pgm->dbgi : NULL;

	if (open)
		dbgi__open_window(d, s->tr->debuginfod, sess__say_now, s);
	else
		dbgi__close_window(d);
}

int sess__exit_reply(struct sess *s, struct rsp_buf *r)
{
	int st = s->tgt->exit_status;

	if (s->tgt->launched && WIFSIGNALED(st))
		rsp_buf__printf(r, "X%02x", WTERMSIG(st));
	else
		rsp_buf__printf(r, "W%02x",
				s->tgt->launched && WIFEXITED(st) ? WEXITSTATUS(st) : 0);
	if (s->multiprocess)
		rsp_buf__printf(r, ";process:%x", (unsigned)s->tgt->pid);
	s->running = false;
	s->quit_after_close = true;
	return r->oom ? -ENOMEM : 0;
}

int sess__target_exited(struct sess *s)
{
	struct rsp_buf r;
	int err;

	rsp_buf__init(&r);
	err = sess__exit_reply(s, &r);
	if (!err)
		err = sess__send(s, s->nonstop ? '%' : '$', r.data, r.len);
	rsp_buf__free(&r);
	return err;
}

/*
 * An error reply with a message.  GDB shows "E.<text>" to the user.  LLDB
 * takes only "E<2 hex>" as an error (it would read "E.text" as data), plus
 * ";<hex text>" once it sent QEnableErrorStrings.
 */
int sess__error(struct sess *s, struct rsp_buf *r, const char *fmt, ...)
{
	struct rsp_buf msg;
	va_list ap;

	rsp_buf__init(&msg);
	va_start(ap, fmt);
	rsp_buf__vprintf(&msg, fmt, ap);
	va_end(ap);
	rsp_buf__reset(r);
	if (!s->lldb) {
		rsp_buf__puts(r, "E.");
		rsp_buf__put(r, msg.data ? msg.data : "", msg.len);
	} else if (s->error_strings) {
		rsp_buf__puts(r, "E01;");
		rsp_buf__put_hex(r, msg.data ? msg.data : "", msg.len);
	} else {
		rsp_buf__puts(r, "E01");
	}
	rsp_buf__free(&msg);
	return 0;
}

int sess__put_tid(struct sess *s, struct rsp_buf *r, pid_t tid)
{
	if (s->multiprocess)
		return rsp_buf__printf(r, "p%x.%x", (unsigned)s->tgt->pid, (unsigned)tid);
	return rsp_buf__printf(r, "%x", (unsigned)tid);
}
