/* SPDX-License-Identifier: MIT */
/*
 * rsp/parse.h - pure parsers for the packets bpfstub understands.
 *
 * Each parser is a function from (ptr, len) to a struct: it checks every
 * separator, takes hex strictly (lower or upper case, at least one digit,
 * overflow-checked into 64 bits) and trusts no length from the wire.  A
 * parser returns 0 or -EINVAL (malformed), -ERANGE (a number does not fit),
 * -E2BIG (a field is longer than its buffer).  No parser allocates.
 *
 * A cursor (struct rsp_cursor) walks a packet left to right; the small
 * rsp_cur__ functions are the building blocks the packet parsers share, and
 * later parsers (tracepoints, agent expressions) use them too.
 */
#ifndef RSP_PARSE_H
#define RSP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rsp_cursor {
	const char *p;
	const char *end;
};

static inline void rsp_cur__init(struct rsp_cursor *c, const char *p, size_t len)
{
	c->p = p;
	c->end = p + len;
}

static inline size_t rsp_cur__left(const struct rsp_cursor *c)
{
	return (size_t)(c->end - c->p);
}

/* One or more hex digits into *v; -EINVAL if none, -ERANGE past 64 bits. */
int rsp_cur__hex_u64(struct rsp_cursor *c, uint64_t *v);
/* Optional '-' then hex: "-1" gives -1.  Magnitude must fit in 63 bits. */
int rsp_cur__hex_s64(struct rsp_cursor *c, int64_t *v);
/* The next byte must be ch; consume it.  -EINVAL otherwise. */
int rsp_cur__expect(struct rsp_cursor *c, char ch);
/* Consume the literal if the input starts with it; true if it did. */
bool rsp_cur__skip(struct rsp_cursor *c, const char *lit);
/* 0 at end of input, -EINVAL otherwise. */
int rsp_cur__end(const struct rsp_cursor *c);
/* Hex pairs up to the next byte in stop (or end) into out[0..cap); *n = bytes. */
int rsp_cur__hex_bytes(struct rsp_cursor *c, const char *stop, uint8_t *out, size_t cap, size_t *n);
/* Raw bytes up to the next byte in stop (or end); out NUL-terminated. */
int rsp_cur__token(struct rsp_cursor *c, const char *stop, char *out, size_t cap);

/* "<a><sep><b>", two hex numbers. */
int rsp_cur__hex_pair(struct rsp_cursor *c, char sep, uint64_t *a, uint64_t *b);
/* A hex digit's value, or -1. */
int rsp_hexval(unsigned char ch);

/* The whole span must be hex. */
int rsp_parse_hex_u64(const char *p, size_t len, uint64_t *v);
/* Exactly n hex fields separated by sep, nothing after. */
int rsp_parse_hex_list(const char *p, size_t len, char sep, uint64_t *out, size_t n);
/* Hex-encoded text into a NUL-terminated string; a NUL byte inside is -EINVAL. */
int rsp_parse_hex_string(const char *p, size_t len, char *out, size_t cap);

/*
 * Thread ids: "p<pid>.<tid>", "p<pid>", "p<pid>.-1", "<tid>", "-1", "0".
 * pid is RSP_TID_NONE when the packet named none.
 */
#define RSP_TID_ALL  (-1)
#define RSP_TID_ANY  0
#define RSP_TID_NONE INT64_MIN
struct rsp_tid {
	int64_t pid;
	int64_t tid;
};
int rsp_cur__tid(struct rsp_cursor *c, struct rsp_tid *t);
int rsp_parse_tid(const char *p, size_t len, struct rsp_tid *t);

/* "addr,len" (m, x, and the part of M/X before ':'). */
struct rsp_mem_req {
	uint64_t addr;
	uint64_t len;
};
int rsp_parse_mem(const char *p, size_t len, struct rsp_mem_req *r);

/* "addr,len:data" (M hex data, X binary data); data points into p. */
struct rsp_write_req {
	uint64_t addr;
	uint64_t len;
	const char *data;
	size_t data_len;
};
int rsp_parse_write(const char *p, size_t len, struct rsp_write_req *r);

/* After "qXfer:": "object:read:annex:offset,length". */
struct rsp_xfer_req {
	char object[32];
	char op[8]; /* "read" or "write" */
	char annex[256];
	uint64_t offset;
	uint64_t length;
};
int rsp_parse_qxfer(const char *p, size_t len, struct rsp_xfer_req *r);

/* LLDB's thread suffix: "" or ";thread:<tid>;" (also without the final ';'). */
struct rsp_thread_suffix {
	bool present;
	struct rsp_tid tid;
};
int rsp_parse_thread_suffix(const char *p, size_t len, struct rsp_thread_suffix *s);

/* After 'p': "regno[;thread:<tid>;]". */
struct rsp_reg_req {
	uint64_t regno;
	struct rsp_thread_suffix thread;
};
int rsp_parse_p(const char *p, size_t len, struct rsp_reg_req *r);

/* After "vCont;": "action[:tid](;action[:tid])*", actions c C<sig> s S<sig> t r<s>,<e>. */
#define RSP_VCONT_MAX 32
struct rsp_vcont_action {
	char action; /* 'c', 'C', 's', 'S', 't', 'r' */
	uint8_t sig;
	bool has_tid;
	struct rsp_tid tid;
};
struct rsp_vcont {
	size_t n;
	struct rsp_vcont_action a[RSP_VCONT_MAX];
};
int rsp_parse_vcont(const char *p, size_t len, struct rsp_vcont *v);

/* After "vFile:open:": "hexpath,flags,mode". */
struct rsp_vfile_open {
	char path[4096];
	uint64_t flags;
	uint64_t mode;
};
int rsp_parse_vfile_open(const char *p, size_t len, struct rsp_vfile_open *r);

/* After "qSupported" (may be empty, or ":feature;feature..."): what the client offers. */
struct rsp_client_features {
	bool multiprocess;
	bool swbreak;
	bool hwbreak;
	bool fork_events;
	bool vcont_supported;
	bool xml_registers;
};
int rsp_parse_qsupported(const char *p, size_t len, struct rsp_client_features *f);

#endif
