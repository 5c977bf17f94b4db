/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ax.c - the agent expression validator and compiler, pure.
 *
 * Tables of bytecode: every expression GDB 13 sent in the reference
 * sessions (docs qtdp-reference-*.txt) must be accepted with the stack
 * depth and record blocks worked out by hand; every refusal reason must
 * come back with a message naming the instruction and its byte offset.
 * Constant folding is checked through the one place it shows, the static
 * length of a trace.  Then each accepted expression is compiled (no
 * kernel needed) and the instructions are checked for what the verifier
 * will insist on: forward jumps inside the program, stack accesses inside
 * the frame.  Last, the record walker on hand-made expression blocks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "tests/unit/check.h"
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/record.h"

struct tctx {
	int pass, fail;
};

#define CHECK TCHECK

/* ---- accepted ---- */

struct good {
	const char *what;
	const char *hex;
	unsigned int flags;
	unsigned int depth; /* max depth */
	unsigned int nblocks;
	size_t rec_size;
};

#define VB(n) (BPFC_VBLK_HDR + (n)) /* a VMEM block of capacity n */
#define DYN   (BPFC_VBLK_HDR + BPFC_AX_TRACE_MAX)

static const struct good goods[] = {
	/* qtdp-reference-O0.txt */
	{"O0 $args a", "26000622100222dc16080222040c27", 0, 2, 1, VB(4)},
	{"O0 $args b", "26000622100222d016080222080c27", 0, 2, 1, VB(8)},
	{"O0 $args c", "26000622100222c816080222080c27", 0, 2, 1, VB(8)},
	{"O0 $args d", "26000622100222c016080222080c27", 0, 2, 1, VB(8)},
	{"O0 $locals 1", "26000622100222ec16080222040c27", 0, 2, 1, VB(4)},
	{"O0 $locals 2", "26000622100222e016080222080c27", 0, 2, 1, VB(8)},
	{"O0 *ptr@16", "26000622100222c01608020d081a22100c27", 0, 2, 2, VB(8) + VB(16)},
	{"O0 s->field", "26000622100222c81608020d081a22040c27", 0, 2, 2, VB(8) + VB(4)},
	{"O0 *s", "26000622100222c81608020d081a22380c27", 0, 2, 2, VB(8) + VB(0x38)},
	{"O0 global_s.name", "24004040c022040222100c27", 0, 2, 1, VB(16)},
	{"O0 global_array[2]", "24004040802202220804022a4022080c27", 0, 3, 1, VB(8)},
	{"O0 $_ret", "26000622080222080c27", 0, 2, 1, VB(8)},
	{"O0 cond a > 5", "26000622100222dc16080219162022052b1427", BPFC_AX_COND, 2, 0, 0},
	{"O0 collect $c", "2c00012e00012927", 0, 1, 1, BPFC_TBLK_SIZE},
	{"O0 teval $c=$c+1", "2c000122010216402d000127", 0, 2, 0, 0},
	{"O0 teval $d=a", "26000622100222dc1608022d000219162027", 0, 2, 0, 0},
	{"O0 leaf x", "26000622100222e816080222080c27", 0, 2, 1, VB(8)},
	/* qtdp-reference-O2.txt */
	{"O2 optimized out", "27", 0, 0, 0, 0},
	{"O2 $locals 1", "2600052201092927", 0, 2, 0, 0},
	{"O2 $locals 2", "26000522010922200922200a260004022927", 0, 2, 0, 0},
	{"O2 *ptr@16", "2600022a4022100c27", 0, 2, 1, VB(16)},
	{"O2 s->field", "2600032a4022040c27", 0, 2, 1, VB(4)},
	{"O2 *s", "2600032a4022380c27", 0, 2, 1, VB(0x38)},
	{"O2 global_s.name", "24004040a022040222100c27", 0, 2, 1, VB(16)},
	{"O2 global_array[2]", "24004040e02202220804022a4022080c27", 0, 3, 1, VB(8)},
	{"O2 cond a > 5", "260005162022052b1427", BPFC_AX_COND, 2, 0, 0},
	/* qtdp-reference-strings-O0.txt */
	{"/s *global_str", "24004041400d081a22010c27", 0, 2, 2, VB(8) + VB(1)},
	{"/s global_str + 0", "24004041400d081a2200022a402300c82f27", 0, 2, 2, VB(8) + VB(201)},
	{"/s (char *)global_str", "24004041400d081a2300c82f27", 0, 2, 2, VB(8) + VB(201)},
	{"/s ptr", "26000622100222c01608020d081a2300c82f27", 0, 2, 2, VB(8) + VB(201)},
	{"/s3 global_str + 0", "24004041400d081a2200022a4022032f27", 0, 2, 2, VB(8) + VB(4)},
	{"teval $cnt=$cnt-1", "2c000122010316402d000127", 0, 2, 0, 0},
	/* control flow and the rest */
	{"unreachable garbage after end", "27ffff00", 0, 0, 0, 0},
	{"goto over garbage", "2201210006ff27", 0, 1, 0, 0},
	{"a ? 7 : 5", "220120000a220721000c220527", 0, 1, 0, 0},
	{"a ? 7 : 5 as a condition", "220120000a220721000c220527", BPFC_AX_COND, 1, 0, 0},
	{"two jumps to one place", "220120000a220120000a27", 0, 1, 0, 0},
	{"skipped trace", "220120000b2600052208 0c27", 0, 2, 1, VB(8)},
	{"dynamic trace", "2600052600040c27", 0, 2, 1, DYN},
	{"dynamic tracenz", "2600052600042f27", 0, 2, 1, DYN + 1},
	{"trace16 and trace_quick 0", "2600053001000d0027", 0, 1, 1, VB(256)},
	{"trace of 0 bytes", "26000522000c27", 0, 2, 0, 0},
	{"tracenz of 0 bytes", "26000522002f27", 0, 2, 0, 0},
	{"tracev of a builtin", "2e000127", 0, 0, 1, BPFC_TBLK_SIZE},
	{"reg eflags", "26001127", 0, 1, 0, 0},
	{"pick, rot, dup, swap", "2201220222033201332b28292929292927", 0, 5, 0, 0},
	{"every integer op",
	 "2209220302220203220204220205220206220207220208220209"
	 "22020a22020b22030f2203102203111222031322031422031516081610"
	 "2a102a400e292727",
	 0, 2, 0, 0},
	{"refs", "2600051726000518260005192600051a2929292927", 0, 4, 0, 0},
	{"depth 32",
	 "2200220022002200220022002200220022002200220022002200220022002200"
	 "2200220022002200220022002200220022002200220022002200220022002200"
	 "27",
	 0, 32, 0, 0},
	{"const64", "25112233445566778827", 0, 1, 0, 0},
	{"zero_ext 0, ext 64", "22ff2a0016402a4027", 0, 1, 0, 0},
};

static void test_goods(struct tctx *t)
{
	unsigned char code[512];
	char msg[256];
	size_t i, n;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct bpfc_ax ax;
		int err;

		n = unhex(g->hex, code, sizeof(code));
		err = bpfc_ax__parse(&ax, code, n, g->flags, msg, sizeof(msg));
		CHECK(t,
		      !err && ax.max_depth == g->depth && ax.nblocks == g->nblocks &&
			      ax.rec_size == g->rec_size,
		      "%s: err %d '%s', depth %u (want %u), blocks %u (want %u), record %zu (want "
		      "%zu)",
		      g->what, err, msg, ax.max_depth, g->depth, ax.nblocks, g->nblocks,
		      ax.rec_size, g->rec_size);
		bpfc_ax__free(&ax);
	}
}

/* ---- refused ---- */

struct bad {
	const char *what;
	const char *hex;
	unsigned int flags;
	int err;
	const char *frag; /* must appear in the message */
};

static const struct bad bads[] = {
	{"empty", "", 0, -EINVAL, "agent expression: empty"},
	{"unknown 0x00", "00", 0, -EINVAL, "unknown opcode 0x00 at byte 0"},
	{"unknown 0x31", "220131", 0, -EINVAL, "unknown opcode 0x31 at byte 2"},
	{"unknown 0xff", "2201292201ff", 0, -EINVAL, "unknown opcode 0xff at byte 5"},
	{"unknown 0x35", "35", 0, -EINVAL, "unknown opcode 0x35 at byte 0"},
	{"truncated const8", "22", 0, -EINVAL, "truncated const8 at byte 0"},
	{"truncated const16", "220123ff", 0, -EINVAL, "truncated const16 at byte 2"},
	{"truncated const64", "2501020304050607", 0, -EINVAL, "truncated const64 at byte 0"},
	{"truncated reg", "2600", 0, -EINVAL, "truncated reg at byte 0"},
	{"truncated goto", "2100", 0, -EINVAL, "truncated goto at byte 0"},
	{"truncated if_goto", "220120", 0, -EINVAL, "truncated if_goto at byte 2"},
	{"truncated getv", "2c00", 0, -EINVAL, "truncated getv at byte 0"},
	{"underflow add", "220102", 0, -EINVAL, "stack underflow at byte 2: add needs 2 values"},
	{"underflow pop", "29", 0, -EINVAL, "stack underflow at byte 0: pop needs 1 value,"},
	{"underflow rot", "2201220133", 0, -EINVAL, "stack underflow at byte 4: rot needs 3"},
	{"underflow pick", "2201320127", 0, -EINVAL, "stack underflow at byte 2: pick needs 2"},
	{"underflow trace", "22010c27", 0, -EINVAL, "stack underflow at byte 2: trace needs 2"},
	{"underflow if_goto", "20000327", 0, -EINVAL, "stack underflow at byte 0: if_goto"},
	{"underflow setv", "2d000127", 0, -EINVAL, "stack underflow at byte 0: setv"},
	{"overflow",
	 "2200220022002200220022002200220022002200220022002200220022002200"
	 "2200220022002200220022002200220022002200220022002200220022002200"
	 "220027",
	 0, -EINVAL, "stack overflow at byte 64: const8 makes 33 values, at most 32"},
	{"overflow by dup",
	 "2200" /* then 31 dups */
	 "28282828282828282828282828282828282828282828282828282828282828"
	 "2827",
	 0, -EINVAL, "stack overflow at byte 33: dup makes 33"},
	{"jump outside", "2201200010 27", 0, -EINVAL,
	 "if_goto at byte 2 jumps to byte 16, outside the expression (6 bytes)"},
	{"jump to the end", "2201200006 27", 0, -EINVAL, "jumps to byte 6, outside"},
	{"goto outside", "21ffff27", 0, -EINVAL, "goto at byte 0 jumps to byte 65535, outside"},
	{"jump inside an instruction", "2201200007230027 2927", 0, -EINVAL,
	 "a jump lands at byte 7, inside the const16 at byte 5"},
	{"jump into its own operand", "2201200003 27", 0, -EINVAL,
	 "if_goto at byte 2 jumps to byte 3, inside its own operand"},
	{"backward jump", "220122012000002727", 0, -EINVAL,
	 "backward jump at byte 4 to byte 0 (loops cannot be proven to end)"},
	{"backward goto, unreachable", "2701210000", 0, 0, ""},
	{"backward goto reached", "22012100062721000227", 0, -EINVAL,
	 "backward jump at byte 6 to byte 2"},
	{"jump to itself", "2201200002 27", 0, -EINVAL,
	 "if_goto at byte 2 jumps to itself (loops cannot be proven to end)"},
	{"goto itself", "210000", 0, -EINVAL, "goto at byte 0 jumps to itself"},
	{"float", "01", 0, -EINVAL, "float at byte 0: floating point is not supported"},
	{"ref_float", "260005 1b 27", 0, -EINVAL, "ref_float at byte 3: floating point"},
	{"ref_double", "2600051c27", 0, -EINVAL, "ref_double at byte 3: floating point"},
	{"ref_long_double", "2600051d27", 0, -EINVAL, "ref_long_double at byte 3"},
	{"l_to_d", "22011e27", 0, -EINVAL, "l_to_d at byte 2: floating point"},
	{"d_to_l", "22011f27", 0, -EINVAL, "d_to_l at byte 2: floating point"},
	{"printf", "3400", 0, -EINVAL, "printf at byte 0 is not supported"},
	{"reg 18", "26001227", 0, -EINVAL,
	 "reg 18 at byte 0: BPF reads registers 0-17 only (rax..r15, rip, eflags)"},
	{"reg 57", "26003927", 0, -EINVAL, "reg 57 at byte 0"},
	{"reg 0x1000", "26100027", 0, -EINVAL, "reg 4096 at byte 0"},
	{"no end", "2201", 0, -EINVAL,
	 "runs past its last byte after the const8 at byte 0 (no end)"},
	{"no end after pop", "220129", 0, -EINVAL, "after the pop at byte 2 (no end)"},
	{"no end on a branch", "2201200006 272201", 0, -EINVAL,
	 "runs past its last byte after the const8 at byte 6"},
	{"no end after if_goto", "2201200005", 0, -EINVAL, "jumps to byte 5, outside"},
	{"no end on the taken path", "220120000627 22", 0, -EINVAL, "truncated const8 at byte 6"},
	{"depths differ", "220120000722022727", 0, -EINVAL,
	 "stack depth differs where paths join at byte 7 (1 on one path, 0 on another)"},
	{"depths differ, two jumps", "220122012201 20000d 29 20000d 27", 0, -EINVAL,
	 "stack depth differs where paths join at byte 13 (2 on one path, 0 on another)"},
	{"ext 0", "2201160027", 0, -EINVAL, "ext 0 at byte 2 (a zero-bit field has no sign)"},
	{"condition traces", "26000522040c2201 27", BPFC_AX_COND, -EINVAL,
	 "trace at byte 5 collects, and a condition cannot collect"},
	{"condition tracev", "2e000122012727", BPFC_AX_COND, -EINVAL, "tracev at byte 0 collects"},
	{"condition tracenz", "26000522042f220127", BPFC_AX_COND, -EINVAL, "tracenz at byte 5"},
	{"condition trace_quick", "2600050d0427", BPFC_AX_COND, -EINVAL, "trace_quick at byte 3"},
	{"condition without a value", "27", BPFC_AX_COND, -EINVAL,
	 "end at byte 0 leaves no value, and a condition needs one"},
};

static void test_bads(struct tctx *t)
{
	unsigned char code[512];
	char msg[256];
	size_t i, n;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		int err;

		n = unhex(b->hex, code, sizeof(code));
		memset(msg, 'x', sizeof(msg));
		err = bpfc_ax__check(code, n, b->flags, msg, sizeof(msg));
		CHECK(t, err == b->err && strstr(msg, b->frag) && !strchr(msg, '\n'),
		      "%s: err %d (want %d), message '%s' (want '%s')", b->what, err, b->err, msg,
		      b->frag);
	}
}

/* Limits that need generated input. */
static void test_limits(struct tctx *t)
{
	static unsigned char code[BPFC_AX_MAX_LEN + 2];
	char msg[256];
	size_t n = 0;
	int err, i;

	/* Longest accepted: pops and pushes to the brim. */
	memset(code, BPFC_AXOP_DUP, sizeof(code));
	code[0] = BPFC_AXOP_CONST8;
	code[1] = 7;
	for (n = 2; n + 2 < BPFC_AX_MAX_LEN; n += 2) {
		code[n] = BPFC_AXOP_DUP;
		code[n + 1] = BPFC_AXOP_POP;
	}
	code[n++] = BPFC_AXOP_POP;
	while (n < BPFC_AX_MAX_LEN)
		code[n++] = BPFC_AXOP_END;
	err = bpfc_ax__check(code, BPFC_AX_MAX_LEN, 0, msg, sizeof(msg));
	CHECK(t, !err, "%u bytes: %d '%s'", BPFC_AX_MAX_LEN, err, msg);
	err = bpfc_ax__check(code, BPFC_AX_MAX_LEN + 1, 0, msg, sizeof(msg));
	CHECK(t, err == -E2BIG && strstr(msg, "4097 bytes, more than the 4096"),
	      "%u bytes: %d '%s'", BPFC_AX_MAX_LEN + 1, err, msg);

	/* A record too large: 2 x trace16 65535 fits an expression, 3 do not... */
	n = 0;
	code[n++] = BPFC_AXOP_REG;
	code[n++] = 0;
	code[n++] = 5;
	for (i = 0; i < 2; i++) {
		code[n++] = BPFC_AXOP_TRACE16;
		code[n++] = 0x7f;
		code[n++] = 0xff;
	}
	code[n++] = BPFC_AXOP_END;
	err = bpfc_ax__check(code, n, 0, msg, sizeof(msg));
	CHECK(t,
	      err == -E2BIG && strstr(msg, "collects more than 65536 bytes per hit (at the "
					   "trace16 at byte 6)"),
	      "two 32K trace16: %d '%s'", err, msg);

	/* A tiny or absent message buffer is fine. */
	err = bpfc_ax__check("\x02", 1, 0, msg, 5);
	CHECK(t, err == -EINVAL && strlen(msg) == 4, "msg of 5: %d '%s'", err, msg);
	err = bpfc_ax__check("\x02", 1, 0, NULL, 0);
	CHECK(t, err == -EINVAL, "no msg: %d", err);
	err = bpfc_ax__check(NULL, 3, 0, msg, sizeof(msg));
	CHECK(t, err == -EINVAL, "NULL code: %d", err);
}

/* ---- constant folding, seen through a trace's static length ---- */

struct fold {
	const char *what;
	const char *hex; /* pushes the length; "reg rdi" before, "trace; end" after */
	__u64 len;	 /* ~0: not static (DYN) */
};

static const struct fold folds[] = {
	{"const8", "2210", 16},
	{"const16", "230102", 0x102},
	{"const32", "2400000203", 0x203},
	{"const64", "250000000000000204", 0x204},
	{"add", "22052206 02", 11},
	{"sub wraps, ext 8", "22052206 03 1608 22 10 02", 15},
	{"mul", "22052206 04", 30},
	{"div_signed", "2264 22fd 1608 05 2200 2b 03", 33},
	{"div_unsigned", "2264 2203 06", 33},
	{"rem_signed", "22 9c 1608 2207 07 2200 2b 03", 2},
	{"rem_unsigned", "2264 2207 08", 2},
	{"div by a known zero is not static", "2264 2200 06", ~0ull},
	{"lsh modulo 64", "2203 2241 09", 6},
	{"rsh_signed", "22 80 1608 2201 0a 2a08", 0xc0},
	{"rsh_unsigned", "2280 2201 0b", 0x40},
	{"log_not", "2200 0e 2207 02", 8},
	{"bit_and/or/xor", "22ff 220f 0f 2230 10 2203 11", 0x3c},
	{"bit_not", "22f0 12 2a08", 0x0f},
	{"equal", "2205 2205 13 2205 2206 13 02", 1},
	{"less_signed", "22ff 1608 2201 14", 1},
	{"less_unsigned", "22ff 1608 2201 15", 0},
	{"zero_ext", "23 1234 2a08", 0x34},
	{"dup, swap", "2203 2204 2b 29 28 02", 8},
	{"pick", "2203 2204 3201 02 2b 29", 7},
	{"rot", "2201 2202 2203 33 29 29", 3},
	{"setv keeps the value", "220a 2d0001", 10},
	{"getv is unknown", "2c0001", ~0ull},
	{"ref is unknown", "2600052a40 17", ~0ull},
	{"both branches agree", "2209 2201 200010 2201 29 210013 2202 29", 9},
	/* Two constants that disagree: unknown, but bounded by the larger. */
	{"branches disagree", "2201 20000d 2209 21000f 220a", 10},
	/* An upper bound (struct st in ax_check.c): bit_and with a constant. */
	{"bit_and bounds", "26000422ff0f", 255},
	{"bit_and bounds either side", "22ff2600040f", 255},
	{"the smaller bound", "26000422ff0f 227f0f", 127},
	{"a bound survives swap", "26000422100f 2600032b", 16},
	/* min(rsi, 200), then & 255: bounded by 255 */
	{"clamp", "260004 28 22c8 15 200010 29 22c8 22ff0f", 255},
	{"add loses the bound", "26000422100f 2201 02", ~0ull},
	{"a bound of 0 is none", "26000422000f", ~0ull},
};

static void test_folds(struct tctx *t)
{
	unsigned char code[256];
	char msg[256], hex[512];
	size_t i, n;

	for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
		const struct fold *f = &folds[i];
		size_t want;
		struct bpfc_ax ax;
		int err;

		/* reg rdi; <push length>; trace; end */
		snprintf(hex, sizeof(hex), "260005 %s 0c27", f->hex);
		n = unhex(hex, code, sizeof(code));
		err = bpfc_ax__parse(&ax, code, n, 0, msg, sizeof(msg));
		want = f->len == ~0ull ? DYN : f->len ? VB(f->len) : 0;
		CHECK(t, !err && ax.rec_size == want, "fold %s: err %d '%s', record %zu (want %zu)",
		      f->what, err, msg, ax.rec_size, want);
		bpfc_ax__free(&ax);
	}
}

/* ---- the compiler ---- */

static const struct bpfc_tsv_slot tsv_map[] = {{1, 0}, {2, 1}, {0x1234, 2}};
static const struct bpfc_tsvs tsvs = {.fd = 100,
				      .map = tsv_map,
				      .n = 3,
				      .timestamp = 7,
				      .timestamp_offset_us = 1700000000000000ll,
				      .thread = 8};

/* Forward jumps inside, stack in the frame, exits reachable: what the verifier wants. */
static int check_insns(const struct bpf_insn *in, size_t n, char *why, size_t wlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		__u8 cls = BPF_CLASS(in[i].code);

		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
			i++;
			continue;
		}
		if ((cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(in[i].code) != BPF_CALL &&
		    BPF_OP(in[i].code) != BPF_EXIT) {
			if (in[i].off < 0 || i + 1 + (size_t)in[i].off > n) {
				snprintf(why, wlen, "jump at %zu by %d", i, in[i].off);
				return -1;
			}
		}
		if ((cls == BPF_STX || cls == BPF_ST || cls == BPF_LDX) &&
		    ((cls == BPF_LDX ? in[i].src_reg : in[i].dst_reg) == BPFC_R10) &&
		    (in[i].off >= 0 || in[i].off < -(BPFC_AX_FP_SLOT0 + 8 * 31))) {
			snprintf(why, wlen, "stack access at %zu: fp%+d", i, in[i].off);
			return -1;
		}
	}
	return 0;
}

/* Compile code as an action (or condition) between a prologue and an exit. */
static int compile(const unsigned char *code, size_t n, unsigned int flags,
		   const struct bpfc_tsvs *vars, struct bpf_insn **out, size_t *nout, char *msg,
		   size_t mlen)
{
	struct bpfc_emit e;
	struct bpfc_ax ax;
	int err, l;

	*out = NULL;
	bpfc_emit__init(&e);
	err = bpfc_ax__parse(&ax, code, n, flags, msg, mlen);
	if (err)
		goto cleanup;
	l = bpfc_emit__label(&e);
	bpfc_ax__emit_blocks(&ax, &e, 600);
	err = bpfc_ax__emit(&ax, &e, vars, 600, l, msg, mlen);
	if (err)
		goto cleanup;
	bpfc_emit__bind(&e, l);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	err = bpfc_emit__finish(&e);
	if (err)
		goto cleanup;
	*out = bpfc_emit__take(&e, nout);
cleanup:
	bpfc_ax__free(&ax);
	bpfc_emit__free(&e);
	return err;
}

static size_t count_atomic_fetch(const struct bpf_insn *in, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (in[i].code == (BPF_STX | BPF_DW | BPF_ATOMIC) &&
		    in[i].imm == (BPF_ADD | BPF_FETCH))
			k++;
	return k;
}

static void test_compile(struct tctx *t)
{
	unsigned char code[512];
	struct bpf_insn *in;
	char msg[256], why[128];
	size_t i, n, ni;
	int err;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		n = unhex(goods[i].hex, code, sizeof(code));
		err = compile(code, n, goods[i].flags, &tsvs, &in, &ni, msg, sizeof(msg));
		why[0] = '\0';
		CHECK(t, !err && !check_insns(in, ni, why, sizeof(why)), "compile %s: %d '%s' %s",
		      goods[i].what, err, msg, why);
		free(in);
	}

	/* teval $c = $c + 1 (and - 1, and 1 + $c) become one atomic fetch-and-add. */
	{
		static const char *const atomics[] = {
			"2c000122010216402d000127",
			"2c000122010316402d000127",
			"22012c0001022d000127",
			"2c00012201022d000127",
			"2c12342500000001000000000216402d123427",
		};
		static const char *const plain[] = {
			"2c000122010216402d000227", /* setv of another variable */
			"2c000122010416402d000127", /* mul */
			"2201 2c0001 03 2d000127",  /* K - $c */
			"2c000722010216402d000727", /* the builtin timestamp: no map slot */
			"2c000122010216202d000127", /* ext 32 changes the value */
		};

		for (i = 0; i < sizeof(atomics) / sizeof(atomics[0]); i++) {
			n = unhex(atomics[i], code, sizeof(code));
			err = compile(code, n, 0, &tsvs, &in, &ni, msg, sizeof(msg));
			CHECK(t, !err && count_atomic_fetch(in, ni) == 1,
			      "atomic pattern %s: %d '%s', %zu atomic adds", atomics[i], err, msg,
			      in ? count_atomic_fetch(in, ni) : 0);
			free(in);
		}
		for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
			n = unhex(plain[i], code, sizeof(code));
			err = compile(code, n, 0, &tsvs, &in, &ni, msg, sizeof(msg));
			/* setv of the builtin is refused; the others compile to plain code. */
			CHECK(t,
			      i == 3 ? err == -EINVAL && strstr(msg, "setv at byte 8 assigns the "
								     "builtin variable 7")
				     : !err && count_atomic_fetch(in, ni) == 0,
			      "no atomic pattern %s: %d '%s'", plain[i], err, msg);
			free(in);
		}
	}

	/* Variables the spec does not define. */
	n = unhex("2c000327", code, sizeof(code));
	err = compile(code, n, 0, &tsvs, &in, &ni, msg, sizeof(msg));
	CHECK(t,
	      err == -EINVAL && strstr(msg, "trace state variable 3 is not defined (getv at "
					    "byte 0)"),
	      "undefined getv: %d '%s'", err, msg);
	free(in);
	n = unhex("2e000127", code, sizeof(code));
	err = compile(code, n, 0, NULL, &in, &ni, msg, sizeof(msg));
	CHECK(t, err == -EINVAL && strstr(msg, "trace state variable 1 is not defined (tracev"),
	      "tracev without variables: %d '%s'", err, msg);
	free(in);
	n = unhex("22012d000927", code, sizeof(code));
	err = compile(code, n, 0, &tsvs, &in, &ni, msg, sizeof(msg));
	CHECK(t, err == -EINVAL && strstr(msg, "variable 9 is not defined (setv at byte 2)"),
	      "undefined setv: %d '%s'", err, msg);
	free(in);
	/* Builtins need no map. */
	n = unhex("2c00072c0008022e00072e000827", code, sizeof(code));
	{
		struct bpfc_tsvs only = {.timestamp = 7, .thread = 8};

		err = compile(code, n, 0, &only, &in, &ni, msg, sizeof(msg));
		CHECK(t, !err, "builtins without a map: %d '%s'", err, msg);
		free(in);
	}
	/* Emitting with nothing parsed. */
	{
		struct bpfc_ax none;
		struct bpfc_emit e;

		memset(&none, 0, sizeof(none));
		bpfc_emit__init(&e);
		CHECK(t, bpfc_ax__emit(&none, &e, &tsvs, 0, 0, msg, sizeof(msg)) == -EINVAL,
		      "emit of an empty expression");
		bpfc_emit__free(&e);
	}
}

/* ---- the record walker and expression blocks ---- */

struct seen {
	int m, v, r;
	__u64 maddr[4];
	size_t mlen[4];
	const unsigned char *mdata[4];
	__u32 vnum;
	__s64 vval;
};

static int on_block(void *ctx, char type, const void *blk, size_t len)
{
	struct seen *s = ctx;
	const void *d;

	if (type == BPFC_BLK_TSV) {
		if (len != 12)
			return -EPROTO;
		memcpy(&s->vnum, blk, 4);
		memcpy(&s->vval, (const char *)blk + 4, 8);
		s->v++;
		return 0;
	}
	if (type != BPFC_BLK_MEM)
		return -EPROTO;
	if (s->m < 4 && bpfc_rec__mem(blk, len, &s->maddr[s->m], &d, &s->mlen[s->m]))
		return -EPROTO;
	if (s->m < 4)
		s->mdata[s->m] = d;
	s->m++;
	return 0;
}

static size_t put_vmem(unsigned char *p, char type, __u16 cap, __u8 flags, __u64 want, __u64 addr,
		       __u16 len, const char *data)
{
	memset(p, 0xee, BPFC_VBLK_HDR + cap);
	p[0] = (unsigned char)type;
	memcpy(p + BPFC_VBLK_OFF_CAP, &cap, 2);
	p[BPFC_VBLK_OFF_FLAGS] = flags;
	memcpy(p + BPFC_VBLK_OFF_WANT, &want, 8);
	memcpy(p + BPFC_VBLK_OFF_ADDR, &addr, 8);
	memcpy(p + BPFC_VBLK_OFF_LEN, &len, 2);
	memcpy(p + BPFC_VBLK_HDR, data, len);
	return BPFC_VBLK_HDR + cap;
}

static size_t put_v(unsigned char *p, char type, __u32 num, __s64 v)
{
	p[0] = (unsigned char)type;
	memcpy(p + 1, &num, 4);
	memcpy(p + 5, &v, 8);
	return BPFC_TBLK_SIZE;
}

static void test_walker(struct tctx *t)
{
	unsigned char rec[512];
	struct bpfc_rec h = {.tp = 3};
	struct bpfc_rec_stats st;
	struct seen s;
	size_t n = sizeof(h), nskip, len, cuts[8], ncuts = 0;
	int err, ok = 1;

	memset(rec, 0, sizeof(rec));
	cuts[ncuts++] = n;
	n += put_vmem(rec + n, BPFC_BLK_VMEM, 16, 0, 5, 0x1000, 5, "hello");
	cuts[ncuts++] = n;
	n += put_v(rec + n, BPFC_BLK_TSV, 7, -42);
	cuts[ncuts++] = n;
	n += put_vmem(rec + n, BPFC_BLK_VMEM_SKIP, 8, 0, 0, 0, 0, "");
	cuts[ncuts++] = n;
	n += put_v(rec + n, BPFC_BLK_TSV_SKIP, 9, 0);
	cuts[ncuts++] = n;
	n += put_vmem(rec + n, BPFC_BLK_VMEM, 4, BPFC_VBLK_CUT, 100, 0x2000, 4, "abcd");
	cuts[ncuts++] = n;
	h.size = (__u32)(n - sizeof(h));
	memcpy(rec, &h, sizeof(h));
	memset(&s, 0, sizeof(s));
	err = bpfc_rec__foreach_block(rec, n, on_block, &s, &nskip);
	CHECK(t,
	      !err && s.m == 2 && s.v == 1 && nskip == 2 && s.maddr[0] == 0x1000 &&
		      s.mlen[0] == 5 && !memcmp(s.mdata[0], "hello", 5) && s.maddr[1] == 0x2000 &&
		      s.mlen[1] == 4 && !memcmp(s.mdata[1], "abcd", 4) && s.vnum == 7 &&
		      s.vval == -42,
	      "walker on expression blocks: err %d, %d M, %d V, %zu skipped", err, s.m, s.v, nskip);
	err = bpfc_rec__stats(rec, n, &st);
	CHECK(t, !err && st.blocks == 3 && st.skipped == 2 && st.cut == 1 && st.cut_bytes == 96,
	      "stats: err %d blocks %zu skipped %zu cut %zu (%llu bytes)", err, st.blocks,
	      st.skipped, st.cut, (unsigned long long)st.cut_bytes);

	/* Cut anywhere: only block boundaries give a valid, shorter record. */
	for (len = sizeof(h); len <= n; len++) {
		bool at_cut = false;
		size_t c;

		for (c = 0; c < ncuts; c++)
			at_cut |= len == cuts[c];
		h.size = (__u32)(len - sizeof(h));
		memcpy(rec, &h, sizeof(h));
		memset(&s, 0, sizeof(s));
		err = bpfc_rec__foreach_block(rec, len, on_block, &s, NULL);
		if (err != (at_cut ? 0 : -EBADMSG))
			ok = 0;
	}
	CHECK(t, ok, "truncated expression blocks not all rejected");

	/* len > cap is malformed. */
	n = sizeof(h);
	n += put_vmem(rec + n, BPFC_BLK_VMEM, 4, 0, 5, 0x1000, 4, "abcd");
	rec[sizeof(h) + BPFC_VBLK_OFF_LEN] = 5;
	h.size = (__u32)(n - sizeof(h));
	memcpy(rec, &h, sizeof(h));
	err = bpfc_rec__foreach_block(rec, n, on_block, &s, NULL);
	CHECK(t, err == -EBADMSG, "len > cap: %d", err);
}

int main(void)
{
	struct tctx t = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_goods(&t);
	test_bads(&t);
	test_limits(&t);
	test_folds(&t);
	test_compile(&t);
	test_walker(&t);
	printf("ax: %d passed, %d failed\n", t.pass, t.fail);
	return t.fail ? 1 : 0;
}
