/* SPDX-License-Identifier: MIT */
/*
 * bpf/record.c - reading the records the collection programs write.
 *
 * The producer is a generated BPF program and the bytes arrive through
 * shared memory, so this side treats a record as untrusted input: every
 * length is compared with what is left before it is used, and a record
 * that does not parse is rejected whole-or-prefix with -EBADMSG rather
 * than read past its end.  The layout itself is defined in record.h; this
 * file also owns the one translation the reader does, from the pt_regs
 * image the program copies to GDB's amd64 register block.
 */
#include <errno.h>
#include <string.h>

#include "bpf/record.h"

/* GDB amd64 register sizes in `g` packet order (see record.h). */
static int reg_size(int regno)
{
	if (regno < 0)
		return -1;
	if (regno <= 16)
		return 8;
	if (regno <= 23)
		return 4;
	if (regno <= 31)
		return 10;
	if (regno <= 39)
		return 4;
	if (regno <= 55)
		return 16;
	if (regno == 56)
		return 4;
	if (regno <= 59)
		return 8;
	return -1;
}

int bpfc_regs__offset(int regno, size_t *size)
{
	int off = 0, i;

	if (reg_size(regno) < 0)
		return -1;
	for (i = 0; i < regno; i++)
		off += reg_size(i);
	if (size)
		*size = (size_t)reg_size(regno);
	return off;
}

/* GDB registers 0-16 (8 bytes), 17-19 (low 4 bytes) -> struct pt_regs offset. */
static const short gdb_to_ptregs[20] = {
	80 /* rax */,  40 /* rbx */,  88 /* rcx */,	96 /* rdx */, 104 /* rsi */,
	112 /* rdi */, 32 /* rbp */,  152 /* rsp */,	72 /* r8 */,  64 /* r9 */,
	56 /* r10 */,  48 /* r11 */,  24 /* r12 */,	16 /* r13 */, 8 /* r14 */,
	0 /* r15 */,   128 /* rip */, 144 /* eflags */, 136 /* cs */, 160 /* ss */,
};

#define PTREGS_ORIG_AX 120

int bpfc_regs__ptregs_offset(int regno)
{
	if (regno >= 0 && regno < (int)(sizeof(gdb_to_ptregs) / sizeof(gdb_to_ptregs[0])))
		return gdb_to_ptregs[regno];
	if (regno == BPFC_REG_ORIG_RAX)
		return PTREGS_ORIG_AX;
	return -1;
}

void bpfc_regs__from_ptregs(const void *ptregs, void *gdb_regs)
{
	const unsigned char *src = ptregs;
	unsigned char *dst = gdb_regs;
	int i;

	memset(dst, 0, BPFC_REGS_SIZE);
	for (i = 0; i <= BPFC_REG_RIP; i++)
		memcpy(dst + 8 * i, src + gdb_to_ptregs[i], 8);
	/* eflags, cs, ss: 4 bytes in GDB's layout (little-endian low half). */
	for (i = 0; i < 3; i++)
		memcpy(dst + BPFC_REGS_OFF_EFL + 4 * i, src + gdb_to_ptregs[BPFC_REG_EFLAGS + i],
		       4);
	memcpy(dst + BPFC_REGS_OFF_ORIG, src + PTREGS_ORIG_AX, 8);
}

int bpfc_rec__mem(const void *blk, size_t blk_len, __u64 *addr, const void **data, size_t *len)
{
	const unsigned char *p = blk;
	__u16 n;

	if (blk_len < BPFC_MBLK_HDR - 1)
		return -EBADMSG;
	memcpy(&n, p + 8, sizeof(n));
	if ((size_t)n != blk_len - (BPFC_MBLK_HDR - 1))
		return -EBADMSG;
	memcpy(addr, p, sizeof(*addr));
	*data = p + BPFC_MBLK_HDR - 1;
	*len = n;
	return 0;
}

/* Length of a VMEM block's payload (after its type byte); 0 if malformed. */
static size_t vmem_len(const unsigned char *p, size_t left)
{
	__u16 cap, n;

	if (left < BPFC_VBLK_HDR - 1)
		return 0;
	memcpy(&cap, p + BPFC_VBLK_OFF_CAP - 1, sizeof(cap));
	memcpy(&n, p + BPFC_VBLK_OFF_LEN - 1, sizeof(n));
	if (n > cap)
		return 0;
	return BPFC_VBLK_HDR - 1 + (size_t)cap;
}

static __u64 le64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Length of an FPCHAIN block's payload (after its type byte); 0 if malformed. */
static size_t fpchain_len(const unsigned char *p, size_t left)
{
	__u16 wcap, wlen;
	size_t area;

	if (left < BPFC_FBLK_HDR - 1)
		return 0;
	memcpy(&wcap, p + BPFC_FBLK_OFF_WCAP - 1, sizeof(wcap));
	memcpy(&wlen, p + BPFC_FBLK_OFF_LEN - 1, sizeof(wlen));
	area = (size_t)wcap + 16u * p[BPFC_FBLK_OFF_CAP - 1];
	if (p[BPFC_FBLK_OFF_N - 1] > p[BPFC_FBLK_OFF_CAP - 1] ||
	    wlen > (p[BPFC_FBLK_OFF_FLAGS - 1] & BPFC_FBLK_WIDE ? area : wcap))
		return 0;
	return BPFC_FBLK_HDR - 1 + area;
}

/*
 * An FPCHAIN block (payload p, checked by fpchain_len) as M blocks: its
 * window, then each record not already inside the window, at the address
 * the one before it holds.
 */
static int fpchain_report(const unsigned char *p, bpfc_blk_cb cb, void *ctx, size_t *nblocks,
			  size_t *out)
{
	unsigned char m[BPFC_MBLK_HDR - 1 + 16];
	__u16 wcap, wlen, len16 = 16;
	__u64 rsp, at;
	const unsigned char *rec;
	unsigned int k, n;
	int err;

	memcpy(&wcap, p + BPFC_FBLK_OFF_WCAP - 1, sizeof(wcap));
	memcpy(&wlen, p + BPFC_FBLK_OFF_LEN - 1, sizeof(wlen));
	rsp = le64(p + BPFC_FBLK_OFF_ADDR - 1);
	if (wlen) {
		(*nblocks)++;
		*out += BPFC_MBLK_HDR + (size_t)wlen;
		err = cb ? cb(ctx, BPFC_BLK_MEM, p + BPFC_FBLK_OFF_ADDR - 1,
			      BPFC_MBLK_HDR - 1 + (size_t)wlen)
			 : 0;
		if (err)
			return err;
	}
	if (p[BPFC_FBLK_OFF_FLAGS - 1] & BPFC_FBLK_WIDE)
		return 0;
	n = p[BPFC_FBLK_OFF_N - 1];
	at = le64(p + BPFC_FBLK_OFF_FP0 - 1);
	for (k = 0; k < n; k++) {
		rec = p + BPFC_FBLK_HDR - 1 + wcap + 16u * k;
		if (!(at >= rsp && at - rsp <= wlen && wlen - (at - rsp) >= 16)) {
			(*nblocks)++;
			*out += sizeof(m) + 1;
			memcpy(m, &at, 8);
			memcpy(m + 8, &len16, 2);
			memcpy(m + 10, rec, 16);
			err = cb ? cb(ctx, BPFC_BLK_MEM, m, sizeof(m)) : 0;
			if (err)
				return err;
		}
		at = le64(rec);
	}
	return 0;
}

/* The walker behind bpfc_rec__foreach_block() and bpfc_rec__stats(). */
static int walk(const void *rec, size_t len, bpfc_blk_cb cb, void *ctx, struct bpfc_rec_stats *st)
{
	unsigned char regs[BPFC_REGS_SIZE];
	const unsigned char *p = rec, *end;
	struct bpfc_rec h;
	int err = 0;

	memset(st, 0, sizeof(*st));

	if (!rec || len < sizeof(h)) {
		err = -EBADMSG;
		goto cleanup;
	}
	memcpy(&h, p, sizeof(h));
	if (h.size > len - sizeof(h)) {
		err = -EBADMSG;
		goto cleanup;
	}
	p += sizeof(h);
	end = p + h.size;
	while (p < end) {
		size_t left = (size_t)(end - p) - 1;
		char type = (char)*p++;
		size_t blen;
		__u16 n;

		switch (type) {
		case BPFC_BLK_REGS:
			blen = BPFC_REGS_SIZE;
			break;
		case BPFC_BLK_PTREGS:
			blen = BPFC_PTREGS_SIZE;
			break;
		case BPFC_BLK_MEM:
		case BPFC_BLK_SKIP:
			if (left < BPFC_MBLK_HDR - 1) {
				err = -EBADMSG;
				goto cleanup;
			}
			memcpy(&n, p + 8, sizeof(n));
			blen = BPFC_MBLK_HDR - 1 + (size_t)n;
			break;
		case BPFC_BLK_TSV:
		case BPFC_BLK_TSV_SKIP:
			blen = BPFC_TBLK_SIZE - 1;
			break;
		case BPFC_BLK_FPCHAIN:
			blen = fpchain_len(p, left);
			if (!blen) {
				err = -EBADMSG;
				goto cleanup;
			}
			break;
		case BPFC_BLK_VMEM:
		case BPFC_BLK_VMEM_SKIP:
			blen = vmem_len(p, left);
			if (!blen) {
				err = -EBADMSG;
				goto cleanup;
			}
			break;
		default:
			err = -EBADMSG;
			goto cleanup;
		}
		if (blen > left) {
			err = -EBADMSG;
			goto cleanup;
		}
		if (type == BPFC_BLK_SKIP || type == BPFC_BLK_TSV_SKIP ||
		    type == BPFC_BLK_VMEM_SKIP) {
			st->skipped++;
		} else if (type == BPFC_BLK_VMEM) {
			__u64 want;

			memcpy(&n, p + BPFC_VBLK_OFF_LEN - 1, sizeof(n));
			memcpy(&want, p + BPFC_VBLK_OFF_WANT - 1, sizeof(want));
			if (p[BPFC_VBLK_OFF_FLAGS - 1] & BPFC_VBLK_CUT) {
				st->cut++;
				st->cut_bytes += want > n ? want - n : 0;
			}
			st->blocks++;
			st->out_bytes += BPFC_MBLK_HDR + (size_t)n;
			/* The tail from addr on is an M block of n bytes. */
			err = cb ? cb(ctx, BPFC_BLK_MEM, p + BPFC_VBLK_OFF_ADDR - 1,
				      BPFC_MBLK_HDR - 1 + (size_t)n)
				 : 0;
			if (err)
				goto cleanup;
		} else if (type == BPFC_BLK_FPCHAIN) {
			err = fpchain_report(p, cb, ctx, &st->blocks, &st->out_bytes);
			if (err)
				goto cleanup;
		} else if (type == BPFC_BLK_PTREGS) {
			st->blocks++;
			st->out_bytes += 1 + sizeof(regs);
			/* Counting needs no translation. */
			if (cb) {
				bpfc_regs__from_ptregs(p, regs);
				err = cb(ctx, BPFC_BLK_REGS, regs, sizeof(regs));
				if (err)
					goto cleanup;
			}
		} else {
			st->blocks++;
			st->out_bytes += 1 + blen;
			err = cb ? cb(ctx, type, p, blen) : 0;
			if (err)
				goto cleanup;
		}
		p += blen;
	}
cleanup:
	return err;
}

int bpfc_rec__foreach_block(const void *rec, size_t len, bpfc_blk_cb cb, void *ctx,
			    size_t *nskipped)
{
	struct bpfc_rec_stats st;
	int err = walk(rec, len, cb, ctx, &st);

	if (nskipped)
		*nskipped = st.skipped;
	return err;
}

int bpfc_rec__stats(const void *rec, size_t len, struct bpfc_rec_stats *st)
{
	return walk(rec, len, NULL, NULL, st);
}
