/* SPDX-License-Identifier: MIT */
/*
 * bpf/hist.c - histogram and count programs (bpf/hist.h).
 *
 * Like bpf/collect.c, a compiler: every size, offset and bucket count is a
 * constant of the generated program, which is straight-line code with
 * forward jumps only.  A hit costs the uprobe trap, a map lookup and a few
 * atomic adds; no ring buffer record is reserved, so no frame is made and
 * nothing is drained.
 *
 * The site program, in order:
 *
 *   stop switch; r6 = ctx; process map
 *   condition (value/count)                 false -> exit
 *   counters[slot].hits++                   (the overhead guard's rate)
 *   latency: the call's entry (LRU)         none -> stats.no_entry++, exit
 *            v = now - entry; key from the entry; the entry goes
 *   value:   v = EXPR                       unreadable -> stats.failed++, exit
 *   key:     KEY (an integer, or a string read into a zeroed 64-byte buffer)
 *   latency: v -= bias                      under it -> v = 0, stats.clamped++
 *   r8 = hash[key] (made from the zero histogram, arr[1], when new;
 *        the hash full: arr[0], "other", stats.other++), or arr[0]
 *   count++, sum += v, ~min, max, b[index(v)]++   (atomic adds: a uprobe
 *   program runs preemptibly, so two tasks may interleave on one CPU's value;
 *   min and max are a compare and a store, exact unless such an interleaving
 *   falls between the two)
 *
 * The three programs (a value or count site, a latency's return site, its
 * entry) are one builder and a struct hist_prog each: the body, whether
 * the condition and the hit count are in it, and what its out path counts.
 * Each map access (lookup, update, delete, an array's element, a counter's
 * atomic add) is written once, as an emit_* helper.
 *
 * Stack: the agent expressions use fp-5 .. fp-272 (bpf/ax.h), the latency
 * key fp-40 .. fp-17 (bpf/latency.h); this file's own slots lie below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/collect.h"
#include "bpf/emit.h"
#include "bpf/hist.h"
#include "bpf/insn.h"
#include "bpf/probe.h"

#define FP_V	 (-288) /* the value */
#define FP_KEY	 (-360) /* the key: 64 bytes, -360 .. -297 */
#define FP_ENT	 (-368) /* an entry: { ns, key } = fp-368 .. */
#define FP_IDX	 (-376) /* an array index (u32) */
#define FP_SLOT0 (-BPFC_AX_FP_SLOT0)
#define FP_SLOT1 (-BPFC_AX_FP_SLOT0 - 8)

_Static_assert(FP_V < -BPFC_AX_FP_SLOT0 - 8 * (int)(BPFC_AX_MAX_DEPTH - 1) - 8, "stack");

/* ---- the arithmetic (pure) ---------------------------------------------- */

__u32 bpfc_hist__index(__u64 v, __u32 k)
{
	__u32 p = 0;
	__u64 x = v;

	if (v < (1ull << k))
		return (__u32)v;
	while (x >>= 1)
		p++;
	return ((p - k + 1) << k) + (__u32)((v >> (p - k)) - (1ull << k));
}

void bpfc_hist__bounds(__u32 idx, __u32 k, uint64_t *lo, uint64_t *hi)
{
	__u32 g, sub;

	if (idx < (1u << k)) {
		*lo = idx;
		*hi = (uint64_t)idx + 1;
		return;
	}
	g = idx >> k;
	sub = idx & ((1u << k) - 1);
	*lo = ((1ull << k) + sub) << (g - 1);
	/* The last bucket's end is 2^64. */
	*hi = g - 1 + k >= 63 && sub == (1u << k) - 1 ? UINT64_MAX : *lo + (1ull << (g - 1));
}

/* ---- maps ---------------------------------------------------------------- */

static size_t val_size(const struct bpfc_hist_maps *m)
{
	return sizeof(struct bpfc_hist_val) + 8ull * bpfc_hist__nbuckets(m->mode, m->k);
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : -EINVAL;
}

void bpfc_hist__maps_close(struct bpfc_hist_maps *m)
{
	int *fds[] = {&m->arr_fd, &m->hash_fd, &m->stats_fd, &m->ent_fd};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int bpfc_hist__maps_create(struct bpfc_hist_maps *m, char *msg, size_t mlen)
{
	size_t vs = val_size(m);
	__u32 ks = bpfc_hist__keysize(m->key);
	unsigned long long need;
	int n = ncpus(), err;

	m->arr_fd = m->hash_fd = m->stats_fd = m->ent_fd = -1;
	if (n < 0 || m->k > BPFC_HIST_K_MAX ||
	    (ks && (!m->keys_max || m->keys_max > BPFC_HIST_KEYS_MAX))) {
		snprintf(msg, mlen, "bad histogram (k %u, %u keys)", m->k, m->keys_max);
		return -EINVAL;
	}
	need = (unsigned long long)vs * ((ks ? m->keys_max : 0) + 2) * (unsigned)n;
	if (need > BPFC_HIST_MEM_MAX) {
		snprintf(msg, mlen,
			 "%u keys of %zu-byte histograms on %d CPUs take %llu MiB, more than "
			 "%llu: fewer keys (-keys N) or a smaller -k",
			 ks ? m->keys_max : 1, vs, n, need >> 20, BPFC_HIST_MEM_MAX >> 20);
		return -E2BIG;
	}
	err = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bpfc_hist_arr", 4, (__u32)vs, 2, NULL);
	if (err < 0)
		goto fail;
	m->arr_fd = err;
	err = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bpfc_hist_st", 4,
			     sizeof(struct bpfc_hist_stats), 1, NULL);
	if (err < 0)
		goto fail;
	m->stats_fd = err;
	if (ks) {
		err = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "bpfc_hist_key", ks, (__u32)vs,
				     m->keys_max, NULL);
		if (err < 0)
			goto fail;
		m->hash_fd = err;
	}
	if (m->mode == BPFC_HIST_LATENCY) {
		err = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bpfc_hist_ent", 16, 8 + ks,
				     BPFC_LAT_ENTRIES, NULL);
		if (err < 0)
			goto fail;
		m->ent_fd = err;
	}
	return 0;
fail:
	snprintf(msg, mlen, "cannot create the histogram's BPF maps: %s", strerror(-err));
	bpfc_hist__maps_close(m);
	return err;
}

int bpfc_hist__maps_clear(struct bpfc_hist_maps *m)
{
	size_t vs = val_size(m), ks = bpfc_hist__keysize(m->key);
	int n = ncpus(), err = 0;
	void *zero, *key = NULL;
	__u32 i;

	if (n < 0)
		return n;
	zero = calloc((size_t)n,
		      vs > sizeof(struct bpfc_hist_stats) ? vs : sizeof(struct bpfc_hist_stats));
	if (!zero)
		return -ENOMEM;
	for (i = 0; i < 2 && !err; i++)
		err = bpf_map_update_elem(m->arr_fd, &i, zero, BPF_ANY);
	i = 0;
	if (!err)
		err = bpf_map_update_elem(m->stats_fd, &i, zero, BPF_ANY);
	if (!err && m->hash_fd >= 0) {
		key = calloc(1, ks);
		/* Delete the first key until none is left. */
		while (key && !bpf_map_get_next_key(m->hash_fd, NULL, key))
			if (bpf_map_delete_elem(m->hash_fd, key))
				break;
		err = key ? 0 : -ENOMEM;
	}
	free(key);
	free(zero);
	return err;
}

int bpfc_hist__read(const struct bpfc_hist_maps *m, const void *key, struct bpfc_hist_sum *out)
{
	size_t vs = val_size(m), nb = bpfc_hist__nbuckets(m->mode, m->k), j;
	int n = ncpus(), i, err;
	__u32 zero = 0;
	char *v;

	out->count = out->sum = out->min = out->max = 0;
	if (out->b)
		memset(out->b, 0, nb * 8);
	if (n < 0)
		return n;
	v = calloc((size_t)n, vs);
	if (!v)
		return -ENOMEM;
	err = key ? bpf_map_lookup_elem(m->hash_fd, key, v)
		  : bpf_map_lookup_elem(m->arr_fd, &zero, v);
	if (err)
		goto cleanup;
	out->min = UINT64_MAX;
	for (i = 0; i < n; i++) {
		const struct bpfc_hist_val *h = (const void *)(v + (size_t)i * vs);

		if (!h->count)
			continue;
		out->count += h->count;
		out->sum += h->sum;
		if (~h->min_inv < out->min)
			out->min = ~h->min_inv;
		if (h->max > out->max)
			out->max = h->max;
		for (j = 0; out->b && j < nb; j++)
			out->b[j] += h->b[j];
	}
	if (!out->count)
		out->min = 0;
cleanup:
	free(v);
	return err;
}

int bpfc_hist__keys(const struct bpfc_hist_maps *m, void **keys, size_t *n)
{
	size_t ks = bpfc_hist__keysize(m->key), cap = 0;
	char *all = NULL, *cur = NULL, *prev = NULL;
	int err = 0;

	*keys = NULL;
	*n = 0;
	if (m->hash_fd < 0 || !ks)
		return 0;
	cur = malloc(ks);
	if (!cur)
		return -ENOMEM;
	/* Bounded by the map's size (keys_max), so a map filling meanwhile ends too. */
	while (*n < m->keys_max && !bpf_map_get_next_key(m->hash_fd, prev, cur)) {
		if (*n == cap) {
			char *a = realloc(all, (cap = cap ? cap * 2 : 64) * ks);

			if (!a) {
				err = -ENOMEM;
				break;
			}
			all = a;
		}
		memcpy(all + *n * ks, cur, ks);
		prev = all + *n * ks;
		(*n)++;
	}
	free(cur);
	if (err) {
		free(all);
		*n = 0;
		return err;
	}
	*keys = all;
	return 0;
}

int bpfc_hist__stats(const struct bpfc_hist_maps *m, struct bpfc_hist_stats *out)
{
	struct bpfc_hist_stats *v;
	int n = ncpus(), i, err;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (n < 0)
		return n;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(m->stats_fd, &zero, v);
	for (i = 0; !err && i < n; i++) {
		out->no_entry += v[i].no_entry;
		out->failed += v[i].failed;
		out->clamped += v[i].clamped;
		out->other += v[i].other;
		out->neg += v[i].neg;
	}
	free(v);
	return err;
}

/* ---- programs ------------------------------------------------------------ */

static void exit0(struct bpfc_emit *e)
{
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(e, BPF_EXIT_INSN());
}

/* r1 = the map, r2 = fp + key_off: a map helper's first two arguments. */
static void emit_map_key(struct bpfc_emit *e, int fd, int key_off)
{
	bpfc_emit__ld_map_fd(e, BPFC_R1, fd);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, key_off));
}

/* r0 = helper(map, fp + key_off): a lookup or a delete (clobbers r1-r5). */
static void emit_map_call(struct bpfc_emit *e, int helper, int fd, int key_off)
{
	emit_map_key(e, fd, key_off);
	bpfc_emit__insn(e, BPF_EMIT_CALL(helper));
}

/*
 * map[fp + key_off] = the value at fp + val_off (val_off 0: at r3, set
 * before), with flags (clobbers r0-r5).
 */
static void emit_map_update(struct bpfc_emit *e, int fd, int key_off, int val_off, int flags)
{
	emit_map_key(e, fd, key_off);
	if (val_off) {
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R10));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R3, val_off));
	}
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R4, flags));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));
}

/* Exit unless r0, a lookup's result, is an element. */
static void emit_exit_if_null(struct bpfc_emit *e)
{
	int l_ok = bpfc_emit__label(e);

	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_ok);
	exit0(e);
	bpfc_emit__bind(e, l_ok);
}

/* [reg + off] += 1, atomically (clobbers r1). */
static void emit_inc(struct bpfc_emit *e, int reg, int off)
{
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R1, 1));
	bpfc_emit__insn(e, BPF_ATOMIC_OP(BPF_DW, BPF_ADD, reg, BPFC_R1, (__s16)off));
}

/* r0 = &map[idx] (an array), exit when NULL; clobbers r1-r5. */
static void emit_arr(struct bpfc_emit *e, int fd, __u32 idx)
{
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_W, BPFC_R10, FP_IDX, (__s32)idx));
	emit_map_call(e, BPF_FUNC_map_lookup_elem, fd, FP_IDX);
	emit_exit_if_null(e);
}

/* stats.field++ (clobbers r0-r5). */
static void emit_stat(struct bpfc_emit *e, const struct bpfc_hist_maps *m, int field)
{
	emit_arr(e, m->stats_fd, 0);
	emit_inc(e, BPFC_R0, field);
}

/* stats.field++, then exit: the code at label l. */
static void emit_stat_exit(struct bpfc_emit *e, const struct bpfc_hist_maps *m, int l, int field)
{
	bpfc_emit__bind(e, l);
	emit_stat(e, m, field);
	exit0(e);
}

/* counters[slot].hits++: the overhead guard's rate. */
static void emit_hits(struct bpfc_emit *e, const struct bpfc_hist_spec *s)
{
	emit_arr(e, s->counters_fd, s->slot);
	emit_inc(e, BPFC_R0, offsetof(struct bpfc_counts, hits));
}

static void emit_prologue(struct bpfc_emit *e, const struct bpfc_hist_spec *s)
{
	if (s->stop)
		bpfc_stop__emit(e, s->stop);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R6, BPFC_R1));
	if (s->procs) {
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_RSH, BPFC_R0, 32));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_W, BPFC_R10, BPFC_R0, FP_IDX));
		emit_map_call(e, BPF_FUNC_map_lookup_elem, s->procs_fd, FP_IDX);
		emit_exit_if_null(e);
	}
}

/* One expression: parsed, emitted; l_fail taken when it ends early (or a condition is false). */
static int emit_expr(struct bpfc_emit *e, const struct bpfc_expr *x, unsigned flags, int l_fail,
		     char *msg, size_t mlen)
{
	struct bpfc_tsvs vars = {.fd = -1};
	struct bpfc_ax ax = {0};
	int err;

	err = bpfc_ax__parse(&ax, x->code, x->len, flags, msg, mlen);
	if (!err && ax.nblocks) {
		snprintf(msg, mlen, "a histogram's expression collects nothing");
		err = -EINVAL;
	}
	if (!err)
		err = bpfc_ax__emit(&ax, e, &vars, 0, l_fail, msg, mlen);
	bpfc_ax__free(&ax);
	return err;
}

/* The condition, if any: false (or unreadable) exits. */
static int emit_cond(struct bpfc_emit *e, const struct bpfc_hist_spec *s, char *msg, size_t mlen)
{
	int l_false, l_true, err;

	if (!s->cond)
		return 0;
	l_false = bpfc_emit__label(e);
	l_true = bpfc_emit__label(e);
	err = emit_expr(e, s->cond, BPFC_AX_COND, l_false, msg, mlen);
	if (err)
		return err;
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_true);
	bpfc_emit__bind(e, l_false);
	exit0(e);
	bpfc_emit__bind(e, l_true);
	return 0;
}

/* The key expression into FP_KEY; l_fail when it cannot be read. */
static int emit_keyx(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_fail, char *msg,
		     size_t mlen)
{
	enum bpfc_hist_keykind kk = s->maps->key;
	int i, err, l_done;

	if (kk == BPFC_HK_NONE)
		return 0;
	if (!s->keyx)
		return -EINVAL;
	for (i = 0; i < (int)BPFC_HIST_STR / 8; i++)
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_DW, BPFC_R10, FP_KEY + 8 * i, 0));
	err = emit_expr(e, s->keyx, 0, l_fail, msg, mlen);
	if (err)
		return err;
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R10, FP_SLOT0));
	if (kk == BPFC_HK_INT) {
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R3, FP_KEY));
		return 0;
	}
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R10));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, FP_KEY));
	if (kk == BPFC_HK_CSTR) {
		bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, BPFC_HIST_STR));
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user_str));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JSLT, BPFC_R0, 0, 0), l_fail);
		return 0;
	}
	/* A Go string: at most BPFC_HIST_STR of its bytes; "" reads nothing. */
	l_done = bpfc_emit__label(e);
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R2, BPFC_R10, FP_SLOT1));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R2, 0, 0), l_done);
	{
		int l_in = bpfc_emit__label(e);

		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JLE, BPFC_R2, BPFC_HIST_STR, 0), l_in);
		bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, BPFC_HIST_STR));
		bpfc_emit__bind(e, l_in);
	}
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_fail);
	bpfc_emit__bind(e, l_done);
	return 0;
}

/* The key read where the hit is taken (a site, or a latency's entry). */
static int emit_key(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_fail, char *msg,
		    size_t mlen)
{
	int err = emit_keyx(e, s, l_fail, msg, mlen);

	/* The fail path stays reachable for the verifier's CFG check (r6, ctx, is never 0). */
	if (!err)
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R6, 0, 0), l_fail);
	return err;
}

/* r0 = the key's histogram in the hash; to l_have when it is there. */
static void emit_key_lookup(struct bpfc_emit *e, const struct bpfc_hist_maps *m, int l_have)
{
	emit_map_call(e, BPF_FUNC_map_lookup_elem, m->hash_fd, FP_KEY);
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_have);
}

/* r1 = index(v), v in r9: v itself under 2^k, else from p = floor(log2 v); clobbers r2-r5. */
static void emit_index(struct bpfc_emit *e, __u32 k, __u32 nb)
{
	int l_done = bpfc_emit__label(e), l_ok = bpfc_emit__label(e);
	__u32 sh;

	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JLT, BPFC_R9, (__s32)(1u << k), 0), l_done);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, 0));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R9));
	for (sh = 32; sh; sh >>= 1) {
		int l_next = bpfc_emit__label(e);

		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R4, BPFC_R3));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_RSH, BPFC_R4, (__s32)sh));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R4, 0, 0), l_next);
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R4));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, (__s32)sh));
		bpfc_emit__bind(e, l_next);
	}
	/* sub = (v >> (p - k)) - 2^k; index = (p - k + 1) << k + sub */
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_SUB, BPFC_R2, (__s32)k));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R5, BPFC_R9));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_RSH, BPFC_R5, BPFC_R2));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_SUB, BPFC_R5, (__s32)(1u << k)));
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R2));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, 1));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_LSH, BPFC_R1, (__s32)k));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_ADD, BPFC_R1, BPFC_R5));
	bpfc_emit__bind(e, l_done);
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JLT, BPFC_R1, (__s32)nb, 0), l_ok);
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R1, (__s32)(nb - 1)));
	bpfc_emit__bind(e, l_ok);
}

/* [r8 + off] = reg where reg is above it (unsigned); r2 clobbered. */
static void emit_raise(struct bpfc_emit *e, int reg, int16_t off)
{
	int l_done = bpfc_emit__label(e);

	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R2, BPFC_R8, off));
	bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JLE, reg, BPFC_R2, 0), l_done);
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R8, reg, off));
	bpfc_emit__bind(e, l_done);
}

/* The histogram of the key (or the only one) into r8; the hit added. */
static void emit_add(struct bpfc_emit *e, const struct bpfc_hist_spec *s)
{
	const struct bpfc_hist_maps *m = s->maps;
	int l_have = bpfc_emit__label(e);

	if (m->hash_fd >= 0) {
		emit_key_lookup(e, m, l_have);
		/* A new key: from the zero histogram, arr[1], if the map has room. */
		emit_arr(e, m->arr_fd, 1);
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R3, BPFC_R0));
		emit_map_update(e, m->hash_fd, FP_KEY, 0, BPF_NOEXIST);
		emit_key_lookup(e, m, l_have);
		/* Full: "other". */
		emit_stat(e, m, offsetof(struct bpfc_hist_stats, other));
	}
	emit_arr(e, m->arr_fd, 0);
	bpfc_emit__bind(e, l_have);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R8, BPFC_R0));
	emit_inc(e, BPFC_R8, offsetof(struct bpfc_hist_val, count));
	if (m->mode == BPFC_HIST_COUNT)
		return;
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R9, BPFC_R10, FP_V));
	bpfc_emit__insn(e, BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPFC_R8, BPFC_R9,
					 offsetof(struct bpfc_hist_val, sum)));
	/* min as max of ~v (the zeroed value is "none yet"), then max. */
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_XOR, BPFC_R1, -1));
	emit_raise(e, BPFC_R1, offsetof(struct bpfc_hist_val, min_inv));
	emit_raise(e, BPFC_R9, offsetof(struct bpfc_hist_val, max));
	emit_index(e, m->k, bpfc_hist__nbuckets(m->mode, m->k));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_LSH, BPFC_R1, 3));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_ADD, BPFC_R8, BPFC_R1));
	emit_inc(e, BPFC_R8, sizeof(struct bpfc_hist_val));
}

/* A value or count site: the value (value mode), the key, the hit added. */
static int emit_site(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_fail, char *msg,
		     size_t mlen)
{
	const struct bpfc_hist_maps *m = s->maps;
	int err;

	if (m->mode == BPFC_HIST_VALUE) {
		err = emit_expr(e, s->value, 0, l_fail, msg, mlen);
		if (err)
			return err;
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R10, FP_SLOT0));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R1, FP_V));
		if (s->sgn) {
			int l_pos = bpfc_emit__label(e);

			bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JSGE, BPFC_R1, 0, 0), l_pos);
			emit_stat(e, m, offsetof(struct bpfc_hist_stats, neg));
			exit0(e);
			bpfc_emit__bind(e, l_pos);
		}
	}
	err = emit_key(e, s, l_fail, msg, mlen);
	if (!err)
		emit_add(e, s);
	return err;
}

/* A latency's return site: the call's entry (l_none when not seen) gives v and the key. */
static int emit_return(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_none, char *msg,
		       size_t mlen)
{
	const struct bpfc_hist_maps *m = s->maps;
	int l_seen = bpfc_emit__label(e), i;

	bpfc_lat__emit_key(e, s->lat);
	emit_map_call(e, BPF_FUNC_map_lookup_elem, m->ent_fd, BPFC_LAT_KEY_OFF);
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_seen);
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_none);
	bpfc_emit__bind(e, l_seen);
	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R7, BPFC_R0));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R7, 0));
	bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R0, BPFC_R1));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R0, FP_V));
	for (i = 0; i < (int)bpfc_hist__keysize(m->key) / 8; i++) {
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R7, 8 + 8 * i));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R1, FP_KEY + 8 * i));
	}
	emit_map_call(e, BPF_FUNC_map_delete_elem, m->ent_fd, BPFC_LAT_KEY_OFF);
	if (s->bias_ns) {
		int l_over = bpfc_emit__label(e), l_go = bpfc_emit__label(e);

		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R10, FP_V));
		bpfc_emit__ld_imm64(e, BPFC_R2, 0, s->bias_ns);
		bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JGE, BPFC_R1, BPFC_R2, 0), l_over);
		emit_stat(e, m, offsetof(struct bpfc_hist_stats, clamped));
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_DW, BPFC_R10, FP_V, 0));
		bpfc_emit__jmp(e, BPF_JMP_A(0), l_go);
		bpfc_emit__bind(e, l_over);
		bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R1, BPFC_R2));
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R1, FP_V));
		bpfc_emit__bind(e, l_go);
	}
	emit_add(e, s);
	return 0;
}

/* A latency's entry: the key, then {now, key} under the call. */
static int emit_entry(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_fail, char *msg,
		      size_t mlen)
{
	int err = emit_key(e, s, l_fail, msg, mlen);

	if (err)
		return err;
	bpfc_lat__emit_key(e, s->lat);
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R10, BPFC_R0, FP_ENT));
	emit_map_update(e, s->maps->ent_fd, BPFC_LAT_KEY_OFF, FP_ENT, BPF_ANY);
	return 0;
}

/*
 * The three programs: what each emits after the prologue, whether the
 * condition is evaluated in it (at the site, or a latency's entry) and
 * whether it counts the location's hits, and what is counted when its body
 * jumps to l_out (a read that failed, a return whose entry was not seen).
 */
static const struct hist_prog {
	int (*body)(struct bpfc_emit *e, const struct bpfc_hist_spec *s, int l_out, char *msg,
		    size_t mlen);
	bool cond, hits;
	int out_stat;
} hist_site = {emit_site, true, true, offsetof(struct bpfc_hist_stats, failed)},
  hist_return = {emit_return, false, true, offsetof(struct bpfc_hist_stats, no_entry)},
  hist_entry = {emit_entry, true, false, offsetof(struct bpfc_hist_stats, failed)};

static int check_spec(const struct bpfc_hist_spec *s, struct bpfc_prog *out)
{
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (!s || !s->maps || s->counters_fd < 0 || s->maps->arr_fd < 0 ||
	    (s->maps->mode == BPFC_HIST_VALUE && !s->value) ||
	    (s->maps->mode == BPFC_HIST_LATENCY && (!s->lat || s->maps->ent_fd < 0)) ||
	    (s->maps->key != BPFC_HK_NONE && (!s->keyx || s->maps->hash_fd < 0))) {
		snprintf(out->msg, sizeof(out->msg), "bad histogram spec");
		return -EINVAL;
	}
	return 0;
}

/* Prologue, condition, hits, body, exit, then the out path; handed to out. */
static int build(const struct hist_prog *p, const struct bpfc_hist_spec *s, struct bpfc_prog *out)
{
	struct bpfc_emit e;
	int err, l_out;

	bpfc_emit__init(&e);
	l_out = bpfc_emit__label(&e);
	emit_prologue(&e, s);
	err = p->cond ? emit_cond(&e, s, out->msg, sizeof(out->msg)) : 0;
	if (!err && p->hits)
		emit_hits(&e, s);
	if (!err)
		err = p->body(&e, s, l_out, out->msg, sizeof(out->msg));
	if (!err) {
		exit0(&e);
		emit_stat_exit(&e, s->maps, l_out, p->out_stat);
		err = bpfc_emit__finish(&e);
		if (err && !out->msg[0])
			snprintf(out->msg, sizeof(out->msg),
				 "cannot generate the histogram's BPF program: %s", strerror(-err));
	}
	if (!err)
		out->insns = bpfc_emit__take(&e, &out->ninsns);
	else if (!out->msg[0])
		snprintf(out->msg, sizeof(out->msg), "%s", strerror(-err));
	bpfc_emit__free(&e);
	return err;
}

int bpfc_hist__build(const struct bpfc_hist_spec *s, struct bpfc_prog *out)
{
	int err = check_spec(s, out);

	if (err)
		return err;
	return build(s->maps->mode == BPFC_HIST_LATENCY ? &hist_return : &hist_site, s, out);
}

int bpfc_hist__entry_build(const struct bpfc_hist_spec *s, struct bpfc_prog *out)
{
	int err = check_spec(s, out);

	if (err)
		return err;
	if (s->maps->mode != BPFC_HIST_LATENCY) {
		snprintf(out->msg, sizeof(out->msg), "not a latency histogram");
		return -EINVAL;
	}
	return build(&hist_entry, s, out);
}
