/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_framestore.c - unit tests for stub/trace/framestore.c.
 *
 * Plain C, no framework.  The store is checked against a model written
 * from framestore.h's contract alone: frames are kept whole and contiguous
 * in one buffer of the requested size, placed right after the newest frame,
 * or at offset 0 when they do not fit before the end; a circular store
 * drops its oldest frames until the new one fits, a linear store refuses it
 * (-ENOSPC).  Every kept frame's tracepoint, length and bytes, their order,
 * the count, the free space, the created counter and the qTBuffer byte
 * stream (tf_store__read_raw, any offsets and chunk sizes) are compared
 * with the model.  Then the block readers: R/M/V blocks, memory spread over
 * several M blocks, the last V block of a variable, malformed blocks.
 * Last, a ring record as the BPF programs write it, stored as a frame by
 * tf_store__add_record(): its blocks, the V blocks added after them, the
 * pc rewritten or not, what a malformed record and a full store return.
 *
 * Random sequences use a fixed seed (printed on failure), so a failure is
 * reproducible.  The last line is "framestore: N passed, M failed"; the
 * exit status is non-zero on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/record.h"
#include "stub/program/regs.h"
#include "stub/trace/framestore.h"

static unsigned long n_pass, n_fail;

static int check_(int ok, int quiet, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass += !quiet;
		return 1;
	}
	n_fail++;
	if (n_fail <= 40) {
		printf("FAIL test_framestore.c:%d: ", line);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	}
	return 0;
}

#define CHECK(cond)	  check_(!!(cond), 0, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) check_(!!(cond), 0, __LINE__, __VA_ARGS__)
/* Inside loops and helpers: a failure counts (and is shown), a pass does not,
 * so the total stays the number of distinct checks. */
#define QCHECK(cond)	   check_(!!(cond), 1, __LINE__, "%s", #cond)
#define QCHECKF(cond, ...) check_(!!(cond), 1, __LINE__, __VA_ARGS__)

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static void seed(uint64_t s)
{
	rng_state = s ? s : 1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- the model ---------------------------------------------------------- */

struct mframe {
	uint16_t tp;
	size_t len;	 /* block bytes */
	size_t off;	 /* where the model placed it (header) */
	uint64_t serial; /* the n-th frame ever committed */
	uint8_t *data;
};

struct model {
	size_t size;
	int circular;
	struct mframe *f; /* oldest first */
	size_t n, cap;
	uint64_t created;
};

static void model_init(struct model *m, size_t size, int circular)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	m->circular = circular;
}

static void model_drop_oldest(struct model *m)
{
	free(m->f[0].data);
	memmove(m->f, m->f + 1, (m->n - 1) * sizeof(*m->f));
	m->n--;
}

static void model_fini(struct model *m)
{
	while (m->n)
		model_drop_oldest(m);
	free(m->f);
	memset(m, 0, sizeof(*m));
}

static int overlaps(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Where a frame of n bytes (header included) goes now, or -1 if it overlaps. */
static long model_place(const struct model *m, size_t n)
{
	size_t at = 0, i;

	if (m->n) {
		const struct mframe *last = &m->f[m->n - 1];

		at = last->off + TF_FRAME_HDR + last->len;
		if (at + n > m->size)
			at = 0;
	}
	for (i = 0; i < m->n; i++)
		if (overlaps(at, n, m->f[i].off, TF_FRAME_HDR + m->f[i].len))
			return -1;
	return (long)at;
}

/* The model's answer to reserve+commit: 0, -E2BIG or -ENOSPC. */
static int model_append(struct model *m, uint16_t tp, const uint8_t *data, size_t len)
{
	size_t n = TF_FRAME_HDR + len;
	long at;

	if (n > m->size)
		return -E2BIG;
	while ((at = model_place(m, n)) < 0) {
		if (!m->circular)
			return -ENOSPC;
		model_drop_oldest(m);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->f = realloc(m->f, m->cap * sizeof(*m->f));
		if (!m->f)
			abort();
	}
	m->f[m->n].tp = tp;
	m->f[m->n].len = len;
	m->f[m->n].off = (size_t)at;
	m->f[m->n].serial = m->created;
	m->f[m->n].data = malloc(len ? len : 1);
	if (!m->f[m->n].data)
		abort();
	memcpy(m->f[m->n].data, data, len);
	m->n++;
	m->created++;
	return 0;
}

static size_t model_bytes(const struct model *m)
{
	size_t i, b = 0;

	for (i = 0; i < m->n; i++)
		b += TF_FRAME_HDR + m->f[i].len;
	return b;
}

/* The qTBuffer stream: every frame with its 6-byte header, oldest first. */
static uint8_t *model_stream(const struct model *m, size_t *len)
{
	size_t total = model_bytes(m), i, o = 0;
	uint8_t *s = malloc(total ? total : 1);

	if (!s)
		abort();
	for (i = 0; i < m->n; i++) {
		put16(s + o, m->f[i].tp);
		put32(s + o + 2, (uint32_t)m->f[i].len);
		memcpy(s + o + TF_FRAME_HDR, m->f[i].data, m->f[i].len);
		o += TF_FRAME_HDR + m->f[i].len;
	}
	*len = total;
	return s;
}

/* ---- store helpers ------------------------------------------------------ */

/* reserve + fill + commit; returns the reserve error (0 on success). */
static int append(struct tf_store *s, uint16_t tp, const uint8_t *data, size_t len)
{
	int err = 12345;
	uint8_t *p = tf_store__reserve(s, tp, len, &err);

	if (!p)
		return err;
	if (err != 0)
		return 99999; /* a pointer and an error at once */
	memcpy(p, data, len);
	tf_store__commit(s);
	return 0;
}

static void fill_random(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* Compare every frame of the store with the model; 1 if all equal. */
static int same_as_model(const struct tf_store *s, const struct model *m, const char *what)
{
	size_t i;
	int ok = 1;

	ok &= QCHECKF(tf_store__count(s) == m->n, "%s: count %zu, model %zu", what,
		      tf_store__count(s), m->n);
	ok &= QCHECKF(tf_store__raw_size(s) == model_bytes(m), "%s: raw_size %zu, model %zu", what,
		      tf_store__raw_size(s), model_bytes(m));
	ok &= QCHECKF(tf_store__free(s) == m->size - model_bytes(m), "%s: free %zu, model %zu",
		      what, tf_store__free(s), m->size - model_bytes(m));
	ok &= QCHECKF(s->created == m->created, "%s: created %" PRIu64 ", model %" PRIu64, what,
		      s->created, m->created);
	if (!ok)
		return 0;
	for (i = 0; i < m->n; i++) {
		struct tf_frame f;
		int err = tf_store__get(s, i, &f);

		if (!QCHECKF(err == 0, "%s: get(%zu) = %d", what, i, err))
			return 0;
		if (!QCHECKF(f.tp == m->f[i].tp && f.len == m->f[i].len &&
				     !memcmp(f.blocks, m->f[i].data, f.len),
			     "%s: frame %zu (serial %" PRIu64 ", tp %u, %zu bytes) differs: tp %u, "
			     "%zu bytes%s",
			     what, i, m->f[i].serial, m->f[i].tp, m->f[i].len, f.tp, f.len,
			     f.len == m->f[i].len ? ", content differs" : ""))
			return 0;
		/* whole and inside the buffer */
		if (!QCHECKF(f.blocks >= s->buf + TF_FRAME_HDR &&
				     f.blocks + f.len <= s->buf + s->size,
			     "%s: frame %zu not inside the buffer", what, i))
			return 0;
		/* the header in front of the blocks is the frame's */
		if (!QCHECKF(f.blocks[-6] == (uint8_t)f.tp &&
				     f.blocks[-5] == (uint8_t)(f.tp >> 8) &&
				     f.blocks[-4] == (uint8_t)f.len,
			     "%s: frame %zu: header before the blocks is not tp/len", what, i))
			return 0;
	}
	{
		struct tf_frame f;

		ok &= QCHECKF(tf_store__get(s, m->n, &f) == -ENOENT, "%s: get past the end", what);
		ok &= QCHECKF(tf_store__get(s, m->n + 1000, &f) == -ENOENT,
			      "%s: get far past the end", what);
	}
	return ok;
}

/* Read the raw stream sequentially with random chunk sizes, then at random
 * offsets, and compare with the model's stream. */
static int raw_matches(struct tf_store *s, const struct model *m, const char *what,
		       size_t max_chunk)
{
	size_t len, off = 0, got;
	uint8_t *want = model_stream(m, &len);
	uint8_t *buf = malloc(max_chunk + 16);
	int ok = 1, k;

	if (!buf)
		abort();
	while (off < len) {
		size_t chunk = 1 + rnd_below(max_chunk);

		got = tf_store__read_raw(s, off, buf, chunk);
		if (!QCHECKF(got == (chunk < len - off ? chunk : len - off) &&
				     !memcmp(buf, want + off, got),
			     "%s: sequential read_raw(%zu, %zu) = %zu of %zu%s", what, off, chunk,
			     got, len, got ? " (or content differs)" : "")) {
			ok = 0;
			break;
		}
		off += got;
	}
	ok &= QCHECKF(tf_store__read_raw(s, len, buf, max_chunk) == 0, "%s: read at the end", what);
	ok &= QCHECKF(tf_store__read_raw(s, len + 12345, buf, max_chunk) == 0,
		      "%s: read past the end", what);
	for (k = 0; k < 300 && ok; k++) {
		size_t chunk = 1 + rnd_below(max_chunk);

		off = rnd_below(len + 10);
		got = tf_store__read_raw(s, off, buf, chunk);
		if (off >= len)
			ok &= QCHECKF(got == 0, "%s: random read_raw(%zu) past %zu gave %zu", what,
				      off, len, got);
		else
			ok &= QCHECKF(
				got == (chunk < len - off ? chunk : len - off) &&
					!memcmp(buf, want + off, got),
				"%s: random read_raw(%zu, %zu) = %zu of %zu (or content differs)",
				what, off, chunk, got, len);
	}
	/* zero-length reads */
	ok &= QCHECKF(tf_store__read_raw(s, 0, buf, 0) == 0, "%s: read of 0 bytes", what);
	free(buf);
	free(want);
	return ok;
}

/* A frame body of random bytes of a random length in [lo, hi]. */
static size_t random_body(uint8_t *body, size_t lo, size_t hi)
{
	size_t len = lo + rnd_below(hi - lo + 1);

	fill_random(body, len);
	return len;
}

/* ---- tests -------------------------------------------------------------- */

static void test_init_reset(void)
{
	struct tf_store s;

	CHECK(tf_store__init(&s, TF_DEFAULT_SIZE, false) == 0);
	CHECK(s.size == TF_DEFAULT_SIZE && !s.circular);
	CHECK(tf_store__count(&s) == 0 && tf_store__free(&s) == TF_DEFAULT_SIZE);
	CHECK(tf_store__raw_size(&s) == 0 && s.created == 0);
	CHECK(tf_store__reset(&s, TF_MIN_SIZE - 1, true) == -EINVAL);
	CHECK(tf_store__reset(&s, TF_MAX_SIZE + 1, true) == -EINVAL);
	/* a refused reset leaves a usable store */
	CHECK(s.buf && s.size == TF_DEFAULT_SIZE);
	CHECK(tf_store__reset(&s, TF_MIN_SIZE, true) == 0);
	CHECK(s.size == TF_MIN_SIZE && s.circular && tf_store__free(&s) == TF_MIN_SIZE);
	tf_store__fini(&s);
	CHECK(s.buf == NULL && s.idx == NULL);

	CHECK(tf_store__init(&s, 100, false) == -EINVAL);
	tf_store__fini(&s);
}

static void test_reserve_commit_get(void)
{
	struct tf_store s;
	struct tf_frame f;
	uint8_t body[300], *p;
	int err = 1, i;

	tf_store__init(&s, 8192, false);
	for (i = 0; i < 300; i++)
		body[i] = (uint8_t)(i * 7 + 1);
	p = tf_store__reserve(&s, 0x1234, 300, &err);
	CHECK(p != NULL && err == 0);
	if (!p)
		goto out;
	memcpy(p, body, 300);
	/* not visible until committed */
	CHECK(tf_store__count(&s) == 0 && s.created == 0);
	tf_store__commit(&s);
	CHECK(tf_store__count(&s) == 1 && s.created == 1);
	CHECK(tf_store__free(&s) == 8192 - 306);
	CHECK(tf_store__raw_size(&s) == 306);
	CHECK(tf_store__get(&s, 0, &f) == 0);
	CHECK(f.tp == 0x1234 && f.len == 300 && !memcmp(f.blocks, body, 300));
	CHECK(tf_store__get(&s, 1, &f) == -ENOENT);
	/* a second commit without a reserve changes nothing */
	tf_store__commit(&s);
	CHECK(tf_store__count(&s) == 1 && s.created == 1);

	/* an empty frame (no blocks) is a frame */
	CHECK(append(&s, 7, body, 0) == 0);
	CHECK(tf_store__count(&s) == 2 && tf_store__get(&s, 1, &f) == 0 && f.tp == 7 && f.len == 0);
	{
		uint8_t raw[312];

		CHECK(tf_store__read_raw(&s, 0, raw, sizeof(raw)) == 312);
		CHECK(raw[0] == 0x34 && raw[1] == 0x12 && raw[2] == 44 && raw[3] == 1 &&
		      raw[4] == 0 && raw[5] == 0 && !memcmp(raw + 6, body, 300));
		CHECK(raw[306] == 7 && raw[307] == 0 && raw[308] == 0 && raw[309] == 0 &&
		      raw[310] == 0 && raw[311] == 0);
	}
	/* reset drops everything and counts from 0 again */
	CHECK(tf_store__reset(&s, 8192, true) == 0);
	CHECK(tf_store__count(&s) == 0 && s.created == 0 && tf_store__raw_size(&s) == 0);
	CHECK(tf_store__get(&s, 0, &f) == -ENOENT);
	{
		uint8_t raw[16];

		CHECK(tf_store__read_raw(&s, 0, raw, sizeof(raw)) == 0);
	}
out:
	tf_store__fini(&s);
}

static void test_linear_full(void)
{
	struct tf_store s;
	struct model m;
	uint8_t body[4096];
	int err, i, refused = 0;
	const size_t size = 4096;

	seed(11);
	tf_store__init(&s, size, false);
	model_init(&m, size, 0);
	for (i = 0; i < 200; i++) {
		size_t len = random_body(body, 0, 400);
		int want = model_append(&m, (uint16_t)(1 + i % 3), body, len);
		int got = append(&s, (uint16_t)(1 + i % 3), body, len);

		QCHECKF(got == want, "linear append %d (%zu bytes): %d, model %d", i, len, got,
			want);
		if (got == -ENOSPC)
			refused++;
	}
	CHECK(refused > 0);
	CHECK(same_as_model(&s, &m, "linear after full"));
	CHECK(raw_matches(&s, &m, "linear after full", 700));
	/* the kept frames are the first ones: serials 0..n-1 */
	CHECK(m.n > 0 && m.f[0].serial == 0 && m.f[m.n - 1].serial == m.n - 1);

	/* exactly filling: a frame of all the free bytes fits when it is at the end */
	tf_store__reset(&s, size, false);
	model_fini(&m);
	model_init(&m, size, 0);
	memset(body, 0xab, sizeof(body));
	CHECK(append(&s, 1, body, 1000 - 6) == 0 && model_append(&m, 1, body, 1000 - 6) == 0);
	CHECK(append(&s, 2, body, size - 1000 - 6) == 0 &&
	      model_append(&m, 2, body, size - 1000 - 6) == 0);
	CHECK(tf_store__free(&s) == 0);
	CHECK(append(&s, 3, body, 0) == -ENOSPC);
	CHECK(tf_store__reserve(&s, 3, 0, &err) == NULL && err == -ENOSPC);
	CHECK(same_as_model(&s, &m, "linear exactly full"));
	tf_store__fini(&s);
	model_fini(&m);
}

static void test_too_big(void)
{
	struct tf_store s;
	uint8_t *body = calloc(1, 8192);
	int err;
	struct tf_frame f;

	tf_store__init(&s, 4096, true);
	CHECK(tf_store__reserve(&s, 1, 4096 - 5, &err) == NULL && err == -E2BIG);
	CHECK(tf_store__reserve(&s, 1, 8192, &err) == NULL && err == -E2BIG);
	CHECK(tf_store__reserve(&s, 1, (size_t)UINT32_MAX + 1, &err) == NULL && err == -E2BIG);
	CHECK(tf_store__reserve(&s, 1, SIZE_MAX - 3, &err) == NULL && err == -E2BIG);
	CHECK(tf_store__count(&s) == 0);
	/* a frame of exactly the store's size fits, alone (circular: drops the rest) */
	CHECK(append(&s, 1, body, 100) == 0 && append(&s, 2, body, 100) == 0);
	memset(body, 0x5a, 4096 - 6);
	CHECK(append(&s, 3, body, 4096 - 6) == 0);
	CHECK(tf_store__count(&s) == 1 && tf_store__free(&s) == 0);
	CHECK(tf_store__get(&s, 0, &f) == 0 && f.tp == 3 && f.len == 4096 - 6 &&
	      f.blocks[0] == 0x5a && f.blocks[4096 - 7] == 0x5a);
	CHECK(s.created == 3);
	/* and a too-big frame after that changes nothing */
	CHECK(append(&s, 4, body, 4096 - 5) == -E2BIG);
	CHECK(tf_store__count(&s) == 1 && s.created == 3);

	/* linear: the whole-store frame fits only when empty */
	tf_store__reset(&s, 4096, false);
	CHECK(append(&s, 1, body, 10) == 0);
	CHECK(append(&s, 3, body, 4096 - 6) == -ENOSPC);
	tf_store__reset(&s, 4096, false);
	CHECK(append(&s, 3, body, 4096 - 6) == 0 && tf_store__count(&s) == 1);
	tf_store__fini(&s);
	free(body);
}

/*
 * Circular: many frames of varying sizes through a small store.  After
 * every append the store must equal the model; every few appends the raw
 * stream too.  Counts how often a frame went back to offset 0 (a wrap).
 */
static void circular_run(uint64_t sd, size_t size, size_t lo, size_t hi, int frames,
			 const char *what)
{
	struct tf_store s;
	struct model m;
	uint8_t *body = malloc(hi + 1);
	int i, wraps = 0, ok = 1;
	size_t prev_off = 0;
	char name[160];

	seed(sd);
	tf_store__init(&s, size, true);
	model_init(&m, size, 1);
	for (i = 0; i < frames && ok; i++) {
		size_t len = random_body(body, lo, hi);
		uint16_t tp = (uint16_t)(1 + rnd_below(5));
		int want = model_append(&m, tp, body, len);
		int got = append(&s, tp, body, len);

		snprintf(name, sizeof(name), "%s (seed %" PRIu64 ") after frame %d of %zu bytes",
			 what, sd, i, len);
		ok &= QCHECKF(got == want, "%s: append = %d, model %d", name, got, want);
		if (!want && m.n > 1 && m.f[m.n - 1].off == 0 && prev_off != 0)
			wraps++;
		if (!want)
			prev_off = m.f[m.n - 1].off;
		ok &= same_as_model(&s, &m, name);
		/* the newest frame is always kept, and kept frames are consecutive */
		if (m.n)
			ok &= QCHECKF(m.f[m.n - 1].serial == m.created - 1 &&
					      m.f[m.n - 1].serial - m.f[0].serial == m.n - 1,
				      "%s: kept frames are not the newest ones", name);
		if (i % 37 == 0)
			ok &= raw_matches(&s, &m, name, 1 + rnd_below(size));
	}
	snprintf(name, sizeof(name), "%s (seed %" PRIu64 ") at the end", what, sd);
	CHECKF(ok, "%s: the store differed from the model", name);
	CHECK(raw_matches(&s, &m, name, 64));
	CHECK(raw_matches(&s, &m, name, size));
	CHECKF(wraps >= 10, "%s: only %d wrap-arounds to offset 0", name, wraps);
	CHECKF(s.created == (uint64_t)frames, "%s: created %" PRIu64, name, s.created);
	tf_store__fini(&s);
	model_fini(&m);
	free(body);
}

static void test_circular(void)
{
	/* $regs-sized frames, like the 8 KiB trace-buffer test */
	circular_run(1, 8192, 560, 700, 3000, "circular 8K, 560..700");
	/* small and large mixed: lots of unused tails */
	circular_run(2, 4096, 0, 1500, 5000, "circular 4K, 0..1500");
	circular_run(3, 65536, 0, 9000, 5000, "circular 64K, 0..9000");
	/* frames up to the whole store */
	circular_run(4, 4096, 0, 4090, 2000, "circular 4K, up to the whole store");
	circular_run(5, 10000, 1, 64, 20000, "circular 10000 bytes, tiny frames");
}

/* More than 1024 frames: the index grows, linear and circular, including
 * while the index ring has wrapped (its head not at slot 0). */
static void test_index_growth(void)
{
	struct tf_store s;
	struct model m;
	uint8_t body[4096];
	int i, ok = 1;

	seed(21);
	tf_store__init(&s, 1 << 20, false);
	model_init(&m, 1 << 20, 0);
	for (i = 0; i < 5000; i++) {
		size_t len = random_body(body, 0, 40);

		ok &= QCHECKF(append(&s, (uint16_t)(i & 0xffff), body, len) == 0 &&
				      model_append(&m, (uint16_t)(i & 0xffff), body, len) == 0,
			      "linear small frame %d refused", i);
		if (!ok)
			break;
	}
	CHECK(ok);
	CHECK(tf_store__count(&s) == 5000);
	CHECKF(s.idx_cap >= 5000, "index capacity %zu for 5000 frames", s.idx_cap);
	CHECK(same_as_model(&s, &m, "5000 small linear frames"));
	CHECK(raw_matches(&s, &m, "5000 small linear frames", 333));
	tf_store__fini(&s);
	model_fini(&m);

	/* circular: big frames first make the index ring turn, then small ones
	 * make it grow while its head is somewhere in the middle */
	seed(22);
	tf_store__init(&s, 65536, true);
	model_init(&m, 65536, 1);
	for (i = 0; i < 3000 && ok; i++) {
		size_t len = random_body(body, 2000, 4000);

		ok &= QCHECK(append(&s, 1, body, len) == model_append(&m, 1, body, len));
	}
	CHECKF(s.idx_head != 0, "the index ring did not turn (head %zu)", s.idx_head);
	for (i = 0; i < 20000 && ok; i++) {
		size_t len = random_body(body, 0, 30);

		ok &= QCHECK(append(&s, 2, body, len) == model_append(&m, 2, body, len));
		if (i % 500 == 0)
			ok &= same_as_model(&s, &m, "circular index growth");
	}
	CHECKF(ok, "circular index growth: the store differed from the model");
	CHECKF(s.idx_cap > 1024, "index capacity %zu", s.idx_cap);
	CHECKF(s.idx_cap <= 65536 / TF_FRAME_HDR + 1, "index capacity %zu beyond size/6+1",
	       s.idx_cap);
	CHECKF(tf_store__count(&s) > 1024, "only %zu frames kept", tf_store__count(&s));
	CHECK(same_as_model(&s, &m, "circular index growth, end"));
	CHECK(raw_matches(&s, &m, "circular index growth, end", 1000));

	/* the smallest frames (header only) until the index is as large as it can be */
	tf_store__reset(&s, TF_MIN_SIZE, true);
	model_fini(&m);
	model_init(&m, TF_MIN_SIZE, 1);
	for (i = 0; i < 3 * (int)(TF_MIN_SIZE / TF_FRAME_HDR); i++)
		ok &= QCHECK(append(&s, (uint16_t)i, body, 0) ==
			     model_append(&m, (uint16_t)i, body, 0));
	CHECK(ok);
	CHECKF(tf_store__count(&s) == TF_MIN_SIZE / TF_FRAME_HDR, "%zu header-only frames kept",
	       tf_store__count(&s));
	CHECK(same_as_model(&s, &m, "header-only frames"));
	tf_store__fini(&s);
	model_fini(&m);
}

/* qTBuffer reads interleaved with appends that drop frames (the cached
 * read position must not survive a drop) and with a reset. */
static void test_raw_interleaved(void)
{
	struct tf_store s;
	struct model m;
	uint8_t body[700], buf[512];
	int round, i, ok = 1;

	seed(31);
	tf_store__init(&s, 8192, true);
	model_init(&m, 8192, 1);
	for (round = 0; round < 400; round++) {
		size_t len, slen, off;
		uint8_t *want;
		int k = 1 + (int)rnd_below(4);

		for (i = 0; i < k; i++) {
			len = random_body(body, 0, 650);
			ok &= QCHECK(append(&s, (uint16_t)round, body, len) ==
				     model_append(&m, (uint16_t)round, body, len));
		}
		/* read part of the stream, forward, as GDB does */
		want = model_stream(&m, &slen);
		off = rnd_below(slen);
		for (i = 0; i < 3 && off < slen; i++) {
			size_t chunk = 1 + rnd_below(sizeof(buf));
			size_t got = tf_store__read_raw(&s, off, buf, chunk);
			size_t exp = chunk < slen - off ? chunk : slen - off;

			if (!(ok &=
			      QCHECKF(got == exp && !memcmp(buf, want + off, got),
				      "interleaved round %d: read_raw(%zu, %zu) = %zu, want %zu",
				      round, off, chunk, got, exp)))
				break;
			off += got;
		}
		free(want);
		if (round == 200) {
			tf_store__reset(&s, 8192, true);
			model_fini(&m);
			model_init(&m, 8192, 1);
		}
	}
	CHECKF(ok, "interleaved reads and appends differed from the model");
	CHECK(same_as_model(&s, &m, "interleaved reads"));
	tf_store__fini(&s);
	model_fini(&m);
}

/* ---- blocks ------------------------------------------------------------- */

struct fb {
	uint8_t b[8192];
	size_t n;
};

static void fb_r(struct fb *f, uint8_t fill)
{
	f->b[f->n++] = 'R';
	for (size_t i = 0; i < REGS_G_SIZE; i++)
		f->b[f->n++] = (uint8_t)(fill + i);
}

static void fb_m(struct fb *f, uint64_t addr, const uint8_t *data, uint16_t len)
{
	f->b[f->n++] = 'M';
	put64(f->b + f->n, addr);
	put16(f->b + f->n + 8, len);
	memcpy(f->b + f->n + 10, data, len);
	f->n += 10 + len;
}

static void fb_v(struct fb *f, uint32_t num, int64_t v)
{
	f->b[f->n++] = 'V';
	put32(f->b + f->n, num);
	put64(f->b + f->n + 4, (uint64_t)v);
	f->n += 12;
}

static struct tf_frame fb_frame(const struct fb *f)
{
	struct tf_frame fr = {.tp = 1, .blocks = f->b, .len = f->n};

	return fr;
}

struct seen {
	char types[64];
	size_t lens[64];
	int n;
	int stop_at;
};

static int record_cb(void *ctx, char type, const uint8_t *p, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->types[s->n] = type;
		s->lens[s->n] = len;
	}
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void test_blocks(void)
{
	struct fb f = {.n = 0};
	struct tf_frame fr;
	struct seen sn;
	uint8_t mem[256], out[256];
	const uint8_t *regs;
	int64_t v;
	const uint64_t A = 0x7ffff7a00000ull;
	size_t i;

	for (i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i ^ 0x5c);

	/* V, M pieces out of order, R, more V: the layout the BPF side emits and worse */
	fb_v(&f, 1, 1000);
	fb_m(&f, A + 25, mem + 25, 15); /* [25, 40) */
	fb_m(&f, A + 300, mem, 8);	/* unrelated */
	fb_m(&f, A + 0, mem + 0, 10);	/* [0, 10) */
	fb_r(&f, 3);
	fb_m(&f, A + 10, mem + 10, 15); /* [10, 25) */
	fb_v(&f, 2, -5);
	fb_v(&f, 1, 2000);	       /* the last V of a variable wins */
	fb_m(&f, A + 45, mem + 45, 5); /* after a gap at [40, 45) */
	fr = fb_frame(&f);

	memset(&sn, 0, sizeof(sn));
	CHECK(tf_frame__foreach(&fr, record_cb, &sn) == 0);
	CHECK(sn.n == 9 && !memcmp(sn.types, "VMMMRMVVM", 9));
	CHECK(sn.lens[0] == 12 && sn.lens[1] == 10 + 15 && sn.lens[4] == REGS_G_SIZE);
	/* a callback's non-zero return stops the walk and is returned */
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 3;
	CHECK(tf_frame__foreach(&fr, record_cb, &sn) == 42 && sn.n == 3);

	regs = tf_frame__regs(&fr);
	CHECK(regs != NULL);
	if (regs) {
		int ok = 1;

		for (i = 0; i < REGS_G_SIZE; i++)
			ok &= regs[i] == (uint8_t)(3 + i);
		CHECK(ok);
	}

	/* memory across three M blocks given out of order */
	memset(out, 0, sizeof(out));
	CHECK(tf_frame__read_mem(&fr, A, out, 40) == 40 && !memcmp(out, mem, 40));
	memset(out, 0, sizeof(out));
	CHECK(tf_frame__read_mem(&fr, A + 5, out, 30) == 30 && !memcmp(out, mem + 5, 30));
	memset(out, 0, sizeof(out));
	CHECK(tf_frame__read_mem(&fr, A + 24, out, 2) == 2 && !memcmp(out, mem + 24, 2));
	/* stops at the gap */
	memset(out, 0, sizeof(out));
	CHECK(tf_frame__read_mem(&fr, A + 3, out, 100) == 37 && !memcmp(out, mem + 3, 37));
	CHECK(tf_frame__read_mem(&fr, A + 39, out, 10) == 1 && out[0] == mem[39]);
	CHECK(tf_frame__read_mem(&fr, A + 40, out, 4) == 0);
	CHECK(tf_frame__read_mem(&fr, A + 44, out, 1) == 0);
	CHECK(tf_frame__read_mem(&fr, A + 45, out, 100) == 5 && !memcmp(out, mem + 45, 5));
	CHECK(tf_frame__read_mem(&fr, A + 49, out, 1) == 1 && out[0] == mem[49]);
	CHECK(tf_frame__read_mem(&fr, A + 50, out, 1) == 0);
	CHECK(tf_frame__read_mem(&fr, A - 1, out, 10) == 0);
	CHECK(tf_frame__read_mem(&fr, A + 300, out, 8) == 8 && !memcmp(out, mem, 8));
	CHECK(tf_frame__read_mem(&fr, 0, out, 8) == 0);
	CHECK(tf_frame__read_mem(&fr, UINT64_MAX, out, 8) == 0);

	CHECK(tf_frame__tsv(&fr, 1, &v) == 0 && v == 2000);
	CHECK(tf_frame__tsv(&fr, 2, &v) == 0 && v == -5);
	CHECK(tf_frame__tsv(&fr, 3, &v) == -ENOENT);
	CHECK(tf_frame__tsv(&fr, 0, &v) == -ENOENT);

	/* overlapping M blocks: any of them gives the right bytes */
	f.n = 0;
	fb_m(&f, A, mem, 20);
	fb_m(&f, A + 10, mem + 10, 30);
	fr = fb_frame(&f);
	CHECK(tf_frame__read_mem(&fr, A, out, 40) == 40 && !memcmp(out, mem, 40));
	CHECK(tf_frame__read_mem(&fr, A + 15, out, 10) == 10 && !memcmp(out, mem + 15, 10));
	/* an empty M block contributes nothing */
	f.n = 0;
	fb_m(&f, A, mem, 0);
	fb_m(&f, A, mem, 4);
	fr = fb_frame(&f);
	CHECK(tf_frame__read_mem(&fr, A, out, 4) == 4 && !memcmp(out, mem, 4));
	/* the largest M block (64 KiB - 1 would not fit here; 4000 does) */
	{
		static uint8_t big[4000];
		struct fb *g = calloc(1, sizeof(*g));

		for (i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 13);
		fb_m(g, 0x1000, big, sizeof(big));
		fr = fb_frame(g);
		{
			uint8_t *o = malloc(sizeof(big));

			CHECK(tf_frame__read_mem(&fr, 0x1000, o, sizeof(big)) == sizeof(big) &&
			      !memcmp(o, big, sizeof(big)));
			free(o);
		}
		free(g);
	}

	/* no R block; an empty frame */
	f.n = 0;
	fb_v(&f, 1, 7);
	fr = fb_frame(&f);
	CHECK(tf_frame__regs(&fr) == NULL);
	fr.len = 0;
	memset(&sn, 0, sizeof(sn));
	CHECK(tf_frame__foreach(&fr, record_cb, &sn) == 0 && sn.n == 0);
	CHECK(tf_frame__regs(&fr) == NULL && tf_frame__tsv(&fr, 1, &v) == -ENOENT);
	CHECK(tf_frame__read_mem(&fr, A, out, 4) == 0);
}

/* Each malformed frame is copied into a buffer of exactly its length, so
 * under ASan reading past it fails loudly. */
static int foreach_exact(const uint8_t *b, size_t n, struct seen *sn)
{
	uint8_t *copy = malloc(n ? n : 1);
	struct tf_frame fr;
	uint8_t out[64];
	int64_t v;
	int err;

	memcpy(copy, b, n);
	fr.tp = 1;
	fr.blocks = copy;
	fr.len = n;
	memset(sn, 0, sizeof(*sn));
	err = tf_frame__foreach(&fr, record_cb, sn);
	/* the readers must not crash or read outside either */
	(void)tf_frame__regs(&fr);
	(void)tf_frame__read_mem(&fr, 0x1000, out, sizeof(out));
	(void)tf_frame__tsv(&fr, 1, &v);
	free(copy);
	return err;
}

static void test_malformed(void)
{
	struct fb f = {.n = 0};
	struct seen sn;
	uint8_t mem[32] = {1, 2, 3, 4};
	size_t full, cut;
	struct tf_frame fr;
	uint8_t out[8];

	/* unknown block type */
	f.n = 0;
	f.b[f.n++] = 'X';
	memset(f.b + f.n, 0, 12);
	f.n += 12;
	CHECK(foreach_exact(f.b, f.n, &sn) == -EBADMSG && sn.n == 0);
	/* a NUL type byte */
	f.b[0] = 0;
	CHECK(foreach_exact(f.b, f.n, &sn) == -EBADMSG);
	/* good blocks then garbage: the good ones are seen first */
	f.n = 0;
	fb_v(&f, 1, 1);
	fb_m(&f, 0x1000, mem, 4);
	f.b[f.n++] = 'Q';
	CHECK(foreach_exact(f.b, f.n, &sn) == -EBADMSG && sn.n == 2);

	/* every truncation of R, M and V blocks */
	f.n = 0;
	fb_r(&f, 0);
	full = f.n;
	for (cut = 1; cut < full; cut++)
		QCHECKF(foreach_exact(f.b, cut, &sn) == -EBADMSG, "R block cut to %zu bytes", cut);
	CHECK(foreach_exact(f.b, full, &sn) == 0 && sn.n == 1);
	f.n = 0;
	fb_m(&f, 0x1000, mem, 32);
	full = f.n;
	for (cut = 1; cut < full; cut++)
		QCHECKF(foreach_exact(f.b, cut, &sn) == -EBADMSG, "M block cut to %zu bytes", cut);
	CHECK(foreach_exact(f.b, full, &sn) == 0 && sn.n == 1);
	f.n = 0;
	fb_v(&f, 9, -1);
	full = f.n;
	for (cut = 1; cut < full; cut++)
		QCHECKF(foreach_exact(f.b, cut, &sn) == -EBADMSG, "V block cut to %zu bytes", cut);
	CHECK(foreach_exact(f.b, full, &sn) == 0 && sn.n == 1);

	/* an M block whose length runs past the frame */
	f.n = 0;
	fb_m(&f, 0x1000, mem, 8);
	put16(f.b + 1 + 8, 9);
	CHECK(foreach_exact(f.b, f.n, &sn) == -EBADMSG);
	put16(f.b + 1 + 8, 0xffff);
	CHECK(foreach_exact(f.b, f.n, &sn) == -EBADMSG);
	fr.tp = 1;
	fr.blocks = f.b;
	fr.len = f.n;
	CHECK(tf_frame__read_mem(&fr, 0x1000, out, 4) == 0);
	/* a malformed block after an R block: the R block is still found */
	f.n = 0;
	fb_r(&f, 9);
	f.b[f.n++] = 'M';
	fr.blocks = f.b;
	fr.len = f.n;
	CHECK(tf_frame__foreach(&fr, record_cb, &sn) == -EBADMSG);
	CHECK(tf_frame__regs(&fr) == f.b + 1);
}

/* ---- ring records into frames ------------------------------------------- */

/* A record: pt_regs (ip = 0x401000), then nmem bytes of memory at 0x1000. */
static size_t make_record(uint8_t *r, uint16_t nmem)
{
	struct bpfc_rec h = {.tp = 0, .ktime_ns = 5000000, .pid = 42, .tid = 43};
	uint8_t *p = r + sizeof(h);
	size_t i;

	*p++ = BPFC_BLK_PTREGS;
	for (i = 0; i < BPFC_PTREGS_SIZE; i++)
		p[i] = (uint8_t)i;
	put64(p + 16 * 8, 0x401000); /* pt_regs' ip */
	p += BPFC_PTREGS_SIZE;
	*p++ = BPFC_BLK_MEM;
	put64(p, 0x1000);
	put16(p + 8, nmem);
	for (i = 0; i < nmem; i++)
		p[10 + i] = (uint8_t)(0xa0 + i);
	p += 10 + nmem;
	h.size = (uint32_t)(p - r - sizeof(h));
	memcpy(r, &h, sizeof(h));
	return (size_t)(p - r);
}

static void test_add_record(void)
{
	const size_t want = 1 + REGS_G_SIZE + 1 + 10 + 8;
	const struct tf_tsv tsvs[] = {{.num = 1, .value = 5000}, {.num = 0x12345678, .value = -7}};
	struct tf_rec_opts o = {.tsvs = tsvs, .ntsvs = 2};
	static uint8_t r[8192];
	uint8_t out[8];
	struct tf_store s;
	struct tf_frame fr;
	const uint8_t *regs;
	size_t len, got = 0, n;
	int64_t v;

	len = make_record(r, 8);
	CHECK(tf_store__init(&s, 4096, false) == 0);
	CHECK(tf_store__add_record(&s, 7, r, len, &o, &got) == 0);
	CHECKF(got == want, "collected %zu, want %zu", got, want);
	CHECK(tf_store__count(&s) == 1 && tf_store__get(&s, 0, &fr) == 0);
	CHECK(fr.tp == 7 && fr.len == want + 2 * TF_VBLK_SIZE);
	regs = tf_frame__regs(&fr);
	CHECK(regs && get64(regs + BPFC_REGS_OFF_RIP) == 0x401000);
	CHECK(tf_frame__read_mem(&fr, 0x1000, out, 8) == 8 && out[0] == 0xa0 && out[7] == 0xa7);
	CHECK(tf_frame__tsv(&fr, 1, &v) == 0 && v == 5000);
	CHECK(tf_frame__tsv(&fr, 0x12345678, &v) == 0 && v == -7);
	/* the V blocks are the frame's last bytes, in order */
	CHECK(fr.blocks[want] == 'V' && get32(fr.blocks + want + 1) == 1);
	CHECK(fr.blocks[want + TF_VBLK_SIZE] == 'V');

	/* several processes: the pc becomes the location's own address */
	o.set_rip = true;
	o.rip = 0x555555554321ull;
	o.ntsvs = 0;
	CHECK(tf_store__add_record(&s, 8, r, len, &o, NULL) == 0);
	CHECK(tf_store__get(&s, 1, &fr) == 0 && fr.tp == 8 && fr.len == want);
	regs = tf_frame__regs(&fr);
	CHECK(regs && get64(regs + BPFC_REGS_OFF_RIP) == 0x555555554321ull);
	CHECK(tf_frame__tsv(&fr, 1, &v) == -ENOENT);

	/* a malformed record: -EBADMSG, nothing stored, *collected untouched */
	got = 99;
	CHECK(tf_store__add_record(&s, 9, r, len - 1, &o, &got) == -EBADMSG && got == 99);
	CHECK(tf_store__add_record(&s, 9, r, 3, &o, NULL) == -EBADMSG);
	r[sizeof(struct bpfc_rec)] = 'X';
	CHECK(tf_store__add_record(&s, 9, r, len, &o, NULL) == -EBADMSG);
	CHECK(tf_store__count(&s) == 2 && s.created == 2);

	/* a full linear store refuses the frame */
	len = make_record(r, 8);
	for (n = 0; n < 100 && tf_store__add_record(&s, 10, r, len, &o, NULL) == 0; n++)
		;
	CHECK(n < 100 && tf_store__add_record(&s, 10, r, len, &o, NULL) == -ENOSPC);
	/* a frame larger than the whole store: -E2BIG */
	CHECK(tf_store__reset(&s, TF_MIN_SIZE, true) == 0);
	len = make_record(r, 5000);
	CHECK(tf_store__add_record(&s, 11, r, len, &o, NULL) == -E2BIG);
	CHECK(tf_store__count(&s) == 0);
	tf_store__fini(&s);
}

int main(void)
{
	test_init_reset();
	test_reserve_commit_get();
	test_linear_full();
	test_too_big();
	test_circular();
	test_index_growth();
	test_raw_interleaved();
	test_blocks();
	test_malformed();
	test_add_record();
	printf("framestore: %lu passed, %lu failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
