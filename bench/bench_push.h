/* SPDX-License-Identifier: MIT */
/*
 * bench/bench_push.h - a probe target whose first instruction is surely
 * `push %rbp` (written in assembly), which the kernel's uprobes emulate:
 * one trap per hit instead of a trap and an out-of-line single step.
 * long bench_push(long a, long b, char *buf) returns a + b + buf[0].
 */
#ifndef BENCH_PUSH_H
#define BENCH_PUSH_H

long bench_push(long a, long b, char *buf);
#define BENCH_PUSH_ASM                                                                             \
	".text\n"                                                                                  \
	".globl bench_push\n"                                                                      \
	".type bench_push, @function\n"                                                            \
	"bench_push:\n"                                                                            \
	"	push %rbp\n"                                                                             \
	"	mov %rsp, %rbp\n"                                                                        \
	"	movsbq (%rdx), %rax\n"                                                                   \
	"	add %rsi, %rdi\n"                                                                        \
	"	add %rdi, %rax\n"                                                                        \
	"	pop %rbp\n"                                                                              \
	"	ret\n"                                                                                   \
	".size bench_push, . - bench_push\n"

#endif
