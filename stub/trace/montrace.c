/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/montrace.c - `monitor trace`: a tracepoint from one line (montrace.h).
 *
 *   monitor trace main.handle if n > 3 collect p.Label, tags[1]
 *
 * 1. The location becomes a runtime pc: a function after its prologue
 *    (dw_cache__after_prologue: where GDB's `trace FUNC` goes, so the
 *    parameters are where DWARF says and Go's stack-growth re-entry does not
 *    hit twice), FILE:LINE (its first statement), or *ADDR; then it must be
 *    code the target maps (bpfc_probe__resolve, as for QTDP).
 * 2. Each expression (rsp/mexpr.h) is resolved against the DWARF scope at
 *    that pc into a struct deep_path (a variable, offsets, pointers
 *    followed) and compiled by deep__path into one agent expression that
 *    collects the value whole; the condition into agent bytecode with
 *    deep__push_value for each value.
 * 3. The tracepoint always collects the registers (an R action, as GDB's
 *    `collect $regs`), for Go the goroutine id (8 bytes at r14 + the offset
 *    of runtime.g.goid, an M action), and gets QTDPsrc-style source items
 *    (at, cond, cmd) for a GDB that connects later.  tr__add puts it into
 *    the trace (installed at once during a run).
 *
 * Nothing is added until every part is resolved: a mistake is one line.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/probe.h"
#include "rsp/buf.h"
#include "rsp/mexpr.h"
#include "rsp/monitor.h"
#include "rsp/trace.h"
#include "stub/program/dwarf.h"
#include "stub/program/program.h"
#include "stub/program/regs.h"
#include "stub/program/target.h"
#include "stub/trace/deep.h"
#include "stub/trace/montrace.h"
#include "stub/trace/trace.h"

#define MT_REGS_MASK 0x0fffffffffffffffull /* GDB's `collect $regs` on amd64 */
#define MT_R14	     14			   /* GDB's amd64 number of r14 */
#define MT_TEXT_MAX  1024

static void mt__free(struct tp_mon *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nexprs; i++)
		free(m->exprs[i]);
	free(m->exprs);
	free(m->line);
	free(m->where);
	free(m->cond);
	free(m);
}

static void mon_free(struct tp *tp)
{
	mt__free(tp->mon);
	tp->mon = NULL;
}

/* The kind (stub/trace/trace.h): GDB's own but for the texts in tp->mon. */
const struct tp_kind tp_kind_mon = {
	.name = "monitor",
	.deep = deep__append,
	.free = mon_free,
};

/* ---- the words ---------------------------------------------------------- */

/* Words [from, to) joined by single spaces into a new string. */
static char *join(const struct rsp_mon_line *l, size_t from, size_t to)
{
	struct rsp_buf b;
	size_t i;
	char *s;

	rsp_buf__init(&b);
	for (i = from; i < to; i++)
		rsp_buf__printf(&b, "%s%s", i > from ? " " : "", l->argv[i]);
	s = b.oom ? NULL : strdup(b.data ? b.data : "");
	rsp_buf__free(&b);
	return s;
}

/* Split "a, b ,c" at top-level commas into m->exprs (trimmed). */
static int split_exprs(struct tp_mon *m, const char *text, char *msg, size_t mlen)
{
	const char *p = text;

	for (;;) {
		const char *e = strchr(p, ','), *end = e ? e : p + strlen(p);
		char **v;

		while (*p == ' ')
			p++;
		while (end > p && end[-1] == ' ')
			end--;
		if (end == p) {
			rsp_buf__msgf(msg, mlen, "an empty expression in collect '%.80s'", text);
			return -EINVAL;
		}
		if (m->nexprs == MT_EXPRS_MAX) {
			rsp_buf__msgf(msg, mlen, "more than %d expressions in collect",
				      MT_EXPRS_MAX);
			return -E2BIG;
		}
		v = realloc(m->exprs, (m->nexprs + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->exprs = v;
		m->exprs[m->nexprs] = strndup(p, (size_t)(end - p));
		if (!m->exprs[m->nexprs])
			return -ENOMEM;
		m->nexprs++;
		if (!e)
			return 0;
		p = e + 1;
	}
}

/* ---- the location ------------------------------------------------------- */

struct mt_ctx {
	struct trace *tr;
	struct dw_cache *cache;
	struct tp_mon *m;
	uint64_t pc;
	struct dw_scope scope;
	bool have_scope;
	char scope_msg[300];
	char *msg;
	size_t mlen;
};

static int locate(struct mt_ctx *x)
{
	const char *w = x->m->where, *colon = strrchr(w, ':');
	uint64_t pcs[16];
	char *end;
	int n, i;

	if (w[0] == '*') {
		x->pc = strtoull(w + 1, &end, 0);
		if (end == w + 1 || *end) {
			rsp_buf__msgf(x->msg, x->mlen, "'%.80s' is not an address", w);
			return -EINVAL;
		}
		return 0;
	}
	if (colon && colon > w && colon[1] &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		char file[512];
		long line = strtol(colon + 1, NULL, 10);

		snprintf(file, sizeof(file), "%.*s", (int)(colon - w), w);
		n = line > 0 && line < 1000000
			    ? dw_cache__line_pcs(x->cache, x->tr->tgt, file, (int)line, pcs, 16)
			    : 0;
		if (n <= 0) {
			rsp_buf__msgf(x->msg, x->mlen,
				      "no code at %.400s (no line-table row for it)", w);
			return -ENOENT;
		}
		x->pc = pcs[0];
		for (i = 1; i < n; i++)
			x->pc = pcs[i] < x->pc ? pcs[i] : x->pc;
		/* A function's opening line: after its prologue, as GDB (no-op elsewhere). */
		dw_cache__after_prologue(x->cache, x->tr->tgt, x->pc, &x->pc);
		return 0;
	}
	n = dw_cache__func_pcs(x->cache, x->tr->tgt, w, pcs, 16);
	if (n <= 0) {
		char note[300];

		dw_cache__split_note(x->cache, note, sizeof(note));
		rsp_buf__msgf(x->msg, x->mlen,
			      "no function %.200s in the target's DWARF or ELF symbols%s%s", w,
			      note[0] ? "; " : "", note);
		return -ENOENT;
	}
	dw_cache__after_prologue(x->cache, x->tr->tgt, pcs[0], &x->pc);
	return 0;
}

int mt__locate(struct trace *tr, const char *where, uint64_t *pc, char *msg, size_t mlen)
{
	struct tp_mon m = {.where = (char *)where};
	struct mt_ctx x = {.tr = tr, .cache = tr->pgm->dwarf, .m = &m, .msg = msg, .mlen = mlen};
	struct bpfc_probe probe;
	int err;

	err = locate(&x);
	if (!err)
		err = bpfc_probe__resolve(&probe, tr->tgt->pid, x.pc, msg, mlen);
	*pc = x.pc;
	return err;
}

/* ---- expressions -------------------------------------------------------- */

static const struct dw_var *scope_var(const struct dw_scope *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nvars; i++)
		if (!strcmp(s->vars[i].name, name))
			return &s->vars[i];
	return NULL;
}

static int deref(struct mt_ctx *x, struct deep_path *p, int64_t off, const char *text)
{
	if (p->nderef == DEEP_PATH_MAX) {
		rsp_buf__msgf(x->msg, x->mlen, "%.100s follows more than %d pointers", text,
			      DEEP_PATH_MAX);
		return -E2BIG;
	}
	p->off[p->nderef++] = off;
	return 0;
}

static void add(struct deep_path *p, int64_t off)
{
	if (p->nderef)
		p->off[p->nderef - 1] += off;
	else
		p->off0 += (uint32_t)off;
}

static bool is_recordish(const struct dw_type *t)
{
	return t && (t->kind == DWT_STRUCT || t->kind == DWT_UNION || t->kind == DWT_CLASS ||
		     t->kind == DWT_GO_STRING || t->kind == DWT_GO_SLICE ||
		     t->kind == DWT_GO_IFACE || t->kind == DWT_GO_EFACE);
}

/* Node i of e (text src) as a path in the scope. */
static int resolve(struct mt_ctx *x, const struct mx_expr *e, int i, const char *src,
		   struct deep_path *p)
{
	const struct mx_node *n = &e->n[i];
	const struct dw_type *t;
	char text[128], tn[96];
	int err;

	mx_node_text(e, i, src, text, sizeof(text));
	if (n->kind == MX_NAME) {
		const struct dw_var *v;

		if (!x->have_scope) {
			rsp_buf__msgf(x->msg, x->mlen, "cannot resolve %.100s: %.300s", text,
				      x->scope_msg);
			return -ENOENT;
		}
		v = scope_var(&x->scope, n->name);
		if (!v) {
			rsp_buf__msgf(x->msg, x->mlen, "no variable '%s' in scope in %s at 0x%llx",
				      n->name, x->scope.func, (unsigned long long)x->pc);
			return -ENOENT;
		}
		memset(p, 0, sizeof(*p));
		p->var = v;
		p->type = v->type;
		return 0;
	}
	if (n->kind != MX_DEREF && n->kind != MX_MEMBER && n->kind != MX_INDEX) {
		rsp_buf__msgf(x->msg, x->mlen, "%.100s is not a variable", text);
		return -EINVAL;
	}
	err = resolve(x, e, n->a, src, p);
	if (err)
		return err;
	t = dw_type__strip(p->type);
	if (!t || t->cut) {
		rsp_buf__msgf(
			x->msg, x->mlen,
			"%.100s: cannot collect it: the type of %.100s is not known that deep",
			text, mx_node_text(e, n->a, src, tn, sizeof(tn)));
		return -EOPNOTSUPP;
	}
	if (n->kind == MX_DEREF) {
		if (t->kind == DWT_PTR &&
		    (!t->target || dw_type__strip(t->target)->kind == DWT_VOID)) {
			rsp_buf__msgf(
				x->msg, x->mlen,
				"%.100s: cannot collect what an untyped pointer (%s) points to",
				text, dw_type__name(p->type, tn, sizeof(tn)));
			return -EOPNOTSUPP;
		}
		if (t->kind != DWT_PTR || !t->target) {
			char an[96];

			rsp_buf__msgf(x->msg, x->mlen, "%.100s: %.90s is not a pointer (%s)", text,
				      mx_node_text(e, n->a, src, an, sizeof(an)),
				      dw_type__name(p->type, tn, sizeof(tn)));
			return -EINVAL;
		}
		p->type = t->target;
		return deref(x, p, 0, text);
	}
	if (n->kind == MX_MEMBER) {
		const struct dw_member *m;

		const struct dw_type *tt = t->target ? dw_type__strip(t->target) : NULL;

		if (t->kind == DWT_PTR && (!tt || tt->cut || tt->kind == DWT_UNKNOWN))
			t = tt ? tt : t; /* below: not known that deep */
		else if (t->kind == DWT_PTR && is_recordish(tt)) {
			/* -> in C; Go (and GDB) use . through a pointer too. */
			err = deref(x, p, 0, text);
			if (err)
				return err;
			t = dw_type__strip(t->target);
		} else if (n->arrow) {
			rsp_buf__msgf(x->msg, x->mlen, "%.100s: not a pointer to a struct (%s)",
				      text, dw_type__name(p->type, tn, sizeof(tn)));
			return -EINVAL;
		}
		if (t->cut || t->kind == DWT_UNKNOWN || (t->kind == DWT_PTR && !t->target)) {
			rsp_buf__msgf(
				x->msg, x->mlen,
				"%.100s: cannot collect it: the type %s is not known that deep "
				"(DWARF types are read %d levels down)",
				text, dw_type__name(t, tn, sizeof(tn)), DW_TYPE_DEPTH);
			return -EOPNOTSUPP;
		}
		m = is_recordish(t) ? dw_type__member(t, n->name) : NULL;
		if (!m) {
			rsp_buf__msgf(x->msg, x->mlen, "%.100s: %s has no member '%s'", text,
				      dw_type__name(t, tn, sizeof(tn)), n->name);
			return -ENOENT;
		}
		add(p, (int64_t)m->offset);
		p->type = m->type;
		return 0;
	}
	/* MX_INDEX */
	{
		const struct dw_type *et = t->target ? dw_type__strip(t->target) : NULL;
		int64_t es = et ? (int64_t)et->size : 0;

		if (!et || !es ||
		    (t->kind != DWT_ARRAY && t->kind != DWT_PTR && t->kind != DWT_GO_SLICE)) {
			rsp_buf__msgf(x->msg, x->mlen, "%.100s: cannot index %s", text,
				      dw_type__name(p->type, tn, sizeof(tn)));
			return -EINVAL;
		}
		if (t->kind == DWT_ARRAY && t->count >= 0 && n->ival >= t->count) {
			rsp_buf__msgf(x->msg, x->mlen, "%.100s: index past the end (%lld elements)",
				      text, (long long)t->count);
			return -ERANGE;
		}
		p->type = t->target;
		if (t->kind == DWT_ARRAY) {
			add(p, n->ival * es);
			return 0;
		}
		return deref(x, p, n->ival * es, text);
	}
}

/* One `collect` expression: an action (or none: in the registers). */
static int compile_expr(struct mt_ctx *x, const char *src, struct tp_action *act, bool *have)
{
	struct mx_expr *e = malloc(sizeof(*e));
	struct deep_plan plan;
	struct deep_path p;
	char why[160];
	int err;

	*have = false;
	if (!e)
		return -ENOMEM;
	err = mx_parse_value(src, strlen(src), e, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(x->msg, x->mlen, "collect %.100s: %s", src, why);
		goto cleanup;
	}
	if (e->n[e->root].kind == MX_ARGS) {
		x->m->args = true;
		goto cleanup;
	}
	if (e->n[e->root].kind == MX_REGS || e->n[e->root].kind == MX_REG)
		goto cleanup; /* the R block has every register */
	err = resolve(x, e, e->root, src, &p);
	if (err)
		goto cleanup;
	p.text = src;
	err = deep__path(&p, x->tr->deep_budget ? x->tr->deep_budget : TR_DEEP_BUDGET_DEFAULT,
			 &plan);
	if (err) {
		rsp_buf__msgf(x->msg, x->mlen, "%s", plan.summary);
		goto cleanup;
	}
	snprintf(x->m->plan + strlen(x->m->plan), sizeof(x->m->plan) - strlen(x->m->plan), "%s%s",
		 x->m->plan[0] ? ", " : "", plan.summary);
	if (plan.n) {
		err = bpfc_ax__check(plan.code[0], plan.len[0], 0, why, sizeof(why));
		if (err) {
			rsp_buf__msgf(x->msg, x->mlen, "collect %.100s: %s", src, why);
			deep__plan_free(&plan);
			goto cleanup;
		}
		act->kind = TPA_EXPR;
		act->ax = plan.code[0];
		act->axlen = plan.len[0];
		plan.n = 0; /* the action owns the code now */
		*have = true;
	}
cleanup:
	free(e);
	return err;
}

/* ---- the condition ------------------------------------------------------ */

static bool is_signed(const struct deep_path *p)
{
	const struct dw_type *t = dw_type__strip(p->type);

	return t && t->kind == DWT_BASE &&
	       (t->encoding == DW_ATE_signed || t->encoding == DW_ATE_signed_char);
}

/* Push the value of node i; *sgn: it is signed. */
static int cond_value(struct mt_ctx *x, struct deep_bc *b, const struct mx_expr *e, int i,
		      const char *src, bool *sgn)
{
	const struct mx_node *n = &e->n[i];
	struct deep_path p;
	char text[128], tn[96];
	unsigned r;
	int err;

	if (n->kind == MX_INT) {
		deep__const(b, (uint64_t)n->ival);
		*sgn = n->ival < 0;
		return 0;
	}
	if (n->kind == MX_REG) {
		for (r = 0; r <= AMD64_RIP; r++)
			if (!strcmp(regs_desc(r)->name, n->name))
				break;
		if (!strcmp(n->name, "pc"))
			r = AMD64_RIP;
		else if (!strcmp(n->name, "sp"))
			r = 7;
		else if (!strcmp(n->name, "fp"))
			r = 6;
		if (r > AMD64_RIP) {
			rsp_buf__msgf(x->msg, x->mlen, "condition: $%s cannot be compared",
				      n->name);
			return -EOPNOTSUPP;
		}
		deep__op(b, BPFC_AXOP_REG);
		deep__op(b, 0);
		deep__op(b, (uint8_t)r);
		*sgn = false;
		return 0;
	}
	if (n->kind == MX_ARGS || n->kind == MX_REGS) {
		rsp_buf__msgf(x->msg, x->mlen, "condition: %s is not a number",
			      n->kind == MX_ARGS ? "$args" : "$regs");
		return -EINVAL;
	}
	err = resolve(x, e, i, src, &p);
	if (err)
		return err;
	mx_node_text(e, i, src, text, sizeof(text));
	p.text = text;
	if (!deep__push_value(b, &p)) {
		rsp_buf__msgf(x->msg, x->mlen, "condition: %.100s (%s) is not a number it can read",
			      text, dw_type__name(p.type, tn, sizeof(tn)));
		return -EOPNOTSUPP;
	}
	*sgn = is_signed(&p);
	return 0;
}

static int cond_node(struct mt_ctx *x, struct deep_bc *b, const struct mx_expr *e, int i,
		     const char *src)
{
	const struct mx_node *n = &e->n[i];
	bool sa = false, sb = false, swap;
	int err;

	switch (n->kind) {
	case MX_NOT:
		err = cond_node(x, b, e, n->a, src);
		deep__op(b, BPFC_AXOP_LOG_NOT);
		return err;
	case MX_AND:
	case MX_OR:
		err = cond_node(x, b, e, n->a, src);
		if (err)
			return err;
		deep__op(b, BPFC_AXOP_LOG_NOT);
		deep__op(b, BPFC_AXOP_LOG_NOT);
		err = cond_node(x, b, e, n->b, src);
		deep__op(b, BPFC_AXOP_LOG_NOT);
		deep__op(b, BPFC_AXOP_LOG_NOT);
		deep__op(b, n->kind == MX_AND ? BPFC_AXOP_BIT_AND : BPFC_AXOP_BIT_OR);
		return err;
	case MX_CMP:
		/* a > b is b < a; a <= b is !(b < a); a >= b is !(a < b). */
		swap = n->op == MXO_GT || n->op == MXO_LE;
		err = cond_value(x, b, e, swap ? n->b : n->a, src, &sa);
		if (!err)
			err = cond_value(x, b, e, swap ? n->a : n->b, src, &sb);
		if (err)
			return err;
		if (n->op == MXO_EQ || n->op == MXO_NE)
			deep__op(b, BPFC_AXOP_EQUAL);
		else
			deep__op(b, sa || sb ? BPFC_AXOP_LESS_SIGNED : BPFC_AXOP_LESS_UNSIGNED);
		if (n->op == MXO_NE || n->op == MXO_LE || n->op == MXO_GE)
			deep__op(b, BPFC_AXOP_LOG_NOT);
		return 0;
	default:
		return cond_value(x, b, e, i, src, &sa); /* non-zero */
	}
}

/* COND (src) as agent bytecode for the tracepoint's condition: *code, *len. */
static int cond_code(struct mt_ctx *x, const char *src, uint8_t **code, size_t *len)
{
	struct mx_expr *e = malloc(sizeof(*e));
	struct deep_bc *b = malloc(sizeof(*b));
	char why[160];
	int err = -ENOMEM;

	if (!e || !b)
		goto cleanup;
	b->n = 0;
	b->bad = false;
	err = mx_parse_cond(src, strlen(src), e, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(x->msg, x->mlen, "condition %.100s: %s", src, why);
		goto cleanup;
	}
	err = cond_node(x, b, e, e->root, src);
	if (err)
		goto cleanup;
	deep__op(b, BPFC_AXOP_END);
	err = b->bad ? -E2BIG : bpfc_ax__check(b->b, b->n, BPFC_AX_COND, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(x->msg, x->mlen, "condition %.100s: %s", src,
			      b->bad ? "too long for an agent expression" : why);
		goto cleanup;
	}
	*code = malloc(b->n);
	err = *code ? 0 : -ENOMEM;
	if (!err) {
		memcpy(*code, b->b, b->n);
		*len = b->n;
	}
cleanup:
	free(e);
	free(b);
	return err;
}

static int compile_cond(struct mt_ctx *x, struct tp *tp)
{
	return cond_code(x, x->m->cond, &tp->cond, &tp->condlen);
}

/* A context for one expression at a scope the caller found (borrowed: never freed here). */
static void mt_ctx__at_scope(struct mt_ctx *x, struct trace *tr, const struct dw_scope *sc,
			     char *msg, size_t mlen)
{
	x->tr = tr;
	x->cache = tr->pgm->dwarf;
	x->scope = *sc;
	x->have_scope = true;
	x->pc = sc->pc;
	x->msg = msg;
	x->mlen = mlen;
}

int mt__cond(struct trace *tr, const struct dw_scope *sc, const char *cond, uint8_t **code,
	     size_t *len, char *msg, size_t mlen)
{
	struct mt_ctx *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	mt_ctx__at_scope(x, tr, sc, msg, mlen);
	err = cond_code(x, cond, code, len);
	free(x);
	return err;
}

/* A word of a string (its pointer, its length): 8 bytes, unsigned. */
static const struct dw_type mt_word = {.kind = DWT_BASE, .size = 8, .encoding = DW_ATE_unsigned};

static bool is_char(const struct dw_type *t)
{
	t = dw_type__strip(t);
	return t && t->kind == DWT_BASE && t->size == 1 &&
	       (t->encoding == DW_ATE_signed_char || t->encoding == DW_ATE_unsigned_char ||
		t->encoding == DW_ATE_signed || t->encoding == DW_ATE_unsigned);
}

/* Push the word at byte off of the value at p (a string's pointer or length). */
static bool push_word_at(struct deep_bc *b, const struct deep_path *p, uint64_t off)
{
	struct deep_path w = *p;

	w.type = &mt_word;
	if (w.nderef)
		w.off[w.nderef - 1] += (int64_t)off;
	else
		w.off0 += (uint32_t)off;
	return deep__push_value(b, &w);
}

/* The value node of e (its root) pushed as v->kind says. */
static int value_code(struct mt_ctx *x, struct deep_bc *b, const struct mx_expr *e, const char *src,
		      bool key, enum mt_val_kind *kind, bool *sgn)
{
	const struct mx_node *n = &e->n[e->root];
	const struct dw_type *t;
	struct deep_path p;
	char text[128], tn[96];
	int err;

	*kind = MT_VAL_INT;
	if (n->kind == MX_CMP || n->kind == MX_AND || n->kind == MX_OR || n->kind == MX_NOT) {
		rsp_buf__msgf(x->msg, x->mlen, "%.100s: a value, not a condition", src);
		return -EINVAL;
	}
	if (n->kind != MX_NAME && n->kind != MX_MEMBER && n->kind != MX_DEREF &&
	    n->kind != MX_INDEX)
		return cond_value(x, b, e, e->root, src, sgn);
	err = resolve(x, e, e->root, src, &p);
	if (err)
		return err;
	mx_node_text(e, e->root, src, text, sizeof(text));
	p.text = text;
	t = dw_type__strip(p.type);
	if (key && t && t->kind == DWT_PTR && is_char(t->target)) {
		*kind = MT_VAL_CSTR;
		*sgn = false;
		if (!deep__push_value(b, &p))
			goto cannot;
		return 0;
	}
	if (key && t && (t->kind == DWT_GO_STRING || t->kind == DWT_RUST_STR)) {
		uint64_t po = t->kind == DWT_GO_STRING ? 0 : t->ptr_off;
		uint64_t lo = t->kind == DWT_GO_STRING ? 8 : t->len_off;

		*kind = MT_VAL_GOSTR;
		*sgn = false;
		if (!push_word_at(b, &p, po) || !push_word_at(b, &p, lo))
			goto cannot;
		return 0;
	}
	if (!deep__push_value(b, &p))
		goto cannot;
	*sgn = is_signed(&p);
	return 0;
cannot:
	rsp_buf__msgf(x->msg, x->mlen, "%.100s (%s) is not %s it can read", text,
		      dw_type__name(p.type, tn, sizeof(tn)),
		      key ? "a number or a string" : "a number");
	return -EOPNOTSUPP;
}

int mt__value(struct trace *tr, const struct dw_scope *sc, const char *text, bool key,
	      struct mt_value *out, char *msg, size_t mlen)
{
	struct mt_ctx *x = calloc(1, sizeof(*x));
	struct mx_expr *e = malloc(sizeof(*e));
	struct deep_bc *b = malloc(sizeof(*b));
	char why[160];
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!x || !e || !b)
		goto cleanup;
	mt_ctx__at_scope(x, tr, sc, msg, mlen);
	b->n = 0;
	b->bad = false;
	err = mx_parse_cond(text, strlen(text), e, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(msg, mlen, "%.100s: %s", text, why);
		goto cleanup;
	}
	err = value_code(x, b, e, text, key, &out->kind, &out->sgn);
	if (err)
		goto cleanup;
	deep__op(b, BPFC_AXOP_END);
	err = b->bad ? -E2BIG : bpfc_ax__check(b->b, b->n, 0, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(msg, mlen, "%.100s: %s", text,
			      b->bad ? "too long for an agent expression" : why);
		goto cleanup;
	}
	out->code = malloc(b->n);
	err = out->code ? 0 : -ENOMEM;
	if (!err) {
		memcpy(out->code, b->b, b->n);
		out->len = b->n;
	}
cleanup:
	free(x);
	free(e);
	free(b);
	return err;
}

/* ---- the tracepoint ----------------------------------------------------- */

static int add_action(struct tp *tp, const struct tp_action *a)
{
	struct tp_action *v = realloc(tp->act, (tp->nact + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	tp->act = v;
	tp->act[tp->nact++] = *a;
	return 0;
}

static int add_src(struct tp *tp, const char *type, const char *text)
{
	struct tp_src *v = realloc(tp->src, (tp->nsrc + 1) * sizeof(*v));
	struct rsp_buf b;

	if (!v)
		return -ENOMEM;
	tp->src = v;
	v = &tp->src[tp->nsrc];
	memset(v, 0, sizeof(*v));
	snprintf(v->type, sizeof(v->type), "%s", type);
	v->slen = strlen(text);
	rsp_buf__init(&b);
	rsp_buf__put_hex_str(&b, text);
	v->hex = b.oom ? NULL : strdup(b.data ? b.data : "");
	rsp_buf__free(&b);
	if (!v->hex)
		return -ENOMEM;
	tp->nsrc++;
	return 0;
}

/* The actions as a QTDP packet carries them, on the first action (for qTfP). */
static int set_wire(struct tp *tp)
{
	struct rsp_buf b;
	size_t i;

	rsp_buf__init(&b);
	for (i = 0; i < tp->nact; i++) {
		const struct tp_action *a = &tp->act[i];
		const struct rsp_tp_act w = {
			.kind = a->kind == TPA_REGS  ? RSP_TPA_REGS
				: a->kind == TPA_MEM ? RSP_TPA_MEM
						     : RSP_TPA_EXPR,
			.regmask = a->regmask[0],
			.basereg = a->basereg,
			.offset = a->offset,
			.len = a->len,
			.ax = a->ax,
			.axlen = a->axlen,
		};

		rsp_enc_tp_action(&b, &w); /* b.oom below */
	}
	if (tp->nact)
		tp->act[0].wire = b.oom ? NULL : strdup(b.data ? b.data : "");
	rsp_buf__free(&b);
	return tp->nact && !tp->act[0].wire ? -ENOMEM : 0;
}

/*
 * The source items a GDB that connects later uploads (qTfP "Z"): the
 * location as typed, the condition, and one `collect` line.  GDB re-parses
 * and compiles the collect line itself when it creates the uploaded
 * tracepoint (and refuses the whole tracepoint on an expression it cannot
 * compile, such as a Go slice index), so the line names what GDB's own
 * `collect` can say for it: $regs, and $args when the parameters are
 * collected; the expressions themselves stay in tp->mon (monitor tstatus).
 */
static int set_src(struct tp *tp, const struct tp_mon *m)
{
	char at[64];
	int err;

	/* GDB's linespecs do not take every Go name (main.(*T).M): the address always works. */
	snprintf(at, sizeof(at), "*0x%llx", (unsigned long long)tp->addr);
	err = add_src(tp, "at", strpbrk(m->where, "()") ? at : m->where);
	if (!err && m->cond && !m->go)
		err = add_src(tp, "cond", m->cond);
	if (!err)
		err = add_src(tp, "cmd", m->args ? "collect $regs, $args" : "collect $regs");
	return err;
}

static int build(struct mt_ctx *x, struct tp *tp)
{
	struct tp_action a = {.kind = TPA_REGS, .regmask = {MT_REGS_MASK, 0}};
	struct bpfc_probe probe;
	size_t i;
	int err;

	err = locate(x);
	if (err)
		return err;
	/* Code the target maps, as QTDP's address must be. */
	err = bpfc_probe__resolve(&probe, x->tr->tgt->pid, x->pc, x->msg, x->mlen);
	if (err)
		return err;
	x->have_scope = !dw_cache__scope_sym(x->cache, x->tr->tgt, x->pc, &x->scope, x->scope_msg,
					     sizeof(x->scope_msg));
	if (x->have_scope) {
		snprintf(x->m->func, sizeof(x->m->func), "%s", x->scope.func);
		x->m->go = x->scope.go;
	}
	tp->num = tr__next_num(x->tr);
	tp->addr = x->pc;
	tp->enabled = true;
	tp->complete = true;
	tp->prog.fd = -1;
	err = add_action(tp, &a);
	x->m->goid_off = -1;
	if (!err && x->m->go &&
	    !dw_cache__go_goid(x->cache, x->tr->tgt, x->pc, &x->m->goid_off, NULL, 0)) {
		struct tp_action g = {
			.kind = TPA_MEM, .basereg = MT_R14, .offset = x->m->goid_off, .len = 8};

		err = add_action(tp, &g);
	}
	for (i = 0; !err && i < x->m->nexprs; i++) {
		struct tp_action e = {0};
		bool have;

		err = compile_expr(x, x->m->exprs[i], &e, &have);
		if (!err && have) {
			err = add_action(tp, &e);
			if (err)
				free(e.ax);
		}
	}
	if (!err && x->m->cond)
		err = compile_cond(x, tp);
	if (!err)
		err = set_wire(tp);
	if (!err)
		err = set_src(tp, x->m);
	return err;
}

int mt__trace(struct trace *tr, const struct rsp_mon_line *l, size_t arg, struct rsp_buf *out,
	      char *msg, size_t mlen)
{
	struct mt_ctx x = {.tr = tr, .msg = msg, .mlen = mlen};
	size_t i, kif = 0, kcol = 0;
	struct tp tp = {0};
	char *coll = NULL;
	uint32_t num;
	uint64_t addr;
	int err = -ENOMEM;

	tp.prog.fd = -1;
	tp.kind = &tp_kind_mon;
	x.m = calloc(1, sizeof(*x.m));
	tp.mon = x.m;
	x.cache = tr->pgm->dwarf;
	if (!x.m || !x.cache)
		goto cleanup;
	for (i = arg + 1; i < l->argc; i++) {
		if (!strcmp(l->argv[i], "if") && !kif && !kcol)
			kif = i;
		else if (!strcmp(l->argv[i], "collect") && !kcol)
			kcol = i;
	}
	if (arg >= l->argc || (kif && kif + 1 == (kcol ? kcol : l->argc)) ||
	    (kcol && kcol + 1 == l->argc)) {
		rsp_buf__msgf(msg, mlen,
			      "usage: monitor trace LOCATION [if COND] [collect EXPR, ...]");
		err = -EINVAL;
		goto cleanup;
	}
	if (arg + 1 != (kif ? kif : kcol ? kcol : l->argc)) {
		rsp_buf__msgf(msg, mlen, "one location, then 'if' or 'collect': unexpected '%.60s'",
			      l->argv[arg + 1]);
		err = -EINVAL;
		goto cleanup;
	}
	x.m->line = join(l, arg - 1, l->argc);
	x.m->where = strdup(l->argv[arg]);
	x.m->cond = kif ? join(l, kif + 1, kcol ? kcol : l->argc) : NULL;
	coll = join(l, kcol ? kcol + 1 : l->argc, l->argc);
	if (!x.m->line || !x.m->where || (kif && !x.m->cond) || !coll)
		goto cleanup;
	err = split_exprs(x.m, kcol ? coll : "$args", msg, mlen);
	if (!err)
		err = build(&x, &tp);
	if (err)
		goto cleanup;
	num = tp.num;
	addr = tp.addr;
	err = tr__add(tr, &tp, msg, mlen); /* takes tp (and x.m) in every case */
	x.m = NULL;
	if (err)
		goto cleanup;
	{
		const struct tp *t = tr__find(tr, num, addr);
		char goid[64] = "";

		rsp_buf__printf(out, "tracepoint %u at 0x%llx%s%s: %s%s\n", num,
				(unsigned long long)addr, t->mon->func[0] ? " in " : "",
				t->mon->func, t->enabled ? "enabled" : "disabled",
				t->installed ? ", installed" : "");

		if (t->mon->goid_off >= 0)
			snprintf(goid, sizeof(goid), ", goroutine id (8 bytes at $r14+%lld)",
				 (long long)t->mon->goid_off);
		rsp_buf__printf(out, "  collects: registers%s%s%s%s\n", goid,
				t->mon->args ? ", $args" : "", t->mon->plan[0] ? ", " : "",
				t->mon->plan);
		if (t->mon->cond)
			rsp_buf__printf(out, "  only when: %s\n", t->mon->cond);
		if (x.have_scope && x.scope.symbols && x.scope.go) {
			rsp_buf__printf(
				out,
				"  no DWARF for %s in %s: Go's function table; $args are "
				"%zu untyped word%s ~a0.. in Go's argument registers rax, rbx, "
				"rcx, rdi, rsi, r8..r11%s\n",
				x.scope.func, x.scope.path, x.scope.nvars,
				x.scope.nvars == 1 ? "" : "s",
				x.scope.nvars ? "" : " (none here: not at the function's entry)");
		} else if (x.have_scope && x.scope.symbols) {
			char note[300];

			dw_cache__split_note(x.cache, note, sizeof(note));
			rsp_buf__printf(
				out,
				"  no DWARF for %s in %s%s%s%s: its ELF symbol; $args are the "
				"argument registers rdi, rsi, rdx, rcx, r8, r9, untyped\n",
				x.scope.func, x.scope.path, note[0] ? " (" : "", note,
				note[0] ? ")" : "");
		}
	}
cleanup:
	if (x.m)
		tr__tp_free(&tp); /* the one free sequence: tp's, and x.m (its kind's) */
	if (x.have_scope)
		dw_scope__free(&x.scope);
	free(coll);
	if (err == -ENOMEM && msg && !msg[0])
		rsp_buf__msgf(msg, mlen, "out of memory");
	return err;
}

/* ---- tdelete, tstatus --------------------------------------------------- */

int mt__delete(struct trace *tr, const char *what, struct rsp_buf *out, char *msg, size_t mlen)
{
	uint64_t num;
	int err;

	if (!strcmp(what, "all")) {
		size_t n = 0;

		while (tr->ntps) {
			err = tr__delete(tr, tr->tps[tr->ntps - 1].num, msg, mlen);
			if (err)
				return err;
			n++;
		}
		return rsp_buf__printf(out, "deleted %zu tracepoint%s\n", n, n == 1 ? "" : "s");
	}
	err = rsp_mon_number(what, "tdelete", false, false, 1, 0xffff, &num, msg, mlen);
	if (err)
		return err;
	err = tr__delete(tr, (uint32_t)num, msg, mlen);
	if (err)
		return err;
	return rsp_buf__printf(out, "deleted tracepoint %llu\n", (unsigned long long)num);
}

int mt__status(struct trace *tr, struct rsp_buf *out)
{
	const struct tp *tp;

	tr__poll(tr);
	rsp_buf__printf(out, "trace %s%s%s; %zu frames, %zu of %zu buffer bytes free\n",
			tr__state_name(tr->state), tr->stop_msg[0] ? ": " : "", tr->stop_msg,
			tf_store__count(&tr->store), tf_store__free(&tr->store), tr->store.size);
	if (!tr->ntps)
		rsp_buf__puts(out, "no tracepoints\n");
	tr__foreach(tr, tp) {
		rsp_buf__printf(
			out, "tracepoint %u at 0x%llx: %s, %s, %llu hits, %llu frames", tp->num,
			(unsigned long long)tp->addr, tp->enabled ? "enabled" : "disabled",
			tp->installed ? "installed" : "not installed",
			(unsigned long long)tr__hits(tr, tp), (unsigned long long)tp->frames);
		if (tp->mon)
			rsp_buf__printf(out, ": monitor %s\n", tp->mon->line);
		else if (tp->kind != &tp_kind_gdb)
			rsp_buf__printf(out, ": a %s tracepoint (monitor)\n", tp->kind->name);
		else
			rsp_buf__puts(out, ": defined by GDB\n");
	}
	return out->oom ? -ENOMEM : 0;
}
