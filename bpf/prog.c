/* SPDX-License-Identifier: MIT */
/*
 * bpf/prog.c - load a generated program; the stop switch (bpf/prog.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/probe.h"
#include "bpf/prog.h"

#define LOG_SIZE (1u << 20)

int bpfc_prog__load(struct bpfc_prog *p)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	char name[BPF_OBJ_NAME_LEN];
	char *log = NULL;
	int fd, err;

	if (!p || !p->insns || p->fd >= 0)
		return -EINVAL;
	free(p->log);
	p->log = NULL;
	snprintf(name, sizeof(name), "bpfc_tp%u", p->tp);
	if (p->multi)
		opts.expected_attach_type = (enum bpf_attach_type)BPFC_TRACE_UPROBE_MULTI;

	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, name, "GPL", p->insns, p->ninsns, &opts);
	if (fd >= 0) {
		p->fd = fd;
		return 0;
	}
	err = fd;

	/* Once more, with the verifier explaining itself. */
	log = calloc(1, LOG_SIZE);
	if (!log)
		return err;
	opts.log_buf = log;
	opts.log_size = LOG_SIZE;
	opts.log_level = 1;
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, name, "GPL", p->insns, p->ninsns, &opts);
	if (fd >= 0) {
		/* Passed the second time (transient failure): keep it. */
		free(log);
		p->fd = fd;
		return 0;
	}
	log[LOG_SIZE - 1] = '\0';
	p->log = log;
	return err;
}

void bpfc_prog__free(struct bpfc_prog *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->insns);
	free(p->log);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

int bpfc_stop__create(__u32 nslots)
{
	if (!nslots)
		return -EINVAL;
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_stop", sizeof(__u32), sizeof(__u64), nslots,
			      NULL);
}

int bpfc_stop__set(const struct bpfc_stop *s, bool on)
{
	__u64 v = on ? 0 : 1;

	if (!s || s->fd < 0)
		return 0;
	return bpf_map_update_elem(s->fd, &s->id, &v, BPF_ANY);
}

/*
 * One array lookup, which the verifier inlines: a few instructions per hit.
 * r1 (ctx) is kept in r6 meanwhile and given back.
 */
void bpfc_stop__emit(struct bpfc_emit *e, const struct bpfc_stop *s)
{
	int l_found, l_on;

	if (!s || s->fd < 0)
		return;
	l_found = bpfc_emit__label(e);
	l_on = bpfc_emit__label(e);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R6, BPFC_R1));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R10, -8, (__s32)s->id));
	bpfc_emit__ld_map_fd(e, BPFC_R1, s->fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -8));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_found);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_EXIT_INSN());
	bpfc_emit__bind(e, l_found);
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R0, 0));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R1, 0, 0), l_on);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_EXIT_INSN());
	bpfc_emit__bind(e, l_on);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R6));
}
