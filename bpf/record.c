/* SPDX-License-Identifier: MIT */
/*
 * bpf/record.c - reading the records the collection programs write.
 *
 * The producer is a generated BPF program and the bytes arrive through
 * shared memory, so this side treats a record as untrusted input: every
 * length is compared with what is left before it is used, and a record
 * that does not parse is rejected whole-or-prefix with -EBADMSG rather
 * than read past its end.  The layout itself is defined in record.h.
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

int bpfc_rec__foreach_block(const void *rec, size_t len, bpfc_blk_cb cb, void *ctx,
			    size_t *nskipped)
{
	const unsigned char *p = rec, *end;
	struct bpfc_rec h;
	size_t skipped = 0;
	int err = 0;

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
		case BPFC_BLK_MEM:
		case BPFC_BLK_SKIP:
			if (left < BPFC_MBLK_HDR - 1) {
				err = -EBADMSG;
				goto cleanup;
			}
			memcpy(&n, p + 8, sizeof(n));
			blen = BPFC_MBLK_HDR - 1 + (size_t)n;
			break;
		default:
			err = -EBADMSG;
			goto cleanup;
		}
		if (blen > left) {
			err = -EBADMSG;
			goto cleanup;
		}
		if (type == BPFC_BLK_SKIP) {
			skipped++;
		} else if (cb) {
			err = cb(ctx, type, p, blen);
			if (err)
				goto cleanup;
		}
		p += blen;
	}
cleanup:
	if (nskipped)
		*nskipped = skipped;
	return err;
}
