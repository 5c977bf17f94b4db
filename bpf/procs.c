/* SPDX-License-Identifier: MIT */
/*
 * bpf/procs.c - the process map and its tracker (bpf/procs.h says why).
 *
 * The tracker's three programs are generated like every other program
 * here: straight-line, forward jumps only.  The fork program runs in the
 * parent (the tracepoint fires in kernel_clone, in the forking task), so
 * the parent's tgid is bpf_get_current_pid_tgid()'s high half, and the
 * child is its second argument: a new process when its pid equals its
 * tgid (a thread has the tgid of the process it joins).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/procs.h"

int bpfc_procs__create(void)
{
	return bpf_map_create(BPF_MAP_TYPE_HASH, "bpfc_procs", sizeof(__u32), sizeof(__u32),
			      BPFC_PROCS_MAX, NULL);
}

int bpfc_procs__add(int fd, __u32 tgid)
{
	__u32 one = 1;

	return bpf_map_update_elem(fd, &tgid, &one, BPF_ANY);
}

int bpfc_procs__del(int fd, __u32 tgid)
{
	int err = bpf_map_delete_elem(fd, &tgid);

	return err == -ENOENT ? 0 : err;
}

bool bpfc_procs__has(int fd, __u32 tgid)
{
	__u32 v;

	return !bpf_map_lookup_elem(fd, &tgid, &v);
}

int bpfc_procs__list(int fd, __u32 *out, size_t max)
{
	__u32 key, next;
	size_t n = 0;
	int err;

	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err && n < max) {
		out[n++] = next;
		key = next;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	return err && err != -ENOENT ? err : (int)n;
}

/* Byte offsets of task_struct's pid and tgid, from the kernel's BTF. */
static int task_offsets(int *pid_off, int *tgid_off, char *err, size_t errlen)
{
	const struct btf_member *m;
	const struct btf_type *t;
	struct btf *btf;
	int id, i, ret = -ENOENT;

	*pid_off = *tgid_off = -1;
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(errno));
		return -errno ? -errno : -ENOENT;
	}
	id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		__u32 bits = btf_member_bit_offset(t, (__u32)i);

		if (!name || bits % 8)
			continue;
		if (!strcmp(name, "pid"))
			*pid_off = (int)(bits / 8);
		else if (!strcmp(name, "tgid"))
			*tgid_off = (int)(bits / 8);
	}
	if (*pid_off >= 0 && *tgid_off >= 0)
		ret = 0;
	else
		snprintf(err, errlen, "the kernel's BTF has no task_struct pid/tgid");
	btf__free(btf);
	return ret;
}

/* r0 = tgid of the current task (r1-r5 clobbered). */
static void emit_tgid(struct bpfc_emit *e)
{
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_RSH, BPFC_R0, 32));
}

/* fork: a new process whose parent is in the map joins it. */
static int gen_fork(struct bpfc_emit *e, int map_fd, int pid_off, int tgid_off)
{
	int out = bpfc_emit__label(e);

	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R6, BPFC_R1, 8)); /* child */
	/* fp-8: child pid, fp-4: child tgid */
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, -8));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, 4));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R6));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R3, pid_off));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), out);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, -4));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, 4));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R6));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R3, tgid_off));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), out);
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_W, BPFC_R1, BPFC_R10, -8));
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_W, BPFC_R2, BPFC_R10, -4));
	bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JNE, BPFC_R1, BPFC_R2, 0), out); /* a thread */
	/* the parent's tgid at fp-12 */
	emit_tgid(e);
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_W, BPFC_R10, BPFC_R0, -12));
	bpfc_emit__ld_map_fd(e, BPFC_R1, map_fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -12));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), out);
	/* map[child tgid] = 1 (value at fp-16) */
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R10, -16, 1));
	bpfc_emit__ld_map_fd(e, BPFC_R1, map_fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -4));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R3, -16));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R4, BPF_ANY));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));
	bpfc_emit__bind(e, out);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_EXIT_INSN());
	return 0;
}

/* exit (leader only) and exec: the current tgid leaves the map. */
static int gen_leave(struct bpfc_emit *e, int map_fd, bool leader_only)
{
	int out = bpfc_emit__label(e);

	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R0));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_RSH, BPFC_R1, 32));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_W, BPFC_R10, BPFC_R1, -4));
	if (leader_only) {
		bpfc_emit__insn(e, BPF_MOV32_REG(BPFC_R0, BPFC_R0));
		bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JNE, BPFC_R0, BPFC_R1, 0), out);
	}
	bpfc_emit__ld_map_fd(e, BPFC_R1, map_fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -4));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_delete_elem));
	bpfc_emit__bind(e, out);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_EXIT_INSN());
	return 0;
}

/* Load e's program as a raw tracepoint program and attach it to tp: 0 or -errno. */
static int load_attach(struct bpfc_emit *e, const char *tp, int *prog, int *link, char *err,
		       size_t errlen)
{
	struct bpf_insn *insns;
	size_t n;
	int ret;

	ret = bpfc_emit__finish(e);
	if (ret) {
		snprintf(err, errlen, "cannot generate the %s program", tp);
		return ret;
	}
	insns = bpfc_emit__take(e, &n);
	ret = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "bpfc_procs", "GPL", insns, n, NULL);
	free(insns);
	if (ret < 0) {
		snprintf(err, errlen, "the kernel refused the %s program: %s", tp, strerror(-ret));
		return ret;
	}
	*prog = ret;
	ret = bpf_raw_tracepoint_open(tp, *prog);
	if (ret < 0) {
		snprintf(err, errlen, "cannot attach to the %s tracepoint: %s", tp, strerror(-ret));
		return ret;
	}
	*link = ret;
	return 0;
}

int bpfc_procs__track(struct bpfc_procs_track *t, int map_fd, bool exec, char *err, size_t errlen)
{
	struct bpfc_emit e;
	int pid_off, tgid_off, ret;

	t->fork_fd = t->exit_fd = t->exec_fd = -1;
	t->fork_link = t->exit_link = t->exec_link = -1;
	ret = task_offsets(&pid_off, &tgid_off, err, errlen);
	if (ret)
		return ret;
	bpfc_emit__init(&e);
	gen_fork(&e, map_fd, pid_off, tgid_off);
	ret = load_attach(&e, "sched_process_fork", &t->fork_fd, &t->fork_link, err, errlen);
	bpfc_emit__free(&e);
	if (ret)
		goto cleanup;
	bpfc_emit__init(&e);
	gen_leave(&e, map_fd, true);
	ret = load_attach(&e, "sched_process_exit", &t->exit_fd, &t->exit_link, err, errlen);
	bpfc_emit__free(&e);
	if (ret || !exec)
		goto cleanup;
	bpfc_emit__init(&e);
	gen_leave(&e, map_fd, false);
	ret = load_attach(&e, "sched_process_exec", &t->exec_fd, &t->exec_link, err, errlen);
	bpfc_emit__free(&e);
cleanup:
	if (ret)
		bpfc_procs__untrack(t);
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void bpfc_procs__untrack(struct bpfc_procs_track *t)
{
	close_fd(&t->fork_link);
	close_fd(&t->exit_link);
	close_fd(&t->exec_link);
	close_fd(&t->fork_fd);
	close_fd(&t->exit_fd);
	close_fd(&t->exec_fd);
}
