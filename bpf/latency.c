/* SPDX-License-Identifier: MIT */
/*
 * bpf/latency.c - the entry program and the latency block of return
 * probes (bpf/latency.h).
 */
#include <errno.h>
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
