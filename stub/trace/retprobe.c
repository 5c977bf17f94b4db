/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/retprobe.c - return tracepoints (stub/trace/retprobe.h).
 *
 * Definition: FUNC's entry from the program's DWARF cache (tr->pgm, kept
 * for the target: files are not reopened at every command), its pc ranges and
 * results from dw_cache__func_results(), its code read from the file the
 * target maps (not live memory, where installed probes are int3s) and
 * decoded with Capstone's cs_disasm_iter: every ret (and ret imm16) is a
 * location; a jmp whose target lies outside the function is a tail call
 * whose return this function never sees, and is reported.
 *
 * Values: Go's results by the register ABI (ABIInternal, amd64): integer
 * words in RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11 in order, a string
 * taking 2, a slice 3, an interface 2, a struct its fields' words; floats
 * go in X0..X14, which a uprobe's pt_regs does not hold.  A result that
 * does not fit the registers left is on the stack (and the registers it
 * would have taken stay free for the next one).  C: rax typed by the
 * function's return type (rax:rdx for a 16-byte all-integer struct; for a
 * struct returned in memory rax holds its address).
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/calib.h"
#include "bpf/latency.h"
#include "bpf/reap.h"
#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "stub/program/layout.h"
#include "stub/program/program.h"
#include "stub/program/target.h"
#include "stub/trace/montrace.h"
#include "stub/trace/retprobe.h"
#include "stub/trace/trace.h"

#define RET_MAX_CODE (1u << 20) /* bytes of one function decoded */
#define MAX_FUNCS    8

/* DWARF numbers of RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11. */
static const int go_int_regs[] = {0, 3, 2, 5, 4, 8, 9, 10, 11};
#define GO_NINT	  9
#define GO_NFLOAT 15
#define DW_RAX	  0
#define DW_RDX	  1

static const char *dw_reg_name(int reg)
{
	static const char *const names[] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
					    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

	return reg >= 0 && reg < 16 ? names[reg] : "?";
}

/* ---- decoding ----------------------------------------------------------- */

static bool in_ranges(uint64_t a, const uint64_t (*r)[2], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a >= r[i][0] && a < r[i][1])
			return true;
	return false;
}

int retprobe__decode(const uint8_t *code, size_t len, uint64_t lo, const uint64_t (*ranges)[2],
		     size_t nranges, struct ret_sites *out)
{
	const uint8_t *p = code;
	uint64_t addr = lo;
	cs_insn *insn = NULL;
	size_t left = len;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		return -ENOMEM;
	}
	while (left) {
		if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
			/* Not an instruction (data, or what this Capstone lacks): step a byte. */
			out->bad++;
			p++;
			left--;
			addr++;
			continue;
		}
		if (insn->id == X86_INS_RET) {
			if (out->nret < RET_MAX_SITES)
				out->ret[out->nret++] = insn->address;
			else
				out->ret_dropped++;
		} else if (insn->id == X86_INS_JMP && insn->detail &&
			   insn->detail->x86.op_count == 1) {
			const cs_x86_op *op = &insn->detail->x86.operands[0];
			uint64_t to = op->type == X86_OP_IMM ? (uint64_t)op->imm : 0;

			if ((to && in_ranges(to, ranges, nranges)) || out->ntail == 8)
				continue;
			out->tail[out->ntail][0] = insn->address;
			out->tail[out->ntail][1] = to;
			out->ntail++;
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	return 0;
}

/* The bytes of [lo, hi) from the file the target maps there. */
static int read_code(struct tgt *t, uint64_t lo, uint64_t hi, uint8_t **buf, char *msg, size_t mlen)
{
	struct tgt_map m;
	uint64_t off;
	ssize_t n;
	int fd, err;

	*buf = NULL;
	err = tgt__region(t, lo, &m);
	if (err || m.path[0] != '/' || hi > m.end) {
		rsp_buf__msgf(msg, mlen, "0x%llx..0x%llx is not code of one file the target maps",
			      (unsigned long long)lo, (unsigned long long)hi);
		return err ? err : -ENOENT;
	}
	fd = tgt__open_mapping(t, &m);
	if (fd < 0) {
		rsp_buf__msgf(msg, mlen, "cannot open %s: %s", m.path, strerror(-fd));
		return fd;
	}
	*buf = malloc(hi - lo);
	if (!*buf || layout__map_offset(&m, lo, &off)) {
		close(fd);
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	n = pread(fd, *buf, hi - lo, (off_t)off);
	close(fd);
	if (n != (ssize_t)(hi - lo)) {
		rsp_buf__msgf(msg, mlen, "cannot read the code of 0x%llx from %s",
			      (unsigned long long)lo, m.path);
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	return 0;
}

/* ---- values ------------------------------------------------------------- */

struct abi {
	int ints, floats; /* registers used */
	bool fp;	  /* the value has a float part */
	bool fail;	  /* does not fit: on the stack */
	struct dw_loc *l;
	uint64_t off; /* of the next part in the value */
};

static void abi_int(struct abi *a, uint64_t size)
{
	if (a->ints == GO_NINT || a->l->npieces == DW_MAX_PIECES) {
		a->fail = true;
		return;
	}
	a->l->pieces[a->l->npieces].kind = DWP_REG;
	a->l->pieces[a->l->npieces].reg = go_int_regs[a->ints++];
	a->l->pieces[a->l->npieces].size = (uint32_t)size;
	a->l->npieces++;
}

/* Go's register assignment of one value of type t (the ABI's recursion). */
static void abi_assign(struct abi *a, const struct dw_type *t)
{
	size_t i;

	t = dw_type__strip(t);
	if (!t || a->fail) {
		a->fail = true;
		return;
	}
	switch (t->kind) {
	case DWT_BASE:
		if (t->encoding == 0x4 /* DW_ATE_float */ || t->encoding == 0x3 /* complex */) {
			a->fp = true;
			a->floats += t->encoding == 0x3 ? 2 : 1;
			if (a->floats > GO_NFLOAT)
				a->fail = true;
		} else if (t->size) {
			abi_int(a, t->size);
		}
		break;
	case DWT_PTR:
	case DWT_FUNC:
	case DWT_GO_MAP:
	case DWT_GO_CHAN:
		abi_int(a, 8);
		break;
	case DWT_GO_STRING:
	case DWT_GO_IFACE:
	case DWT_GO_EFACE:
		abi_int(a, 8);
		abi_int(a, 8);
		break;
	case DWT_GO_SLICE:
		abi_int(a, 8);
		abi_int(a, 8);
		abi_int(a, 8);
		break;
	case DWT_STRUCT:
		if (t->cut || (t->size && !t->nmembers)) {
			a->fail = true;
			break;
		}
		for (i = 0; i < t->nmembers; i++)
			abi_assign(a, t->members[i].type);
		break;
	case DWT_ARRAY:
		if (t->count == 1)
			abi_assign(a, t->target);
		else if (t->count != 0)
			a->fail = true;
		break;
	default:
		a->fail = true;
	}
}

static void go_values(struct tp_ret *r)
{
	int ints = 0, floats = 0;
	size_t i;

	for (i = 0; i < r->df.s.nvars; i++) {
		struct dw_var *v = &r->vals[r->nvals++];
		struct abi a = {ints, floats, false, false, &v->loc, 0};

		*v = r->df.s.vars[i];
		memset(&v->loc, 0, sizeof(v->loc));
		abi_assign(&a, v->type);
		if (a.fail) {
			dw_loc__unavail(&v->loc, "on the stack (no registers left for it)");
			continue; /* the registers stay free for the next result */
		}
		ints = a.ints;
		floats = a.floats;
		if (a.fp)
			dw_loc__unavail(&v->loc, "in X registers (floating point), which a BPF "
						 "uprobe cannot read");
		else if (!v->loc.npieces)
			dw_loc__unavail(&v->loc, "zero-sized");
		else if (v->loc.npieces == 1)
			v->loc.pieces[0].size = 0;
	}
}

/* Is every member of struct t an integer or pointer (the INTEGER class)? */
static bool all_int(const struct dw_type *t, int depth)
{
	size_t i;

	t = dw_type__strip(t);
	if (!t || depth > 3)
		return false;
	if (t->kind == DWT_BASE)
		return t->encoding != 0x4 && t->encoding != 0x3;
	if (t->kind == DWT_PTR || t->kind == DWT_ENUM)
		return true;
	if (t->kind == DWT_ARRAY)
		return all_int(t->target, depth + 1);
	if ((t->kind != DWT_STRUCT && t->kind != DWT_UNION) || t->cut)
		return false;
	for (i = 0; i < t->nmembers; i++)
		if (!all_int(t->members[i].type, depth + 1))
			return false;
	return true;
}

static void c_value(struct tp_ret *r)
{
	const struct dw_type *t = dw_type__strip(r->df.ret_type);
	struct dw_var *v;

	if (!t || t->kind == DWT_VOID)
		return; /* void: no value, the frame has the latency */
	v = &r->vals[r->nvals++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "rax");
	v->type = r->df.ret_type;
	v->loc.npieces = 1;
	v->loc.pieces[0].kind = DWP_REG;
	v->loc.pieces[0].reg = DW_RAX;
	if (t->kind == DWT_BASE && (t->encoding == 0x4 || t->encoding == 0x3)) {
		dw_loc__unavail(&v->loc,
				"in xmm0 (floating point), which a BPF uprobe cannot read");
	} else if (t->size > 8 && t->size <= 16 && all_int(t, 0)) {
		v->loc.npieces = 2;
		v->loc.pieces[0].size = 8;
		v->loc.pieces[1].kind = DWP_REG;
		v->loc.pieces[1].reg = DW_RDX;
		v->loc.pieces[1].size = (uint32_t)(t->size - 8);
	} else if (t->size > 16) {
		/* Returned in memory: rax holds the address the caller passed. */
		v->loc.pieces[0].kind = DWP_MEM;
		v->loc.pieces[0].off = 0;
	} else if (!all_int(t, 0)) {
		/* An aggregate of 16 bytes or less with a float part: xmm0 (and rax or xmm1). */
		dw_loc__unavail(&v->loc, "in SSE registers (floating point), which a BPF "
					 "uprobe cannot read");
	}
}

int retprobe__values(struct trace *tr, const struct tp *tp, struct dw_var *out, size_t max,
		     char *msg, size_t mlen)
{
	size_t i;

	if (!tp || !tp->ret) {
		rsp_buf__msgf(msg, mlen, "tracepoint %u is not a return tracepoint",
			      tp ? tp->num : 0);
		return -EINVAL;
	}
	for (i = 0; i < tp->ret->nvals && i < max; i++)
		out[i] = tp->ret->vals[i];
	return (int)i;
}

/* ---- the run ------------------------------------------------------------ */

static int retprobe__prepare(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct tp_ret *r = tp->ret;
	int err;

	if (r->lat.map_fd < 0) {
		err = bpfc_lat__map_create();
		if (err < 0) {
			rsp_buf__msgf(msg, mlen, "tracepoint %u: cannot create the latency map: %s",
				      tp->num, strerror(-err));
			return err;
		}
		r->lat.map_fd = err;
	}
	if (r->lat.clamp_fd < 0) {
		err = bpfc_lat__clamp_create();
		if (err < 0) {
			rsp_buf__msgf(msg, mlen,
				      "tracepoint %u: cannot create the clamp counter: %s", tp->num,
				      strerror(-err));
			return err;
		}
		r->lat.clamp_fd = err;
	}
	if (r->entry_prog.fd >= 0)
		return 0;
	/* A new entry program: a new run (or the first install after a detach). */
	bpfc_lat__clamp_reset(r->lat.clamp_fd);
	bpfc_prog__free(&r->entry_prog);
	if (!r->entry_stop_held) {
		err = tr__stop_take(tr, &r->entry_stop, msg, mlen);
		if (err)
			return err;
		r->entry_stop_held = true;
	}
	err = bpfc_lat__entry_prog(&r->lat, &r->entry_stop, &r->entry_prog);
	if (err)
		rsp_buf__msgf(msg, mlen, "tracepoint %u: %s", tp->num, r->entry_prog.msg);
	return err;
}

static int retprobe__entry_get(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct tp_ret *r = tp->ret;
	char why[200];
	int err;

	if (r->entry_on) {
		r->attached++;
		return 0;
	}
	err = retprobe__prepare(tr, tp, msg, mlen);
	if (err)
		return err;
	/* Several processes: the entry in all of them, as the returns (keyed by thread). */
	if (tr_procs__multi(tr))
		err = bpfc_probe__attach_shared(&r->entry_probe, tr->tgt->pid, r->entry,
						r->entry_prog.fd, BPFC_PROBE_PATH_AUTO, 0, why,
						sizeof(why));
	else
		err = bpfc_probe__attach_ex(&r->entry_probe, tr->tgt->pid, r->entry,
					    r->entry_prog.fd, r->entry_prog.multi,
					    BPFC_PROBE_PATH_AUTO, 0, why, sizeof(why));
	if (err) {
		rsp_buf__msgf(msg, mlen, "tracepoint %u: entry of %s at 0x%llx: %s", tp->num,
			      r->func, (unsigned long long)r->entry, why);
		return err;
	}
	r->entry_on = true;
	r->attached++;
	return 0;
}

/*
 * The entry probe goes: its program stops at once, the uprobe is released
 * in the background (bpf/reap.h), and the program with its switch goes
 * (the next entry_get loads one with a new switch: this one stays off).
 */
static void entry_release(struct tp_ret *r)
{
	if (r->entry_on) {
		bpfc_stop__set(&r->entry_stop, false);
		bpfc_reap__probe(&r->entry_probe, (int)r->entry_stop.id);
	}
	r->entry_on = false;
	bpfc_prog__free(&r->entry_prog);
	r->entry_stop_held = false;
}

static bool retprobe__entry_stop_held(const struct tp_ret *r, uint32_t id)
{
	return r->entry_stop_held && r->entry_stop.id == id;
}

static void retprobe__entry_put(struct tp *tp)
{
	struct tp_ret *r = tp->ret;

	if (!r->attached || --r->attached)
		return;
	entry_release(r);
}

static void retprobe__put(struct tp *tp)
{
	struct tp_ret *r = tp->ret;

	tp->ret = NULL;
	if (!r || --r->refs)
		return;
	entry_release(r);
	if (r->lat.map_fd >= 0)
		close(r->lat.map_fd);
	if (r->lat.clamp_fd >= 0)
		close(r->lat.clamp_fd);
	deep__plan_free(&r->plan);
	dw_scope__free(&r->df.s);
	free(r);
}

/*
 * The return values as a scope (malloc'd; its types stay r's, so free() it,
 * never dw_scope__free()): each value a parameter located in its registers
 * at the ret, for the condition compiler and deep collection's planner.
 */
static struct dw_scope *vals_scope(const struct tp_ret *r)
{
	struct dw_scope *s = malloc(sizeof(*s));
	size_t i;

	if (!s)
		return NULL;
	*s = r->df.s;
	s->nvars = r->nvals;
	memcpy(s->vars, r->vals, r->nvals * sizeof(r->vals[0]));
	for (i = 0; i < s->nvars; i++)
		s->vars[i].param = true;
	return s;
}

static void retprobe__deep(struct trace *tr, const struct tp *tp, struct bpfc_expr *out, size_t *n,
			   size_t max)
{
	struct tp_ret *r = tp->ret;
	struct dw_scope *vals;
	size_t i;

	if (!r->planned && tr->deep_budget) {
		/* Planned as deep.c plans parameters. */
		vals = vals_scope(r);
		if (!vals)
			return;
		if (deep__plan(vals, tr->deep_budget, &r->plan))
			deep__plan_free(&r->plan);
		free(vals);
		r->planned = true;
	}
	for (i = 0; i < r->plan.n && *n < max; i++) {
		out[*n].code = r->plan.code[i];
		out[*n].len = r->plan.len[i];
		(*n)++;
	}
}

/* ---- the latency bias (docs/RETPROBE.md) ---------------------------------- */

/* "13.2 us" */
static void fmt_us(uint64_t ns, char *out, size_t n)
{
	snprintf(out, n, "%llu.%llu us", (unsigned long long)(ns / 1000),
		 (unsigned long long)(ns % 1000 / 100));
}

/* What a return location with an entry of kind k subtracts, by the setting. */
static uint64_t bias_for(struct trace *tr, unsigned k)
{
	if (tr->lat_bias == TR_LAT_BIAS_OFF)
		return 0;
	if (tr->lat_bias)
		return tr->lat_bias;
	/* auto: measured once per bpfstub, at the first use. */
	if (!tr->lat_bias_measured[BPFC_LAT_STEPPED] && !tr->lat_bias_msg[0] &&
	    bpfc_calib__lat_bias(tr->lat_bias_measured, tr->lat_bias_msg,
				 sizeof(tr->lat_bias_msg))) {
		tr->lat_bias_measured[0] = tr->lat_bias_measured[1] = 0;
		if (!tr->lat_bias_msg[0])
			snprintf(tr->lat_bias_msg, sizeof(tr->lat_bias_msg), "calibration failed");
	}
	return tr->lat_bias_measured[k < BPFC_LAT_NSITES ? k : BPFC_LAT_STEPPED];
}

uint64_t retprobe__bias(struct trace *tr, unsigned entry_kind)
{
	return bias_for(tr, entry_kind);
}

static const char *bias_how(const struct trace *tr)
{
	if (tr->lat_bias == TR_LAT_BIAS_OFF)
		return "latency-bias off";
	if (tr->lat_bias)
		return "set by latency-bias";
	return tr->lat_bias_msg[0] ? "not measured" : "measured at tstart";
}

/* tr->lat_bias_note: what every installed return location subtracts. */
static void bias_note(struct trace *tr)
{
	struct rsp_buf b;
	const struct tp *t;
	char us[32];
	uint32_t last = 0;

	rsp_buf__init(&b);
	tr__foreach(tr, t) {
		if (!t->ret || t->ret->entry_prog.fd < 0 || t->num == last)
			continue;
		last = t->num;
		fmt_us(t->ret->lat.bias_ns, us, sizeof(us));
		rsp_buf__printf(&b, "%stp %u %s", b.len ? ", " : "", t->num, us);
	}
	snprintf(tr->lat_bias_note, sizeof(tr->lat_bias_note),
		 "bpfstub: latency bias subtracted from $latency_ns (%s): %s", bias_how(tr),
		 b.data ? b.data : "none");
	rsp_buf__free(&b);
}

void retprobe__status(struct trace *tr, struct rsp_buf *out)
{
	const struct tp *t;
	uint64_t clamped = 0;
	uint32_t last = 0;
	bool any = false;
	char a[32], b[32];

	tr__foreach(tr, t)
		any |= t->ret != NULL;
	if (!any && !tr->lat_bias_measured[BPFC_LAT_STEPPED])
		return;
	if (tr->lat_bias == TR_LAT_BIAS_OFF) {
		rsp_buf__printf(out, "latency bias: off (monitor set latency-bias): $latency_ns "
				     "includes the probes' own cost");
	} else if (tr->lat_bias) {
		fmt_us(tr->lat_bias, a, sizeof(a));
		rsp_buf__printf(out, "latency bias: %s, set by monitor set latency-bias", a);
	} else if (tr->lat_bias_msg[0]) {
		rsp_buf__printf(out, "latency bias: not measured (%s): nothing subtracted",
				tr->lat_bias_msg);
	} else if (!tr->lat_bias_measured[BPFC_LAT_STEPPED]) {
		rsp_buf__printf(out, "latency bias: auto, measured at the first tstart");
	} else {
		fmt_us(tr->lat_bias_measured[BPFC_LAT_STEPPED], a, sizeof(a));
		fmt_us(tr->lat_bias_measured[BPFC_LAT_EMULATED], b, sizeof(b));
		rsp_buf__printf(out,
				"latency bias: %s (entry single-stepped + return single-stepped), "
				"%s (entry emulated + return single-stepped), measured at tstart",
				a, b);
	}
	tr__foreach(tr, t) {
		if (!t->ret || t->num == last)
			continue;
		last = t->num;
		clamped += bpfc_lat__clamped(t->ret->lat.clamp_fd);
	}
	rsp_buf__printf(out, "; %llu frame%s clamped at 0\n", (unsigned long long)clamped,
			clamped == 1 ? "" : "s");
	last = 0;
	tr__foreach(tr, t) {
		const struct tp_ret *r = t->ret;

		if (!r || t->num == last)
			continue;
		last = t->num;
		fmt_us(r->lat.bias_ns, a, sizeof(a));
		rsp_buf__printf(
			out, "  tracepoint %u, return of %s: entry %s + return %s: %s subtracted\n",
			t->num, r->func, bpfc_lat__site_name(r->entry_kind),
			bpfc_lat__site_name(r->ret_kind), a);
	}
}

/* ---- the kind: stub/trace/trace.h's struct tp_kind ------------------------ */

/* Registers, the latency and (Go) the goroutine id, no stack window (its cost
 * would exceed the return probe's budget). */
static int ret_prepare(struct trace *tr, struct tp *tp, struct tp_build *b, char *msg, size_t mlen)
{
	struct tp_ret *r = tp->ret;
	const struct tp_tsv *v;
	int err;

	err = retprobe__prepare(tr, tp, msg, mlen);
	if (err)
		return err;
	b->regs = true;
	b->stack_window = 0;
	v = tr__find_tsv(tr, TR_TSV_LATENCY);
	r->lat.tsv = v && v->builtin ? TR_TSV_LATENCY : 0;
	/* The probes' own cost, by the kinds of its sites: subtracted in the kernel. */
	r->lat.bias_ns = bias_for(tr, r->entry_kind);
	tr->lat_bias_ns = bias_for(tr, BPFC_LAT_STEPPED);
	bias_note(tr);
	b->lat = &r->lat;
	if (r->go && r->goid_off >= 0) {
		b->mem[b->nmem].basereg = 14; /* r14: the current g */
		b->mem[b->nmem].offset = r->goid_off;
		b->mem[b->nmem].len = 8;
		b->mem[b->nmem].flags = 0;
		b->nmem++;
	}
	return 0;
}

static bool ret_holds_stop(const struct tp *tp, uint32_t id)
{
	return tp->ret && retprobe__entry_stop_held(tp->ret, id);
}

static void ret_unpatch(const struct tp *tp, uint64_t addr, void *buf, size_t len)
{
	const struct tp_ret *r = tp->ret;

	if (r && r->entry_on)
		bpfc_probe__patch(&r->entry_probe, addr, buf, len);
}

static void ret_take(struct tp *tp, void *data)
{
	tp->ret = data;
	tp->ret->refs++;
}

/* GDB sending back a return location it uploaded: it stays one. */
static void ret_keep(struct tp *from, struct tp *to)
{
	to->kind = from->kind;
	to->ret = from->ret;
	from->ret = NULL;
}

const struct tp_kind tp_kind_ret = {
	.name = "return",
	.outlives_qtinit = true,
	.prepare = ret_prepare,
	.deep = retprobe__deep,
	.entry_get = retprobe__entry_get,
	.entry_put = retprobe__entry_put,
	.holds_stop = ret_holds_stop,
	.unpatch = ret_unpatch,
	.take = ret_take,
	.keep = ret_keep,
	.free = retprobe__put,
};

/* ---- definition --------------------------------------------------------- */

static int decode_func(struct trace *tr, struct tp_ret *r, struct ret_sites *s, char *msg,
		       size_t mlen)
{
	size_t i;
	int err = 0;

	r->entry_kind = BPFC_LAT_STEPPED;
	r->ret_kind = BPFC_LAT_EMULATED; /* the dearest of its rets' */
	for (i = 0; i < r->df.nranges && !err; i++) {
		uint64_t lo = r->df.ranges[i][0], hi = r->df.ranges[i][1];
		size_t k, had = s->nret;
		uint8_t *code;

		if (hi - lo > RET_MAX_CODE) {
			rsp_buf__msgf(msg, mlen,
				      "%s: %llu bytes of code, more than bpfstub decodes", r->func,
				      (unsigned long long)(hi - lo));
			return -E2BIG;
		}
		err = read_code(tr->tgt, lo, hi, &code, msg, mlen);
		if (err)
			return err;
		err = retprobe__decode(code, hi - lo, lo, (const uint64_t(*)[2])r->df.ranges,
				       r->df.nranges, s);
		/* How the kernel runs each probed instruction: the latency bias's kind. */
		if (r->entry >= lo && r->entry < hi)
			r->entry_kind = bpfc_lat__site_kind(code + (r->entry - lo), hi - r->entry);
		for (k = had; k < s->nret; k++)
			if (bpfc_lat__site_kind(code + (s->ret[k] - lo), hi - s->ret[k]) ==
			    BPFC_LAT_STEPPED)
				r->ret_kind = BPFC_LAT_STEPPED;
		free(code);
		if (err)
			rsp_buf__msgf(msg, mlen, "Capstone cannot decode x86-64 here");
	}
	return err;
}

static void describe(struct dw_cache *c, const struct tp_ret *r, uint32_t num,
		     const struct ret_sites *s, struct rsp_buf *out)
{
	char tn[128];
	size_t i;

	rsp_buf__printf(
		out, "tracepoint %u: return of %s (entry 0x%llx), %zu return instruction%s:", num,
		r->func, (unsigned long long)r->entry, s->nret, s->nret == 1 ? "" : "s");
	for (i = 0; i < s->nret; i++)
		rsp_buf__printf(out, " 0x%llx", (unsigned long long)s->ret[i]);
	rsp_buf__printf(out, "\n");
	if (r->df.s.symbols && r->go) {
		rsp_buf__printf(
			out,
			"  no DWARF for %s in %s: its range is from Go's function table, its "
			"values ~r0..~r%d the result registers rax, rbx, rcx, rdi, untyped "
			"(how many results it has is not in the table)\n",
			r->func, r->df.s.path, GO_RESULT_WORDS - 1);
	} else if (r->df.s.symbols) {
		char note[300];

		dw_cache__split_note(c, note, sizeof(note));
		rsp_buf__printf(out,
				"  no DWARF for %s in %s%s%s%s: its range is its ELF symbol's, its "
				"value rax untyped\n",
				r->func, r->df.s.path, note[0] ? " (" : "", note,
				note[0] ? ")" : "");
	}
	for (i = 0; i < s->ntail; i++) {
		if (s->tail[i][1])
			rsp_buf__printf(out,
					"  tail call at 0x%llx: jmp 0x%llx leaves %s; returns "
					"through it are not seen\n",
					(unsigned long long)s->tail[i][0],
					(unsigned long long)s->tail[i][1], r->func);
		else
			rsp_buf__printf(out,
					"  indirect jmp at 0x%llx: if it leaves %s (a tail call), "
					"returns through it are not seen\n",
					(unsigned long long)s->tail[i][0], r->func);
	}
	if (s->ret_dropped)
		rsp_buf__printf(out, "  %zu more return instructions not probed (at most %d)\n",
				s->ret_dropped, RET_MAX_SITES);
	if (s->bad)
		rsp_buf__printf(out, "  %zu bytes Capstone could not decode were stepped over\n",
				s->bad);
	for (i = 0; i < r->nvals; i++) {
		const struct dw_var *v = &r->vals[i];

		rsp_buf__printf(out, "  value %s (%s): ", v->name,
				dw_type__name(v->type, tn, sizeof(tn)));
		if (v->loc.pieces[0].kind == DWP_UNAVAIL) {
			rsp_buf__printf(out, "not collected: %s\n", v->loc.why);
		} else {
			size_t k;

			for (k = 0; k < v->loc.npieces; k++)
				rsp_buf__printf(out, "%s%s%s", k ? ":" : "",
						v->loc.pieces[k].kind == DWP_MEM ? "*" : "",
						dw_reg_name(v->loc.pieces[k].reg));
			rsp_buf__printf(out, "\n");
		}
	}
	if (!r->nvals)
		rsp_buf__printf(out, "  no return value (frames hold the registers and latency)\n");
	rsp_buf__printf(out,
			"  latency: $latency_ns in each frame (void: the call began before "
			"the trace), less the probes' own cost (entry %s + return %s: "
			"monitor status)\n",
			bpfc_lat__site_name(r->entry_kind), bpfc_lat__site_name(r->ret_kind));
	if (r->cond[0])
		rsp_buf__printf(out, "  only when: %s\n", r->cond);
	if (r->go && r->goid_off >= 0)
		rsp_buf__printf(out, "  goroutine id: 8 bytes at $r14 + %lld (runtime.g.goid)\n",
				(long long)r->goid_off);
	else if (r->go)
		rsp_buf__printf(out, "  goroutine id: not collected (no runtime.g.goid in DWARF, "
				     "and the Go version's offset is not known)\n");
}

/*
 * The function called func (the first of several, said in out): its pc
 * ranges and results into r->df, its name and entry into r (decode_func()
 * classifies the instruction there).  0, or -errno with msg.
 */
static int find_func(struct trace *tr, const char *func, struct tp_ret *r, struct rsp_buf *out,
		     char *msg, size_t mlen)
{
	struct dw_cache *c = tr->pgm->dwarf;
	uint64_t pcs[MAX_FUNCS];
	int n, err;

	n = dw_cache__func_pcs(c, tr->tgt, func, pcs, MAX_FUNCS);
	if (n <= 0) {
		char note[300];

		dw_cache__split_note(c, note, sizeof(note));
		rsp_buf__msgf(msg, mlen,
			      "no function '%.80s' in the DWARF or ELF symbols of the files pid %d "
			      "maps%s%s",
			      func, (int)tr->tgt->pid, note[0] ? "; " : "", note);
		return n < 0 ? n : -ENOENT;
	}
	if (n > 1)
		rsp_buf__printf(out, "%d functions named %s: tracing the one at 0x%llx\n", n, func,
				(unsigned long long)pcs[0]);
	err = dw_cache__func_results(c, tr->tgt, pcs[0], &r->df, msg, mlen);
	if (err)
		return err;
	snprintf(r->func, sizeof(r->func), "%s", func);
	r->entry = pcs[0];
	return 0;
}

int retprobe__sites(struct trace *tr, const char *func, struct ret_func *f, struct rsp_buf *out,
		    char *msg, size_t mlen)
{
	struct tp_ret *r = calloc(1, sizeof(*r));
	int err;

	memset(f, 0, sizeof(*f));
	if (!r)
		return -ENOMEM;
	err = find_func(tr, func, r, out, msg, mlen);
	if (err)
		goto cleanup;
	if (!r->df.nranges) {
		rsp_buf__msgf(msg, mlen, "%s: neither DWARF nor an ELF symbol gives its pc range",
			      func);
		err = -ENOENT;
		goto cleanup;
	}
	err = decode_func(tr, r, &f->s, msg, mlen);
	if (err)
		goto cleanup;
	if (!f->s.nret) {
		rsp_buf__msgf(msg, mlen, "%s: no return instruction found in its code%s", func,
			      f->s.ntail ? " (it leaves by tail calls only)" : "");
		err = -ENOENT;
		goto cleanup;
	}
	f->entry = r->entry;
	f->entry_kind = r->entry_kind;
	f->go = r->df.s.go;
	f->stack_hi = r->df.stack_hi_off > 0 && r->df.stack_hi_off < 4096
			      ? (int32_t)r->df.stack_hi_off
			      : 0;
cleanup:
	dw_scope__free(&r->df.s);
	free(r);
	return err;
}

int retprobe__define(struct trace *tr, const char *const *words, size_t nwords, struct rsp_buf *out,
		     char *msg, size_t mlen)
{
	const char *func = words[0];
	struct ret_sites *s = NULL;
	struct tp_ret *r = NULL;
	struct dw_cache *c = tr->pgm->dwarf; /* the program's: files read once per target */
	struct dw_scope *vals = NULL;
	uint8_t *cond = NULL;
	size_t condlen = 0;
	char cond_text[RSP_MON_LINE_MAX] = "";
	uint32_t num = 0;
	size_t i, added = 0;
	int err;

	if (nwords > 1 && (strcmp(words[1], "if") || nwords == 2)) {
		rsp_buf__msgf(msg, mlen, "usage: monitor trace -return FUNC [if COND]");
		return -EINVAL;
	}
	/* COND: the words after `if`, compiled over the return values below. */
	for (i = 2; i < nwords; i++)
		snprintf(cond_text + strlen(cond_text), sizeof(cond_text) - strlen(cond_text),
			 "%s%s", i > 2 ? " " : "", words[i]);
	s = calloc(1, sizeof(*s));
	r = calloc(1, sizeof(*r));
	if (!s || !r) {
		err = -ENOMEM;
		goto cleanup;
	}
	r->lat.map_fd = -1;
	r->lat.clamp_fd = -1;
	r->entry_prog.fd = -1;
	err = find_func(tr, func, r, out, msg, mlen);
	if (err)
		goto cleanup;
	r->go = r->df.s.go;
	r->goid_off = r->df.goid_off;
	r->lat.go = r->go;
	if (r->df.stack_hi_off > 0 && r->df.stack_hi_off < 4096)
		r->lat.go_stack_hi = (__s32)r->df.stack_hi_off;
	if (!r->df.nranges) {
		rsp_buf__msgf(msg, mlen, "%s: neither DWARF nor an ELF symbol gives its pc range",
			      func);
		err = -ENOENT;
		goto cleanup;
	}
	err = decode_func(tr, r, s, msg, mlen);
	if (err)
		goto cleanup;
	if (!s->nret) {
		rsp_buf__msgf(msg, mlen, "%s: no return instruction found in its code%s", func,
			      s->ntail ? " (it leaves by tail calls only)" : "");
		err = -ENOENT;
		goto cleanup;
	}
	if (r->go)
		go_values(r);
	else
		c_value(r);
	if (cond_text[0]) {
		/* The scope a condition sees: the return values, in registers at the ret. */
		vals = vals_scope(r);
		if (!vals) {
			err = -ENOMEM;
			goto cleanup;
		}
		err = mt__cond(tr, vals, cond_text, &cond, &condlen, msg, mlen);
		if (err)
			goto cleanup;
		snprintf(r->cond, sizeof(r->cond), "%s", cond_text);
	}
	num = tr__next_num(tr);
	err = tr__room(tr, s->nret, msg, mlen);
	if (err)
		goto cleanup;
	for (i = 0; i < s->nret && !err; i++)
		err = tr__define_loc(tr, num, s->ret[i], &tp_kind_ret, r, cond, condlen, msg, mlen);
	added = r->refs;
	if (err && added) {
		/* Installing one failed in a running trace: the others stay, said so. */
		rsp_buf__printf(out, "tracepoint %u: %zu of %zu return locations defined\n", num,
				added, s->nret);
	}
	if (added)
		describe(c, r, num, s, out);
	if (added)
		r = NULL; /* the locations own it now */
cleanup:
	if (r) {
		if (r->lat.map_fd >= 0)
			close(r->lat.map_fd);
		dw_scope__free(&r->df.s);
		free(r);
	}
	free(s);
	free(vals);
	free(cond);
	return err;
}
