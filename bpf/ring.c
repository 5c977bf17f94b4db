/* SPDX-License-Identifier: MIT */
/*
 * bpf/ring.c - a thin owner of the ring buffer map and its libbpf reader.
 *
 * libbpf's ring_buffer already does the memory mapping and the consumer
 * position bookkeeping; this file pairs it with the map it reads (so both
 * are created and destroyed together), checks the size rules the kernel
 * would otherwise report as a bare EINVAL, and bounds a drain.
 *
 * libbpf 1.1 has no ring_buffer__consume_n(), and its consumer keeps going
 * as long as the producer keeps writing.  What it does have: a callback
 * returning a negative value stops it, after moving the consumer position
 * past that record (ringbuf_process_ring() in libbpf's ringbuf.c).  So
 * libbpf calls deliver() here, which passes each record on to the user's
 * callback and then, once the budget is spent, returns -EAGAIN: the record
 * was delivered and is consumed, the rest stay for the next drain.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/clock.h"
#include "bpf/ring.h"

struct bpfc_ring {
	int map_fd;
	struct ring_buffer *rb;
	bpfc_ring_cb cb;
	void *ctx;
	/* The drain under way: its budget and what it has taken so far. */
	const struct bpfc_ring_budget *budget;
	uint64_t deadline_ns;
	size_t records, bytes;
	bool spent;
};

/* libbpf's callback: the user's, then the budget (see the top of this file). */
static int deliver(void *ctx, void *data, size_t len)
{
	struct bpfc_ring *r = ctx;
	const struct bpfc_ring_budget *b = r->budget;
	int err;

	err = r->cb(r->ctx, data, len);
	if (err < 0 || !b)
		return err;
	r->records++;
	r->bytes += (len + 8 + 7) & ~(size_t)7;
	if ((b->records && r->records >= b->records) || (b->bytes && r->bytes >= b->bytes) ||
	    (b->ns && r->records % BPFC_RING_CLOCK_EVERY == 0 &&
	     bpfc_clock__ns(CLOCK_MONOTONIC) >= r->deadline_ns)) {
		r->spent = true;
		return -EAGAIN;
	}
	return 0;
}

int bpfc_ring__new(struct bpfc_ring **out, size_t size, bpfc_ring_cb cb, void *ctx)
{
	long page = sysconf(_SC_PAGESIZE);
	struct bpfc_ring *r = NULL;
	int err;

	*out = NULL;
	if (!cb || page <= 0 || size < (size_t)page || size > (1ul << 31) || (size & (size - 1)) ||
	    size % (size_t)page) {
		err = -EINVAL;
		goto cleanup;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto cleanup;
	}
	r->map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bpfc_ring", 0, 0, (__u32)size, NULL);
	if (r->map_fd < 0) {
		err = r->map_fd;
		goto cleanup;
	}
	r->cb = cb;
	r->ctx = ctx;
	r->rb = ring_buffer__new(r->map_fd, deliver, r, NULL);
	if (!r->rb) {
		err = -errno ? -errno : -ENOMEM;
		goto cleanup;
	}
	*out = r;
	return 0;
cleanup:
	bpfc_ring__free(r);
	return err;
}

void bpfc_ring__free(struct bpfc_ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->map_fd >= 0)
		close(r->map_fd);
	free(r);
}

int bpfc_ring__map_fd(const struct bpfc_ring *r)
{
	return r->map_fd;
}

int bpfc_ring__epoll_fd(const struct bpfc_ring *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int bpfc_ring__consume(struct bpfc_ring *r)
{
	return ring_buffer__consume(r->rb);
}

int bpfc_ring__drain(struct bpfc_ring *r, const struct bpfc_ring_budget *b, bool *more)
{
	int n;

	r->budget = b;
	r->deadline_ns = b->ns ? bpfc_clock__ns(CLOCK_MONOTONIC) + b->ns : 0;
	r->records = r->bytes = 0;
	r->spent = false;
	n = ring_buffer__consume(r->rb);
	r->budget = NULL;
	if (more)
		*more = r->spent;
	/* The budget's own stop is no error: the records delivered count. */
	if (n == -EAGAIN && r->spent)
		n = (int)(r->records < INT_MAX ? r->records : INT_MAX);
	return n;
}
