/* SPDX-License-Identifier: MIT */
/*
 * bpf/emit.c - the instruction array behind every generated BPF program.
 *
 * See emit.h for the contract.  Storage is three growable arrays
 * (instructions, label positions, pending jump fixups); each grows by
 * doubling and each growth failure latches -ENOMEM.  Nothing here knows
 * what the instructions mean except that jumps carry a 16-bit offset
 * relative to the next instruction.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/emit.h"
#include "bpf/insn.h"

void bpfc_emit__init(struct bpfc_emit *e)
{
	memset(e, 0, sizeof(*e));
}

void bpfc_emit__free(struct bpfc_emit *e)
{
	free(e->insns);
	free(e->labels);
	free(e->fix);
	memset(e, 0, sizeof(*e));
}

static void fail(struct bpfc_emit *e, int err)
{
	if (!e->err)
		e->err = err;
}

/* Make room for n more elements of size sz in *arr (len/cap counted in elements). */
static int grow(struct bpfc_emit *e, void **arr, size_t *cap, size_t len, size_t n, size_t sz)
{
	size_t ncap;
	void *p;

	if (e->err)
		return e->err;
	if (len + n <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < len + n)
		ncap *= 2;
	p = realloc(*arr, ncap * sz);
	if (!p) {
		fail(e, -ENOMEM);
		return e->err;
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct bpf_insn *reserve(struct bpfc_emit *e, size_t n)
{
	struct bpf_insn *p;

	if (e->err)
		return NULL;
	if (e->len + n > BPFC_EMIT_MAX_INSNS) {
		fail(e, -E2BIG);
		return NULL;
	}
	if (grow(e, (void **)&e->insns, &e->cap, e->len, n, sizeof(*e->insns)))
		return NULL;
	p = &e->insns[e->len];
	e->len += n;
	return p;
}

void bpfc_emit__insn(struct bpfc_emit *e, struct bpf_insn insn)
{
	struct bpf_insn *p = reserve(e, 1);

	if (p)
		*p = insn;
}

void bpfc_emit__ld_imm64(struct bpfc_emit *e, int dst, int src, __u64 imm)
{
	struct bpf_insn *p = reserve(e, 2);

	if (!p)
		return;
	memset(p, 0, 2 * sizeof(*p));
	p[0].code = BPF_LD | BPF_DW | BPF_IMM;
	p[0].dst_reg = dst;
	p[0].src_reg = src;
	p[0].imm = (__s32)(__u32)imm;
	p[1].imm = (__s32)(__u32)(imm >> 32);
}

void bpfc_emit__ld_map_fd(struct bpfc_emit *e, int dst, int map_fd)
{
	if (map_fd < 0) {
		fail(e, -EBADF);
		return;
	}
	bpfc_emit__ld_imm64(e, dst, BPF_PSEUDO_MAP_FD, (__u32)map_fd);
}

int bpfc_emit__label(struct bpfc_emit *e)
{
	if (e->nlabels >= INT_MAX)
		fail(e, -E2BIG);
	if (grow(e, (void **)&e->labels, &e->caplabels, e->nlabels, 1, sizeof(*e->labels)))
		return -1;
	e->labels[e->nlabels] = -1;
	return (int)e->nlabels++;
}

static int label_ok(struct bpfc_emit *e, int label)
{
	if (label < 0 || (size_t)label >= e->nlabels) {
		fail(e, -EINVAL);
		return 0;
	}
	return !e->err;
}

void bpfc_emit__jmp(struct bpfc_emit *e, struct bpf_insn jmp, int label)
{
	__u8 cls = BPF_CLASS(jmp.code);

	if (!label_ok(e, label))
		return;
	if ((cls != BPF_JMP && cls != BPF_JMP32) || BPF_OP(jmp.code) == BPF_CALL ||
	    BPF_OP(jmp.code) == BPF_EXIT) {
		fail(e, -EINVAL);
		return;
	}
	/* Bound already: the jump would go backwards. */
	if (e->labels[label] >= 0) {
		fail(e, -EINVAL);
		return;
	}
	if (grow(e, (void **)&e->fix, &e->capfix, e->nfix, 1, sizeof(*e->fix)))
		return;
	jmp.off = 0;
	bpfc_emit__insn(e, jmp);
	if (e->err)
		return;
	e->fix[e->nfix].at = e->len - 1;
	e->fix[e->nfix].label = label;
	e->nfix++;
}

void bpfc_emit__bind(struct bpfc_emit *e, int label)
{
	if (!label_ok(e, label))
		return;
	if (e->labels[label] >= 0) {
		fail(e, -EINVAL);
		return;
	}
	e->labels[label] = (long)e->len;
}

int bpfc_emit__finish(struct bpfc_emit *e)
{
	size_t i;

	if (e->err)
		return e->err;
	for (i = 0; i < e->nfix; i++) {
		long to = e->labels[e->fix[i].label];
		long off;

		if (to < 0 || (size_t)to >= e->len) {
			fail(e, -EINVAL);
			return e->err;
		}
		off = to - (long)e->fix[i].at - 1;
		if (off < 0 || off > SHRT_MAX) {
			fail(e, -E2BIG);
			return e->err;
		}
		e->insns[e->fix[i].at].off = (__s16)off;
	}
	e->nfix = 0;
	return 0;
}

struct bpf_insn *bpfc_emit__take(struct bpfc_emit *e, size_t *len)
{
	struct bpf_insn *p = e->insns;

	*len = e->len;
	e->insns = NULL;
	e->len = e->cap = 0;
	return p;
}
