/* SPDX-License-Identifier: MIT */
/*
 * bpf/ring.h - the ring buffer the collection programs write records into.
 *
 * One BPF_MAP_TYPE_RINGBUF is shared by all tracepoints (records carry
 * their tracepoint number).  The programs submit with BPF_RB_NO_WAKEUP,
 * so the epoll fd never becomes readable on its own: the server drains it
 * from a timer (and before answering anything that reads the frame store).
 * The callback sees each record exactly as the program wrote it (see
 * record.h); returning a negative value stops consumption after that
 * record (it is consumed) and is passed back.
 *
 * A drain must end even while the programs write as fast as it reads:
 * bpfc_ring__consume() runs until it finds the ring empty, which under a
 * flood may be never; bpfc_ring__drain() stops at a budget (records, bytes
 * of the ring, time), and what it leaves stays in the ring for the next
 * drain.  A budget of bytes equal to the ring's size passes every record
 * that was in the ring when the drain began, whatever is written meanwhile.
 */
#ifndef BPF_RING_H
#define BPF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*bpfc_ring_cb)(void *ctx, void *data, size_t len);

struct bpfc_ring;

/*
 * Create a ring of size bytes (a power of two, a multiple of the page
 * size) delivering records to cb(ctx, ...).  0 or -errno.
 */
int bpfc_ring__new(struct bpfc_ring **out, size_t size, bpfc_ring_cb cb, void *ctx);
void bpfc_ring__free(struct bpfc_ring *r);
/* The map, for bpfc_prog__build(). */
int bpfc_ring__map_fd(const struct bpfc_ring *r);
/* For an event loop; see the wakeup note above. */
int bpfc_ring__epoll_fd(const struct bpfc_ring *r);
/* Deliver every record until the ring is empty: count delivered, or -errno / cb's value. */
int bpfc_ring__consume(struct bpfc_ring *r);

/* What one bpfc_ring__drain() may take; 0 in a field: no limit of that kind. */
struct bpfc_ring_budget {
	size_t records; /* records delivered */
	size_t bytes;	/* bytes delivered, each record with its 8-byte header, rounded up to 8 */
	uint64_t ns;	/* CLOCK_MONOTONIC time, checked every BPFC_RING_CLOCK_EVERY records */
};

#define BPFC_RING_CLOCK_EVERY 16

/*
 * Deliver records until the ring is empty or the budget is spent: count
 * delivered, or -errno / cb's value.  *more (if not NULL) is set when the
 * budget ended the drain: records may be left.
 */
int bpfc_ring__drain(struct bpfc_ring *r, const struct bpfc_ring_budget *b, bool *more);

#endif
