/* SPDX-License-Identifier: MIT */
/*
 * bpf/collect.c - the tracepoint collection compiler.
 *
 * Why a compiler: a fixed, clang-built BPF program would have to loop over
 * a list of ranges held in a map, with run-time sizes the verifier cannot
 * bound and a lookup per range per hit.  Generating the program per
 * tracepoint instead makes every size and offset a constant, so the
 * program is straight-line code with forward jumps only, passes the
 * verifier trivially and costs the target no more than the copies
 * themselves.  Agent expressions (conditions, computed collections,
 * trace state variables) are compiled into the same program with the same
 * emitter (bpf/ax.c).
 *
 * The generated program, in order:
 *
 *   stop switch, if any: off -> exit (bpfc_stop__emit)
 *   r6 = ctx (struct pt_regs *)
 *   process map, if any: this tgid not in it -> exit (bpf/procs.h)
 *   condition, if any: false or failed -> exit (nothing counted, reserved)
 *   r8 = &counters[slot]            (per-CPU; exit if NULL, never happens)
 *   r8->hits++
 *   r7 = bpf_ringbuf_reserve(ring, REC_SIZE, 0)
 *   if !r7: r8->drops++, exit
 *   header: tp, size, bpf_ktime_get_ns(), bpf_get_current_pid_tgid()
 *   'r' block: struct pt_regs copied verbatim (the reader expands it)
 *   a return probe's latency V block (bpf/latency.h), if any
 *   per range: r9 = block; 'M', addr, len;
 *              bpf_probe_read_user(r9 + 11, len, addr) or mark r9 skipped
 *   the frame-pointer chain and its window, if any (bpf/fpchain.h)
 *   every action block marked skipped, then each action in order (an
 *   action that ends early leaves the rest of its blocks skipped)
 *   bpf_ringbuf_submit(r7, BPF_RB_NO_WAKEUP)
 *
 * Where the time goes (docs/PERFORMANCE.md, "The one-trap site": variants
 * of this program measured side by side with bpf_stats, 2-CPU VM, kernel
 * 6.18): the uprobe trap alone is ~470 ns at an emulated `push %rbp`; the
 * program with one 64-byte range adds ~190 ns.  Its instructions and
 * helpers (ring lock, reserve, submit, clock, thread id, counter, copies)
 * are ~50-60 ns of that: the same program writing into a 32 KiB ring, or a
 * per-CPU scratch area, that stays in the cache costs 1.08-1.15x an empty
 * uprobe.  The rest is the record's five cache lines landing on memory
 * that is not in the cache or TLB (an 8 MiB ring, sized to absorb ~30k
 * frames between drains); a lock-free per-CPU buffer of the same size
 * measured the same as the ring.  Hence the verbatim 168-byte pt_regs copy
 * rather than GDB's 560-byte register layout (see record.h), one counter
 * update per hit (frames = hits - drops), and no wakeup: waking the reader
 * costs more per hit than all the collection, so user space polls the
 * ring on a timer.
 * Counters use atomic adds: a uprobe program runs preemptibly in task
 * context, so two tasks may interleave on one CPU's slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/collect.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/probe.h"

/* Record layout offsets. */
#define OFF_TP	 0
#define OFF_SIZE 4
#define OFF_TIME 8
#define OFF_PID	 16
#define OFF_TID	 20
#define OFF_BLK	 ((int)sizeof(struct bpfc_rec))
#define OFF_REGS (OFF_BLK + 1) /* pt_regs image when the r block is present */

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	/* libbpf >= 1.0 returns -errno from its low-level calls. */
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Total record size for spec, or -E2BIG / -EINVAL. */
static long rec_size(const struct bpfc_spec *spec)
{
	size_t total = sizeof(struct bpfc_rec), i;

	if (!(spec->flags & BPFC_SPEC_NO_REGS))
		total += 1 + BPFC_PTREGS_SIZE;
	if (spec->lat)
		total += BPFC_TBLK_SIZE;
	if (spec->nmem && !spec->mem)
		return -EINVAL;
	if (spec->nmem > BPFC_REC_MAX / BPFC_MBLK_HDR)
		return -E2BIG;
	for (i = 0; i < spec->nmem; i++) {
		const struct bpfc_mem *m = &spec->mem[i];

		if (m->basereg < BPFC_BASEREG_ABS || m->basereg > BPFC_REG_RIP)
			return -EINVAL;
		if (m->len > BPFC_MEM_MAX)
			return -E2BIG;
		total += bpfc_mem__blk_size(m);
		if (total > BPFC_REC_MAX)
			return -E2BIG;
	}
	if (spec->fp) {
		if (bpfc_fp__check(spec->fp))
			return -EINVAL;
		total += bpfc_fp__blk_size(spec->fp);
		if (total > BPFC_REC_MAX)
			return -E2BIG;
	}
	return (long)total;
}

static void emit_count(struct bpfc_emit *e, int field_off)
{
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R1, 1));
	bpfc_emit__insn(e, BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPFC_R8, BPFC_R1, field_off));
}

static void emit_regs(struct bpfc_emit *e)
{
	int i;

	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R7, OFF_BLK, BPFC_BLK_PTREGS));
	/* Two registers alternate so loads and stores can overlap. */
	for (i = 0; i < BPFC_PTREGS_SIZE / 8; i++) {
		int r = (i & 1) ? BPFC_R2 : BPFC_R1;

		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, r, BPFC_R6, 8 * i));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R7, r, OFF_REGS + 8 * i));
	}
}

/* r3 = the range's address (clobbers r1). */
static void emit_mem_addr(struct bpfc_emit *e, const struct bpfc_mem *m)
{
	if (m->basereg == BPFC_BASEREG_ABS) {
		bpfc_emit__ld_imm64(e, BPFC_R3, 0, (__u64)m->offset);
	} else {
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R6,
					       bpfc_regs__ptregs_offset(m->basereg)));
		if (m->offset >= INT32_MIN && m->offset <= INT32_MAX) {
			if (m->offset)
				bpfc_emit__insn(e,
						BPF_ALU64_IMM(BPF_ADD, BPFC_R3, (__s32)m->offset));
		} else {
			bpfc_emit__ld_imm64(e, BPFC_R1, 0, (__u64)m->offset);
			bpfc_emit__insn(e, BPF_ALU64_REG(BPF_ADD, BPFC_R3, BPFC_R1));
		}
	}
}

/* One M block at record offset blk_off. */
static void emit_mem(struct bpfc_emit *e, const struct bpfc_mem *m, size_t blk_off)
{
	int l_next;

	/* r9 = block (offsets past 32 KiB do not fit an insn's 16-bit off). */
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R9, BPFC_R7));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R9, (__s32)blk_off));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_MEM));
	emit_mem_addr(e, m);
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, 1));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, 9, (__s32)m->len));
	if (!m->len)
		return;
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_MBLK_HDR));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, (__s32)m->len));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	l_next = bpfc_emit__label(e);
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_next);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_SKIP));
	bpfc_emit__bind(e, l_next);
}

/*
 * A BPFC_MEM_CLAMP range: a VMEM block at blk_off, written skipped, then
 * the whole read; if it fails, reads that end at each page boundary inside
 * the range, last first, so a stack window running off the top of the
 * stack keeps the stack below the unmapped page.  Unrolled: at most
 * len / 4096 + 1 retries, all forward jumps.
 */
static void emit_mem_clamped(struct bpfc_emit *e, const struct bpfc_mem *m, size_t blk_off)
{
	__u32 k, tries = m->len / 4096 + 1;
	int l_ok, l_cut, l_next;

	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R9, BPFC_R7));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R9, (__s32)blk_off));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_VMEM_SKIP));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_VBLK_OFF_CAP, (__s32)m->len));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, 0));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_DW, BPFC_R9, BPFC_VBLK_OFF_WANT, (__s32)m->len));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_VBLK_OFF_LEN, (__s32)m->len));
	emit_mem_addr(e, m);
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, BPFC_VBLK_OFF_ADDR));
	if (!m->len) {
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_VMEM));
		return;
	}
	l_ok = bpfc_emit__label(e);
	l_cut = bpfc_emit__label(e);
	l_next = bpfc_emit__label(e);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_VBLK_HDR));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, (__s32)m->len));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_ok);
	for (k = 0; k < tries; k++) {
		/* r2 = ((addr + len) & -4096) - k * 4096 - addr, in 1..len */
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R9, BPFC_VBLK_OFF_ADDR));
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R3));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, (__s32)m->len));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_AND, BPFC_R2, -4096));
		if (k)
			bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_SUB, BPFC_R2, (__s32)(k * 4096)));
		bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R2, BPFC_R3));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JSLE, BPFC_R2, 0, 0), l_next);
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JGT, BPFC_R2, (__s32)m->len, 0), l_next);
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_H, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_LEN));
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_VBLK_HDR));
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_cut);
	}
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_next);
	bpfc_emit__bind(e, l_cut);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, BPFC_VBLK_CUT));
	bpfc_emit__bind(e, l_ok);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_VMEM));
	bpfc_emit__bind(e, l_next);
}

/* The agent expressions of a spec, parsed: the condition first, if any. */
struct exprs {
	struct bpfc_ax *ax;
	size_t n;
	size_t first_action; /* index of the first action in ax */
	size_t rec_size;     /* record bytes the actions' blocks take */
};

static void exprs_free(struct exprs *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		bpfc_ax__free(&x->ax[i]);
	free(x->ax);
	memset(x, 0, sizeof(*x));
}

static int exprs_parse(const struct bpfc_spec *spec, struct exprs *x, char *msg, size_t mlen)
{
	size_t i, total = spec->nactions + (spec->cond ? 1 : 0);
	const struct bpfc_expr *ex;
	unsigned int flags;
	int err;

	memset(x, 0, sizeof(*x));
	if (spec->nactions && !spec->actions) {
		snprintf(msg, mlen, "actions missing");
		return -EINVAL;
	}
	if (!total)
		return 0;
	x->ax = calloc(total, sizeof(*x->ax));
	if (!x->ax)
		return -ENOMEM;
	x->first_action = spec->cond ? 1 : 0;
	for (i = 0; i < total; i++) {
		flags = i < x->first_action ? BPFC_AX_COND : 0;
		ex = flags ? spec->cond : &spec->actions[i - x->first_action];
		err = bpfc_ax__parse(&x->ax[i], ex->code, ex->len, flags, msg, mlen);
		if (err)
			return err;
		x->n++;
		if (!flags)
			x->rec_size += x->ax[i].rec_size;
	}
	return 0;
}

/* Is the variables map fit for what spec's expressions name? */
static int check_vars(const struct bpfc_spec *spec, char *msg, size_t mlen)
{
	const struct bpfc_tsvs *v = &spec->vars;
	struct bpf_map_info info;
	size_t i;
	int err;

	if (!v->n)
		return 0;
	if (!v->map)
		return -EINVAL;
	err = map_info(v->fd, &info);
	if (err || info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(__s64)) {
		snprintf(msg, mlen,
			 "the trace state variables map is not a bpfc_tsv__create() map");
		return -EINVAL;
	}
	for (i = 0; i < v->n; i++)
		if (v->map[i].slot >= info.max_entries) {
			snprintf(msg, mlen,
				 "trace state variable %u: slot %u is beyond the map's %u entries",
				 v->map[i].num, v->map[i].slot, info.max_entries);
			return -EINVAL;
		}
	return 0;
}

int bpfc_prog__build(const struct bpfc_spec *spec, int ringbuf_fd, int counters_fd,
		     struct bpfc_prog *out)
{
	struct bpf_map_info info;
	struct exprs x = {0};
	struct bpfc_emit e;
	int l_cnt, l_have;
	size_t i, off;
	long total;
	int err;

	bpfc_emit__init(&e);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (!spec || ringbuf_fd < 0 || counters_fd < 0) {
		err = -EINVAL;
		snprintf(out->msg, sizeof(out->msg), "bad arguments");
		goto cleanup;
	}
	err = exprs_parse(spec, &x, out->msg, sizeof(out->msg));
	if (err)
		goto cleanup;
	total = rec_size(spec);
	if (total >= 0 && (size_t)total + x.rec_size > BPFC_REC_MAX)
		total = -E2BIG;
	if (total < 0) {
		err = (int)total;
		snprintf(out->msg, sizeof(out->msg),
			 err == -E2BIG ? "collects more than %u bytes per hit, the most one BPF "
					 "ring buffer record holds"
				       : "bad memory range (at most %u bytes in all, base register "
					 "0-16) or frame-pointer walk",
			 BPFC_REC_MAX);
		goto cleanup;
	}
	total += (long)x.rec_size;
	err = check_vars(spec, out->msg, sizeof(out->msg));
	if (err)
		goto cleanup;

	err = map_info(counters_fd, &info);
	if (err)
		goto cleanup;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.value_size != sizeof(struct bpfc_counts) || spec->slot >= info.max_entries) {
		err = -EINVAL;
		snprintf(out->msg, sizeof(out->msg), "bad counters map or slot %u", spec->slot);
		goto cleanup;
	}
	err = map_info(ringbuf_fd, &info);
	if (err)
		goto cleanup;
	if (info.type != BPF_MAP_TYPE_RINGBUF) {
		err = -EINVAL;
		snprintf(out->msg, sizeof(out->msg), "not a ring buffer map");
		goto cleanup;
	}
	if ((__u64)total + 8 > info.max_entries) {
		err = -E2BIG;
		snprintf(out->msg, sizeof(out->msg),
			 "a %ld-byte record does not fit the %u-byte ring buffer", total,
			 info.max_entries);
		goto cleanup;
	}

	l_cnt = bpfc_emit__label(&e);
	l_have = bpfc_emit__label(&e);

	if (spec->stop)
		bpfc_stop__emit(&e, spec->stop);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R6, BPFC_R1));

	/* Another process than the set's: nothing counted, nothing reserved. */
	if (spec->procs) {
		int l_in = bpfc_emit__label(&e);

		bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
		bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_RSH, BPFC_R0, 32));
		bpfc_emit__insn(&e, BPF_STX_MEM(BPF_W, BPFC_R10, BPFC_R0, -8));
		bpfc_emit__ld_map_fd(&e, BPFC_R1, spec->procs_fd);
		bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
		bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -8));
		bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
		bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_in);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
		bpfc_emit__insn(&e, BPF_EXIT_INSN());
		bpfc_emit__bind(&e, l_in);
	}

	/* The condition: false or failed exits before anything is counted or reserved. */
	if (x.first_action) {
		int l_false = bpfc_emit__label(&e), l_true = bpfc_emit__label(&e);

		err = bpfc_ax__emit(&x.ax[0], &e, &spec->vars, 0, l_false, out->msg,
				    sizeof(out->msg));
		if (err)
			goto cleanup;
		bpfc_emit__jmp(&e, BPF_JMP_A(0), l_true);
		bpfc_emit__bind(&e, l_false);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
		bpfc_emit__insn(&e, BPF_EXIT_INSN());
		bpfc_emit__bind(&e, l_true);
	}

	/* r8 = &counters[slot] */
	bpfc_emit__insn(&e, BPF_ST_MEM(BPF_W, BPFC_R10, -4, (__s32)spec->slot));
	/* Pass count: the hit that would go past it ends here, counted nowhere. */
	if (spec->pass) {
		int l_gate = bpfc_emit__label(&e), l_under = bpfc_emit__label(&e);

		bpfc_emit__ld_map_fd(&e, BPFC_R1, spec->gate_fd);
		bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
		bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -4));
		bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
		bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_gate);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
		bpfc_emit__insn(&e, BPF_EXIT_INSN());
		bpfc_emit__bind(&e, l_gate);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R1, 1));
		bpfc_emit__insn(&e,
				BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, BPFC_R0, BPFC_R1, 0));
		bpfc_emit__ld_imm64(&e, BPFC_R2, 0, spec->pass);
		bpfc_emit__jmp(&e, BPF_JMP_REG(BPF_JLT, BPFC_R1, BPFC_R2, 0), l_under);
		bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
		bpfc_emit__insn(&e, BPF_EXIT_INSN());
		bpfc_emit__bind(&e, l_under);
	}
	bpfc_emit__ld_map_fd(&e, BPFC_R1, counters_fd);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -4));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	/* Exits stay local: a jump to the end could exceed 32767 instructions. */
	bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_cnt);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	bpfc_emit__bind(&e, l_cnt);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R8, BPFC_R0));
	emit_count(&e, offsetof(struct bpfc_counts, hits));

	/* r7 = bpf_ringbuf_reserve(ring, total, 0) */
	bpfc_emit__ld_map_fd(&e, BPFC_R1, ringbuf_fd);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R2, (__s32)total));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R3, 0));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_reserve));
	bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_have);
	emit_count(&e, offsetof(struct bpfc_counts, drops));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	bpfc_emit__bind(&e, l_have);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R7, BPFC_R0));

	/* Header. */
	bpfc_emit__insn(&e, BPF_ST_MEM(BPF_W, BPFC_R7, OFF_TP, (__s32)spec->tp));
	bpfc_emit__insn(&e, BPF_ST_MEM(BPF_W, BPFC_R7, OFF_SIZE,
				       (__s32)(total - (long)sizeof(struct bpfc_rec))));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bpfc_emit__insn(&e, BPF_STX_MEM(BPF_DW, BPFC_R7, BPFC_R0, OFF_TIME));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
	bpfc_emit__insn(&e, BPF_STX_MEM(BPF_W, BPFC_R7, BPFC_R0, OFF_TID));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_RSH, BPFC_R0, 32));
	bpfc_emit__insn(&e, BPF_STX_MEM(BPF_W, BPFC_R7, BPFC_R0, OFF_PID));

	off = OFF_BLK;
	if (!(spec->flags & BPFC_SPEC_NO_REGS)) {
		emit_regs(&e);
		off += 1 + BPFC_PTREGS_SIZE;
	}
	if (spec->lat) {
		bpfc_lat__emit_return(&e, spec->lat, (int)off);
		off += BPFC_TBLK_SIZE;
	}
	for (i = 0; i < spec->nmem; i++) {
		if (spec->mem[i].flags & BPFC_MEM_CLAMP)
			emit_mem_clamped(&e, &spec->mem[i], off);
		else
			emit_mem(&e, &spec->mem[i], off);
		off += bpfc_mem__blk_size(&spec->mem[i]);
	}
	if (spec->fp) {
		bpfc_fp__emit(&e, spec->fp, off);
		off += bpfc_fp__blk_size(spec->fp);
	}

	/* Actions: every block starts out skipped, then each action runs in turn. */
	{
		size_t aoff = off;

		for (i = x.first_action; i < x.n; i++) {
			bpfc_ax__emit_blocks(&x.ax[i], &e, aoff);
			aoff += x.ax[i].rec_size;
		}
	}
	for (i = x.first_action; i < x.n; i++) {
		int l_next = bpfc_emit__label(&e);

		err = bpfc_ax__emit(&x.ax[i], &e, &spec->vars, off, l_next, out->msg,
				    sizeof(out->msg));
		if (err)
			goto cleanup;
		bpfc_emit__bind(&e, l_next);
		off += x.ax[i].rec_size;
	}

	/* No frames++: frames = hits - drops (bpfc_counters__read), one atomic per hit. */
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R1, BPFC_R7));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R2, BPF_RB_NO_WAKEUP));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_ringbuf_submit));
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());

	err = bpfc_emit__finish(&e);
	if (err) {
		snprintf(out->msg, sizeof(out->msg),
			 err == -E2BIG ? "the BPF program would be too large (%zu instructions)"
				       : "cannot generate the BPF program",
			 e.len);
		goto cleanup;
	}
	out->insns = bpfc_emit__take(&e, &out->ninsns);
	out->tp = spec->tp;
	out->rec_size = (__u32)total;
cleanup:
	if (err && !out->msg[0])
		snprintf(out->msg, sizeof(out->msg), "%s", strerror(-err));
	exprs_free(&x);
	bpfc_emit__free(&e);
	return err;
}

int bpfc_counters__create(__u32 nslots)
{
	if (!nslots)
		return -EINVAL;
	return bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bpfc_counts", sizeof(__u32),
			      sizeof(struct bpfc_counts), nslots, NULL);
}

int bpfc_gate__create(__u32 nslots)
{
	if (!nslots)
		return -EINVAL;
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_gate", sizeof(__u32), sizeof(__u64), nslots,
			      NULL);
}

int bpfc_gate__reset(int fd, __u32 slot)
{
	__u64 zero = 0;

	return bpf_map_update_elem(fd, &slot, &zero, BPF_ANY);
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : -EINVAL;
}

int bpfc_counters__read(int fd, __u32 slot, struct bpfc_counts *out)
{
	struct bpfc_counts *v = NULL;
	int n, i, err;

	memset(out, 0, sizeof(*out));
	n = ncpus();
	if (n < 0)
		return n;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(fd, &slot, v);
	if (err)
		goto cleanup;
	for (i = 0; i < n; i++) {
		out->hits += v[i].hits;
		out->drops += v[i].drops;
	}
	/* Every counted hit is submitted or dropped; the map's frames field is unused. */
	out->frames = out->hits > out->drops ? out->hits - out->drops : 0;
cleanup:
	free(v);
	return err;
}

/* Slot `to` gets slot `from`'s per-CPU counts (from < 0: zeros). */
static int counters_set(int fd, long long from, __u32 to)
{
	struct bpfc_counts *v;
	__u32 f = (__u32)from;
	int n, err = 0;

	n = ncpus();
	if (n < 0)
		return n;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (from >= 0)
		err = bpf_map_lookup_elem(fd, &f, v);
	if (!err)
		err = bpf_map_update_elem(fd, &to, v, BPF_ANY);
	free(v);
	return err;
}

int bpfc_counters__move(int fd, __u32 from, __u32 to)
{
	int err = counters_set(fd, from, to);

	return err ? err : counters_set(fd, -1, from);
}

int bpfc_counters__reset(int fd, __u32 slot)
{
	return counters_set(fd, -1, slot);
}

int bpfc_tsv__create(__u32 nslots)
{
	if (!nslots)
		return -EINVAL;
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_tsvs", sizeof(__u32), sizeof(__s64), nslots,
			      NULL);
}

int bpfc_tsv__get(int fd, __u32 slot, __s64 *value)
{
	return bpf_map_lookup_elem(fd, &slot, value);
}

int bpfc_tsv__set(int fd, __u32 slot, __s64 value)
{
	return bpf_map_update_elem(fd, &slot, &value, BPF_ANY);
}
