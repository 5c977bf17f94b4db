/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_trace.c - libFuzzer target for rsp/trace.c.
 *
 * Byte 0 picks a parser (one of the letters "HAPVOFBTNRD" picks it by name,
 * so the seeds stay readable; any other byte picks by value), the rest is
 * its input, copied into a buffer of exactly that size (not NUL-terminated)
 * so reading one byte too far is an ASan report.  Beyond "no crash", each
 * successful parse is checked for what a caller relies on: blobs inside the
 * input and decodable, counts within their limits, numbers within their
 * ranges; and most results are printed back in GDB's own encoding and
 * parsed again, which must give the same struct.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/trace.h"

static const char sel_letters[] = "HAPVOFBTNRD";
#define N_SEL (sizeof(sel_letters) - 1)

static void check(int ok)
{
	if (!ok)
		abort();
}

static int valid_errno(int err)
{
	return err == 0 || err == -EINVAL || err == -ERANGE || err == -E2BIG;
}

/* A blob lies inside [p, p + len), is at most max bytes, and decodes. */
static void check_blob(const struct rsp_hexblob *b, const char *p, size_t len, size_t max)
{
	static uint8_t out[RSP_AX_MAX];
	uintptr_t h = (uintptr_t)b->hex, lo = (uintptr_t)p, hi = (uintptr_t)(p + len);

	check(b->len <= max);
	if (b->len == 0)
		return;
	check(h >= lo && h <= hi && b->len <= (hi - h) / 2);
	if (b->len <= sizeof(out)) {
		check(rsp_trace_hex_decode(b, out, sizeof(out)) == 0);
		if (b->len)
			check(rsp_trace_hex_decode(b, out, b->len - 1) == -E2BIG);
	}
}

/* A growing output buffer for re-encoding. */
struct enc {
	char *s;
	size_t n, cap;
};

static void put(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct enc *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	check(n >= 0);
	if (e->n + (size_t)n + 1 > e->cap) {
		e->cap = (e->n + (size_t)n + 1) * 2;
		e->s = realloc(e->s, e->cap);
		check(e->s != NULL);
	}
	va_start(ap, fmt);
	vsnprintf(e->s + e->n, e->cap - e->n, fmt, ap);
	va_end(ap);
	e->n += (size_t)n;
}

static void put_hex(struct enc *e, const struct rsp_hexblob *b)
{
	put(e, "%.*s", (int)(2 * b->len), b->hex);
}

static bool blob_eq(const struct rsp_hexblob *a, const struct rsp_hexblob *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->hex, b->hex, 2 * a->len) == 0);
}

static void fuzz_hdr(const char *p, size_t len)
{
	struct rsp_qtdp_hdr h, h2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtdp_hdr(p, len, &h);
	check(valid_errno(err) || err == -EOPNOTSUPP);
	if (err)
		return;
	check(!h.has_cond || h.cond.len >= 1);
	if (h.has_cond)
		check_blob(&h.cond, p, len, RSP_AX_MAX);
	put(&e, "%" PRIx64 ":%016" PRIx64 ":%c:%" PRIx64 ":%" PRIx64, h.num, h.addr,
	    h.enabled ? 'E' : 'D', h.step, h.pass);
	if (h.has_cond) {
		put(&e, ":X%zx,", h.cond.len);
		put_hex(&e, &h.cond);
	}
	if (h.more)
		put(&e, "-");
	check(rsp_parse_qtdp_hdr(e.s, e.n, &h2) == 0);
	check(h2.num == h.num && h2.addr == h.addr && h2.enabled == h.enabled &&
	      h2.step == h.step && h2.pass == h.pass && h2.has_cond == h.has_cond &&
	      h2.more == h.more && (!h.has_cond || blob_eq(&h.cond, &h2.cond)));
	free(e.s);
}

static void fuzz_actions(const char *p, size_t len)
{
	static struct rsp_qtdp_actions a, a2;
	struct enc e = {0};
	bool stepping = false;
	size_t i;
	int err;

	err = rsp_parse_qtdp_actions(p, len, &a);
	check(valid_errno(err));
	if (err)
		return;
	check(a.n >= 1 && a.n <= RSP_TP_ACTIONS_MAX);
	put(&e, "%" PRIx64 ":%" PRIx64 ":", a.num, a.addr);
	for (i = 0; i < a.n; i++) {
		const struct rsp_tp_action *t = &a.a[i];

		/* stepping, once on, stays on */
		check(!stepping || t->stepping);
		if (t->stepping && !stepping)
			put(&e, "S");
		stepping = t->stepping;
		switch (t->kind) {
		case RSP_TPA_REGS:
			if (t->regmask[1])
				put(&e, "R%" PRIx64 "%016" PRIx64, t->regmask[1], t->regmask[0]);
			else
				put(&e, "R%" PRIx64, t->regmask[0]);
			break;
		case RSP_TPA_MEM:
			check(t->basereg >= -1 && t->basereg < 0x10000);
			check(t->len <= 0xffffffffu);
			if (t->basereg == -1)
				put(&e, "M-1");
			else
				put(&e, "M%x", (unsigned int)t->basereg);
			put(&e, ",%" PRIx64 ",%" PRIx64, (uint64_t)t->offset, t->len);
			break;
		case RSP_TPA_EXPR:
			check(t->expr.len >= 1);
			check_blob(&t->expr, p, len, RSP_AX_MAX);
			put(&e, "X%zx,", t->expr.len);
			put_hex(&e, &t->expr);
			break;
		default:
			check(0);
		}
	}
	if (a.more)
		put(&e, "-");
	check(rsp_parse_qtdp_actions(e.s, e.n, &a2) == 0);
	check(a2.num == a.num && a2.addr == a.addr && a2.n == a.n && a2.more == a.more);
	for (i = 0; i < a.n; i++) {
		const struct rsp_tp_action *x = &a.a[i], *y = &a2.a[i];

		check(x->kind == y->kind && x->stepping == y->stepping);
		if (x->kind == RSP_TPA_REGS)
			check(x->regmask[0] == y->regmask[0] && x->regmask[1] == y->regmask[1]);
		else if (x->kind == RSP_TPA_MEM)
			check(x->basereg == y->basereg && x->offset == y->offset &&
			      x->len == y->len);
		else
			check(blob_eq(&x->expr, &y->expr));
	}
	free(e.s);
}

static void fuzz_src(const char *p, size_t len)
{
	struct rsp_qtdpsrc s, s2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtdpsrc(p, len, &s);
	check(valid_errno(err));
	if (err)
		return;
	check(!strcmp(s.type, "at") || !strcmp(s.type, "cond") || !strcmp(s.type, "cmd"));
	check(s.start <= s.slen && s.text.len <= s.slen - s.start);
	check_blob(&s.text, p, len, len / 2);
	put(&e, "%" PRIx64 ":%" PRIx64 ":%s:%" PRIx64 ":%" PRIx64 ":", s.num, s.addr, s.type,
	    s.start, s.slen);
	put_hex(&e, &s.text);
	check(rsp_parse_qtdpsrc(e.s, e.n, &s2) == 0);
	check(s2.num == s.num && s2.addr == s.addr && !strcmp(s2.type, s.type) &&
	      s2.start == s.start && s2.slen == s.slen && blob_eq(&s.text, &s2.text));
	free(e.s);
}

static void fuzz_qtdv(const char *p, size_t len)
{
	struct rsp_qtdv v, v2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtdv(p, len, &v);
	check(valid_errno(err));
	if (err)
		return;
	check(v.name.len >= 1);
	check_blob(&v.name, p, len, len / 2);
	put(&e, "%" PRIx64 ":%016" PRIx64 ":%d:", v.num, (uint64_t)v.value, v.builtin);
	put_hex(&e, &v.name);
	check(rsp_parse_qtdv(e.s, e.n, &v2) == 0);
	check(v2.num == v.num && v2.value == v.value && v2.builtin == v.builtin &&
	      blob_eq(&v.name, &v2.name));
	free(e.s);
}

static void fuzz_qtro(const char *p, size_t len)
{
	static struct rsp_qtro r, r2;
	struct enc e = {0};
	size_t i;
	int err;

	err = rsp_parse_qtro(p, len, &r);
	check(valid_errno(err));
	if (err)
		return;
	check(r.n <= RSP_QTRO_MAX);
	put(&e, "%s", "");
	for (i = 0; i < r.n; i++) {
		check(r.r[i].start <= r.r[i].end);
		put(&e, ":%016" PRIx64 ",%016" PRIx64, r.r[i].start, r.r[i].end);
	}
	check(rsp_parse_qtro(e.s, e.n, &r2) == 0 && r2.n == r.n);
	for (i = 0; i < r.n; i++)
		check(r2.r[i].start == r.r[i].start && r2.r[i].end == r.r[i].end);
	free(e.s);
}

static void fuzz_qtframe(const char *p, size_t len)
{
	static const char *const names[] = {"", "pc:", "tdp:", "range:", "outside:"};
	struct rsp_qtframe f, f2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtframe(p, len, &f);
	check(valid_errno(err));
	if (err)
		return;
	check(f.kind <= RSP_QTF_OUTSIDE);
	if (f.kind == RSP_QTF_NUMBER)
		check(f.a <= 0xffffffffu);
	if (f.kind != RSP_QTF_RANGE && f.kind != RSP_QTF_OUTSIDE)
		check(f.b == 0);
	put(&e, "%s%" PRIx64, names[f.kind], f.a);
	if (f.kind == RSP_QTF_RANGE || f.kind == RSP_QTF_OUTSIDE)
		put(&e, ":%" PRIx64, f.b);
	check(rsp_parse_qtframe(e.s, e.n, &f2) == 0);
	check(f2.kind == f.kind && f2.a == f.a && f2.b == f.b);
	free(e.s);
}

static void fuzz_qtbuffer(const char *p, size_t len)
{
	struct rsp_qtbuffer b, b2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtbuffer(p, len, &b);
	check(valid_errno(err));
	if (err)
		return;
	if (b.is_size) {
		check(b.size >= -1);
		if (b.size == -1)
			put(&e, "size:-1");
		else
			put(&e, "size:%" PRIx64, (uint64_t)b.size);
	} else {
		put(&e, "circular:%d", b.circular);
	}
	check(rsp_parse_qtbuffer(e.s, e.n, &b2) == 0);
	check(b2.is_size == b.is_size && b2.circular == b.circular && b2.size == b.size);
	free(e.s);
}

static void fuzz_two(const char *p, size_t len, bool is_read)
{
	uint64_t a = 1, b = 2, a2, b2;
	char txt[64];
	int err, n;

	if (is_read)
		err = rsp_parse_qtbuffer_read(p, len, &a, &b);
	else
		err = rsp_parse_tp_addr(p, len, &a, &b);
	check(valid_errno(err));
	if (err) {
		check(a == 1 && b == 2);
		return;
	}
	n = snprintf(txt, sizeof(txt), "%" PRIx64 "%c%" PRIx64, a, is_read ? ',' : ':', b);
	if (is_read)
		err = rsp_parse_qtbuffer_read(txt, (size_t)n, &a2, &b2);
	else
		err = rsp_parse_tp_addr(txt, (size_t)n, &a2, &b2);
	check(err == 0 && a2 == a && b2 == b);
}

static void fuzz_qtnotes(const char *p, size_t len)
{
	struct rsp_qtnotes n, n2;
	struct enc e = {0};
	int err;

	err = rsp_parse_qtnotes(p, len, &n);
	check(valid_errno(err));
	if (err)
		return;
	put(&e, "%s", "");
	if (n.has_user) {
		check_blob(&n.user, p, len, len / 2);
		put(&e, "user:");
		put_hex(&e, &n.user);
		put(&e, ";");
	}
	if (n.has_notes) {
		check_blob(&n.notes, p, len, len / 2);
		put(&e, "notes:");
		put_hex(&e, &n.notes);
		put(&e, ";");
	}
	if (n.has_tstop) {
		check_blob(&n.tstop, p, len, len / 2);
		put(&e, "tstop:");
		put_hex(&e, &n.tstop);
		put(&e, ";");
	}
	check(rsp_parse_qtnotes(e.s, e.n, &n2) == 0);
	check(n2.has_user == n.has_user && n2.has_notes == n.has_notes &&
	      n2.has_tstop == n.has_tstop);
	check(!n.has_user || blob_eq(&n.user, &n2.user));
	check(!n.has_notes || blob_eq(&n.notes, &n2.notes));
	check(!n.has_tstop || blob_eq(&n.tstop, &n2.tstop));
	free(e.s);
}

/* The decoder alone, on unvalidated text: -EINVAL or -E2BIG, never a bad read. */
static void fuzz_decode(const char *p, size_t len)
{
	static uint8_t out[RSP_AX_MAX];
	struct rsp_hexblob b = {p, len / 2};
	size_t cap = len ? (uint8_t)p[0] : 0;
	int err;

	if (cap > sizeof(out))
		cap = sizeof(out);
	err = rsp_trace_hex_decode(&b, out, cap);
	check(err == 0 || err == -EINVAL || err == -E2BIG);
	if (b.len > cap)
		check(err == -E2BIG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sel;
	size_t which, len;
	char *p;

	if (size < 1)
		return 0;
	sel = data[0] ? memchr(sel_letters, data[0], N_SEL) : NULL;
	which = sel ? (size_t)(sel - sel_letters) : data[0] % N_SEL;
	len = size - 1;
	p = malloc(len ? len : 1);
	if (!p)
		abort();
	memcpy(p, data + 1, len);

	switch (which) {
	case 0:
		fuzz_hdr(p, len);
		break;
	case 1:
		fuzz_actions(p, len);
		break;
	case 2:
		fuzz_src(p, len);
		break;
	case 3:
		fuzz_qtdv(p, len);
		break;
	case 4:
		fuzz_qtro(p, len);
		break;
	case 5:
		fuzz_qtframe(p, len);
		break;
	case 6:
		fuzz_qtbuffer(p, len);
		break;
	case 7:
		fuzz_two(p, len, false);
		break;
	case 8:
		fuzz_qtnotes(p, len);
		break;
	case 9:
		fuzz_two(p, len, true);
		break;
	default:
		fuzz_decode(p, len);
		break;
	}
	free(p);
	return 0;
}
