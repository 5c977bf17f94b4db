/* SPDX-License-Identifier: MIT */
/*
 * rsp/mexpr.c - the expressions of `monitor trace` (see rsp/mexpr.h).
 *
 * A recursive-descent parser over (ptr, len): every read is checked against
 * len, the recursion is bounded by MX_DEPTH_MAX (parentheses and prefix
 * operators nest without making nodes), and the tree by MX_NODES_MAX.
 * Conditions try a comparison first and, when that fails at a '(', a
 * parenthesised condition: `(p).x > 1` and `(n > 1) && m` both parse; the
 * error reported is the one that read further.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/mexpr.h"

#define MX_DEPTH_MAX 32

struct px {
	const char *s;
	size_t len, pos;
	struct mx_expr *e;
	char *msg;
	size_t mlen;
	int depth;
	size_t err_at; /* where the recorded error is, for backtracking */
	int err;
};

/* GDB's amd64 register names, and its aliases for pc, sp and fp. */
static const char *const mx_regs[] = {
	"rax", "rbx", "rcx", "rdx", "rsi",     "rdi",	  "rbp",      "rsp",	"r8", "r9",
	"r10", "r11", "r12", "r13", "r14",     "r15",	  "rip",      "eflags", "cs", "ss",
	"ds",  "es",  "fs",  "gs",  "fs_base", "gs_base", "orig_rax", "pc",	"sp", "fp",
};

static int fail(struct px *p, int err, size_t at, const char *fmt, const char *what)
{
	/* Keep the error that read furthest (a failed alternative may be retried). */
	if (!p->err || at >= p->err_at) {
		char text[96];

		snprintf(text, sizeof(text), fmt, what);
		rsp_buf__msgf(p->msg, p->mlen, "%s at offset %zu", text, at);
		p->err_at = at;
		p->err = err;
	}
	return err;
}

static void skip_ws(struct px *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

static int peek(struct px *p)
{
	skip_ws(p);
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek2(struct px *p)
{
	skip_ws(p);
	return p->pos + 1 < p->len ? (unsigned char)p->s[p->pos + 1] : -1;
}

/* What is at pos, for a message: one printable character or "end". */
static const char *here(struct px *p, char *buf)
{
	int c = peek(p);

	if (c < 0)
		return "the end";
	if (c < 0x20 || c > 0x7e)
		snprintf(buf, 8, "0x%02x", (unsigned)(unsigned char)c);
	else
		snprintf(buf, 8, "'%c'", c);
	return buf;
}

static int unexpected(struct px *p, const char *wanted)
{
	char buf[8], text[96];

	snprintf(text, sizeof(text), "%s: unexpected %s", wanted, here(p, buf));
	return fail(p, -EINVAL, p->pos, "%s", text);
}

static int new_node(struct px *p, enum mx_kind kind, size_t at)
{
	struct mx_node *n;

	if (p->e->nn >= MX_NODES_MAX)
		return fail(p, -E2BIG, at, "%s", "expression too long (more than 64 nodes)");
	n = &p->e->n[p->e->nn];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->a = n->b = -1;
	n->at = at;
	return p->e->nn++;
}

static void span(struct px *p, int i, size_t at)
{
	p->e->n[i].at = at;
	p->e->n[i].len = p->pos - at;
}

static bool is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '~';
}

static bool is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* An identifier at pos into name (NUL-terminated). */
static int lex_name(struct px *p, char *name, const char *what)
{
	size_t at = p->pos, n;

	if (peek(p) < 0 || !is_name_start(p->s[p->pos]))
		return unexpected(p, what);
	at = p->pos;
	while (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
		p->pos++;
	n = p->pos - at;
	if (n >= MX_NAME_MAX)
		return fail(p, -E2BIG, at, "%s", "name longer than 63 characters");
	memcpy(name, p->s + at, n);
	name[n] = '\0';
	return 0;
}

static bool is_int_start(struct px *p)
{
	int c = peek(p), d = peek2(p);

	return (c >= '0' && c <= '9') || (c == '-' && d >= '0' && d <= '9');
}

/* Decimal (optionally negative) or 0x hex (up to 64 bits, kept as bits). */
static int lex_int(struct px *p, int64_t *out)
{
	size_t at = p->pos;
	bool neg = false, hex = false;
	uint64_t v = 0, lim;
	int digits = 0;

	skip_ws(p);
	at = p->pos;
	if (p->pos < p->len && p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (!neg && p->pos + 1 < p->len && p->s[p->pos] == '0' &&
	    (p->s[p->pos + 1] == 'x' || p->s[p->pos + 1] == 'X')) {
		hex = true;
		p->pos += 2;
	}
	lim = hex ? UINT64_MAX : neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p->pos < p->len; p->pos++, digits++) {
		int c = (unsigned char)p->s[p->pos], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (v > (lim - (uint64_t)d) / (hex ? 16 : 10))
			return fail(p, -EINVAL, at, "%s", "integer out of range");
		v = v * (hex ? 16 : 10) + (uint64_t)d;
	}
	if (!digits)
		return fail(p, -EINVAL, at, "%s", "integer without digits");
	if (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
		return fail(p, -EINVAL, p->pos, "%s", "a letter inside an integer");
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_value(struct px *p);

/* NAME | $args | $regs | $REG | ( value ) */
static int parse_primary(struct px *p)
{
	size_t at, i;
	int c = peek(p), n, err;
	char name[MX_NAME_MAX];

	at = p->pos;
	if (c == '(') {
		p->pos++;
		n = parse_value(p);
		if (n < 0)
			return n;
		if (peek(p) != ')')
			return unexpected(p, "expected ')'");
		p->pos++;
		span(p, n, at);
		return n;
	}
	if (c == '$') {
		p->pos++;
		err = lex_name(p, name, "expected a register, $args or $regs after '$'");
		if (err)
			return err;
		if (!strcmp(name, "args") || !strcmp(name, "regs")) {
			n = new_node(p, name[0] == 'a' ? MX_ARGS : MX_REGS, at);
		} else {
			for (i = 0; i < sizeof(mx_regs) / sizeof(mx_regs[0]); i++)
				if (!strcmp(name, mx_regs[i]))
					break;
			if (i == sizeof(mx_regs) / sizeof(mx_regs[0]))
				return fail(p, -EINVAL, at, "unknown register $%s", name);
			n = new_node(p, MX_REG, at);
			if (n >= 0)
				memcpy(p->e->n[n].name, name, sizeof(name));
		}
		if (n >= 0)
			span(p, n, at);
		return n;
	}
	err = lex_name(p, name, "expected a name");
	if (err)
		return err;
	n = new_node(p, MX_NAME, at);
	if (n < 0)
		return n;
	memcpy(p->e->n[n].name, name, sizeof(name));
	span(p, n, at);
	return n;
}

/* primary ( . NAME | -> NAME | [ INTEGER ] )* */
static int parse_postfix(struct px *p)
{
	size_t at;
	int n, m, c, err;

	skip_ws(p);
	at = p->pos;
	n = parse_primary(p);
	while (n >= 0) {
		c = peek(p);
		if (c == '.' || (c == '-' && peek2(p) == '>')) {
			bool arrow = c == '-';

			p->pos += arrow ? 2 : 1;
			m = new_node(p, MX_MEMBER, at);
			if (m < 0)
				return m;
			skip_ws(p);
			err = lex_name(p, p->e->n[m].name,
				       arrow ? "expected a member name after '->'"
					     : "expected a member name after '.'");
			if (err)
				return err;
			p->e->n[m].arrow = arrow;
		} else if (c == '[') {
			p->pos++;
			m = new_node(p, MX_INDEX, at);
			if (m < 0)
				return m;
			if (!is_int_start(p))
				return unexpected(p, "expected an integer index");
			skip_ws(p);
			if (p->s[p->pos] == '-')
				return fail(p, -EINVAL, p->pos, "%s", "negative index");
			err = lex_int(p, &p->e->n[m].ival);
			if (err)
				return err;
			if (p->e->n[m].ival < 0)
				return fail(p, -EINVAL, at, "%s", "index out of range");
			if (peek(p) != ']')
				return unexpected(p, "expected ']'");
			p->pos++;
		} else {
			break;
		}
		p->e->n[m].a = n;
		span(p, m, at);
		n = m;
	}
	return n;
}

/* A prefix operator at `at` (the character there is its): kind over sub's node. */
static int prefix(struct px *p, size_t at, enum mx_kind kind, int (*sub)(struct px *))
{
	int n, m;

	p->pos++;
	m = sub(p);
	if (m < 0)
		return m;
	n = new_node(p, kind, at);
	if (n < 0)
		return n;
	p->e->n[n].a = m;
	span(p, n, at);
	return n;
}

/* * value | postfix */
static int parse_value(struct px *p)
{
	size_t at;
	int n;

	if (++p->depth > MX_DEPTH_MAX) {
		n = fail(p, -E2BIG, p->pos, "%s", "expression nested too deep");
		goto out;
	}
	skip_ws(p);
	at = p->pos;
	if (peek(p) == '*')
		n = prefix(p, at, MX_DEREF, parse_value);
	else
		n = parse_postfix(p);
out:
	p->depth--;
	return n;
}

/* An operand of a comparison: INTEGER or value. */
static int parse_operand(struct px *p)
{
	size_t at;
	int n, err;

	if (!is_int_start(p))
		return parse_value(p);
	skip_ws(p);
	at = p->pos;
	n = new_node(p, MX_INT, at);
	if (n < 0)
		return n;
	err = lex_int(p, &p->e->n[n].ival);
	if (err)
		return err;
	span(p, n, at);
	return n;
}

/* == != < <= > >=, or -1 (nothing consumed) */
static int lex_op(struct px *p, enum mx_op *op)
{
	int c = peek(p), d = peek2(p);

	if (c == '=' && d == '=')
		*op = MXO_EQ;
	else if (c == '!' && d == '=')
		*op = MXO_NE;
	else if (c == '<')
		*op = d == '=' ? MXO_LE : MXO_LT;
	else if (c == '>')
		*op = d == '=' ? MXO_GE : MXO_GT;
	else
		return -1;
	p->pos += (d == '=') ? 2 : 1;
	return 0;
}

/* operand [ OP operand ]: a bare value means non-zero */
static int parse_cmp(struct px *p)
{
	size_t at;
	enum mx_op op;
	int a, b, n;

	skip_ws(p);
	at = p->pos;
	a = parse_operand(p);
	if (a < 0)
		return a;
	if (lex_op(p, &op)) {
		if (p->e->n[a].kind == MX_INT)
			return fail(p, -EINVAL, at, "%s", "an integer alone is not a condition");
		return a;
	}
	b = parse_operand(p);
	if (b < 0)
		return b;
	if (p->e->n[a].kind == MX_INT && p->e->n[b].kind == MX_INT)
		return fail(p, -EINVAL, at, "%s", "comparing two integers");
	n = new_node(p, MX_CMP, at);
	if (n < 0)
		return n;
	p->e->n[n].op = op;
	p->e->n[n].a = a;
	p->e->n[n].b = b;
	span(p, n, at);
	skip_ws(p);
	at = p->pos;
	if (lex_op(p, &op) == 0)
		return fail(p, -EINVAL, at, "%s", "a comparison of a comparison");
	return n;
}

static int parse_or(struct px *p);

/* ! not | ( cond ) | cmp */
static int parse_not(struct px *p)
{
	size_t at, save_pos;
	int n, save_nn;

	if (++p->depth > MX_DEPTH_MAX) {
		n = fail(p, -E2BIG, p->pos, "%s", "condition nested too deep");
		goto out;
	}
	skip_ws(p);
	at = p->pos;
	if (peek(p) == '!' && peek2(p) != '=') {
		n = prefix(p, at, MX_NOT, parse_not);
		goto out;
	}
	save_pos = p->pos;
	save_nn = p->e->nn;
	n = parse_cmp(p);
	if (n >= 0 || n == -E2BIG || save_pos >= p->len || p->s[save_pos] != '(')
		goto out;
	/* Not a comparison: a parenthesised condition. */
	p->pos = save_pos + 1;
	p->e->nn = save_nn;
	n = parse_or(p);
	if (n < 0)
		goto out;
	if (peek(p) != ')') {
		n = unexpected(p, "expected ')'");
		goto out;
	}
	p->pos++;
	p->err = 0; /* the comparison's error no longer stands */
	span(p, n, at);
out:
	p->depth--;
	return n;
}

static int parse_logic(struct px *p, bool is_or)
{
	size_t at;
	int a, b, n;

	skip_ws(p);
	at = p->pos;
	a = is_or ? parse_logic(p, false) : parse_not(p);
	while (a >= 0) {
		int c = peek(p);

		if (c != (is_or ? '|' : '&') || peek2(p) != c)
			break;
		p->pos += 2;
		b = is_or ? parse_logic(p, false) : parse_not(p);
		if (b < 0)
			return b;
		n = new_node(p, is_or ? MX_OR : MX_AND, at);
		if (n < 0)
			return n;
		p->e->n[n].a = a;
		p->e->n[n].b = b;
		span(p, n, at);
		a = n;
	}
	return a;
}

static int parse_or(struct px *p)
{
	return parse_logic(p, true);
}

static int parse(const char *s, size_t len, struct mx_expr *out, char *msg, size_t mlen, bool cond)
{
	struct px p = {.s = s, .len = len, .e = out, .msg = msg, .mlen = mlen};
	char buf[8];
	int n;

	if (msg && mlen)
		msg[0] = '\0';
	out->nn = 0;
	out->root = -1;
	if (!s && len)
		return fail(&p, -EINVAL, 0, "%s", "no text");
	if (peek(&p) < 0)
		return fail(&p, -EINVAL, 0, "%s", cond ? "empty condition" : "empty expression");
	n = cond ? parse_or(&p) : parse_value(&p);
	if (n >= 0 && peek(&p) >= 0) {
		p.err = 0;
		if (!cond && (peek(&p) == '=' || peek(&p) == '<' || peek(&p) == '>' ||
			      peek(&p) == '!' || peek(&p) == '&' || peek(&p) == '|'))
			n = fail(&p, -EINVAL, p.pos, "%s",
				 "a comparison is not a value (conditions go after 'if')");
		else
			n = fail(&p, -EINVAL, p.pos, "unexpected %s", here(&p, buf));
	}
	if (n < 0) {
		out->nn = 0;
		return p.err ? p.err : n;
	}
	out->root = n;
	if (msg && mlen)
		msg[0] = '\0';
	return 0;
}

int mx_parse_value(const char *s, size_t len, struct mx_expr *out, char *msg, size_t mlen)
{
	return parse(s, len, out, msg, mlen, false);
}

int mx_parse_cond(const char *s, size_t len, struct mx_expr *out, char *msg, size_t mlen)
{
	return parse(s, len, out, msg, mlen, true);
}

const char *mx_node_text(const struct mx_expr *e, int i, const char *src, char *buf, size_t len)
{
	const struct mx_node *n;
	size_t k;

	if (!buf || !len)
		return "";
	buf[0] = '\0';
	if (!e || !src || i < 0 || i >= e->nn || i >= MX_NODES_MAX)
		return buf;
	n = &e->n[i];
	k = n->len < len - 1 ? n->len : len - 1;
	memcpy(buf, src + n->at, k);
	buf[k] = '\0';
	return buf;
}
