/* SPDX-License-Identifier: MIT */
/*
 * rsp/mexpr.h - the expressions of `monitor trace` (pure parser).
 *
 *   monitor trace main.handle if n > 3 && p.Score != 0 collect p.Label, tags[1]
 *
 * Two things are parsed here, from (ptr, len) into a flat tree:
 *
 *   value      NAME | $args | $regs | $REG (a register: $rax, $r14 ...)
 *              | * value | ( value ) | value . NAME | value -> NAME
 *              | value [ INTEGER ]
 *   condition  cond || cond | cond && cond | ! cond | ( cond )
 *              | value OP INTEGER | INTEGER OP value | value OP value
 *              | value              (non-zero)
 *              OP: == != < <= > >=
 *
 * NAME is an identifier as the languages spell variables, including Go's
 * result names (~r0) and names with dots are NOT names (p.Label is a member).
 * INTEGER is decimal, 0x hex, or negative decimal.  Nothing is resolved
 * here: stub/ resolves names against the DWARF scope at the tracepoint's pc
 * (stub/trace/montrace.c compiles to agent bytecode, stub/views/mprint.c evaluates over
 * a collected frame).  Errors are one line naming the problem and where.
 */
#ifndef RSP_MEXPR_H
#define RSP_MEXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MX_NODES_MAX 64
#define MX_NAME_MAX  64

enum mx_kind {
	MX_NAME,   /* name */
	MX_ARGS,   /* $args */
	MX_REGS,   /* $regs */
	MX_REG,	   /* $NAME: a register by GDB's amd64 name, in name */
	MX_INT,	   /* ival */
	MX_DEREF,  /* *a */
	MX_MEMBER, /* a.name (arrow false) or a->name (arrow true) */
	MX_INDEX,  /* a[ival] */
	MX_CMP,	   /* a op b */
	MX_NOT,	   /* !a */
	MX_AND,	   /* a && b */
	MX_OR,	   /* a || b */
};

enum mx_op { MXO_EQ, MXO_NE, MXO_LT, MXO_LE, MXO_GT, MXO_GE };

struct mx_node {
	enum mx_kind kind;
	enum mx_op op;		/* MX_CMP */
	bool arrow;		/* MX_MEMBER */
	int a, b;		/* child node indices, -1 none */
	int64_t ival;		/* MX_INT, MX_INDEX */
	char name[MX_NAME_MAX]; /* MX_NAME, MX_MEMBER, MX_REG */
	size_t at, len;		/* where the node's text is in the input */
};

struct mx_expr {
	struct mx_node n[MX_NODES_MAX];
	int nn;
	int root;
};

/*
 * Parse one value expression (no comparison or logic operators at the
 * top: `p.Label`, `*it`, `tags[1]`).  0, or -EINVAL / -E2BIG with msg.
 */
int mx_parse_value(const char *s, size_t len, struct mx_expr *out, char *msg, size_t mlen);

/* Parse a condition (the text after `if`).  0, or -EINVAL / -E2BIG with msg. */
int mx_parse_cond(const char *s, size_t len, struct mx_expr *out, char *msg, size_t mlen);

/* The text of node i as typed (for messages and frame summaries), into buf. */
const char *mx_node_text(const struct mx_expr *e, int i, const char *src, char *buf, size_t len);

#endif
