/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/framestore.h - collected trace frames, in GDB's own format.
 *
 * A frame is stored exactly as GDB's trace file holds it: a 2-byte
 * tracepoint number, a 4-byte length, then blocks ('R' registers, 'M'
 * memory, 'V' trace state variables), little-endian.  tfind, qTBuffer and
 * tsave therefore all read the same bytes.
 *
 * The store is one fixed buffer of the size GDB asked for (QTBuffer:size;
 * by default TF_DEFAULT_SIZE, room for 100,000 frames of `collect $regs`
 * with bpfstub's defaults), mapped MAP_NORESERVE so that only the pages
 * frames have reached cost memory (faulted in 1 MiB ahead of them, see
 * framestore.c's populate()), and used as a ring of whole frames: a frame never
 * wraps, so every frame is contiguous.  When full, a circular store drops
 * its oldest frames; a linear one refuses the frame (-ENOSPC), and the
 * caller stops the run with "tfull".  Memory is bounded by the buffer size
 * plus an index that grows with the frames kept (a frame is >= 6 bytes, so
 * at most size/6 entries; with real frames of >= 600 bytes, about 4% of
 * the buffer).
 *
 * Frames arrive as the BPF programs' ring records (bpf/record.h), and
 * tf_store__add_record() is the one translation of a record into a frame:
 * the run's drain (stub/trace/trace_run.c) and bench/store_cost.c, which
 * measures it, both call it.
 */
#ifndef STUB_FRAMESTORE_H
#define STUB_FRAMESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * 512 MiB of address space: a frame of `collect $regs` with the default
 * stack window (2 KiB) is 2,652 bytes, and deep collection adds up to its
 * 2 KiB budget: >= 100,000 frames even then (docs/PERFORMANCE.md).  Pages
 * are paid for as frames reach them (MAP_NORESERVE), not at tstart.
 * gdbserver's default is 5 MiB: 2,000 such frames.
 */
#define TF_DEFAULT_SIZE (512u << 20)
#define TF_MIN_SIZE	4096u
#define TF_MAX_SIZE	(1u << 30)
#define TF_FRAME_HDR	6 /* u16 tp + u32 len */

struct tf_ent {
	uint32_t off; /* of the frame header in buf (the store is at most 1 GiB) */
	uint32_t len; /* of the blocks */
	uint16_t tp;
};

struct tf_store {
	uint8_t *buf;
	size_t size;
	bool circular;
	/*
	 * Byte ring: frames live in [head, tail), or when wrapped in
	 * [head, wrap_end) then [0, tail).  bytes counts the frames' bytes.
	 */
	size_t head, tail, wrap_end, bytes;
	bool wrapped;
	/* the frame between reserve and commit */
	size_t pend_at;
	bool pend_wrap;
	bool pending;
	/* qTBuffer reads go forward: remember where the last one ended */
	size_t raw_n;
	uint64_t raw_off;
	/* frame index ring, oldest first */
	struct tf_ent *idx;
	size_t idx_cap, idx_head, idx_count;
	uint64_t created;  /* frames ever appended since reset (tcreated) */
	uint64_t appended; /* their bytes, headers included (fill rate) */
	size_t used;	   /* high-water mark in buf: the pages touched */
	size_t faulted;	   /* buf[0, faulted) is populated (tf_store__reserve) */
};

/* A view of one stored frame. */
struct tf_frame {
	uint16_t tp;
	const uint8_t *blocks;
	size_t len;
};

int tf_store__init(struct tf_store *s, size_t size, bool circular);
void tf_store__fini(struct tf_store *s);
/* Drop every frame and take a new size/mode; 0 or -ENOMEM/-EINVAL. */
int tf_store__reset(struct tf_store *s, size_t size, bool circular);
/*
 * Start a frame of exactly len block bytes for tracepoint tp and return
 * where to write them (contiguous), or NULL with *err = -ENOSPC (full, not
 * circular) or -E2BIG (larger than the whole store).  tf_store__commit()
 * makes it visible; nothing else may be called in between.
 */
uint8_t *tf_store__reserve(struct tf_store *s, uint16_t tp, size_t len, int *err);
void tf_store__commit(struct tf_store *s);

/* A trace state variable's value, added to a frame as a V block. */
struct tf_tsv {
	uint32_t num;
	int64_t value;
};

/* What tf_store__add_record() adds to a record's own blocks. */
struct tf_rec_opts {
	const struct tf_tsv *tsvs; /* V blocks after the record's blocks, in order */
	size_t ntsvs;
	bool set_rip; /* the R block's pc becomes rip */
	uint64_t rip;
};

/*
 * Store one ring record (bpf/record.h, as the BPF programs write it) as a
 * frame of tracepoint tp: size it, reserve it, copy the record's blocks
 * into it (the registers translated into GDB's block), append o's V blocks
 * and commit.  *collected (if not NULL) gets the size of the record's own
 * blocks, what qTP's usage counts.  0, -EBADMSG for a malformed record
 * (nothing stored), or tf_store__reserve()'s error.
 */
int tf_store__add_record(struct tf_store *s, uint16_t tp, const void *rec, size_t len,
			 const struct tf_rec_opts *o, size_t *collected);

size_t tf_store__count(const struct tf_store *s);
size_t tf_store__free(const struct tf_store *s);
/* Frame n (0 = oldest present); -ENOENT past the end. */
int tf_store__get(const struct tf_store *s, size_t n, struct tf_frame *f);
/*
 * The frames as one byte stream (oldest first, each with its 6-byte
 * header), for qTBuffer: copy up to len bytes from offset off; returns
 * the number copied (0 at the end).
 */
size_t tf_store__read_raw(struct tf_store *s, uint64_t off, void *buf, size_t len);
/* Total bytes of that stream. */
size_t tf_store__raw_size(const struct tf_store *s);

/* Walk blocks: type and payload (after the type byte).  -EBADMSG if malformed. */
typedef int (*tf_block_cb)(void *ctx, char type, const uint8_t *p, size_t len);
int tf_frame__foreach(const struct tf_frame *f, tf_block_cb cb, void *ctx);
/* The R block's 560 bytes, or NULL. */
const uint8_t *tf_frame__regs(const struct tf_frame *f);
/*
 * Bytes at [addr, addr+len) from the frame's M blocks: the number of
 * contiguous bytes available from addr (0 if addr is not collected).
 */
size_t tf_frame__read_mem(const struct tf_frame *f, uint64_t addr, void *buf, size_t len);
/* The V block for trace state variable num: 0, or -ENOENT. */
int tf_frame__tsv(const struct tf_frame *f, uint32_t num, int64_t *value);

/* Block sizes, for building frames. */
#define TF_RBLK_SIZE(regs) (1 + (regs))
#define TF_MBLK_SIZE(n)	   (1 + 8 + 2 + (n))
#define TF_VBLK_SIZE	   (1 + 4 + 8)

#endif
