/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_rsp_trace.c - unit tests for rsp/trace.c.
 *
 * Plain C, no framework.  Every parser result is rendered into a short
 * canonical string, so a table row is (parser, input, error, rendering)
 * and good and malformed inputs sit side by side.  The good inputs are
 * the packets GDB 13 really sent (/work/shared/docs/qtdp-reference-*.txt,
 * client-behaviour.md), and each is also taken apart mechanically: every
 * prefix, every separator deleted, every byte replaced by a few hostile
 * ones.  Inputs are always copied into a malloc'd buffer of exactly their
 * length, so under ASan a parser that reads one byte too far fails loudly.
 * The last line is "rsp-trace: N passed, M failed"; the exit status is
 * non-zero on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_COUNTERS
#include "rsp/buf.h"
#include "rsp/trace.h"
#include "tests/unit/check.h"

/* ------------------------------------------------------- running parsers */

enum kind {
	K_HDR,
	K_ACT,
	K_SRC,
	K_QTDV,
	K_QTRO,
	K_FRAME,
	K_BUF,
	K_TPADDR,
	K_NOTES,
	K_BREAD,
};

static const char *const kind_name[] = {
	"qtdp_hdr", "qtdp_actions", "qtdpsrc", "qtdv",	  "qtro",
	"qtframe",  "qtbuffer",	    "tp_addr", "qtnotes", "qtbuffer_read",
};

union result {
	struct rsp_qtdp_hdr hdr;
	struct rsp_qtdp_actions act;
	struct rsp_qtdpsrc src;
	struct rsp_qtdv dv;
	struct rsp_qtro ro;
	struct rsp_qtframe fr;
	struct rsp_qtbuffer buf;
	struct rsp_qtnotes notes;
	uint64_t two[2];
};

struct out {
	char s[4096];
	size_t o;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->o >= sizeof(o->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->s + o->o, sizeof(o->s) - o->o, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->o += (size_t)n;
}

static unsigned long long U(uint64_t v)
{
	return (unsigned long long)v;
}

/*
 * A blob must lie inside the input and decode; render it as its length.
 * Returns false (and renders "!") if it does not.
 */
static bool blob_ok(const struct rsp_hexblob *b, const char *p, size_t len)
{
	static uint8_t scratch[RSP_AX_MAX + 1];
	uintptr_t h = (uintptr_t)b->hex, lo = (uintptr_t)p, hi = (uintptr_t)(p + len);

	if (b->len == 0)
		return true;
	if (h < lo || h > hi || b->len > (hi - h) / 2)
		return false;
	if (b->len <= sizeof(scratch) && rsp_trace_hex_decode(b, scratch, sizeof(scratch)) != 0)
		return false;
	return true;
}

static void put_blob(struct out *o, char tag, const struct rsp_hexblob *b, const char *p,
		     size_t len)
{
	put(o, "%c%zx%s", tag, b->len, blob_ok(b, p, len) ? "" : "!");
}

static void render(enum kind k, const union result *r, const char *p, size_t len, struct out *o)
{
	size_t i;

	o->o = 0;
	o->s[0] = '\0';
	switch (k) {
	case K_HDR:
		put(o, "%llx %llx %c %llx %llx", U(r->hdr.num), U(r->hdr.addr),
		    r->hdr.enabled ? 'E' : 'D', U(r->hdr.step), U(r->hdr.pass));
		if (r->hdr.fast)
			put(o, " F");
		if (r->hdr.has_cond) {
			put(o, " ");
			put_blob(o, 'X', &r->hdr.cond, p, len);
		}
		if (r->hdr.more)
			put(o, " -");
		break;
	case K_ACT:
		put(o, "%llx %llx:", U(r->act.num), U(r->act.addr));
		if (r->act.n > RSP_TP_ACTIONS_MAX) {
			put(o, " n=%zu!", r->act.n);
			break;
		}
		for (i = 0; i < r->act.n; i++) {
			const struct rsp_tp_action *a = &r->act.a[i];

			put(o, " %s", a->stepping ? "s" : "");
			switch (a->kind) {
			case RSP_TPA_REGS:
				if (a->regmask[1])
					put(o, "R%llx%016llx", U(a->regmask[1]), U(a->regmask[0]));
				else
					put(o, "R%llx", U(a->regmask[0]));
				break;
			case RSP_TPA_MEM:
				put(o, "M%d,%llx,%llx", (int)a->basereg, U((uint64_t)a->offset),
				    U(a->len));
				break;
			case RSP_TPA_EXPR:
				put_blob(o, 'X', &a->expr, p, len);
				break;
			default:
				put(o, "?");
			}
		}
		if (r->act.more)
			put(o, " -");
		break;
	case K_SRC:
		put(o, "%llx %llx %.8s %llx %llx", U(r->src.num), U(r->src.addr), r->src.type,
		    U(r->src.start), U(r->src.slen));
		put(o, " ");
		put_blob(o, 'T', &r->src.text, p, len);
		break;
	case K_QTDV:
		put(o, "%llx %llx %d ", U(r->dv.num), U((uint64_t)r->dv.value), r->dv.builtin);
		put_blob(o, 'N', &r->dv.name, p, len);
		break;
	case K_QTRO:
		put(o, "%zu:", r->ro.n);
		for (i = 0; i < r->ro.n && i < RSP_QTRO_MAX; i++)
			put(o, " %llx,%llx", U(r->ro.r[i].start), U(r->ro.r[i].end));
		break;
	case K_FRAME:
		switch (r->fr.kind) {
		case RSP_QTF_NUMBER:
			put(o, "num %llx", U(r->fr.a));
			break;
		case RSP_QTF_PC:
			put(o, "pc %llx", U(r->fr.a));
			break;
		case RSP_QTF_TDP:
			put(o, "tdp %llx", U(r->fr.a));
			break;
		case RSP_QTF_RANGE:
			put(o, "range %llx %llx", U(r->fr.a), U(r->fr.b));
			break;
		case RSP_QTF_OUTSIDE:
			put(o, "outside %llx %llx", U(r->fr.a), U(r->fr.b));
			break;
		}
		break;
	case K_BUF:
		if (r->buf.is_size)
			put(o, "size %lld", (long long)r->buf.size);
		else
			put(o, "circular %d", r->buf.circular);
		break;
	case K_NOTES:
		if (r->notes.has_user) {
			put(o, " ");
			put_blob(o, 'u', &r->notes.user, p, len);
		}
		if (r->notes.has_notes) {
			put(o, " ");
			put_blob(o, 'n', &r->notes.notes, p, len);
		}
		if (r->notes.has_tstop) {
			put(o, " ");
			put_blob(o, 't', &r->notes.tstop, p, len);
		}
		if (!o->o)
			put(o, " none");
		break;
	case K_TPADDR:
	case K_BREAD:
		put(o, "%llx %llx", U(r->two[0]), U(r->two[1]));
		break;
	}
}

static int call(enum kind k, const char *p, size_t len, union result *r)
{
	switch (k) {
	case K_HDR:
		return rsp_parse_qtdp_hdr(p, len, &r->hdr);
	case K_ACT:
		return rsp_parse_qtdp_actions(p, len, &r->act);
	case K_SRC:
		return rsp_parse_qtdpsrc(p, len, &r->src);
	case K_QTDV:
		return rsp_parse_qtdv(p, len, &r->dv);
	case K_QTRO:
		return rsp_parse_qtro(p, len, &r->ro);
	case K_FRAME:
		return rsp_parse_qtframe(p, len, &r->fr);
	case K_BUF:
		return rsp_parse_qtbuffer(p, len, &r->buf);
	case K_TPADDR:
		return rsp_parse_tp_addr(p, len, &r->two[0], &r->two[1]);
	case K_NOTES:
		return rsp_parse_qtnotes(p, len, &r->notes);
	case K_BREAD:
		return rsp_parse_qtbuffer_read(p, len, &r->two[0], &r->two[1]);
	}
	return -1;
}

/*
 * Parse a copy of (p, len) held in a buffer of exactly len bytes; on
 * success render the result into o (blob lengths only, as they sit
 * relative to the copy).  The rendering of a failed parse is "".
 */
static int run(enum kind k, const char *p, size_t len, struct out *o)
{
	static union result r;
	char *copy = malloc(len ? len : 1);
	int err;

	if (!copy)
		abort();
	if (len)
		memcpy(copy, p, len);
	memset(&r, 0xa5, sizeof(r));
	err = call(k, copy, len, &r);
	o->o = 0;
	o->s[0] = '\0';
	if (!err)
		render(k, &r, copy, len, o);
	free(copy);
	return err;
}

static bool valid_errno(int err, enum kind k)
{
	return err == 0 || err == -EINVAL || err == -ERANGE || err == -E2BIG ||
	       (k == K_HDR && err == -EOPNOTSUPP);
}

/* ------------------------------------------------------------- tables */

struct row {
	enum kind k;
	const char *in;
	size_t len;
	int err;
	const char *want; /* rendering on success; NULL: do not compare */
	bool lax;	  /* may still parse with a separator deleted */
};

static void run_rows(const struct row *t, size_t n)
{
	struct out o;
	size_t i;

	for (i = 0; i < n; i++) {
		int err = run(t[i].k, t[i].in, t[i].len, &o);

		CHECKF(err == t[i].err, "%s(\"%s\") = %d, want %d", kind_name[t[i].k],
		       show(t[i].in, t[i].len), err, t[i].err);
		if (!err && t[i].want)
			CHECKF(strcmp(o.s, t[i].want) == 0, "%s(\"%s\") gave \"%s\", want \"%s\"",
			       kind_name[t[i].k], show(t[i].in, t[i].len), o.s, t[i].want);
	}
}

#define A401179 "0000000000401179"

/* Good packets, as GDB 13 sent them (after "QTDP:", "QTDP:-", ...). */
static const struct row good[] = {
	/* QTDP headers, -O0 and -O2 */
	{K_HDR, S("1:" A401179 ":E:0:0-"), 0, "1 401179 E 0 0 -", false},
	{K_HDR, S("a:" A401179 ":E:0:0"), 0, "a 401179 E 0 0", false},
	{K_HDR, S("d:" A401179 ":E:0:0:X13,26000622100222dc16080219162022052b1427"), 0,
	 "d 401179 E 0 0 X13", false},
	{K_HDR, S("d:00000000004012a0:E:0:0:Xa,260005162022052b1427"), 0, "d 4012a0 E 0 0 Xa",
	 false},
	{K_HDR, S("e:" A401179 ":E:0:3"), 0, "e 401179 E 0 3", false},
	{K_HDR, S("10:" A401179 ":E:3:0-"), 0, "10 401179 E 3 0 -", false},
	{K_HDR, S("13:0000000000401000:E:0:0-"), 0, "13 401000 E 0 0 -", false},
	{K_HDR, S("14:0000000000401265:E:0:0"), 0, "14 401265 E 0 0", false},
	{K_HDR, S("2:4011ef:D:ffffffff:ffffffffffffffff:X1,27-"), 0,
	 "2 4011ef D ffffffff ffffffffffffffff X1 -", false},

	/* QTDP actions */
	{K_ACT, S("1:" A401179 ":R0fffffffffffffff"), 0, "1 401179: Rfffffffffffffff", false},
	{K_ACT, S("2:" A401179 ":R40-"), 0, "2 401179: R40 -", false},
	{K_ACT,
	 S("2:" A401179 ":X0000000F,26000622100222dc16080222040c27X0000000F,26000622100222d0"
	   "16080222080c27X0000000F,26000622100222c816080222080c27X0000000F,26000622100222c0"
	   "16080222080c27"),
	 0, "2 401179: Xf Xf Xf Xf", false},
	{K_ACT, S("4:" A401179 ":M-1,404060,4"), 0, "4 401179: M-1,404060,4", false},
	{K_ACT, S("5:" A401179 ":X00000012,26000622100222c01608020d081a22100c27"), 0,
	 "5 401179: X12", false},
	{K_ACT,
	 S("8:" A401179 ":M-1,404100,40X0000000C,24004040c022040222100c27X00000011,24004040"
	   "802202220804022a4022080c27"),
	 0, "8 401179: M-1,404100,40 Xc X11", false},
	{K_ACT, S("b:" A401179 ":R010080"), 0, "b 401179: R10080", false},
	{K_ACT, S("c:" A401179 ":X0000000A,26000622080222080c27"), 0, "c 401179: Xa", false},
	{K_ACT,
	 S("f:" A401179 ":X00000008,2c00012e00012927X0000000C,2c000122010216402d000127X000000"
	   "12,26000622100222dc1608022d000219162027"),
	 0, "f 401179: X8 Xc X12", false},
	{K_ACT, S("10:" A401179 ":M-1,404060,4-"), 0, "10 401179: M-1,404060,4 -", false},
	{K_ACT, S("10:" A401179 ":SR0fffffffffffffff"), 0, "10 401179: sRfffffffffffffff", false},
	{K_ACT, S("2:00000000004012a0:R3c-"), 0, "2 4012a0: R3c -", false},
	{K_ACT, S("2:00000000004012a0:X00000001,27X00000001,27X00000001,27X00000001,27"), 0,
	 "2 4012a0: X1 X1 X1 X1", false},
	{K_ACT,
	 S("3:00000000004012a0:X00000008,2600052201092927X00000012,26000522010922200922200a"
	   "260004022927"),
	 0, "3 4012a0: X8 X12", false},
	{K_ACT, S("2:" A401179 ":X0000000C,24004041400d081a22010c27"), 0, "2 401179: Xc", false},
	{K_ACT, S("4:" A401179 ":X0000000D,24004041400d081a2300c82f27"), 0, "4 401179: Xd", false},
	{K_ACT, S("7:" A401179 ":X00000011,24004041400d081a2200022a4022032f27"), 0, "7 401179: X11",
	 false},
	{K_ACT, S("1:2:MFFFFFFFF,404060,4"), 0, "1 2: M-1,404060,4", false},
	{K_ACT, S("1:2:M6,ffffffffffffffd8,8"), 0, "1 2: M6,ffffffffffffffd8,8", false},
	{K_ACT, S("1:2:Mffff,0,ffffffff"), 0, "1 2: M65535,0,ffffffff", false},
	{K_ACT, S("1:2:R40M-1,10,4SX1,27R1-"), 0, "1 2: R40 M-1,10,4 sX1 sR1 -", false},
	{K_ACT, S("1:2:Rffffffffffffffffffffffffffffffff"), 0,
	 "1 2: Rffffffffffffffffffffffffffffffff", false},
	{K_ACT, S("1:2:R0000000000ffffffffffffffffffffffffffffffff"), 0,
	 "1 2: Rffffffffffffffffffffffffffffffff", false},
	{K_ACT, S("1:2:R10000000000000000"), 0, "1 2: R10000000000000000", false},
	{K_ACT, S("1:2:R0"), 0, "1 2: R0", false},
	{K_ACT, S("1:2:RAbC"), 0, "1 2: Rabc", false},

	/* QTDPsrc */
	{K_SRC, S("1:401179:at:0:4:66756e63"), 0, "1 401179 at 0 4 T4", false},
	{K_SRC, S("1:401179:cmd:0:d:636f6c6c6563742024726567"), 0, "1 401179 cmd 0 d Tc", false},
	{K_SRC, S("1:401179:cmd:0:c:636f6c6c6563742024726567"), 0, "1 401179 cmd 0 c Tc", false},
	{K_SRC, S("d:401179:cond:0:5:61203e2035"), 0, "d 401179 cond 0 5 T5", false},
	{K_SRC, S("1:401179:cmd:4:c:6563742024726567"), 0, "1 401179 cmd 4 c T8", false},
	{K_SRC, S("1:401179:cmd:0:0:"), 0, "1 401179 cmd 0 0 T0", false},

	/* QTDV */
	{K_QTDV, S("1:0000000000000000:0:63"), 0, "1 0 0 N1", false},
	{K_QTDV, S("2:0000000000000000:0:64"), 0, "2 0 0 N1", false},
	{K_QTDV, S("1:0000000000000064:0:636e74"), 0, "1 64 0 N3", false},
	{K_QTDV, S("3:ffffffffffffffff:1:5f7472616365"), 0, "3 ffffffffffffffff 1 N6", false},
	{K_QTDV, S("3:7:0:41"), 0, "3 7 0 N1", false},

	/* QTro (after "QTro") */
	{K_QTRO,
	 S(":0000000000400318,0000000000400334:0000000000400338,0000000000400358:00000000004003"
	   "58,000000000040037c:000000000040037c,000000000040039c:00000000004003a0,000000000040"
	   "03c4"),
	 0, "5: 400318,400334 400338,400358 400358,40037c 40037c,40039c 4003a0,4003c4", false},
	{K_QTRO, S(":401000,401200:402000,402100"), 0, "2: 401000,401200 402000,402100", false},
	{K_QTRO, S(""), 0, "0:", false},
	{K_QTRO, S(":5,5"), 0, "1: 5,5", false},

	/* QTFrame */
	{K_FRAME, S("0"), 0, "num 0", false},
	{K_FRAME, S("ffffffff"), 0, "num ffffffff", false},
	{K_FRAME, S("63"), 0, "num 63", false},
	{K_FRAME, S("tdp:2"), 0, "tdp 2", false},
	{K_FRAME, S("pc:401179"), 0, "pc 401179", false},
	{K_FRAME, S("range:401000:401200"), 0, "range 401000 401200", false},
	{K_FRAME, S("outside:401000:401200"), 0, "outside 401000 401200", false},

	/* QTBuffer */
	{K_BUF, S("circular:0"), 0, "circular 0", false},
	{K_BUF, S("circular:1"), 0, "circular 1", false},
	{K_BUF, S("size:-1"), 0, "size -1", false},
	{K_BUF, S("size:186a0"), 0, "size 100000", false},
	{K_BUF, S("size:7fffffffffffffff"), 0, "size 9223372036854775807", false},

	/* QTEnable / QTDisable / qTP */
	{K_TPADDR, S("1:" A401179), 0, "1 401179", false},
	{K_TPADDR, S("1:401179"), 0, "1 401179", false},
	{K_TPADDR, S("14:401265"), 0, "14 401265", false},

	/* QTNotes */
	{K_NOTES, S("user:;notes:;"), 0, " u0 n0", false},
	{K_NOTES, S("tstop:;"), 0, " t0", false},
	{K_NOTES, S("user:6a6f65;notes:6869;"), 0, " u3 n2", true},
	{K_NOTES, S("user:6a6f65;notes:6869"), 0, " u3 n2", true},
	{K_NOTES, S("tstop:646f6e65"), 0, " t4", true},
	{K_NOTES, S("future:xyz:1;user:61;"), 0, " u1", true},
	{K_NOTES, S("future;notes:;"), 0, " n0", true},
	{K_NOTES, S(""), 0, " none", false},

	/* qTBuffer */
	{K_BREAD, S("0,1f4"), 0, "0 1f4", false},
	{K_BREAD, S("ffffffffffffffff,ffffffffffffffff"), 0, "ffffffffffffffff ffffffffffffffff",
	 false},
};

static const struct row bad[] = {
	/* QTDP header: separators, fields, options */
	{K_HDR, S(""), -EINVAL, NULL, false},
	{K_HDR, S("1"), -EINVAL, NULL, false},
	{K_HDR, S("1:"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179), -EINVAL, NULL, false},
	{K_HDR, S("1" A401179 ":E:0:0"), -ERANGE, NULL, false},
	{K_HDR, S("1:" A401179 "E:0:0"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 ":E0:0"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 ":E:00"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 ":E:0:"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 ":e:0:0"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 ":ED:0:0"), -EINVAL, NULL, false},
	{K_HDR, S("1:" A401179 "::0:0"), -EINVAL, NULL, false},
	{K_HDR, S(":" A401179 ":E:0:0"), -EINVAL, NULL, false},
	{K_HDR, S("-1:" A401179 ":E:0:0"), -EINVAL, NULL, false},
	{K_HDR, S("1:10000000000000000:E:0:0"), -ERANGE, NULL, false},
	{K_HDR, S("1:2:E:10000000000000000:0"), -ERANGE, NULL, false},
	{K_HDR, S("1:2:E:0:10000000000000000"), -ERANGE, NULL, false},
	{K_HDR, S("1:2:E:0:0--"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0-:X1,27"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0 "), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0\0"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:-"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:Q"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:x1,27"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:K1"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:F"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:F5"), 0, "1 2 E 0 0 F", false},
	{K_HDR, S("1:2:E:0:0:F5-"), 0, "1 2 E 0 0 F -", false},
	{K_HDR, S("1:2:E:0:0:S"), -EOPNOTSUPP, NULL, false},
	{K_HDR, S("1:2:E:0:0:S-"), -EOPNOTSUPP, NULL, false},
	{K_HDR, S("1:2:E:0:0:F5:X1,27-"), 0, "1 2 E 0 0 F X1 -", false},
	{K_HDR, S("1:2:E:0:0:S:X1,27"), -EOPNOTSUPP, NULL, false},
	{K_HDR, S("1:2:E:0:0:S5"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:F5:X1,2"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:F5:S"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:S:S"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,27:F5"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,27:S"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,27:X1,27"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,27:"), -EINVAL, NULL, false},
	/* condition bytecode */
	{K_HDR, S("1:2:E:0:0:X"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,2"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,272"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1,2g"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X2,27-"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X0,"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X,27"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1;27"), -EINVAL, NULL, false},
	{K_HDR, S("1:2:E:0:0:X1001,27"), -E2BIG, NULL, false},
	{K_HDR, S("1:2:E:0:0:Xffffffffffffffff,27"), -E2BIG, NULL, false},
	{K_HDR, S("1:2:E:0:0:X100000000000000000,27"), -E2BIG, NULL, false},
	{K_HDR, S("1:2:E:0:0:X8000000000000001,27"), -E2BIG, NULL, false},

	/* QTDP actions */
	{K_ACT, S(""), -EINVAL, NULL, false},
	{K_ACT, S("1"), -EINVAL, NULL, false},
	{K_ACT, S("1:2"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:S"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:S-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40S"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:SR40SR1"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:SSR40"), -EINVAL, NULL, false},
	{K_ACT, S("12:R40"), -EINVAL, NULL, false},
	{K_ACT, S("1:2R40"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40--"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40-R1"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:-R40"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:RX1,27"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40:"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R40 "), -EINVAL, NULL, false},
	{K_ACT, S("1:2:r40"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:Q"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:R1ffffffffffffffffffffffffffffffff"), -E2BIG, NULL, false},
	{K_ACT, S("1:2:R100000000000000000000000000000000"), -E2BIG, NULL, false},
	{K_ACT, S("1:2:M"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,404060"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,404060,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,404060,-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1404060,4"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,4040604"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M,404060,4"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-2,404060,4"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M--1,404060,4"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,-404060,4"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M-1,404060,4,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:M10000,0,4"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:Mfffffffe,0,4"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:M100000000,0,4"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:Mffffffffffffffff,0,4"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:M-1,10000000000000000,4"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:M-1,0,100000000"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:M-1,0,10000000000000000"), -ERANGE, NULL, false},
	{K_ACT, S("1:2:X"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,2"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,2-"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,272"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X2,27"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X00000000,"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X00001001,27"), -E2BIG, NULL, false},
	{K_ACT, S("1:2:X1,27X"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,zz"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X1,2\0"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X0000000F,26000622100222dc16080222040c2"), -EINVAL, NULL, false},
	{K_ACT, S("1:2:X0000000F26000622100222dc16080222040c27"), -E2BIG, NULL, false},

	/* QTDPsrc */
	{K_SRC, S("1:401179:at:0:4:66756e6"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:0:4:66756e6g"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:0:4:66756e63:"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:0:4"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:0:4:"), 0, "1 401179 at 0 4 T0", false},
	{K_SRC, S("1:401179:at:0:3:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:1:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:ffffffffffffffff:4:"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:4:ffffffffffffffff:66756e63"), 0, NULL, false},
	{K_SRC, S("1:401179:ats:0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:a:0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179::0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:AT:0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:verylongtype:0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179at:0:4:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:04:66756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:0:466756e63"), -EINVAL, NULL, false},
	{K_SRC, S("1:401179:at:10000000000000000:4:"), -ERANGE, NULL, false},

	/* QTDV */
	{K_QTDV, S("1:0000000000000000:0:"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000:0:6"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000:0:6g"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000:0"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000:2:63"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000:00:63"), -EINVAL, NULL, false},
	{K_QTDV, S("1:0000000000000000::63"), -EINVAL, NULL, false},
	{K_QTDV, S("1:00000000000000000:0:63"), -ERANGE, NULL, false},
	{K_QTDV, S("1:10000000000000000:0:63"), -ERANGE, NULL, false},
	{K_QTDV, S("1::0:63"), -EINVAL, NULL, false},
	{K_QTDV, S("1:-1:0:63"), -EINVAL, NULL, false},
	{K_QTDV, S("10000000000000000000000000000000:0:0:63"), -ERANGE, NULL, false},
	{K_QTDV, S("1:0000000000000000:0:63:"), -EINVAL, NULL, false},
	{K_QTDV, S("10000000000000000:0:63"), -ERANGE, NULL, false},
	{K_QTDV, S("1:00000000000000000:63"), -ERANGE, NULL, false},
	{K_QTDV, S("1:0000000000000000:063"), -EINVAL, NULL, false},

	/* QTro */
	{K_QTRO, S(":"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000,"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000,401200:"), -EINVAL, NULL, false},
	{K_QTRO, S("401000,401200"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000401200"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000,401200402000,402100"), -EINVAL, NULL, false},
	{K_QTRO, S(":401000,401200;402000,402100"), -EINVAL, NULL, false},
	{K_QTRO, S(":401200,401000"), -EINVAL, NULL, false},
	{K_QTRO, S(":,1"), -EINVAL, NULL, false},
	{K_QTRO, S(":1,10000000000000000"), -ERANGE, NULL, false},
	{K_QTRO, S("::1,2"), -EINVAL, NULL, false},

	/* QTFrame */
	{K_FRAME, S(""), -EINVAL, NULL, false},
	{K_FRAME, S("100000000"), -ERANGE, NULL, false},
	{K_FRAME, S("10000000000000000"), -ERANGE, NULL, false},
	{K_FRAME, S("-1"), -EINVAL, NULL, false},
	{K_FRAME, S("0 "), -EINVAL, NULL, false},
	{K_FRAME, S("pc:"), -EINVAL, NULL, false},
	{K_FRAME, S("pc"), -EINVAL, NULL, false},
	{K_FRAME, S("pc401179"), -EINVAL, NULL, false},
	{K_FRAME, S("pc:401179:"), -EINVAL, NULL, false},
	{K_FRAME, S("tdp:"), -EINVAL, NULL, false},
	{K_FRAME, S("tdp:2:3"), -EINVAL, NULL, false},
	{K_FRAME, S("range:401000"), -EINVAL, NULL, false},
	{K_FRAME, S("range:401000:"), -EINVAL, NULL, false},
	{K_FRAME, S("range401000:401200"), -EINVAL, NULL, false},
	{K_FRAME, S("range:401000401200"), -EINVAL, NULL, false},
	{K_FRAME, S("range:401000,401200"), -EINVAL, NULL, false},
	{K_FRAME, S("outside:401000"), -EINVAL, NULL, false},
	{K_FRAME, S("outside::401200"), -EINVAL, NULL, false},
	{K_FRAME, S("outside:401000:401200:"), -EINVAL, NULL, false},
	{K_FRAME, S("PC:401179"), -EINVAL, NULL, false},
	{K_FRAME, S("pc:10000000000000000"), -ERANGE, NULL, false},

	/* QTBuffer */
	{K_BUF, S("circular:"), -EINVAL, NULL, false},
	{K_BUF, S("circular:2"), -EINVAL, NULL, false},
	{K_BUF, S("circular:01"), -EINVAL, NULL, false},
	{K_BUF, S("circular0"), -EINVAL, NULL, false},
	{K_BUF, S("circular"), -EINVAL, NULL, false},
	{K_BUF, S("size:"), -EINVAL, NULL, false},
	{K_BUF, S("size:-"), -EINVAL, NULL, false},
	{K_BUF, S("size:-2"), -EINVAL, NULL, false},
	{K_BUF, S("size:-10"), -EINVAL, NULL, false},
	{K_BUF, S("size:-1 "), -EINVAL, NULL, false},
	{K_BUF, S("size186a0"), -EINVAL, NULL, false},
	{K_BUF, S("size:8000000000000000"), -ERANGE, NULL, false},
	{K_BUF, S("size:10000000000000000"), -ERANGE, NULL, false},
	{K_BUF, S("size:186a0:"), -EINVAL, NULL, false},
	{K_BUF, S(""), -EINVAL, NULL, false},
	{K_BUF, S("linear:0"), -EINVAL, NULL, false},

	/* tp_addr */
	{K_TPADDR, S(""), -EINVAL, NULL, false},
	{K_TPADDR, S("1"), -EINVAL, NULL, false},
	{K_TPADDR, S("1:"), -EINVAL, NULL, false},
	{K_TPADDR, S(":401179"), -EINVAL, NULL, false},
	{K_TPADDR, S("1401179"), -EINVAL, NULL, false},
	{K_TPADDR, S("1:401179:"), -EINVAL, NULL, false},
	{K_TPADDR, S("1:401179,"), -EINVAL, NULL, false},
	{K_TPADDR, S("1:10000000000000000"), -ERANGE, NULL, false},

	/* QTNotes */
	{K_NOTES, S(";"), -EINVAL, NULL, false},
	{K_NOTES, S("user:;;"), -EINVAL, NULL, false},
	{K_NOTES, S(":61;"), -EINVAL, NULL, false},
	{K_NOTES, S("user;"), -EINVAL, NULL, false},
	{K_NOTES, S("user"), -EINVAL, NULL, false},
	{K_NOTES, S("user:6"), -EINVAL, NULL, false},
	{K_NOTES, S("user:6;"), -EINVAL, NULL, false},
	{K_NOTES, S("user:6g;"), -EINVAL, NULL, false},
	{K_NOTES, S("user:61:62;"), -EINVAL, NULL, false},
	{K_NOTES, S("user:notes:;"), -EINVAL, NULL, false},
	{K_NOTES, S("user:;user:;"), -EINVAL, NULL, false},
	{K_NOTES, S("User:;"), 0, " none", false},
	{K_NOTES, S("tstop:61;tstop:61"), -EINVAL, NULL, false},

	/* qTBuffer */
	{K_BREAD, S(""), -EINVAL, NULL, false},
	{K_BREAD, S("0"), -EINVAL, NULL, false},
	{K_BREAD, S("0,"), -EINVAL, NULL, false},
	{K_BREAD, S(",1f4"), -EINVAL, NULL, false},
	{K_BREAD, S("01f4"), -EINVAL, NULL, false},
	{K_BREAD, S("0:1f4"), -EINVAL, NULL, false},
	{K_BREAD, S("0,1f4,"), -EINVAL, NULL, false},
	{K_BREAD, S("0,10000000000000000"), -ERANGE, NULL, false},
};

/* --------------------------------------------------- specific checks */

static void test_hex_decode(void)
{
	static const char hex[] = "26000622100222dc16080219162022052b1427";
	struct rsp_hexblob b = {hex, 19};
	uint8_t out[32];

	memset(out, 0xee, sizeof(out));
	CHECK(rsp_trace_hex_decode(&b, out, sizeof(out)) == 0);
	CHECK(out[0] == 0x26 && out[5] == 0x02 && out[7] == 0xdc && out[18] == 0x27);
	CHECK(out[19] == 0xee);
	CHECK(rsp_trace_hex_decode(&b, out, 19) == 0);
	CHECK(rsp_trace_hex_decode(&b, out, 18) == -E2BIG);
	b.len = 0;
	CHECK(rsp_trace_hex_decode(&b, NULL, 0) == 0);
	b.hex = "2G";
	b.len = 1;
	CHECK(rsp_trace_hex_decode(&b, out, 1) == -EINVAL);
	b.hex = "aBcD";
	b.len = 2;
	CHECK(rsp_trace_hex_decode(&b, out, 2) == 0 && out[0] == 0xab && out[1] == 0xcd);
}

/* The condition and action blobs point at the right digits of the packet. */
static void test_blob_pointers(void)
{
	static const char hdr[] = "d:" A401179 ":E:0:0:X13,26000622100222dc16080219162022052b1427";
	static const char act[] = "8:" A401179 ":M-1,404100,40X0000000C,24004040c022040222100c27"
				  "X00000011,24004040802202220804022a4022080c27";
	/* reg 6; const8 0x10; add; const8 0xdc; ext 8; add; ref32; ext 32; const8 5; swap;
	 * less_signed; end */
	static const uint8_t cond[] = {0x26, 0x00, 0x06, 0x22, 0x10, 0x02, 0x22, 0xdc, 0x16, 0x08,
				       0x02, 0x19, 0x16, 0x20, 0x22, 0x05, 0x2b, 0x14, 0x27};
	struct rsp_qtdp_hdr h;
	static struct rsp_qtdp_actions a;
	uint8_t buf[RSP_AX_MAX];

	CHECK(rsp_parse_qtdp_hdr(hdr, sizeof(hdr) - 1, &h) == 0);
	CHECK(h.has_cond && h.cond.len == 0x13 && h.cond.hex == strchr(hdr, ',') + 1);
	CHECK(rsp_trace_hex_decode(&h.cond, buf, sizeof(buf)) == 0);
	CHECK(sizeof(cond) == 19 && memcmp(buf, cond, sizeof(cond)) == 0);

	CHECK(rsp_parse_qtdp_actions(act, sizeof(act) - 1, &a) == 0);
	CHECK(a.n == 3 && !a.more);
	CHECK(a.a[0].kind == RSP_TPA_MEM && a.a[0].basereg == -1 && a.a[0].offset == 0x404100 &&
	      a.a[0].len == 0x40 && !a.a[0].stepping);
	CHECK(a.a[1].kind == RSP_TPA_EXPR && a.a[1].expr.len == 12 &&
	      a.a[1].expr.hex == strstr(act, "24004040c0"));
	CHECK(a.a[2].kind == RSP_TPA_EXPR && a.a[2].expr.len == 17 &&
	      a.a[2].expr.hex == strstr(act, "2400404080"));
	CHECK(rsp_trace_hex_decode(&a.a[2].expr, buf, sizeof(buf)) == 0 && buf[0] == 0x24 &&
	      buf[16] == 0x27);
	CHECK(rsp_trace_hex_decode(&a.a[2].expr, buf, 16) == -E2BIG);
}

/* Register masks: bit i is register i, the last hex digit bits 0-3. */
static void test_regmask(void)
{
	static struct rsp_qtdp_actions a;

	CHECK(rsp_parse_qtdp_actions(S("1:2:R010080"), &a) == 0 && a.n == 1);
	CHECK(a.a[0].regmask[0] == ((1ull << 16) | (1ull << 7)) && a.a[0].regmask[1] == 0);
	CHECK(rsp_parse_qtdp_actions(S("1:2:R0fffffffffffffff"), &a) == 0);
	CHECK(a.a[0].regmask[0] == (1ull << 60) - 1 && a.a[0].regmask[1] == 0);
	CHECK(rsp_parse_qtdp_actions(S("1:2:R80000000000000000000000000000001"), &a) == 0);
	CHECK(a.a[0].regmask[0] == 1 && a.a[0].regmask[1] == 1ull << 63);
	CHECK(rsp_parse_qtdp_actions(S("1:2:R3c"), &a) == 0);
	CHECK(a.a[0].regmask[0] == 0x3c); /* rdx rcx rsi rdi: 2 3 4 5 */
	CHECK(rsp_parse_qtdp_actions(S("1:2:M6,ffffffffffffffd8,8"), &a) == 0);
	CHECK(a.a[0].basereg == 6 && a.a[0].offset == -40 && a.a[0].len == 8);
	CHECK(rsp_parse_qtdp_actions(S("1:2:M0,8000000000000000,1"), &a) == 0);
	CHECK(a.a[0].basereg == 0 && a.a[0].offset == INT64_MIN);
}

static char *cat_repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1);

	if (!s)
		abort();
	memcpy(s, head, hl);
	for (i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	*len = hl + ul * n + tl;
	return s;
}

/* Limits: RSP_AX_MAX bytes of bytecode, RSP_TP_ACTIONS_MAX actions, RSP_QTRO_MAX ranges. */
static void test_limits(void)
{
	struct out o;
	size_t len;
	char *s;

	s = cat_repeat("1:2:E:0:0:X1000,", "27", RSP_AX_MAX, "-", &len);
	CHECK(run(K_HDR, s, len, &o) == 0 && strcmp(o.s, "1 2 E 0 0 X1000 -") == 0);
	free(s);
	s = cat_repeat("1:2:E:0:0:X1001,", "27", RSP_AX_MAX + 1, "", &len);
	CHECK(run(K_HDR, s, len, &o) == -E2BIG);
	free(s);
	s = cat_repeat("1:2:X1000,", "27", RSP_AX_MAX, "", &len);
	CHECK(run(K_ACT, s, len, &o) == 0 && strcmp(o.s, "1 2: X1000") == 0);
	free(s);
	s = cat_repeat("1:2:X1000,", "27", RSP_AX_MAX - 1, "", &len);
	CHECK(run(K_ACT, s, len, &o) == -EINVAL);
	free(s);
	s = cat_repeat("1:2:X1001,", "27", RSP_AX_MAX + 1, "", &len);
	CHECK(run(K_ACT, s, len, &o) == -E2BIG);
	free(s);

	s = cat_repeat("1:2:", "X1,27", RSP_TP_ACTIONS_MAX, "-", &len);
	CHECK(run(K_ACT, s, len, &o) == 0 && o.o > 0 && o.s[o.o - 1] == '-');
	free(s);
	s = cat_repeat("1:2:S", "R1", RSP_TP_ACTIONS_MAX, "", &len);
	CHECK(run(K_ACT, s, len, &o) == 0);
	free(s);
	s = cat_repeat("1:2:", "M-1,0,1", RSP_TP_ACTIONS_MAX + 1, "", &len);
	CHECK(run(K_ACT, s, len, &o) == -E2BIG);
	free(s);
	s = cat_repeat("1:2:", "R1", RSP_TP_ACTIONS_MAX + 1, "-", &len);
	CHECK(run(K_ACT, s, len, &o) == -E2BIG);
	free(s);

	s = cat_repeat("", ":401000,401200", RSP_QTRO_MAX, "", &len);
	CHECK(run(K_QTRO, s, len, &o) == 0 && strncmp(o.s, "256:", 4) == 0);
	free(s);
	s = cat_repeat("", ":401000,401200", RSP_QTRO_MAX + 1, "", &len);
	CHECK(run(K_QTRO, s, len, &o) == -E2BIG);
	free(s);

	s = cat_repeat("1:0:0:", "41", 3000, "", &len);
	CHECK(run(K_QTDV, s, len, &o) == 0 && strcmp(o.s, "1 0 0 Nbb8") == 0);
	free(s);
}

/* The action that follows an 'S' and every later one are while-stepping. */
static void test_stepping(void)
{
	static struct rsp_qtdp_actions a;

	CHECK(rsp_parse_qtdp_actions(S("10:" A401179 ":SR0fffffffffffffff"), &a) == 0);
	CHECK(a.n == 1 && a.a[0].stepping && a.a[0].kind == RSP_TPA_REGS && !a.more);
	CHECK(rsp_parse_qtdp_actions(S("10:" A401179 ":M-1,404060,4-"), &a) == 0);
	CHECK(a.n == 1 && !a.a[0].stepping && a.more && a.num == 0x10 && a.addr == 0x401179);
	CHECK(rsp_parse_qtdp_actions(S("1:2:R1SM-1,0,1X1,27"), &a) == 0);
	CHECK(a.n == 3 && !a.a[0].stepping && a.a[1].stepping && a.a[2].stepping);
}

/* -------------------------------------- mechanical damage to good rows */

/*
 * Every prefix of a good packet either fails with a known errno or parses
 * to something sane (blobs inside it, counts within limits); dropping a
 * final '-' must give the same parse without "more".
 */
static int prefixes_ok(const struct row *r)
{
	struct out o, full;
	size_t k;
	int err;

	if (run(r->k, r->in, r->len, &full) != 0)
		return 0;
	for (k = 0; k < r->len; k++) {
		err = run(r->k, r->in, k, &o);
		if (!valid_errno(err, r->k) || strchr(o.s, '!')) {
			printf("  prefix %zu of \"%s\": %d \"%s\"\n", k, show(r->in, r->len), err,
			       o.s);
			return 0;
		}
		if (k == r->len - 1 && r->in[k] == '-') {
			size_t fl = strlen(full.s);

			if (err || fl < 2 || strncmp(o.s, full.s, fl - 2) != 0 ||
			    o.s[fl - 2] != '\0') {
				printf("  \"%s\" without '-': %d \"%s\" vs \"%s\"\n",
				       show(r->in, r->len), err, o.s, full.s);
				return 0;
			}
		}
	}
	return 1;
}

/* Deleting any one separator (but a final ';') must make the packet fail. */
static int separators_ok(const struct row *r)
{
	char tmp[512];
	struct out o;
	size_t k;
	int err;

	if (r->len > sizeof(tmp))
		return 1;
	for (k = 0; k < r->len; k++) {
		if (r->lax)
			return 1;
		if (!strchr(":,;", r->in[k]) || (r->in[k] == ';' && k == r->len - 1))
			continue;
		memcpy(tmp, r->in, k);
		memcpy(tmp + k, r->in + k + 1, r->len - k - 1);
		err = run(r->k, tmp, r->len - 1, &o);
		if (err == 0 || !valid_errno(err, r->k)) {
			printf("  \"%s\" without byte %zu: %d \"%s\"\n", show(r->in, r->len), k,
			       err, o.s);
			return 0;
		}
	}
	return 1;
}

/* Any byte replaced by a hostile one: a known errno, or a sane parse. */
static int mutations_ok(const struct row *r)
{
	static const char subst[] = {':', ',', ';', '-',  'X',	  'S',	  'R', 'M',
				     'g', '0', 'f', '\0', '\x80', '\xff', '$', '#'};
	char tmp[512];
	struct out o;
	size_t k, j;
	int err;

	if (r->len > sizeof(tmp))
		return 1;
	for (k = 0; k < r->len; k++) {
		for (j = 0; j < sizeof(subst); j++) {
			memcpy(tmp, r->in, r->len);
			tmp[k] = subst[j];
			err = run(r->k, tmp, r->len, &o);
			if (!valid_errno(err, r->k) || strchr(o.s, '!')) {
				printf("  \"%s\" with byte %zu = %02x: %d \"%s\"\n",
				       show(r->in, r->len), k, (unsigned char)subst[j], err, o.s);
				return 0;
			}
		}
	}
	return 1;
}

static void test_damage(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (good[i].err)
			continue;
		CHECKF(prefixes_ok(&good[i]), "prefixes of %s(\"%s\")", kind_name[good[i].k],
		       show(good[i].in, good[i].len));
		CHECKF(separators_ok(&good[i]), "separators of %s(\"%s\")", kind_name[good[i].k],
		       show(good[i].in, good[i].len));
		CHECKF(mutations_ok(&good[i]), "mutations of %s(\"%s\")", kind_name[good[i].k],
		       show(good[i].in, good[i].len));
	}
}

/* ------------------------------------------------------------- encoders */

/* b's text equals want, exactly. */
static int is(struct rsp_buf *b, int err, const char *want)
{
	int ok = err == 0 && b->data && strcmp(b->data, want) == 0;

	if (!ok)
		fprintf(stderr, "  got \"%s\" (%d), want \"%s\"\n", b->data ? b->data : "", err,
			want);
	rsp_buf__reset(b);
	return ok;
}

static void test_enc_tstatus(void)
{
	struct rsp_tstatus s = {.state = RSP_TS_NOT_RUN, .size = 0x100000};
	struct rsp_buf b;

	rsp_buf__init(&b);
	CHECK(is(&b, rsp_enc_tstatus(&b, &s),
		 "T0;tnotrun:0;tframes:0;tcreated:0;tfree:0;tsize:100000;circular:0;disconn:0;"
		 "starttime:0;stoptime:0;username:;notes:"));
	s.running = true;
	s.state = RSP_TS_RUNNING;
	s.frames = 3;
	s.created = 0x11;
	s.free = 0xff00;
	s.circular = true;
	s.disconn = true;
	s.start_us = 0x5f;
	s.user_hex = "6a6f";
	s.notes_hex = "6869";
	CHECK(is(&b, rsp_enc_tstatus(&b, &s),
		 "T1;trunning:0;tframes:3;tcreated:11;tfree:ff00;tsize:100000;circular:1;"
		 "disconn:1;starttime:5f;stoptime:0;username:6a6f;notes:6869"));
	/* The stub's own notes follow GDB's, hex-encoded. */
	s.more_notes = "; ab";
	CHECK(is(&b, rsp_enc_tstatus(&b, &s),
		 "T1;trunning:0;tframes:3;tcreated:11;tfree:ff00;tsize:100000;circular:1;"
		 "disconn:1;starttime:5f;stoptime:0;username:6a6f;notes:68693b206162"));
	memset(&s, 0, sizeof(s));
	/* tstop with no notes is "tstop::0", never "tstop:0" (GDB's tsave). */
	s.state = RSP_TS_STOP;
	CHECK(is(&b, rsp_enc_tstatus(&b, &s),
		 "T0;tstop::0;tframes:0;tcreated:0;tfree:0;tsize:0;circular:0;disconn:0;"
		 "starttime:0;stoptime:0;username:;notes:"));
	s.stop_notes_hex = "6f6b";
	s.stop_us = 0x10;
	CHECK(is(&b, rsp_enc_tstatus(&b, &s),
		 "T0;tstop:6f6b:0;tframes:0;tcreated:0;tfree:0;tsize:0;circular:0;disconn:0;"
		 "starttime:0;stoptime:10;username:;notes:"));
	s.state = RSP_TS_FULL;
	rsp_enc_tstatus(&b, &s);
	CHECK(strncmp(b.data, "T0;tfull:0;tframes:", 19) == 0);
	rsp_buf__reset(&b);
	s.state = RSP_TS_PASS;
	s.stop_tp = 0x1a;
	rsp_enc_tstatus(&b, &s);
	CHECK(strncmp(b.data, "T0;tpasscount:1a;tframes:", 25) == 0);
	rsp_buf__reset(&b);
	s.state = RSP_TS_ERROR;
	s.stop_msg = "no";
	s.stop_tp = 0;
	rsp_enc_tstatus(&b, &s);
	CHECK(strncmp(b.data, "T0;terror:6e6f:0;tframes:", 25) == 0);
	rsp_buf__reset(&b);
	s.state = RSP_TS_DISCONNECTED;
	rsp_enc_tstatus(&b, &s);
	CHECK(strncmp(b.data, "T0;tdisconnected:0;tframes:", 27) == 0);
	rsp_buf__reset(&b);
	s.state = RSP_TS_STOP_MSG;
	s.stop_msg = "t/o";
	rsp_enc_tstatus(&b, &s);
	CHECK(strncmp(b.data, "T0;tstop:742f6f:0;tframes:", 26) == 0);
	rsp_buf__free(&b);
}

static void test_enc_items(void)
{
	static const uint8_t cond[] = {0x22, 0x07, 0x27};
	struct rsp_tp_def d = {.num = 2, .addr = 0x401136, .enabled = true, .pass = 5};
	struct rsp_buf b;

	rsp_buf__init(&b);
	CHECK(is(&b, rsp_enc_tp_status(&b, 0x2a, 0x1000), "V2a:1000"));
	CHECK(is(&b, rsp_enc_tp_status(&b, 0, 0), "V0:0"));
	CHECK(is(&b, rsp_enc_tp_def(&b, &d), "T2:401136:E:0:5"));
	d.enabled = false;
	d.step = 1;
	d.cond = cond;
	d.condlen = sizeof(cond);
	CHECK(is(&b, rsp_enc_tp_def(&b, &d), "T2:401136:D:1:5:X3,220727"));
	CHECK(is(&b, rsp_enc_tp_actions_item(&b, 0x1f, 0x401136, "R3M-1,404060,4"),
		 "A1f:401136:R3M-1,404060,4"));
	CHECK(is(&b, rsp_enc_tp_src(&b, 1, 0x4011a0, "at", 0, 8, "6d61696e2e633a38"),
		 "Z1:4011a0:at:0:8:6d61696e2e633a38"));
	rsp_buf__free(&b);
}

static void test_enc_actions(void)
{
	static const uint8_t ax[] = {0x26, 0x00, 0x01, 0x27};
	const struct rsp_tp_act a[] = {
		{.kind = RSP_TPA_REGS, .regmask = 0x0fffffffffffffffull},
		{.kind = RSP_TPA_MEM, .basereg = 14, .offset = 0x98, .len = 8},
		{.kind = RSP_TPA_MEM, .basereg = -1, .offset = 0x404060, .len = 4},
		{.kind = RSP_TPA_MEM, .basereg = 6, .offset = -16, .len = 8},
		{.kind = RSP_TPA_EXPR, .ax = ax, .axlen = sizeof(ax)},
	};
	struct rsp_qtdp_actions p;
	struct rsp_buf b;
	size_t i;

	rsp_buf__init(&b);
	CHECK(is(&b, rsp_enc_tp_action(&b, &a[0]), "Rfffffffffffffff"));
	CHECK(is(&b, rsp_enc_tp_action(&b, &a[1]), "Me,98,8"));
	CHECK(is(&b, rsp_enc_tp_action(&b, &a[2]), "Mffffffff,404060,4"));
	CHECK(is(&b, rsp_enc_tp_action(&b, &a[3]), "M6,fffffffffffffff0,8"));
	CHECK(is(&b, rsp_enc_tp_action(&b, &a[4]), "X4,26000127"));
	/* Concatenated, as one QTDP action packet: the parser reads it back. */
	rsp_buf__puts(&b, "1:401136:");
	for (i = 0; i < ARRAY_SIZE(a); i++)
		CHECK(rsp_enc_tp_action(&b, &a[i]) == 0);
	CHECK(rsp_parse_qtdp_actions(b.data, b.len, &p) == 0 && p.n == ARRAY_SIZE(a));
	CHECK(p.a[0].kind == RSP_TPA_REGS && p.a[0].regmask[0] == a[0].regmask);
	CHECK(p.a[1].kind == RSP_TPA_MEM && p.a[1].basereg == 14 && p.a[1].offset == 0x98);
	CHECK(p.a[2].basereg == -1 && p.a[2].offset == 0x404060 && p.a[2].len == 4);
	CHECK(p.a[3].basereg == 6 && p.a[3].offset == -16);
	CHECK(p.a[4].kind == RSP_TPA_EXPR && p.a[4].expr.len == sizeof(ax));
	rsp_buf__free(&b);
}

int main(void)
{
	run_rows(good, ARRAY_SIZE(good));
	run_rows(bad, ARRAY_SIZE(bad));
	test_hex_decode();
	test_blob_pointers();
	test_regmask();
	test_limits();
	test_stepping();
	test_damage();
	test_enc_tstatus();
	test_enc_items();
	test_enc_actions();
	return check_summary("rsp-trace");
}
