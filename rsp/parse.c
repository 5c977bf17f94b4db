/* SPDX-License-Identifier: MIT */
/*
 * rsp/parse.c - the packet parsers: bytes from the wire into structs.
 *
 * Everything a client sends passes through here before any code acts on
 * it, so this file is written to be boring and hostile-input proof rather
 * than clever.  The shape:
 *
 *  - A cursor (p, end) is the only way input is read.  Every read checks
 *    the cursor against end first, so no parser looks past the length it
 *    was given, and none relies on a NUL terminator (the framer happens to
 *    add one, the fuzzer deliberately does not).
 *
 *  - Small rsp_cur__ primitives (a hex number, an expected separator, a
 *    token up to a stop byte, hex-encoded bytes) are the only places that
 *    touch bytes.  A primitive that fails leaves the cursor where it was,
 *    so callers can try alternatives without saving state.
 *
 *  - Packet parsers are straight sequences of primitives ending in
 *    rsp_cur__end(): every separator is checked and trailing junk is an
 *    error, never ignored.  They fill a caller-owned struct; nothing is
 *    allocated and no length read from the wire sizes anything: buffers
 *    are fixed and overruns are -E2BIG.
 *
 *  - Numbers are hex, at least one digit, any case, leading zeros allowed,
 *    and checked for overflow digit by digit: a value that needs more than
 *    64 bits is -ERANGE, never wrapped.
 *
 * Errors: -EINVAL malformed, -ERANGE a number does not fit, -E2BIG a field
 * does not fit its buffer.  On error the output struct may be partly
 * written; callers only look at it after a 0.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rsp/parse.h"

int rsp_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Is ch one of the bytes of stop?  The NUL terminator of stop never is. */
static bool is_stop(const char *stop, char ch)
{
	return stop && ch != '\0' && strchr(stop, ch);
}

/* Length of the span from the cursor to the next stop byte (or the end). */
static size_t span_to(const struct rsp_cursor *c, const char *stop)
{
	const char *q = c->p;

	while (q < c->end && !is_stop(stop, *q))
		q++;
	return (size_t)(q - c->p);
}

int rsp_cur__hex_u64(struct rsp_cursor *c, uint64_t *v)
{
	const char *q = c->p;
	uint64_t val = 0;
	int d;

	if (q >= c->end || rsp_hexval((unsigned char)*q) < 0)
		return -EINVAL;
	for (; q < c->end && (d = rsp_hexval((unsigned char)*q)) >= 0; q++) {
		if (val > (UINT64_MAX >> 4))
			return -ERANGE;
		val = (val << 4) | (uint64_t)d;
	}
	*v = val;
	c->p = q;
	return 0;
}

int rsp_cur__hex_s64(struct rsp_cursor *c, int64_t *v)
{
	struct rsp_cursor save = *c;
	bool neg = false;
	uint64_t mag;
	int err;

	if (c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	err = rsp_cur__hex_u64(c, &mag);
	if (!err && mag > (uint64_t)INT64_MAX)
		err = -ERANGE;
	if (err) {
		*c = save;
		return err;
	}
	*v = neg ? -(int64_t)mag : (int64_t)mag;
	return 0;
}

int rsp_cur__expect(struct rsp_cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -EINVAL;
	c->p++;
	return 0;
}

bool rsp_cur__skip(struct rsp_cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if (rsp_cur__left(c) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

int rsp_cur__end(const struct rsp_cursor *c)
{
	return c->p == c->end ? 0 : -EINVAL;
}

int rsp_cur__hex_bytes(struct rsp_cursor *c, const char *stop, uint8_t *out, size_t cap, size_t *n)
{
	size_t span = span_to(c, stop), i;

	if (span % 2)
		return -EINVAL;
	for (i = 0; i < span; i++) {
		if (rsp_hexval((unsigned char)c->p[i]) < 0)
			return -EINVAL;
	}
	if (span / 2 > cap)
		return -E2BIG;
	for (i = 0; i < span / 2; i++) {
		out[i] = (uint8_t)(rsp_hexval((unsigned char)c->p[2 * i]) << 4 |
				   rsp_hexval((unsigned char)c->p[2 * i + 1]));
	}
	*n = span / 2;
	c->p += span;
	return 0;
}

/*
 * A NUL inside the token is refused (-EINVAL): the result is handed on as a
 * C string, and one that silently ends early would name a different object
 * than the client did.
 */
int rsp_cur__token(struct rsp_cursor *c, const char *stop, char *out, size_t cap)
{
	size_t span = span_to(c, stop);

	if (memchr(c->p, '\0', span))
		return -EINVAL;
	if (span >= cap)
		return -E2BIG;
	memcpy(out, c->p, span);
	out[span] = '\0';
	c->p += span;
	return 0;
}

int rsp_parse_hex_u64(const char *p, size_t len, uint64_t *v)
{
	struct rsp_cursor c;
	uint64_t val;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_u64(&c, &val);
	if (!err)
		err = rsp_cur__end(&c);
	if (!err)
		*v = val;
	return err;
}

int rsp_parse_hex_list(const char *p, size_t len, char sep, uint64_t *out, size_t n)
{
	struct rsp_cursor c;
	size_t i;
	int err;

	rsp_cur__init(&c, p, len);
	for (i = 0; i < n; i++) {
		if (i) {
			err = rsp_cur__expect(&c, sep);
			if (err)
				return err;
		}
		err = rsp_cur__hex_u64(&c, &out[i]);
		if (err)
			return err;
	}
	return rsp_cur__end(&c);
}

/* Hex pairs up to a stop byte into a C string; the cursor moves past them. */
static int cur_hex_string(struct rsp_cursor *c, const char *stop, char *out, size_t cap)
{
	struct rsp_cursor save = *c;
	size_t n;
	int err;

	if (cap == 0)
		return -E2BIG;
	err = rsp_cur__hex_bytes(c, stop, (uint8_t *)out, cap - 1, &n);
	if (err)
		return err;
	if (memchr(out, '\0', n)) {
		*c = save;
		return -EINVAL;
	}
	out[n] = '\0';
	return 0;
}

int rsp_parse_hex_string(const char *p, size_t len, char *out, size_t cap)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = cur_hex_string(&c, NULL, out, cap);
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

/* One id of a thread id: "-1" (all) or hex that fits in 63 bits. */
static int cur_id(struct rsp_cursor *c, int64_t *id)
{
	uint64_t v;
	int err;

	if (rsp_cur__left(c) >= 2 && c->p[0] == '-' && c->p[1] == '1' &&
	    (rsp_cur__left(c) == 2 || rsp_hexval((unsigned char)c->p[2]) < 0)) {
		c->p += 2;
		*id = RSP_TID_ALL;
		return 0;
	}
	err = rsp_cur__hex_u64(c, &v);
	if (err)
		return err;
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*id = (int64_t)v;
	return 0;
}

int rsp_cur__tid(struct rsp_cursor *c, struct rsp_tid *t)
{
	struct rsp_cursor save = *c;
	struct rsp_tid r;
	int err;

	if (rsp_cur__skip(c, "p")) {
		err = cur_id(c, &r.pid);
		if (err)
			goto fail;
		r.tid = RSP_TID_ALL;
		if (rsp_cur__skip(c, ".")) {
			err = cur_id(c, &r.tid);
			if (err)
				goto fail;
		}
	} else {
		r.pid = RSP_TID_NONE;
		err = cur_id(c, &r.tid);
		if (err)
			goto fail;
	}
	*t = r;
	return 0;
fail:
	*c = save;
	return err;
}

int rsp_parse_tid(const char *p, size_t len, struct rsp_tid *t)
{
	struct rsp_cursor c;
	struct rsp_tid r;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__tid(&c, &r);
	if (!err)
		err = rsp_cur__end(&c);
	if (!err)
		*t = r;
	return err;
}

int rsp_cur__hex_pair(struct rsp_cursor *c, char sep, uint64_t *a, uint64_t *b)
{
	int err;

	err = rsp_cur__hex_u64(c, a);
	if (!err)
		err = rsp_cur__expect(c, sep);
	if (!err)
		err = rsp_cur__hex_u64(c, b);
	return err;
}

int rsp_parse_mem(const char *p, size_t len, struct rsp_mem_req *r)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_pair(&c, ',', &r->addr, &r->len);
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

int rsp_parse_write(const char *p, size_t len, struct rsp_write_req *r)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_pair(&c, ',', &r->addr, &r->len);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	r->data = c.p;
	r->data_len = rsp_cur__left(&c);
	return 0;
}

/*
 * The annex stops at the next ':' (gdbserver splits the same way), and may
 * be empty.  The tail is "offset,length" whatever the op; op is checked to
 * be "read" or "write" only, so a handler can refuse writes by name.
 */
int rsp_parse_qxfer(const char *p, size_t len, struct rsp_xfer_req *r)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__token(&c, ":", r->object, sizeof(r->object));
	if (!err && r->object[0] == '\0')
		err = -EINVAL;
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__token(&c, ":", r->op, sizeof(r->op));
	if (!err && strcmp(r->op, "read") != 0 && strcmp(r->op, "write") != 0)
		err = -EINVAL;
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__token(&c, ":", r->annex, sizeof(r->annex));
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_pair(&c, ',', &r->offset, &r->length);
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

int rsp_parse_thread_suffix(const char *p, size_t len, struct rsp_thread_suffix *s)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	if (len == 0) {
		s->present = false;
		return 0;
	}
	if (!rsp_cur__skip(&c, ";thread:"))
		return -EINVAL;
	err = rsp_cur__tid(&c, &s->tid);
	if (err)
		return err;
	rsp_cur__skip(&c, ";");
	err = rsp_cur__end(&c);
	if (!err)
		s->present = true;
	return err;
}

int rsp_parse_p(const char *p, size_t len, struct rsp_reg_req *r)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_u64(&c, &r->regno);
	if (!err)
		err = rsp_parse_thread_suffix(c.p, rsp_cur__left(&c), &r->thread);
	return err;
}

/* Exactly two hex digits: the signal of C and S actions. */
static int cur_sig(struct rsp_cursor *c, uint8_t *sig)
{
	int hi, lo;

	if (rsp_cur__left(c) < 2)
		return -EINVAL;
	hi = rsp_hexval((unsigned char)c->p[0]);
	lo = rsp_hexval((unsigned char)c->p[1]);
	if (hi < 0 || lo < 0)
		return -EINVAL;
	*sig = (uint8_t)(hi << 4 | lo);
	c->p += 2;
	return 0;
}

/* One action of vCont, up to (not including) the next ';' or the end. */
static int cur_vcont_action(struct rsp_cursor *c, struct rsp_vcont_action *a)
{
	uint64_t start, end;
	int err = 0;

	if (c->p >= c->end)
		return -EINVAL;
	a->action = *c->p++;
	a->sig = 0;
	a->has_tid = false;
	a->tid.pid = RSP_TID_NONE;
	a->tid.tid = RSP_TID_ALL;
	switch (a->action) {
	case 'c':
	case 's':
	case 't':
		break;
	case 'C':
	case 'S':
		err = cur_sig(c, &a->sig);
		break;
	case 'r':
		/* the range is checked but not kept: bpfstub never steps */
		err = rsp_cur__hex_pair(c, ',', &start, &end);
		break;
	default:
		err = -EINVAL;
	}
	if (err)
		return err;
	if (rsp_cur__skip(c, ":")) {
		err = rsp_cur__tid(c, &a->tid);
		if (err)
			return err;
		a->has_tid = true;
	}
	if (c->p < c->end && *c->p != ';')
		return -EINVAL;
	return 0;
}

int rsp_parse_vcont(const char *p, size_t len, struct rsp_vcont *v)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	v->n = 0;
	do {
		if (v->n == RSP_VCONT_MAX)
			return -E2BIG;
		err = cur_vcont_action(&c, &v->a[v->n]);
		if (err)
			return err;
		v->n++;
	} while (rsp_cur__skip(&c, ";"));
	return rsp_cur__end(&c);
}

int rsp_parse_vfile_open(const char *p, size_t len, struct rsp_vfile_open *r)
{
	struct rsp_cursor c;
	int err;

	rsp_cur__init(&c, p, len);
	err = cur_hex_string(&c, ",", r->path, sizeof(r->path));
	if (!err)
		err = rsp_cur__expect(&c, ',');
	if (!err)
		err = rsp_cur__hex_u64(&c, &r->flags);
	if (!err)
		err = rsp_cur__expect(&c, ',');
	if (!err)
		err = rsp_cur__hex_u64(&c, &r->mode);
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

/* A feature name: printable ASCII other than the list's own punctuation. */
static bool is_name_byte(char ch)
{
	return ch > ' ' && ch <= '~' && ch != ';' && ch != ':' && ch != '=' && ch != '+' &&
	       ch != '-' && ch != '?';
}

/* Does the name at [p, p + n) equal lit? */
static bool name_is(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/*
 * One "name+", "name-", "name?" or "name=value".  Feature names such as
 * "fork-events" contain '-', so the name runs to the last byte before ';'
 * when that byte is a '+', '-' or '?' marker, or to the first '='.
 */
static int cur_feature(struct rsp_cursor *c, struct rsp_client_features *f)
{
	size_t span = span_to(c, ";"), nlen, i;
	const char *p = c->p;
	const char *eq = memchr(p, '=', span);
	bool on = false;

	if (eq) {
		nlen = (size_t)(eq - p);
		for (i = nlen + 1; i < span; i++) {
			if (p[i] == '\0')
				return -EINVAL;
		}
		on = span > nlen + 1;
	} else {
		if (span < 2)
			return -EINVAL;
		switch (p[span - 1]) {
		case '+':
			on = true;
			break;
		case '-':
		case '?':
			break;
		default:
			return -EINVAL;
		}
		nlen = span - 1;
	}
	if (nlen == 0)
		return -EINVAL;
	for (i = 0; i < nlen; i++) {
		if (!is_name_byte(p[i]) && !(p[i] == '-' && i > 0))
			return -EINVAL;
	}
	if (eq) {
		if (name_is(p, nlen, "xmlRegisters"))
			f->xml_registers = on;
	} else if (name_is(p, nlen, "multiprocess")) {
		f->multiprocess = on;
	} else if (name_is(p, nlen, "swbreak")) {
		f->swbreak = on;
	} else if (name_is(p, nlen, "hwbreak")) {
		f->hwbreak = on;
	} else if (name_is(p, nlen, "fork-events")) {
		f->fork_events = on;
	} else if (name_is(p, nlen, "vContSupported")) {
		f->vcont_supported = on;
	}
	c->p += span;
	return 0;
}

int rsp_parse_qsupported(const char *p, size_t len, struct rsp_client_features *f)
{
	struct rsp_cursor c;
	int err;

	memset(f, 0, sizeof(*f));
	rsp_cur__init(&c, p, len);
	if (len == 0)
		return 0;
	err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	do {
		err = cur_feature(&c, f);
		if (err)
			return err;
	} while (rsp_cur__skip(&c, ";"));
	return rsp_cur__end(&c);
}
