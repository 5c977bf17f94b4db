/* SPDX-License-Identifier: MIT */
/*
 * bpf/insn.h - building blocks for raw BPF instructions.
 *
 * bpfstub does not ship a clang-compiled BPF object: every tracepoint is
 * compiled at run time into one BPF program (bpf/collect.c, later the agent
 * expression compiler), so it needs the same instruction constructors the
 * kernel keeps in include/linux/filter.h.  libbpf does not export them, so
 * they live here, with the kernel's names so that anyone who has read a BPF
 * selftest can read our code generators.
 *
 * Every macro below yields one struct bpf_insn as a compound literal, usable
 * both in array initialisers and as an argument to bpfc_emit__insn().  The
 * exception is the 64-bit immediate load, which occupies two instruction
 * slots: BPF_LD_IMM64 / BPF_LD_MAP_FD expand to two comma-separated
 * initialisers (array initialisers only); code generators use
 * bpfc_emit__ld_imm64() / bpfc_emit__ld_map_fd() from bpf/emit.h instead.
 *
 * Registers: R0 return value / helper result, R1-R5 helper arguments
 * (clobbered by calls), R6-R9 callee saved, R10 read-only frame pointer.
 */
#ifndef BPF_INSN_H
#define BPF_INSN_H

#include <linux/bpf.h>

#define BPFC_R0	 0
#define BPFC_R1	 1
#define BPFC_R2	 2
#define BPFC_R3	 3
#define BPFC_R4	 4
#define BPFC_R5	 5
#define BPFC_R6	 6
#define BPFC_R7	 7
#define BPFC_R8	 8
#define BPFC_R9	 9
#define BPFC_R10 10

/* dst = dst OP src (64-bit) */
#define BPF_ALU64_REG(OP, DST, SRC)                                                                \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_OP(OP) | BPF_X,                                 \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = 0,                                                               \
			   .imm = 0})

/* dst = dst OP imm (64-bit, imm sign-extended) */
#define BPF_ALU64_IMM(OP, DST, IMM)                                                                \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_OP(OP) | BPF_K,                                 \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = 0,                                                               \
			   .imm = (IMM)})

/* dst = dst OP src (32-bit, result zero-extended) */
#define BPF_ALU32_REG(OP, DST, SRC)                                                                \
	((struct bpf_insn){.code = BPF_ALU | BPF_OP(OP) | BPF_X,                                   \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = 0,                                                               \
			   .imm = 0})

#define BPF_ALU32_IMM(OP, DST, IMM)                                                                \
	((struct bpf_insn){.code = BPF_ALU | BPF_OP(OP) | BPF_K,                                   \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = 0,                                                               \
			   .imm = (IMM)})

#define BPF_MOV64_REG(DST, SRC)                                                                    \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_X,                                    \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = 0,                                                               \
			   .imm = 0})

#define BPF_MOV64_IMM(DST, IMM)                                                                    \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K,                                    \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = 0,                                                               \
			   .imm = (IMM)})

#define BPF_MOV32_REG(DST, SRC)                                                                    \
	((struct bpf_insn){.code = BPF_ALU | BPF_MOV | BPF_X,                                      \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = 0,                                                               \
			   .imm = 0})

#define BPF_MOV32_IMM(DST, IMM)                                                                    \
	((struct bpf_insn){.code = BPF_ALU | BPF_MOV | BPF_K,                                      \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = 0,                                                               \
			   .imm = (IMM)})

/* Two slots: dst = imm64, src_reg names a pseudo source (0 = plain constant). */
#define BPF_LD_IMM64_RAW(DST, SRC, IMM)                                                            \
	((struct bpf_insn){.code = BPF_LD | BPF_DW | BPF_IMM,                                      \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = 0,                                                               \
			   .imm = (__u32)(IMM)}),                                                  \
		((struct bpf_insn){.code = 0,                                                      \
				   .dst_reg = 0,                                                   \
				   .src_reg = 0,                                                   \
				   .off = 0,                                                       \
				   .imm = (__u32)((__u64)(IMM) >> 32)})

#define BPF_LD_IMM64(DST, IMM)	  BPF_LD_IMM64_RAW(DST, 0, IMM)
#define BPF_LD_MAP_FD(DST, MAPFD) BPF_LD_IMM64_RAW(DST, BPF_PSEUDO_MAP_FD, MAPFD)

/* dst = *(SIZE *)(src + off) */
#define BPF_LDX_MEM(SIZE, DST, SRC, OFF)                                                           \
	((struct bpf_insn){.code = BPF_LDX | BPF_SIZE(SIZE) | BPF_MEM,                             \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = (OFF),                                                           \
			   .imm = 0})

/* *(SIZE *)(dst + off) = src */
#define BPF_STX_MEM(SIZE, DST, SRC, OFF)                                                           \
	((struct bpf_insn){.code = BPF_STX | BPF_SIZE(SIZE) | BPF_MEM,                             \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = (OFF),                                                           \
			   .imm = 0})

/* *(SIZE *)(dst + off) = imm (sign-extended for BPF_DW) */
#define BPF_ST_MEM(SIZE, DST, OFF, IMM)                                                            \
	((struct bpf_insn){.code = BPF_ST | BPF_SIZE(SIZE) | BPF_MEM,                              \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = (OFF),                                                           \
			   .imm = (IMM)})

/* Atomic *(SIZE *)(dst + off) OP= src; OP is BPF_ADD, BPF_AND, ... (| BPF_FETCH) */
#define BPF_ATOMIC_OP(SIZE, OP, DST, SRC, OFF)                                                     \
	((struct bpf_insn){.code = BPF_STX | BPF_SIZE(SIZE) | BPF_ATOMIC,                          \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = (OFF),                                                           \
			   .imm = (OP)})

/* if (dst OP src) goto pc + off + 1 */
#define BPF_JMP_REG(OP, DST, SRC, OFF)                                                             \
	((struct bpf_insn){.code = BPF_JMP | BPF_OP(OP) | BPF_X,                                   \
			   .dst_reg = (DST),                                                       \
			   .src_reg = (SRC),                                                       \
			   .off = (OFF),                                                           \
			   .imm = 0})

/* if (dst OP imm) goto pc + off + 1 */
#define BPF_JMP_IMM(OP, DST, IMM, OFF)                                                             \
	((struct bpf_insn){.code = BPF_JMP | BPF_OP(OP) | BPF_K,                                   \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = (OFF),                                                           \
			   .imm = (IMM)})

#define BPF_JMP32_IMM(OP, DST, IMM, OFF)                                                           \
	((struct bpf_insn){.code = BPF_JMP32 | BPF_OP(OP) | BPF_K,                                 \
			   .dst_reg = (DST),                                                       \
			   .src_reg = 0,                                                           \
			   .off = (OFF),                                                           \
			   .imm = (IMM)})

/* goto pc + off + 1 */
#define BPF_JMP_A(OFF)                                                                             \
	((struct bpf_insn){                                                                        \
		.code = BPF_JMP | BPF_JA, .dst_reg = 0, .src_reg = 0, .off = (OFF), .imm = 0})

/* Call a helper by number (BPF_FUNC_*). */
#define BPF_EMIT_CALL(FUNC)                                                                        \
	((struct bpf_insn){                                                                        \
		.code = BPF_JMP | BPF_CALL, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = (FUNC)})

#define BPF_EXIT_INSN()                                                                            \
	((struct bpf_insn){                                                                        \
		.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0})

#endif
