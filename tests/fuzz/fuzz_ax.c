/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_ax.c - libFuzzer target for the agent expression validator and
 * compiler (bpf/ax_check.c, bpf/ax.c).
 *
 * Byte 0: bit 0 parses as a condition, bit 1 leaves the variables
 * undefined; the rest is bytecode, copied into a buffer of exactly its
 * size so that reading one byte too far is an ASan report.  Beyond "no
 * crash, no leak": a refusal has a one-line "agent expression: ..."
 * message and a known errno; an accepted expression has its depth, blocks
 * and record size within the documented limits, parses the same twice,
 * and compiles (no kernel involved) into instructions the verifier can
 * only like: jumps forward and inside the program, stack accesses inside
 * the frame and aligned, the frame pointer never written, only the
 * helpers the compiler is meant to call.  The compiler may refuse only an
 * undefined variable or an assignment to a builtin one.
 *
 *   make fuzz && build/fuzz/fuzz_ax -max_len=4097 build/fuzz/corpus-fuzz_ax tests/fuzz/seeds
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/record.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static const struct bpfc_tsv_slot tsv_map[] = {{1, 0}, {2, 1}, {3, 2}, {0x100, 3}};

static void check_insns(const struct bpf_insn *in, size_t n)
{
	size_t i;

	check(n >= 2 && in[n - 1].code == (BPF_JMP | BPF_EXIT));
	for (i = 0; i < n; i++) {
		__u8 cls = BPF_CLASS(in[i].code);
		int mem_reg = -1;

		check(in[i].dst_reg <= BPFC_R10 && in[i].src_reg <= BPFC_R10);
		if (in[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
			check(i + 1 < n && in[i].dst_reg != BPFC_R10);
			i++;
			continue;
		}
		switch (cls) {
		case BPF_JMP:
		case BPF_JMP32:
			if (BPF_OP(in[i].code) == BPF_CALL) {
				check(in[i].imm == BPF_FUNC_map_lookup_elem ||
				      in[i].imm == BPF_FUNC_probe_read_user ||
				      in[i].imm == BPF_FUNC_probe_read_user_str ||
				      in[i].imm == BPF_FUNC_ktime_get_ns ||
				      in[i].imm == BPF_FUNC_get_current_pid_tgid);
			} else if (BPF_OP(in[i].code) != BPF_EXIT) {
				check(in[i].off >= 0 && i + 1 + (size_t)in[i].off < n);
			}
			break;
		case BPF_ALU:
		case BPF_ALU64:
			check(in[i].dst_reg != BPFC_R10);
			break;
		case BPF_LDX:
			check(in[i].dst_reg != BPFC_R10);
			mem_reg = in[i].src_reg;
			break;
		case BPF_ST:
		case BPF_STX:
			mem_reg = in[i].dst_reg;
			break;
		default:
			check(0);
		}
		if (mem_reg == BPFC_R10) {
			static const int sizes[4] = {4, 2, 1, 8}; /* W H B DW */
			int size = sizes[BPF_SIZE(in[i].code) >> 3];

			check(in[i].off < 0 && in[i].off % size == 0 &&
			      in[i].off >= -(BPFC_AX_FP_SLOT0 + 8 * ((int)BPFC_AX_MAX_DEPTH - 1)));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfc_tsvs vars = {.fd = 3,
				 .map = tsv_map,
				 .n = sizeof(tsv_map) / sizeof(tsv_map[0]),
				 .timestamp = 4,
				 .timestamp_offset_us = -5000000000ll,
				 .thread = 5};
	unsigned int flags;
	struct bpfc_ax ax, again;
	struct bpfc_emit e;
	struct bpf_insn *in;
	char msg[200], msg2[200];
	unsigned char *code;
	size_t n, ni;
	int err, l;

	if (!size)
		return 0;
	flags = data[0] & BPFC_AX_COND;
	if (data[0] & 2)
		vars.n = 0;
	n = size - 1;
	code = malloc(n ? n : 1);
	if (!code)
		return 0;
	memcpy(code, data + 1, n);

	memset(msg, 'x', sizeof(msg));
	err = bpfc_ax__parse(&ax, code, n, flags, msg, sizeof(msg));
	check(strlen(msg) < sizeof(msg) && !strchr(msg, '\n'));
	if (err) {
		check(err == -EINVAL || err == -E2BIG);
		check(!strncmp(msg, "agent expression: ", 18) && strlen(msg) > 18);
		check(!ax.ops && !ax.nops);
		goto out;
	}
	check(!msg[0]);
	check(ax.nops >= 1 && ax.nops <= n);
	check(ax.max_depth <= BPFC_AX_MAX_DEPTH);
	check(ax.rec_size <= BPFC_AX_REC_MAX && ax.nblocks <= ax.nops);
	check(!(flags & BPFC_AX_COND) || !ax.nblocks);

	/* Deterministic: the same verdict and layout the second time. */
	check(!bpfc_ax__parse(&again, code, n, flags, msg2, sizeof(msg2)));
	check(again.nops == ax.nops && again.rec_size == ax.rec_size &&
	      again.max_depth == ax.max_depth && again.nblocks == ax.nblocks);
	bpfc_ax__free(&again);

	bpfc_emit__init(&e);
	l = bpfc_emit__label(&e);
	bpfc_ax__emit_blocks(&ax, &e, 200);
	err = bpfc_ax__emit(&ax, &e, &vars, 200, l, msg, sizeof(msg));
	if (err) {
		check(err == -EINVAL && !strchr(msg, '\n') &&
		      (strstr(msg, "is not defined") || strstr(msg, "assigns the builtin")));
	} else {
		bpfc_emit__bind(&e, l);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
		bpfc_emit__insn(&e, BPF_EXIT_INSN());
		err = bpfc_emit__finish(&e);
		check(!err || err == -E2BIG);
		if (!err) {
			in = bpfc_emit__take(&e, &ni);
			check_insns(in, ni);
			free(in);
		}
	}
	bpfc_emit__free(&e);
	bpfc_ax__free(&ax);
out:
	free(code);
	return 0;
}
