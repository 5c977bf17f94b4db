/* SPDX-License-Identifier: MIT */
/*
 * stub/views/frame.c - a view of one stored trace frame (see frame.h).
 *
 * This file owns the tfind rule, in one place for every reader of a frame:
 * the packet handlers (g, p, m and qXfer:traceframe-info while GDB has a
 * frame selected) and the text views (tdump, tframes, tlive).  Registers
 * come from the frame's R block, with rip always the tracepoint's address
 * and what BPF cannot see unavailable; memory from its M blocks, or live
 * for what cannot have changed since the hit: the read-only ranges GDB
 * declared with QTro (code, string literals) and read-only file mappings,
 * read without the probes' int3s and only while the target still runs the
 * image that was traced.
 *
 * A view is built from the frame, its trace and the target, never from a
 * client's session, so it is a layer below the server: whoever holds a
 * trace can look at its frames.  Typing (the DWARF scope at the pc, Go's
 * dynamic types) is a second step, fview__scope(), from the trace's
 * program context (tr->pgm), because the packet handlers need none of it
 * and must not pay for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/program.h"
#include "stub/program/regs.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "stub/views/frame.h"

static ssize_t live_cb(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return fview__live_mem(ctx, addr, buf, len);
}

static const struct dw_type *go_type_cb(void *ctx, uint64_t rtype, char *name, size_t nlen)
{
	struct fview *fv = ctx;
	const struct dw_type *t = NULL;

	if (fv->scope_err) {
		snprintf(name, nlen, "no DWARF");
		return NULL;
	}
	dw_cache__go_rtype(fv->tr->pgm->dwarf, fv->tgt, rtype, &fv->sc, &t, name, nlen);
	return t;
}

uint64_t fview__frame_pc(const struct trace *tr, const struct tf_frame *f)
{
	const uint8_t *regs = tf_frame__regs(f);
	uint64_t pc = 0;
	int i, off = regs_offset(AMD64_RIP);

	/* A frame without registers was hit at its tracepoint's address (the
	 * first location of that number, as gdbserver). */
	if (!regs) {
		const struct tp *tp = tr__first(tr, f->tp);

		return tp ? tp->addr : 0;
	}
	for (i = 7; i >= 0; i--)
		pc = pc << 8 | regs[off + i];
	return pc;
}

int fview__open(struct fview *fv, struct trace *tr, struct tgt *t, size_t n)
{
	int err;

	memset(fv, 0, sizeof(*fv));
	fv->scope_err = -ENOENT;
	snprintf(fv->why, sizeof(fv->why), "no DWARF cache");
	err = tf_store__get(&tr->store, n, &fv->f);
	if (err)
		return err;
	fv->tr = tr;
	fv->tgt = t;
	fv->n = n;
	mprint__frame(&fv->v, &fv->f);
	fv->v.live = live_cb;
	fv->v.go_type = go_type_cb;
	fv->v.ctx = fv;
	fv->v.pc = fview__frame_pc(tr, &fv->f);
	return 0;
}

int fview__scope(struct fview *fv)
{
	struct dw_cache *dw = fv->tr->pgm ? fv->tr->pgm->dwarf : NULL;

	if (!fv->scope_err)
		return 0;
	if (dw)
		fv->scope_err = dw_cache__scope_sym(dw, fv->tgt, fv->v.pc, &fv->sc, fv->why,
						    sizeof(fv->why));
	return fv->scope_err;
}

void fview__close(struct fview *fv)
{
	if (!fv->scope_err)
		dw_scope__free(&fv->sc);
	fv->scope_err = -ENOENT;
}

/* Registers BPF sees in pt_regs: rax..r15, rip, eflags, cs, ss, orig_rax. */
static bool reg_collected(unsigned i)
{
	return i <= 19 || i == 57;
}

int fview__regs(const struct fview *fv, int regno, struct rsp_buf *r)
{
	const struct reg_desc *d;
	unsigned i, lo, hi;

	lo = regno < 0 ? 0 : (unsigned)regno;
	hi = regno < 0 ? AMD64_NUM : (unsigned)regno + 1;
	for (i = lo; i < hi; i++) {
		d = regs_desc(i);
		if (i == AMD64_RIP) {
			/* rip is always the tracepoint's address. */
			rsp_buf__put_le_hex(r, fv->v.pc, 8);
		} else if (fv->v.regs && reg_collected(i)) {
			rsp_buf__put_hex(r, fv->v.regs + regs_offset(i), d->bits / 8);
		} else {
			rsp_buf__put_unavail(r, d->bits / 8);
		}
	}
	return 0;
}

/*
 * How many bytes from addr (at most len) lie in a read-only mapping of a
 * file (text, .rodata, the read-only segments of shared objects): they
 * cannot have changed since the hit, so a trace frame may show them live.
 * 0 for anything else (stack, heap, data, anonymous memory, [vdso]).
 */
static size_t ro_file_bytes(struct tgt *t, uint64_t addr, size_t len)
{
	struct tgt_map m;

	if (tgt__region(t, addr, &m) || m.perms[0] != 'r' || m.perms[1] == 'w' || m.path[0] != '/')
		return 0;
	return m.end - addr < len ? (size_t)(m.end - addr) : len;
}

ssize_t fview__live_mem(const struct fview *fv, uint64_t addr, void *buf, size_t len)
{
	ssize_t n;

	/*
	 * Not collected, but constant: the QTro ranges GDB declared (code,
	 * rodata) and read-only file mappings, read live without the probes'
	 * int3s, as long as the target still runs the image that was traced.
	 */
	if (!tr__is_ro(fv->tr, addr, len)) {
		len = ro_file_bytes(fv->tgt, addr, len);
		if (!len)
			return -EIO;
	}
	if (!tr__same_image(fv->tr))
		return -EIO;
	n = tgt__read_mem(fv->tgt, addr, buf, len);
	if (n > 0)
		tr__unpatch(fv->tr, addr, buf, (size_t)n);
	return n;
}

ssize_t fview__mem(const struct fview *fv, uint64_t addr, void *buf, size_t len)
{
	size_t got = tf_frame__read_mem(&fv->f, addr, buf, len);

	if (got)
		return (ssize_t)got;
	return fview__live_mem(fv, addr, buf, len);
}

int fview__tsv(const struct fview *fv, uint32_t num, int64_t *val)
{
	return tf_frame__tsv(&fv->f, num, val);
}

static int tfi_block(void *ctx, char type, const uint8_t *p, size_t len)
{
	struct rsp_buf *o = ctx;
	uint64_t addr = 0;
	uint32_t num = 0;
	int i;

	if (type == 'M') {
		for (i = 7; i >= 0; i--)
			addr = addr << 8 | p[i];
		rsp_buf__printf(o, "<memory start=\"0x%llx\" length=\"0x%x\"/>",
				(unsigned long long)addr, (unsigned)(p[8] | p[9] << 8));
	} else if (type == 'V') {
		for (i = 3; i >= 0; i--)
			num = num << 8 | p[i];
		rsp_buf__printf(o, "<tvar id=\"%u\"/>", num);
	}
	return 0;
}

int fview__info_xml(const struct fview *fv, struct rsp_buf *o)
{
	rsp_buf__puts(o, "<traceframe-info>");
	tf_frame__foreach(&fv->f, tfi_block, o);
	rsp_buf__puts(o, "</traceframe-info>");
	return o->oom ? -ENOMEM : 0;
}
