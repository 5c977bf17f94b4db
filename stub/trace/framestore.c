/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/framestore.c - the trace frame store (see framestore.h).
 *
 * Why a ring of whole frames in one buffer: gdbserver keeps frames in one
 * buffer in the trace file's layout, and GDB's qTBuffer/tsave expects that
 * byte stream; keeping the same bytes means tfind, qTBuffer and tsave
 * need no translation.  Never splitting a frame keeps every frame one
 * pointer and a length.  The cost is the unused tail when a frame does not
 * fit before the end and starts again at offset 0.
 *
 * A ring record becomes a frame here too (tf_store__add_record()): its
 * blocks go from the ring straight into the reserved frame, one copy, and
 * the run's drain and bench/store_cost.c share the one code path, so the
 * benchmark measures what the drain does.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bpf/record.h"
#include "stub/program/regs.h"
#include "stub/trace/framestore.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int tf_store__init(struct tf_store *s, size_t size, bool circular)
{
	memset(s, 0, sizeof(*s));
	return tf_store__reset(s, size, circular);
}

void tf_store__fini(struct tf_store *s)
{
	if (s->buf)
		munmap(s->buf, s->size);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

#define TF_IDX_INITIAL 1024

int tf_store__reset(struct tf_store *s, size_t size, bool circular)
{
	if (size < TF_MIN_SIZE || size > TF_MAX_SIZE)
		return -EINVAL;
	if (size != s->size) {
		/* Address space only: a page costs memory when a frame first touches it. */
		uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (buf == MAP_FAILED)
			return -ENOMEM;
		if (s->buf)
			munmap(s->buf, s->size);
		s->buf = buf;
		s->size = size;
	} else if (s->buf && (s->used || s->faulted)) {
		/* The frames go: so does the memory they took. */
		madvise(s->buf, s->used > s->faulted ? s->used : s->faulted, MADV_DONTNEED);
	}
	s->used = 0;
	s->faulted = 0;
	/* The index starts small and grows with the frames actually kept. */
	if (s->idx_cap != TF_IDX_INITIAL) {
		struct tf_ent *idx = malloc(TF_IDX_INITIAL * sizeof(*idx));

		if (!idx)
			return -ENOMEM;
		free(s->idx);
		s->idx = idx;
		s->idx_cap = TF_IDX_INITIAL;
	}
	s->circular = circular;
	s->head = s->tail = s->wrap_end = s->bytes = 0;
	s->wrapped = s->pending = false;
	s->idx_head = s->idx_count = 0;
	s->raw_n = 0;
	s->raw_off = 0;
	s->created = 0;
	s->appended = 0;
	return 0;
}

size_t tf_store__count(const struct tf_store *s)
{
	return s->idx_count;
}

size_t tf_store__free(const struct tf_store *s)
{
	return s->size - s->bytes;
}

static struct tf_ent *ent(const struct tf_store *s, size_t n)
{
	return &s->idx[(s->idx_head + n) % s->idx_cap];
}

static void drop_oldest(struct tf_store *s)
{
	struct tf_ent *e = ent(s, 0);

	s->head = e->off + TF_FRAME_HDR + e->len;
	s->bytes -= TF_FRAME_HDR + e->len;
	s->idx_head = (s->idx_head + 1) % s->idx_cap;
	s->idx_count--;
	s->raw_n = 0;
	s->raw_off = 0;
	if (!s->idx_count) {
		s->head = s->tail = s->wrap_end = 0;
		s->wrapped = false;
	} else if (s->wrapped && s->head >= s->wrap_end) {
		s->head = 0;
		s->wrapped = false;
	}
}

/*
 * Double the index, oldest entry first.  Its size stays bounded by the
 * store: a frame takes at least TF_FRAME_HDR bytes, so never more than
 * size / TF_FRAME_HDR entries are needed.
 */
static int grow_index(struct tf_store *s)
{
	size_t cap = s->idx_cap * 2, max = s->size / TF_FRAME_HDR + 1, i;
	struct tf_ent *idx;

	if (cap > max)
		cap = max;
	if (cap <= s->idx_cap)
		return 0;
	idx = malloc(cap * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < s->idx_count; i++)
		idx[i] = *ent(s, i);
	free(s->idx);
	s->idx = idx;
	s->idx_cap = cap;
	s->idx_head = 0;
	return 0;
}

/* Where n bytes fit without splitting, or false. */
static bool fits(const struct tf_store *s, size_t n, size_t *at, bool *wrap)
{
	*wrap = false;
	if (!s->idx_count) {
		*at = 0;
		return n <= s->size;
	}
	if (s->wrapped) {
		*at = s->tail;
		return s->head - s->tail >= n;
	}
	if (s->size - s->tail >= n) {
		*at = s->tail;
		return true;
	}
	*at = 0;
	*wrap = true;
	return s->head >= n;
}

#define TF_POPULATE_CHUNK (1u << 20)

/*
 * Fault in the buffer up to at least end, TF_POPULATE_CHUNK at a time:
 * one madvise() instead of a page fault every 4 KiB.  Without
 * MADV_POPULATE_WRITE (before Linux 5.14) the frames fault pages in.
 */
static void populate(struct tf_store *s, size_t end)
{
	size_t to = end + TF_POPULATE_CHUNK - 1;

	to -= to % TF_POPULATE_CHUNK;
	if (to > s->size)
		to = s->size;
#ifdef MADV_POPULATE_WRITE
	if (madvise(s->buf + s->faulted, to - s->faulted, MADV_POPULATE_WRITE) < 0) {
		s->faulted = s->size; /* not here: leave it to the page faults */
		return;
	}
#endif
	s->faulted = to;
}

uint8_t *tf_store__reserve(struct tf_store *s, uint16_t tp, size_t len, int *err)
{
	size_t n = TF_FRAME_HDR + len, at;
	bool wrap;
	uint8_t *p;

	*err = 0;
	if (len > UINT32_MAX || n > s->size) {
		*err = -E2BIG;
		return NULL;
	}
	if (s->idx_count == s->idx_cap && grow_index(s))
		return (*err = -ENOMEM), NULL;
	while (!fits(s, n, &at, &wrap) || s->idx_count == s->idx_cap) {
		if (!s->circular) {
			*err = -ENOSPC;
			return NULL;
		}
		drop_oldest(s);
	}
	if (at + n > s->faulted)
		populate(s, at + n);
	p = s->buf + at;
	p[0] = (uint8_t)tp;
	p[1] = (uint8_t)(tp >> 8);
	p[2] = (uint8_t)len;
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)(len >> 16);
	p[5] = (uint8_t)(len >> 24);
	s->pend_at = at;
	s->pend_wrap = wrap;
	s->pending = true;
	return p + TF_FRAME_HDR;
}

void tf_store__commit(struct tf_store *s)
{
	struct tf_ent *e;
	uint8_t *p;

	if (!s->pending)
		return;
	p = s->buf + s->pend_at;
	if (s->pend_wrap) {
		s->wrap_end = s->tail;
		s->wrapped = true;
	}
	e = ent(s, s->idx_count);
	e->off = (uint32_t)s->pend_at;
	e->len = get32(p + 2);
	e->tp = (uint16_t)(p[0] | p[1] << 8);
	s->idx_count++;
	s->tail = s->pend_at + TF_FRAME_HDR + e->len;
	s->bytes += TF_FRAME_HDR + e->len;
	s->created++;
	s->appended += TF_FRAME_HDR + e->len;
	if (s->tail > s->used)
		s->used = s->tail;
	s->pending = false;
}

/* ---- a ring record into a frame ------------------------------------------ */

struct rec_ctx {
	uint8_t *dst;
	bool set_rip;
	uint64_t rip;
};

static int copy_block(void *ctx, char type, const void *blk, size_t len)
{
	struct rec_ctx *c = ctx;

	*c->dst++ = (uint8_t)type;
	memcpy(c->dst, blk, len);
	/*
	 * Several processes: a process started on its own has its own load
	 * bias, so its pc becomes the address in the leader's layout, where
	 * GDB defined the tracepoint: the location's own (tf_rec_opts.rip).
	 */
	if (c->set_rip && type == BPFC_BLK_REGS && len >= BPFC_REGS_OFF_RIP + 8) {
		int i;

		for (i = 0; i < 8; i++)
			c->dst[BPFC_REGS_OFF_RIP + i] = (uint8_t)(c->rip >> (8 * i));
	}
	c->dst += len;
	return 0;
}

/* A V block: 'V', the number and the value, little-endian (unaligned). */
static uint8_t *put_vblock(uint8_t *p, uint32_t num, int64_t v)
{
	uint32_t n = htole32(num);
	uint64_t u = htole64((uint64_t)v);

	p[0] = 'V';
	memcpy(p + 1, &n, sizeof(n));
	memcpy(p + 5, &u, sizeof(u));
	return p + TF_VBLK_SIZE;
}

int tf_store__add_record(struct tf_store *s, uint16_t tp, const void *rec, size_t len,
			 const struct tf_rec_opts *o, size_t *collected)
{
	struct rec_ctx c = {.set_rip = o->set_rip, .rip = o->rip};
	struct bpfc_rec_stats st;
	size_t i;
	int err;

	/* Sized without a callback: the registers are translated once, by the copy. */
	err = bpfc_rec__stats(rec, len, &st);
	if (err)
		return err;
	c.dst = tf_store__reserve(s, tp, st.out_bytes + o->ntsvs * TF_VBLK_SIZE, &err);
	if (!c.dst)
		return err;
	bpfc_rec__foreach_block(rec, len, copy_block, &c, NULL);
	for (i = 0; i < o->ntsvs; i++)
		c.dst = put_vblock(c.dst, o->tsvs[i].num, o->tsvs[i].value);
	tf_store__commit(s);
	if (collected)
		*collected = st.out_bytes;
	return 0;
}

int tf_store__get(const struct tf_store *s, size_t n, struct tf_frame *f)
{
	const struct tf_ent *e;

	if (n >= s->idx_count)
		return -ENOENT;
	e = ent(s, n);
	f->tp = e->tp;
	f->blocks = s->buf + e->off + TF_FRAME_HDR;
	f->len = e->len;
	return 0;
}

size_t tf_store__raw_size(const struct tf_store *s)
{
	return s->bytes;
}

size_t tf_store__read_raw(struct tf_store *s, uint64_t off, void *buf, size_t len)
{
	size_t n = 0, copied = 0;
	uint64_t pos = 0;

	/* Reads come in order: resume from the last one when we can. */
	if (s->raw_n < s->idx_count && s->raw_off <= off) {
		n = s->raw_n;
		pos = s->raw_off;
	}
	for (; n < s->idx_count && copied < len; n++) {
		const struct tf_ent *e = ent(s, n);
		size_t fsize = TF_FRAME_HDR + e->len, skip, take;

		if (pos + fsize <= off) {
			pos += fsize;
			continue;
		}
		if (!copied) {
			s->raw_n = n;
			s->raw_off = pos;
		}
		skip = off > pos ? (size_t)(off - pos) : 0;
		take = fsize - skip;
		if (take > len - copied)
			take = len - copied;
		memcpy((uint8_t *)buf + copied, s->buf + e->off + skip, take);
		copied += take;
		pos += fsize;
		off = pos;
	}
	return copied;
}

static size_t block_len(char type, const uint8_t *p, size_t left)
{
	switch (type) {
	case 'R':
		return REGS_G_SIZE <= left ? REGS_G_SIZE : 0;
	case 'M':
		if (left < 10)
			return 0;
		return 10 + (size_t)(p[8] | p[9] << 8) <= left ? 10 + (size_t)(p[8] | p[9] << 8)
							       : 0;
	case 'V':
		return left >= 12 ? 12 : 0;
	default:
		return 0;
	}
}

int tf_frame__foreach(const struct tf_frame *f, tf_block_cb cb, void *ctx)
{
	size_t i = 0;
	int err;

	while (i < f->len) {
		char type = (char)f->blocks[i];
		size_t n = block_len(type, f->blocks + i + 1, f->len - i - 1);

		if (!n)
			return -EBADMSG;
		err = cb(ctx, type, f->blocks + i + 1, n);
		if (err)
			return err;
		i += 1 + n;
	}
	return 0;
}

static int find_regs(void *ctx, char type, const uint8_t *p, size_t len)
{
	if (type != 'R')
		return 0;
	*(const uint8_t **)ctx = p;
	return 1;
}

const uint8_t *tf_frame__regs(const struct tf_frame *f)
{
	const uint8_t *regs = NULL;

	tf_frame__foreach(f, find_regs, &regs);
	return regs;
}

struct mem_query {
	uint64_t addr;
	uint8_t *buf;
	size_t len;
	size_t got;
};

/* Extend the contiguous run from q->addr + q->got with this block. */
static int find_mem(void *ctx, char type, const uint8_t *p, size_t len)
{
	struct mem_query *q = ctx;
	uint64_t start, want;
	size_t n, skip, take;

	if (type != 'M')
		return 0;
	start = get64(p);
	n = len - 10;
	want = q->addr + q->got;
	if (want < start || want - start >= n)
		return 0;
	skip = (size_t)(want - start);
	take = n - skip;
	if (take > q->len - q->got)
		take = q->len - q->got;
	memcpy(q->buf + q->got, p + 10 + skip, take);
	q->got += take;
	return q->got == q->len;
}

size_t tf_frame__read_mem(const struct tf_frame *f, uint64_t addr, void *buf, size_t len)
{
	struct mem_query q = {.addr = addr, .buf = buf, .len = len};
	size_t before;

	/* Blocks may come in any order: rescan while the run keeps growing. */
	do {
		before = q.got;
		if (tf_frame__foreach(f, find_mem, &q) < 0)
			break;
	} while (q.got > before && q.got < len);
	return q.got;
}

struct tsv_query {
	uint32_t num;
	int64_t value;
	bool found;
};

static int find_tsv(void *ctx, char type, const uint8_t *p, size_t len)
{
	struct tsv_query *q = ctx;

	if (type != 'V' || get32(p) != q->num)
		return 0;
	q->value = (int64_t)get64(p + 4);
	q->found = true;
	return 0; /* the last V block for a variable wins */
}

int tf_frame__tsv(const struct tf_frame *f, uint32_t num, int64_t *value)
{
	struct tsv_query q = {.num = num};

	tf_frame__foreach(f, find_tsv, &q);
	if (!q.found)
		return -ENOENT;
	*value = q.value;
	return 0;
}
