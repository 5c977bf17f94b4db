/* SPDX-License-Identifier: MIT */
/*
 * rsp/trace.h - pure parsers for the tracepoint packets (GDB manual,
 * "Tracepoint Packets"): QTDP and its actions, QTDPsrc, QTDV, QTro,
 * QTFrame, QTBuffer, QTEnable/QTDisable, qTP, qTV, QTNotes.
 *
 * Same rules as parse.h: (ptr, len) in, a struct out, every separator
 * checked, hex strict and overflow-checked, no wire length trusted, no
 * allocation.  Variable-length data (bytecode, hex text) is returned as a
 * pointer into the packet plus a length, already validated; the caller
 * decodes it with rsp_trace_hex_decode() into storage it owns.
 * Errors: -EINVAL malformed, -ERANGE a number too large, -E2BIG too many
 * items, -EOPNOTSUPP a well-formed request bpfstub does not implement
 * (fast or static tracepoints).
 */
#ifndef RSP_TRACE_H
#define RSP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytecode of one agent expression: at most this many bytes. */
#define RSP_AX_MAX 4096

/* Hex text of len bytes (2*len digits) at hex: what X<len>,<hex> carries. */
struct rsp_hexblob {
	const char *hex;
	size_t len; /* bytes (hex has 2*len digits) */
};

/* Decode a validated blob into out[0..cap); -E2BIG if it does not fit. */
int rsp_trace_hex_decode(const struct rsp_hexblob *b, uint8_t *out, size_t cap);

/*
 * After "QTDP:" when the first byte is not '-':
 *   <n>:<addr>:<E|D>:<step>:<pass>[:X<len>,<cond>][-]
 * ":F<n>" (a fast tracepoint) is accepted and sets fast: a uprobe is the
 * same on any instruction.  ":S" (static tracepoints) gives -EOPNOTSUPP.
 */
struct rsp_qtdp_hdr {
	uint64_t num;
	uint64_t addr;
	bool enabled;
	bool fast; /* ":F<len>": treated as an ordinary tracepoint */
	uint64_t step;
	uint64_t pass;
	bool has_cond;
	struct rsp_hexblob cond;
	bool more; /* trailing '-': action packets follow */
};
int rsp_parse_qtdp_hdr(const char *p, size_t len, struct rsp_qtdp_hdr *h);

/* One action: R<mask>, M<basereg>,<offset>,<len>, X<len>,<bytes>. */
enum rsp_tp_action_kind {
	RSP_TPA_REGS,
	RSP_TPA_MEM,
	RSP_TPA_EXPR,
};

struct rsp_tp_action {
	enum rsp_tp_action_kind kind;
	bool stepping; /* inside an 'S' (while-stepping) group */
	/* RSP_TPA_REGS: bit i = GDB register i; masks longer than 128 bits -> -E2BIG */
	uint64_t regmask[2];
	/* RSP_TPA_MEM: basereg -1 (absolute, sent as "-1" or "FFFFFFFF") or 0..; */
	int32_t basereg;
	int64_t offset; /* two's complement of the hex sent */
	uint64_t len;
	/* RSP_TPA_EXPR */
	struct rsp_hexblob expr;
};

#define RSP_TP_ACTIONS_MAX 64

/*
 * After "QTDP:-": <n>:<addr>:<actions>[-] where actions is one or more
 * actions concatenated; an 'S' before an action marks it and every later
 * action in this packet as while-stepping.
 */
struct rsp_qtdp_actions {
	uint64_t num;
	uint64_t addr;
	size_t n;
	struct rsp_tp_action a[RSP_TP_ACTIONS_MAX];
	bool more;
};
int rsp_parse_qtdp_actions(const char *p, size_t len, struct rsp_qtdp_actions *a);

/* After "QTDPsrc:": <n>:<addr>:<type>:<start>:<slen>:<hex text>. */
struct rsp_qtdpsrc {
	uint64_t num;
	uint64_t addr;
	char type[8]; /* "at", "cond", "cmd" */
	uint64_t start;
	uint64_t slen;
	struct rsp_hexblob text;
};
int rsp_parse_qtdpsrc(const char *p, size_t len, struct rsp_qtdpsrc *s);

/* After "QTDV:": <n>:<value>:<builtin>:<hex name>. */
struct rsp_qtdv {
	uint64_t num;
	int64_t value;
	bool builtin;
	struct rsp_hexblob name;
};
int rsp_parse_qtdv(const char *p, size_t len, struct rsp_qtdv *v);

/* After "QTro": (":<start>,<end>")* */
#define RSP_QTRO_MAX 256
struct rsp_qtro {
	size_t n;
	struct {
		uint64_t start, end;
	} r[RSP_QTRO_MAX];
};
int rsp_parse_qtro(const char *p, size_t len, struct rsp_qtro *r);

/* After "QTFrame:": <n> | pc:<a> | tdp:<n> | range:<a>:<b> | outside:<a>:<b>. */
enum rsp_qtframe_kind {
	RSP_QTF_NUMBER, /* n == 0xffffffff means "none" (tfind none) */
	RSP_QTF_PC,
	RSP_QTF_TDP,
	RSP_QTF_RANGE,
	RSP_QTF_OUTSIDE,
};
struct rsp_qtframe {
	enum rsp_qtframe_kind kind;
	uint64_t a, b;
};
int rsp_parse_qtframe(const char *p, size_t len, struct rsp_qtframe *f);

/* After "QTBuffer:": circular:<0|1> | size:<hex> | size:-1 (size -1 = default). */
struct rsp_qtbuffer {
	bool is_size;
	bool circular;
	int64_t size; /* -1: default */
};
int rsp_parse_qtbuffer(const char *p, size_t len, struct rsp_qtbuffer *b);

/* "<n>:<addr>" after "QTEnable:", "QTDisable:" and "qTP:". */
int rsp_parse_tp_addr(const char *p, size_t len, uint64_t *num, uint64_t *addr);

/* After "QTNotes:": (user|notes|tstop):<hex>; ... each optional. */
struct rsp_qtnotes {
	bool has_user, has_notes, has_tstop;
	struct rsp_hexblob user, notes, tstop;
};
int rsp_parse_qtnotes(const char *p, size_t len, struct rsp_qtnotes *n);

/* After "qTBuffer:": <offset>,<len>. */
int rsp_parse_qtbuffer_read(const char *p, size_t len, uint64_t *off, uint64_t *n);

/* ---- encoders: the replies the stub builds from its trace model ---------
 *
 * The trace model (stub/trace/) fills these plain structs; the text is
 * written here, into an rsp_buf (rsp/buf.h).  Pure: no I/O, no state.
 * Each returns 0, or -ENOMEM when the buffer could not grow.
 */
struct rsp_buf;

/* How a run stands, for qTStatus: the first field after "T0;"/"T1;". */
enum rsp_tstatus_state {
	RSP_TS_NOT_RUN,	     /* tnotrun:0 */
	RSP_TS_RUNNING,	     /* trunning:0 */
	RSP_TS_STOP,	     /* tstop:<stop_notes_hex>:0 */
	RSP_TS_FULL,	     /* tfull:0 */
	RSP_TS_PASS,	     /* tpasscount:<stop_tp> */
	RSP_TS_ERROR,	     /* terror:<hex stop_msg>:<stop_tp> */
	RSP_TS_DISCONNECTED, /* tdisconnected:0 */
	RSP_TS_STOP_MSG,     /* tstop:<hex stop_msg>:0 (a stop with the stub's own note) */
};

struct rsp_tstatus {
	bool running; /* T1 */
	enum rsp_tstatus_state state;
	const char *stop_notes_hex; /* RSP_TS_STOP: hex as GDB sent it (QTNotes), NULL: none */
	const char *stop_msg;	    /* RSP_TS_ERROR, RSP_TS_STOP_MSG: plain text */
	uint32_t stop_tp;
	size_t frames, free, size; /* tframes, tfree, tsize */
	uint64_t created;	   /* tcreated */
	bool circular, disconn;
	uint64_t start_us, stop_us;
	const char *user_hex, *notes_hex; /* as GDB sent them, NULL: none */
	const char *more_notes;		  /* plain text after notes_hex (hex-encoded), or NULL */
};
/* "T<r>;<state>;tframes:...;notes:..." (GDB manual, qTStatus). */
int rsp_enc_tstatus(struct rsp_buf *b, const struct rsp_tstatus *s);

/* qTP: "V<hits>:<bytes>". */
int rsp_enc_tp_status(struct rsp_buf *b, uint64_t hits, uint64_t bytes);

/* qTfP/qTsP "T" item: a tracepoint's header. */
struct rsp_tp_def {
	uint32_t num;
	uint64_t addr;
	bool enabled;
	uint64_t step, pass;
	const uint8_t *cond; /* condition bytecode, NULL: none */
	size_t condlen;
};
int rsp_enc_tp_def(struct rsp_buf *b, const struct rsp_tp_def *d);
/* qTfP/qTsP "A" item: actions as a QTDP packet carries them (text). */
int rsp_enc_tp_actions_item(struct rsp_buf *b, uint32_t num, uint64_t addr, const char *actions);
/* qTfP/qTsP "Z" item: a source string, hex as sent (QTDPsrc). */
int rsp_enc_tp_src(struct rsp_buf *b, uint32_t num, uint64_t addr, const char *type, uint64_t start,
		   uint64_t slen, const char *hex);

/* One action to write as QTDP's action text (the inverse of the parser's). */
struct rsp_tp_act {
	enum rsp_tp_action_kind kind;
	uint64_t regmask; /* RSP_TPA_REGS: the first 64 registers */
	int32_t basereg;  /* RSP_TPA_MEM */
	int64_t offset;
	uint64_t len;
	const uint8_t *ax; /* RSP_TPA_EXPR: bytecode */
	size_t axlen;
};
/* Append "R<mask>", "M<basereg>,<offset>,<len>" or "X<len>,<hex>". */
int rsp_enc_tp_action(struct rsp_buf *b, const struct rsp_tp_act *a);

#endif
