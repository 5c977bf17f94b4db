/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/session.h - the state of one client connection.
 *
 * The server (server.c) owns the socket and the framer; the handlers
 * (handlers.c) own the meaning of packets.  They meet here: a struct sess
 * holds the protocol state a client negotiated (ack mode, multiprocess ids,
 * non-stop, LLDB's thread suffix), the thread selections, open vFile
 * descriptors, and the transmit queue that handlers append extra packets
 * to (monitor output, non-stop notifications) ahead of their reply.
 *
 * Arrows point one way: the server hands packets to the handlers
 * (hdl__packet, handlers.h), the handlers use the session; the session
 * knows nothing of the handlers, their table or the monitor commands.
 */
#ifndef STUB_SESSION_H
#define STUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rsp/buf.h"
#include "stub/program/target.h"

#define SESS_PACKET_SIZE 0x4000
#define SESS_VFILE_MAX	 16
#define SESS_SNAP_MAX	 64

struct srv_opts;

enum sess_xfer_obj {
	XFER_THREADS,
	XFER_LIBRARIES,
	XFER_FEATURES,
	XFER_TRACEFRAME,
	XFER_OSDATA,
	XFER_NUM,
};

struct trace;

struct sess {
	struct tgt *tgt;
	struct trace *tr; /* the server's: outlives this session */
	long frame;	  /* selected trace frame (QTFrame), -1 for none: live */
	size_t tsv_next;  /* qTfV/qTsV cursor */
	char **upload;	  /* qTfP snapshot, sent one item per qTsP */
	size_t nupload, upload_next;
	const struct srv_opts *opts;

	bool noack;		/* QStartNoAckMode accepted */
	bool multiprocess;	/* client offered multiprocess+: p<pid>.<tid> ids */
	bool nonstop;		/* QNonStop:1 */
	bool lldb;		/* client is LLDB (thread suffix, qHostInfo): never send 'x' */
	bool error_strings;	/* LLDB's QEnableErrorStrings: "E01;<hex text>" */
	bool running;		/* all-stop LLDB: resumed, silent until 0x03 */
	bool close_after_reply; /* D, vKill: drop the client once replied */
	bool quit_after_close;	/* target gone: the server exits after this client */

	/* monitor tlive (stub/serve/tlive.c): an all-stop continue streams each new frame */
	bool tlive;
	uint64_t live_next;    /* frames created before this were shown or counted */
	uint64_t live_win_ms;  /* start of the current one-second window, 0 none */
	unsigned live_lines;   /* lines sent in it */
	uint64_t live_skipped; /* hits left out in it */
	uint64_t live_hist_ms; /* when the histograms were last reprinted, 0 never */

	pid_t g_tid;	/* Hg selection, 0 = any */
	pid_t stop_tid; /* thread the stop reply named */

	/*
	 * Each thread's pc and sp as first read after the last stop report:
	 * the target never stops, so a live read a moment later may differ,
	 * and GDB asserts when the pc it stepped from moves under it
	 * (infrun.c resume_1).  Until the next stop report, g/p/expedited
	 * registers answer these (stub/serve/handlers.c thread_pc_sp).
	 */
	struct {
		pid_t tid;
		uint64_t pc, sp;
		bool have_sp;
	} snap[SESS_SNAP_MAX];
	size_t nsnap;

	/* qfThreadInfo/qsThreadInfo snapshot */
	pid_t *thread_list;
	size_t thread_count, thread_next;

	/* qXfer objects are generated at offset 0 and sliced after. */
	struct rsp_buf xfer[XFER_NUM];

	int vfile_fd[SESS_VFILE_MAX];

	struct rsp_buf notify; /* a %Stop payload to send after the reply */
	struct rsp_buf tx;     /* framed bytes waiting to be written */
	int wfd;	       /* where the server writes tx; -1: unknown (no early flush) */
	struct rsp_buf last;   /* the last framed reply, for a '-' retransmit */
};

void sess__init(struct sess *s, struct tgt *t, struct trace *tr, const struct srv_opts *opts);
void sess__fini(struct sess *s);
/* Forget the qTfP snapshot. */
void sess__upload_free(struct sess *s);
/* Log a packet to stderr (--verbose): dir is "<-", "->" or "notify". */
void sess__log(struct sess *s, const char *dir, const char *p, size_t len);
/* Frame and queue a packet ('$') or notification ('%') ahead of the reply. */
int sess__send(struct sess *s, char start, const char *payload, size_t len);
/* Queue monitor output as an O packet (hex text). */
int sess__console(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A console line sent now, ahead of the reply still being worked out (what
 * was queued goes first): progress of a long request.  Only for requests
 * whose reply GDB reads allowing O packets (qRcmd, QTDP, QTStart, QTEnable);
 * each such line also restarts GDB's remote timeout.  ctx is the session.
 */
void sess__say_now(void *ctx, const char *line);
/*
 * Around a request that may wait for a download: debuginfod may be asked
 * (stub/program/debuginfo.h) within the `debuginfod` setting's budget, its
 * progress said now.  open false closes the window.
 */
void sess__debuginfod_window(struct sess *s, bool open);
/* The target went away while a client is connected: send W/X. */
int sess__target_exited(struct sess *s);
/*
 * An error reply with a message, in r (reset first).  GDB shows "E.<text>";
 * LLDB takes only "E<2 hex>" (it would read "E.text" as data), plus
 * ";<hex text>" once it sent QEnableErrorStrings.  Returns 0.
 */
int sess__error(struct sess *s, struct rsp_buf *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A thread id as the client reads it: "p<pid>.<tid>" with multiprocess, else "<tid>". */
int sess__put_tid(struct sess *s, struct rsp_buf *r, pid_t tid);
/* The W<status>/X<sig> payload for a target that is gone. */
int sess__exit_reply(struct sess *s, struct rsp_buf *r);

#endif
