/* SPDX-License-Identifier: MIT */
/*
 * rsp/trace.c - the tracepoint packet parsers: QTDP (header and actions),
 * QTDPsrc, QTDV, QTro, QTFrame, QTBuffer, QTNotes, qTBuffer and the
 * "<n>:<addr>" of QTEnable/QTDisable/qTP.
 *
 * Below them, the encoders of the replies built from the trace model
 * (qTStatus, qTP, the qTfP/qTsP items, QTDP action text): the stub fills
 * plain structs and the text is written only here.
 *
 * This file owns only the syntax of those packets.  It decides nothing:
 * whether a tracepoint number exists, whether an address can be probed,
 * whether bytecode is valid agent expression code, which stepping state a
 * packet continues - all of that belongs to the stub, which receives a
 * struct it can trust.  Trust here means: every separator was checked,
 * every number fits the field it lands in, every count is within its
 * array, and every pointer into the packet (bytecode, hex text) spans
 * exactly the validated hex digits it claims to.  The packets come from a
 * client over a socket, so nothing in them sizes anything; the limits are
 * the constants in trace.h.
 *
 * The shape follows parse.c: a cursor walks the packet left to right
 * using the rsp_cur__ primitives, each parser is a straight sequence
 * ending in rsp_cur__end(), and nothing reads outside (p, p + len) or
 * relies on a NUL terminator.  A few points are specific to tracepoints:
 *
 *  - Variable-length data is not copied.  X<len>,<hex> and hex text come
 *    back as a struct rsp_hexblob pointing into the packet after the
 *    digits have been counted and checked, so the parsers need no buffers
 *    and the caller decodes (rsp_trace_hex_decode) into storage sized by
 *    its own limits, never by the wire.
 *
 *  - Action lists are concatenated with no separator ("R40X0000000F,...
 *    M-1,404060,4-"), so each action must know where it ends: an R mask
 *    runs to the first non-hex byte, M ends after its third number, X
 *    after exactly 2*len digits.  What follows must then be another action
 *    letter, an 'S', or a '-' that is the very last byte.
 *
 *  - An 'S' marks the actions after it in the same packet as while-
 *    stepping.  GDB puts the 'S' only on the first while-stepping packet,
 *    so the stub, not this parser, carries that state to later packets.
 *
 *  - Fast (":F") and static (":S") tracepoints are parsed in full and then
 *    refused with -EOPNOTSUPP, so "malformed" and "not implemented" stay
 *    distinguishable to the caller.
 *
 * Errors: -EINVAL malformed, -ERANGE a number too large for its field,
 * -E2BIG too many items or a blob longer than its limit, -EOPNOTSUPP a
 * well-formed request bpfstub does not implement.  On error the output
 * struct may be partly written.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/parse.h"
#include "rsp/trace.h"

static bool at(const struct rsp_cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

int rsp_trace_hex_decode(const struct rsp_hexblob *b, uint8_t *out, size_t cap)
{
	size_t i;
	int hi, lo;

	if (b->len > cap)
		return -E2BIG;
	for (i = 0; i < b->len; i++) {
		hi = rsp_hexval((unsigned char)b->hex[2 * i]);
		lo = rsp_hexval((unsigned char)b->hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * "<len>,<2*len hex digits>" (the 'X' already consumed): an agent
 * expression.  len is 1..RSP_AX_MAX; the digits must all be there, and
 * where they stop is where the expression stops, whatever follows.
 */
static int cur_ax(struct rsp_cursor *c, struct rsp_hexblob *b)
{
	struct rsp_cursor save = *c;
	uint64_t n;
	size_t i;
	int err;

	err = rsp_cur__hex_u64(c, &n);
	if (err == -ERANGE || (!err && n > RSP_AX_MAX))
		err = -E2BIG;
	else if (!err && n == 0)
		err = -EINVAL;
	if (!err)
		err = rsp_cur__expect(c, ',');
	if (!err && rsp_cur__left(c) < 2 * n)
		err = -EINVAL;
	for (i = 0; !err && i < 2 * n; i++) {
		if (rsp_hexval((unsigned char)c->p[i]) < 0)
			err = -EINVAL;
	}
	if (err) {
		*c = save;
		return err;
	}
	b->hex = c->p;
	b->len = (size_t)n;
	c->p += 2 * n;
	return 0;
}

/*
 * Hex-encoded text up to the byte stop (or the end; stop < 0 means the
 * end): an even number of hex digits, possibly none.
 */
static int cur_hex_text(struct rsp_cursor *c, int stop, struct rsp_hexblob *b)
{
	const char *q = c->p;

	while (q < c->end && (unsigned char)*q != stop) {
		if (rsp_hexval((unsigned char)*q) < 0)
			return -EINVAL;
		q++;
	}
	if ((q - c->p) % 2)
		return -EINVAL;
	b->hex = c->p;
	b->len = (size_t)(q - c->p) / 2;
	c->p = q;
	return 0;
}

/* "<n>:<addr>", the start of QTDP, QTDP:-, QTDPsrc, QTEnable, qTP. */
static int cur_num_addr(struct rsp_cursor *c, uint64_t *num, uint64_t *addr)
{
	int err;

	err = rsp_cur__hex_u64(c, num);
	if (!err)
		err = rsp_cur__expect(c, ':');
	if (!err)
		err = rsp_cur__hex_u64(c, addr);
	return err;
}

int rsp_parse_qtdp_hdr(const char *p, size_t len, struct rsp_qtdp_hdr *h)
{
	bool unsupported = false, seen_fs = false;
	struct rsp_cursor c;
	uint64_t flen;
	int err;

	memset(h, 0, sizeof(*h));
	rsp_cur__init(&c, p, len);
	err = cur_num_addr(&c, &h->num, &h->addr);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	if (at(&c, 'E'))
		h->enabled = true;
	else if (!at(&c, 'D'))
		return -EINVAL;
	c.p++;
	err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_u64(&c, &h->step);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_u64(&c, &h->pass);
	if (err)
		return err;

	/* [:F<flen>|:S][:X<len>,<bytes>], in that order, each at most once. */
	while (at(&c, ':')) {
		c.p++;
		if (at(&c, 'F') || at(&c, 'S')) {
			if (seen_fs || h->has_cond)
				return -EINVAL;
			seen_fs = true;
			if (*c.p++ == 'F') {
				/* Fast: any instruction length does for a uprobe. */
				err = rsp_cur__hex_u64(&c, &flen);
				if (err)
					return err;
				h->fast = true;
			} else {
				unsupported = true;
			}
		} else if (at(&c, 'X')) {
			if (h->has_cond)
				return -EINVAL;
			c.p++;
			err = cur_ax(&c, &h->cond);
			if (err)
				return err;
			h->has_cond = true;
		} else {
			return -EINVAL;
		}
	}
	if (at(&c, '-')) {
		h->more = true;
		c.p++;
	}
	err = rsp_cur__end(&c);
	if (err)
		return err;
	return unsupported ? -EOPNOTSUPP : 0;
}

/* R<mask>: hex digits, the last one holding registers 0-3. */
static int cur_regmask(struct rsp_cursor *c, uint64_t mask[2])
{
	const char *start = c->p, *q = c->p;
	size_t ndig, k;
	unsigned int bit;

	while (q < c->end && rsp_hexval((unsigned char)*q) >= 0)
		q++;
	if (q == start)
		return -EINVAL;
	while (start < q && *start == '0')
		start++;
	ndig = (size_t)(q - start);
	if (ndig > 32)
		return -E2BIG;
	mask[0] = mask[1] = 0;
	for (k = 0; k < ndig; k++) {
		bit = (unsigned int)(4 * k);
		mask[bit / 64] |= (uint64_t)rsp_hexval((unsigned char)q[-1 - (ptrdiff_t)k])
				  << (bit % 64);
	}
	c->p = q;
	return 0;
}

/*
 * M<basereg>,<offset>,<len>: basereg "-1" (absolute; older GDBs print it
 * as "FFFFFFFF") or a register number; offset is 64-bit two's complement.
 */
static int cur_memrange(struct rsp_cursor *c, struct rsp_tp_action *a)
{
	uint64_t v;
	int err;

	if (at(c, '-')) {
		c->p++;
		err = rsp_cur__hex_u64(c, &v);
		if (err)
			return err;
		if (v != 1)
			return -EINVAL;
		a->basereg = -1;
	} else {
		err = rsp_cur__hex_u64(c, &v);
		if (err)
			return err;
		if (v == 0xffffffffu)
			a->basereg = -1;
		else if (v < 0x10000)
			a->basereg = (int32_t)v;
		else
			return -ERANGE;
	}
	err = rsp_cur__expect(c, ',');
	if (!err)
		err = rsp_cur__hex_u64(c, &v);
	if (err)
		return err;
	a->offset = (int64_t)v;
	err = rsp_cur__expect(c, ',');
	if (!err)
		err = rsp_cur__hex_u64(c, &a->len);
	if (err)
		return err;
	if (a->len > 0xffffffffu)
		return -ERANGE;
	return 0;
}

int rsp_parse_qtdp_actions(const char *p, size_t len, struct rsp_qtdp_actions *a)
{
	bool stepping = false, s_pending = false;
	struct rsp_tp_action *act;
	struct rsp_cursor c;
	int err;

	a->n = 0;
	a->more = false;
	rsp_cur__init(&c, p, len);
	err = cur_num_addr(&c, &a->num, &a->addr);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (err)
		return err;

	while (c.p < c.end) {
		char ch = *c.p++;

		if (ch == '-') {
			/* Only as the last byte, and only after an action. */
			if (c.p != c.end || a->n == 0 || s_pending)
				return -EINVAL;
			a->more = true;
			break;
		}
		if (ch == 'S') {
			if (stepping)
				return -EINVAL;
			stepping = s_pending = true;
			continue;
		}
		if (a->n == RSP_TP_ACTIONS_MAX)
			return -E2BIG;
		act = &a->a[a->n];
		memset(act, 0, sizeof(*act));
		act->stepping = stepping;
		switch (ch) {
		case 'R':
			act->kind = RSP_TPA_REGS;
			err = cur_regmask(&c, act->regmask);
			break;
		case 'M':
			act->kind = RSP_TPA_MEM;
			err = cur_memrange(&c, act);
			break;
		case 'X':
			act->kind = RSP_TPA_EXPR;
			err = cur_ax(&c, &act->expr);
			break;
		default:
			err = -EINVAL;
			break;
		}
		if (err)
			return err;
		a->n++;
		s_pending = false;
	}
	if (a->n == 0 || s_pending)
		return -EINVAL;
	return 0;
}

/* The bytes from the cursor to the next ':' (or the end) equal lit. */
static bool cur_field_is(const struct rsp_cursor *c, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(c->p, lit, n) == 0;
}

static size_t span_to(const struct rsp_cursor *c, char stop)
{
	const char *q = c->p;

	while (q < c->end && *q != stop)
		q++;
	return (size_t)(q - c->p);
}

int rsp_parse_qtdpsrc(const char *p, size_t len, struct rsp_qtdpsrc *s)
{
	static const char *const types[] = {"at", "cond", "cmd"};
	struct rsp_cursor c;
	size_t n, i;
	int err;

	memset(s, 0, sizeof(*s));
	rsp_cur__init(&c, p, len);
	err = cur_num_addr(&c, &s->num, &s->addr);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	n = span_to(&c, ':');
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (cur_field_is(&c, n, types[i]))
			break;
	}
	if (i == sizeof(types) / sizeof(types[0]))
		return -EINVAL;
	memcpy(s->type, c.p, n);
	s->type[n] = '\0';
	c.p += n;
	err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_u64(&c, &s->start);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = rsp_cur__hex_u64(&c, &s->slen);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (!err)
		err = cur_hex_text(&c, -1, &s->text);
	if (err)
		return err;
	/* This piece lies at [start, start + text.len) of an slen-byte string. */
	if (s->start > s->slen || s->text.len > s->slen - s->start)
		return -EINVAL;
	return rsp_cur__end(&c);
}

int rsp_parse_qtdv(const char *p, size_t len, struct rsp_qtdv *v)
{
	struct rsp_cursor c;
	const char *start;
	uint64_t val;
	int err;

	memset(v, 0, sizeof(*v));
	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_u64(&c, &v->num);
	if (!err)
		err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	/* The initial value: 1..16 hex digits, a 64-bit two's complement. */
	start = c.p;
	err = rsp_cur__hex_u64(&c, &val);
	if (!err && c.p - start > 16)
		err = -ERANGE;
	if (err)
		return err;
	v->value = (int64_t)val;
	err = rsp_cur__expect(&c, ':');
	if (err)
		return err;
	if (at(&c, '1'))
		v->builtin = true;
	else if (!at(&c, '0'))
		return -EINVAL;
	c.p++;
	err = rsp_cur__expect(&c, ':');
	if (!err)
		err = cur_hex_text(&c, -1, &v->name);
	if (!err && v->name.len == 0)
		err = -EINVAL;
	return err;
}

int rsp_parse_qtro(const char *p, size_t len, struct rsp_qtro *r)
{
	struct rsp_cursor c;
	uint64_t s, e;
	int err;

	r->n = 0;
	rsp_cur__init(&c, p, len);
	while (c.p < c.end) {
		err = rsp_cur__expect(&c, ':');
		if (!err)
			err = rsp_cur__hex_u64(&c, &s);
		if (!err)
			err = rsp_cur__expect(&c, ',');
		if (!err)
			err = rsp_cur__hex_u64(&c, &e);
		if (!err && s > e)
			err = -EINVAL;
		if (!err && r->n == RSP_QTRO_MAX)
			err = -E2BIG;
		if (err)
			return err;
		r->r[r->n].start = s;
		r->r[r->n].end = e;
		r->n++;
	}
	return 0;
}

int rsp_parse_qtframe(const char *p, size_t len, struct rsp_qtframe *f)
{
	struct rsp_cursor c;
	int err;

	memset(f, 0, sizeof(*f));
	rsp_cur__init(&c, p, len);
	if (rsp_cur__skip(&c, "pc:")) {
		f->kind = RSP_QTF_PC;
		err = rsp_cur__hex_u64(&c, &f->a);
	} else if (rsp_cur__skip(&c, "tdp:")) {
		f->kind = RSP_QTF_TDP;
		err = rsp_cur__hex_u64(&c, &f->a);
	} else if (rsp_cur__skip(&c, "range:")) {
		f->kind = RSP_QTF_RANGE;
		err = rsp_cur__hex_pair(&c, ':', &f->a, &f->b);
	} else if (rsp_cur__skip(&c, "outside:")) {
		f->kind = RSP_QTF_OUTSIDE;
		err = rsp_cur__hex_pair(&c, ':', &f->a, &f->b);
	} else {
		f->kind = RSP_QTF_NUMBER;
		err = rsp_cur__hex_u64(&c, &f->a);
		if (!err && f->a > 0xffffffffu)
			err = -ERANGE;
	}
	if (!err)
		err = rsp_cur__end(&c);
	return err;
}

int rsp_parse_qtbuffer(const char *p, size_t len, struct rsp_qtbuffer *b)
{
	struct rsp_cursor c;
	uint64_t v;
	int err;

	memset(b, 0, sizeof(*b));
	rsp_cur__init(&c, p, len);
	if (rsp_cur__skip(&c, "circular:")) {
		if (at(&c, '1'))
			b->circular = true;
		else if (!at(&c, '0'))
			return -EINVAL;
		c.p++;
	} else if (rsp_cur__skip(&c, "size:")) {
		b->is_size = true;
		if (rsp_cur__skip(&c, "-1")) {
			b->size = -1;
		} else {
			err = rsp_cur__hex_u64(&c, &v);
			if (err)
				return err;
			if (v > (uint64_t)INT64_MAX)
				return -ERANGE;
			b->size = (int64_t)v;
		}
	} else {
		return -EINVAL;
	}
	return rsp_cur__end(&c);
}

int rsp_parse_tp_addr(const char *p, size_t len, uint64_t *num, uint64_t *addr)
{
	struct rsp_cursor c;
	uint64_t n, a;
	int err;

	rsp_cur__init(&c, p, len);
	err = cur_num_addr(&c, &n, &a);
	if (!err)
		err = rsp_cur__end(&c);
	if (err)
		return err;
	*num = n;
	*addr = a;
	return 0;
}

/*
 * "name:value;" fields, the last ';' optional.  Known names carry hex text
 * (possibly empty); a field with any other name is skipped whole, so a
 * newer GDB may add fields.  An empty field or a repeated known one is
 * malformed.
 */
int rsp_parse_qtnotes(const char *p, size_t len, struct rsp_qtnotes *n)
{
	struct rsp_cursor c;
	struct rsp_hexblob *blob;
	size_t name_len;
	const char *q;
	bool *has;
	int err;

	memset(n, 0, sizeof(*n));
	rsp_cur__init(&c, p, len);
	while (c.p < c.end) {
		for (q = c.p; q < c.end && *q != ':' && *q != ';'; q++)
			;
		name_len = (size_t)(q - c.p);
		if (name_len == 0)
			return -EINVAL;
		if (cur_field_is(&c, name_len, "user")) {
			has = &n->has_user;
			blob = &n->user;
		} else if (cur_field_is(&c, name_len, "notes")) {
			has = &n->has_notes;
			blob = &n->notes;
		} else if (cur_field_is(&c, name_len, "tstop")) {
			has = &n->has_tstop;
			blob = &n->tstop;
		} else {
			c.p += span_to(&c, ';');
			goto next;
		}
		if (*has)
			return -EINVAL;
		c.p = q;
		err = rsp_cur__expect(&c, ':');
		if (!err)
			err = cur_hex_text(&c, ';', blob);
		if (err)
			return err;
		*has = true;
	next:
		if (c.p < c.end)
			c.p++; /* the ';' that stopped the field */
	}
	return 0;
}

int rsp_parse_qtbuffer_read(const char *p, size_t len, uint64_t *off, uint64_t *n)
{
	struct rsp_cursor c;
	uint64_t o, l;
	int err;

	rsp_cur__init(&c, p, len);
	err = rsp_cur__hex_u64(&c, &o);
	if (!err)
		err = rsp_cur__expect(&c, ',');
	if (!err)
		err = rsp_cur__hex_u64(&c, &l);
	if (!err)
		err = rsp_cur__end(&c);
	if (err)
		return err;
	*off = o;
	*n = l;
	return 0;
}

/* ---- encoders ----------------------------------------------------------- */

static int enc_done(const struct rsp_buf *b)
{
	return b->oom ? -ENOMEM : 0;
}

int rsp_enc_tstatus(struct rsp_buf *b, const struct rsp_tstatus *s)
{
	rsp_buf__printf(b, "T%d;", s->running ? 1 : 0);
	switch (s->state) {
	case RSP_TS_NOT_RUN:
		rsp_buf__puts(b, "tnotrun:0");
		break;
	case RSP_TS_RUNNING:
		rsp_buf__puts(b, "trunning:0");
		break;
	case RSP_TS_STOP:
		/*
		 * "tstop:<hex notes>:0", notes possibly empty, as gdbserver sends
		 * it.  Never "tstop:0": GDB then has no stop text and its tsave
		 * crashes on it (strlen of NULL in tfile_write_status).
		 */
		rsp_buf__puts(b, "tstop:");
		if (s->stop_notes_hex)
			rsp_buf__puts(b, s->stop_notes_hex);
		rsp_buf__puts(b, ":0");
		break;
	case RSP_TS_FULL:
		rsp_buf__puts(b, "tfull:0");
		break;
	case RSP_TS_PASS:
		rsp_buf__printf(b, "tpasscount:%x", s->stop_tp);
		break;
	case RSP_TS_ERROR:
		rsp_buf__puts(b, "terror:");
		rsp_buf__put_hex_str(b, s->stop_msg ? s->stop_msg : "");
		rsp_buf__printf(b, ":%x", s->stop_tp);
		break;
	case RSP_TS_DISCONNECTED:
		rsp_buf__puts(b, "tdisconnected:0");
		break;
	case RSP_TS_STOP_MSG:
		/* GDB: "Trace stopped by a tstop command (<the note>)." */
		rsp_buf__puts(b, "tstop:");
		rsp_buf__put_hex_str(b, s->stop_msg ? s->stop_msg : "");
		rsp_buf__puts(b, ":0");
		break;
	}
	rsp_buf__printf(b,
			";tframes:%zx;tcreated:%llx;tfree:%zx;tsize:%zx;circular:%d;disconn:%d;"
			"starttime:%llx;stoptime:%llx;username:%s;notes:%s",
			s->frames, (unsigned long long)s->created, s->free, s->size,
			s->circular ? 1 : 0, s->disconn ? 1 : 0, (unsigned long long)s->start_us,
			(unsigned long long)s->stop_us, s->user_hex ? s->user_hex : "",
			s->notes_hex ? s->notes_hex : "");
	if (s->more_notes && s->more_notes[0])
		rsp_buf__put_hex_str(b, s->more_notes);
	return enc_done(b);
}

int rsp_enc_tp_status(struct rsp_buf *b, uint64_t hits, uint64_t bytes)
{
	rsp_buf__printf(b, "V%llx:%llx", (unsigned long long)hits, (unsigned long long)bytes);
	return enc_done(b);
}

int rsp_enc_tp_def(struct rsp_buf *b, const struct rsp_tp_def *d)
{
	rsp_buf__printf(b, "T%x:%llx:%c:%llx:%llx", d->num, (unsigned long long)d->addr,
			d->enabled ? 'E' : 'D', (unsigned long long)d->step,
			(unsigned long long)d->pass);
	if (d->cond) {
		rsp_buf__printf(b, ":X%zx,", d->condlen);
		rsp_buf__put_hex(b, d->cond, d->condlen);
	}
	return enc_done(b);
}

int rsp_enc_tp_actions_item(struct rsp_buf *b, uint32_t num, uint64_t addr, const char *actions)
{
	rsp_buf__printf(b, "A%x:%llx:%s", num, (unsigned long long)addr, actions);
	return enc_done(b);
}

int rsp_enc_tp_src(struct rsp_buf *b, uint32_t num, uint64_t addr, const char *type, uint64_t start,
		   uint64_t slen, const char *hex)
{
	rsp_buf__printf(b, "Z%x:%llx:%s:%llx:%llx:%s", num, (unsigned long long)addr, type,
			(unsigned long long)start, (unsigned long long)slen, hex);
	return enc_done(b);
}

int rsp_enc_tp_action(struct rsp_buf *b, const struct rsp_tp_act *a)
{
	switch (a->kind) {
	case RSP_TPA_REGS:
		rsp_buf__printf(b, "R%llx", (unsigned long long)a->regmask);
		break;
	case RSP_TPA_MEM:
		rsp_buf__printf(b, "M%x,%llx,%llx", (unsigned)a->basereg,
				(unsigned long long)a->offset, (unsigned long long)a->len);
		break;
	case RSP_TPA_EXPR:
		rsp_buf__printf(b, "X%zx,", a->axlen);
		rsp_buf__put_hex(b, a->ax, a->axlen);
		break;
	}
	return enc_done(b);
}
