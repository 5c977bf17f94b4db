/* SPDX-License-Identifier: MIT */
/*
 * bpf/latency.c - the entry program and the latency block of return
 * probes (bpf/latency.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/latency.h"
#include "bpf/probe.h"
#include "bpf/prog.h"
#include "bpf/record.h"

#define KEY_OFF	 (-32) /* stack: { id, depth } */
#define VAL_OFF	 (-40) /* stack: the entry time */
#define GDB_R14	 14
#define GDB_RSP	 7
#define OFF_TIME 8 /* struct bpfc_rec.ktime_ns */

int bpfc_lat__clamp_create(void)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_latclamp", sizeof(__u32), sizeof(__u64), 1,
			      NULL);
}

__u64 bpfc_lat__clamped(int clamp_fd)
{
	__u32 key = 0;
	__u64 v = 0;

	if (clamp_fd < 0 || bpf_map_lookup_elem(clamp_fd, &key, &v))
		return 0;
	return v;
}

void bpfc_lat__clamp_reset(int clamp_fd)
{
	__u32 key = 0;
	__u64 v = 0;

	if (clamp_fd >= 0)
		bpf_map_update_elem(clamp_fd, &key, &v, BPF_ANY);
}

/*
 * Mirrors arch/x86/kernel/uprobes.c (branch_setup_xol_ops, push_setup_xol_ops):
 * legacy prefixes then opcode 0x90 (nop, pause, xchg: "prefix* + nop"), jmp
 * rel8/rel32, call rel32, jcc rel8/rel32 without a 0x66 prefix; push of a
 * register alone or with REX 0x41 only.  Everything else is stepped.
 */
enum bpfc_lat_site bpfc_lat__site_kind(const __u8 *code, size_t len)
{
	size_t i = 0;
	bool p66 = false, rex = false;
	__u8 op;

	if (len && code[0] >= 0x50 && code[0] <= 0x57)
		return BPFC_LAT_EMULATED; /* push %reg */
	if (len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57)
		return BPFC_LAT_EMULATED; /* push %r8..%r15 */
	for (; i < len && i < 15; i++) {
		op = code[i];
		if (op == 0x66)
			p66 = true;
		else if (op == 0xf2 || op == 0xf3 || op == 0xf0 || op == 0x2e || op == 0x3e ||
			 op == 0x26 || op == 0x36 || op == 0x64 || op == 0x65 || op == 0x67)
			continue;
		else if (op >= 0x40 && op <= 0x4f && !rex)
			rex = true;
		else
			break;
	}
	if (i >= len)
		return BPFC_LAT_STEPPED;
	op = code[i];
	if (op == 0x90)
		return BPFC_LAT_EMULATED;
	if (p66)
		return BPFC_LAT_STEPPED;
	if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f))
		return BPFC_LAT_EMULATED;
	if (op == 0x0f && i + 1 < len && code[i + 1] >= 0x80 && code[i + 1] <= 0x8f)
		return BPFC_LAT_EMULATED;
	return BPFC_LAT_STEPPED;
}

const char *bpfc_lat__site_name(enum bpfc_lat_site k)
{
	return k == BPFC_LAT_EMULATED ? "emulated" : "single-stepped";
}

int bpfc_lat__map_create(void)
{
	return bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bpfc_lat", 2 * sizeof(__u64), sizeof(__u64),
			      BPFC_LAT_ENTRIES, NULL);
}

/* The key at r10 + KEY_OFF (clobbers r0-r5). */
static void emit_key(struct bpfc_emit *e, const struct bpfc_lat *lat)
{
	int l_ok;

	bpfc_emit__insn(e,
			BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R6, bpfc_regs__ptregs_offset(GDB_RSP)));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R1, KEY_OFF + 8));
	if (!lat->go) {
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R0, KEY_OFF));
		return;
	}
	/* id = g; depth = g.stack.hi - rsp (rsp alone when g cannot be read) */
	bpfc_emit__insn(e,
			BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R6, bpfc_regs__ptregs_offset(GDB_R14)));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R3, KEY_OFF));
	bpfc_emit__insn(e,
			BPF_ALU64_IMM(BPF_ADD, BPFC_R3,
				      lat->go_stack_hi > 0 ? lat->go_stack_hi : BPFC_GO_STACK_HI));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, VAL_OFF));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, 8));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	l_ok = bpfc_emit__label(e);
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_ok);
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R10, VAL_OFF));
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R2, BPFC_R10, KEY_OFF + 8));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R1, BPFC_R2));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R1, KEY_OFF + 8));
	bpfc_emit__bind(e, l_ok);
}

int bpfc_lat__entry_prog(const struct bpfc_lat *lat, const struct bpfc_stop *stop,
			 struct bpfc_prog *out)
{
	struct bpfc_emit e;
	int err;

	bpfc_emit__init(&e);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	bpfc_stop__emit(&e, stop);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R6, BPFC_R1));
	emit_key(&e, lat);
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bpfc_emit__insn(&e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R0, VAL_OFF));
	bpfc_emit__ld_map_fd(&e, BPFC_R1, lat->map_fd);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, KEY_OFF));
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R3, BPFC_R10));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R3, VAL_OFF));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R4, BPF_ANY));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	err = bpfc_emit__finish(&e);
	if (err) {
		snprintf(out->msg, sizeof(out->msg), "cannot generate the entry program");
		goto cleanup;
	}
	out->insns = bpfc_emit__take(&e, &out->ninsns);
	out->multi = bpfc_probe__multi_ok();
	err = bpfc_prog__load(out);
	if (err)
		snprintf(out->msg, sizeof(out->msg), "the kernel refused the entry program: %s",
			 strerror(-err));
cleanup:
	bpfc_emit__free(&e);
	return err;
}

void bpfc_lat__emit_key(struct bpfc_emit *e, const struct bpfc_lat *lat)
{
	emit_key(e, lat);
}

void bpfc_lat__emit_return(struct bpfc_emit *e, const struct bpfc_lat *lat, int blk_off)
{
	int l_none = bpfc_emit__label(e), l_done = bpfc_emit__label(e);

	emit_key(e, lat);
	bpfc_emit__ld_map_fd(e, BPFC_R1, lat->map_fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, KEY_OFF));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_none);
	/* r9 = now - entry, then the entry goes */
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R9, BPFC_R7, OFF_TIME));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R9, BPFC_R1));
	bpfc_emit__ld_map_fd(e, BPFC_R1, lat->map_fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, KEY_OFF));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_delete_elem));
	if (lat->bias_ns) {
		/* The probes' own cost out (latency.h); below it: 0, counted. */
		int l_above = bpfc_emit__label(e), l_net = bpfc_emit__label(e);

		bpfc_emit__ld_imm64(e, BPFC_R1, 0, lat->bias_ns);
		bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JGT, BPFC_R9, BPFC_R1, 0), l_above);
		bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R9, 0));
		if (lat->clamp_fd >= 0) {
			bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R10, KEY_OFF, 0));
			bpfc_emit__ld_map_fd(e, BPFC_R1, lat->clamp_fd);
			bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
			bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, KEY_OFF));
			bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
			bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_net);
			bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R1, 1));
			bpfc_emit__insn(e, BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPFC_R0, BPFC_R1, 0));
		}
		bpfc_emit__jmp(e, BPF_JMP_A(0), l_net);
		bpfc_emit__bind(e, l_above);
		bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R9, BPFC_R1));
		bpfc_emit__bind(e, l_net);
	}
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R7, blk_off, BPFC_BLK_TSV));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R7, blk_off + 1, (__s32)lat->tsv));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R7, BPFC_R9, blk_off + 5));
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_done);
	bpfc_emit__bind(e, l_none);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R7, blk_off, BPFC_BLK_TSV_SKIP));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R7, blk_off + 1, (__s32)lat->tsv));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_DW, BPFC_R7, blk_off + 5, 0));
	bpfc_emit__bind(e, l_done);
}
