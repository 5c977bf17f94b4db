/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_mexpr.c - unit tests for rsp/mexpr.c, the expressions of
 * `monitor trace`: values (`p.Label`, `*it`, `it->next->tag`, `tags[1]`,
 * `$args`, `$rax`) and conditions (`n > 3 && !(p.Score == 0)`).
 *
 * Each tree is printed as an S-expression and compared; each input is
 * copied into a malloc'd buffer of exactly its length, so under ASan a
 * parser that reads one byte too far fails loudly.  The last line is
 * "mexpr: N passed, M failed".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_COUNTERS
#include "rsp/mexpr.h"
#include "tests/unit/check.h"

static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};

static size_t dump(const struct mx_expr *e, int i, char *out, size_t len)
{
	const struct mx_node *n = &e->n[i];
	size_t o = 0;

#define P(...) (o += (size_t)snprintf(out + o, o < len ? len - o : 0, __VA_ARGS__))
	switch (n->kind) {
	case MX_NAME:
		P("%s", n->name);
		break;
	case MX_ARGS:
		P("$args");
		break;
	case MX_REGS:
		P("$regs");
		break;
	case MX_REG:
		P("$%s", n->name);
		break;
	case MX_INT:
		P("%" PRId64, n->ival);
		break;
	case MX_DEREF:
	case MX_NOT:
		P("(%s ", n->kind == MX_DEREF ? "*" : "!");
		o += dump(e, n->a, out + o, o < len ? len - o : 0);
		P(")");
		break;
	case MX_MEMBER:
		P("(%s ", n->arrow ? "->" : ".");
		o += dump(e, n->a, out + o, o < len ? len - o : 0);
		P(" %s)", n->name);
		break;
	case MX_INDEX:
		P("([] ");
		o += dump(e, n->a, out + o, o < len ? len - o : 0);
		P(" %" PRId64 ")", n->ival);
		break;
	case MX_CMP:
	case MX_AND:
	case MX_OR:
		P("(%s ", n->kind == MX_CMP ? ops[n->op] : n->kind == MX_AND ? "&&" : "||");
		o += dump(e, n->a, out + o, o < len ? len - o : 0);
		P(" ");
		o += dump(e, n->b, out + o, o < len ? len - o : 0);
		P(")");
		break;
	}
#undef P
	return o;
}

/* The tree as an S-expression, or "E<errno>: msg". */
static const char *parse(const char *in, bool cond)
{
	static char out[1024];
	static struct mx_expr e;
	size_t len = strlen(in);
	char *copy = malloc(len ? len : 1), msg[160] = "";
	int err;

	memcpy(copy, in, len);
	err = cond ? mx_parse_cond(copy, len, &e, msg, sizeof(msg))
		   : mx_parse_value(copy, len, &e, msg, sizeof(msg));
	if (err)
		snprintf(out, sizeof(out), "E%d: %s", -err, msg);
	else
		dump(&e, e.root, out, sizeof(out));
	free(copy);
	return out;
}

static void test_values(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{"p", "p"},
		{"  p.Label ", "(. p Label)"},
		{"*it", "(* it)"},
		{"it->next->tag", "(-> (-> it next) tag)"},
		{"tags[1]", "([] tags 1)"},
		{"tags [ 0x10 ]", "([] tags 16)"},
		{"*p.x", "(* (. p x))"},
		{"(*p).x", "(. (* p) x)"},
		{"**pp", "(* (* pp))"},
		{"a.b[2].c", "(. ([] (. a b) 2) c)"},
		{"~r0", "~r0"},
		{"$args", "$args"},
		{"$regs", "$regs"},
		{"$r14", "$r14"},
		{"$pc", "$pc"},
		{"", "E22: empty expression at offset 0"},
		{"   ", "E22: empty expression at offset 0"},
		{"p.", "E22: expected a member name after '.': unexpected the end at offset 2"},
		{"p->", "E22: expected a member name after '->': unexpected the end at offset 3"},
		{"p.1", "E22: expected a member name after '.': unexpected '1' at offset 2"},
		{"tags[", "E22: expected an integer index: unexpected the end at offset 5"},
		{"tags[1", "E22: expected ']': unexpected the end at offset 6"},
		{"tags[-1]", "E22: negative index at offset 5"},
		{"tags[x]", "E22: expected an integer index: unexpected 'x' at offset 5"},
		{"tags[99999999999999999999]", "E22: integer out of range at offset 5"},
		{"(p", "E22: expected ')': unexpected the end at offset 2"},
		{"p q", "E22: unexpected 'q' at offset 2"},
		{"$foo", "E22: unknown register $foo at offset 0"},
		{"$", "E22: expected a register, $args or $regs after '$': unexpected the end at "
		      "offset 1"},
		{"n > 3",
		 "E22: a comparison is not a value (conditions go after 'if') at offset 2"},
		{"3", "E22: expected a name: unexpected '3' at offset 0"},
		{"p\x01", "E22: unexpected 0x01 at offset 1"},
		{"a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "E7: name longer than 63 characters at offset 2"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = parse(rows[i].in, false);

		CHECKF(!strcmp(got, rows[i].want), "value(%s) = %s, want %s", rows[i].in, got,
		       rows[i].want);
	}
}

static void test_conds(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{"n > 3", "(> n 3)"},
		{"n>=3", "(>= n 3)"},
		{"n<-3", "(< n -3)"},
		{"n <= 0x7fffffffffffffff", "(<= n 9223372036854775807)"},
		{"n == -9223372036854775808", "(== n -9223372036854775808)"},
		{"0xffffffffffffffff != n", "(!= -1 n)"},
		{"3 < n", "(< 3 n)"},
		{"a == b", "(== a b)"},
		{"p.Score != 0", "(!= (. p Score) 0)"},
		{"n > 3 && p.Score != 0 || !q", "(|| (&& (> n 3) (!= (. p Score) 0)) (! q))"},
		{"a || b && c", "(|| a (&& b c))"},
		{"!(n > 3)", "(! (> n 3))"},
		{"!!n", "(! (! n))"},
		{"(n > 3) && (m < 1)", "(&& (> n 3) (< m 1))"},
		{"((n > 3))", "(> n 3)"},
		{"(p).x > 1", "(> (. p x) 1)"},
		{"(a || b) && c", "(&& (|| a b) c)"},
		{"*it == 0", "(== (* it) 0)"},
		{"it->tag", "(-> it tag)"},
		{"", "E22: empty condition at offset 0"},
		{"n >", "E22: expected a name: unexpected the end at offset 3"},
		{"n > > 3", "E22: expected a name: unexpected '>' at offset 4"},
		{"3", "E22: an integer alone is not a condition at offset 0"},
		{"3 == 4", "E22: comparing two integers at offset 0"},
		{"a < b < c", "E22: a comparison of a comparison at offset 6"},
		{"n > 3 &&", "E22: expected a name: unexpected the end at offset 8"},
		{"n > 3 & m", "E22: unexpected '&' at offset 6"},
		{"(n > 3", "E22: expected ')': unexpected the end at offset 6"},
		{"n = 3", "E22: unexpected '=' at offset 2"},
		{"n > 3x", "E22: a letter inside an integer at offset 5"},
		{"n > 99999999999999999999", "E22: integer out of range at offset 4"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = parse(rows[i].in, true);

		CHECKF(!strcmp(got, rows[i].want), "cond(%s) = %s, want %s", rows[i].in, got,
		       rows[i].want);
	}
}

static void test_limits(void)
{
	char in[4096], msg[160];
	static struct mx_expr e;
	size_t i, o = 0;

	/* Deep nesting is refused, not a stack overflow. */
	for (i = 0; i < 1000; i++)
		in[o++] = '(';
	in[o++] = 'n';
	for (i = 0; i < 1000; i++)
		in[o++] = ')';
	CHECK(mx_parse_cond(in, o, &e, msg, sizeof(msg)) == -E2BIG);
	CHECK(mx_parse_value(in, o, &e, msg, sizeof(msg)) == -E2BIG);
	CHECKF(strstr(msg, "nested too deep") != NULL, "%s", msg);
	o = 0;
	for (i = 0; i < 1000; i++)
		in[o++] = '*';
	in[o++] = 'p';
	CHECK(mx_parse_value(in, o, &e, msg, sizeof(msg)) == -E2BIG);
	/* More nodes than MX_NODES_MAX. */
	o = (size_t)snprintf(in, sizeof(in), "a");
	for (i = 0; i < 70; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, ".b");
	CHECK(mx_parse_value(in, o, &e, msg, sizeof(msg)) == -E2BIG);
	CHECKF(strstr(msg, "more than 64 nodes") != NULL, "%s", msg);
	/* A failed parse leaves no tree. */
	CHECK(e.nn == 0 && e.root == -1);
	/* The length bounds the input: a NUL-less prefix parses. */
	CHECK(mx_parse_value("p.Labelxyz", 7, &e, msg, sizeof(msg)) == 0);
	CHECK(e.n[e.root].kind == MX_MEMBER && !strcmp(e.n[e.root].name, "Label"));
	/* msg may be NULL. */
	CHECK(mx_parse_value("p.", 2, &e, NULL, 0) == -EINVAL);
	CHECK(mx_parse_value(NULL, 0, &e, NULL, 0) == -EINVAL);
}

static void test_text(void)
{
	static struct mx_expr e;
	const char *src = "n > 3 && (p).Label != 0";
	char buf[64], small[4];
	int i;

	CHECK(mx_parse_cond(src, strlen(src), &e, NULL, 0) == 0);
	CHECK(!strcmp(mx_node_text(&e, e.root, src, buf, sizeof(buf)), src));
	for (i = 0; i < e.nn; i++)
		if (e.n[i].kind == MX_MEMBER)
			CHECKF(!strcmp(mx_node_text(&e, i, src, buf, sizeof(buf)), "(p).Label"),
			       "%s", buf);
	CHECK(!strcmp(mx_node_text(&e, e.root, src, small, sizeof(small)), "n >"));
	CHECK(!strcmp(mx_node_text(&e, 99, src, buf, sizeof(buf)), ""));
	CHECK(!strcmp(mx_node_text(&e, -1, src, buf, sizeof(buf)), ""));
}

int main(void)
{
	test_values();
	test_conds();
	test_limits();
	test_text();
	return check_summary("mexpr");
}
