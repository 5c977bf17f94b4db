/* SPDX-License-Identifier: MIT */
/*
 * bpf/ring.h - the ring buffer the collection programs write records into.
 *
 * One BPF_MAP_TYPE_RINGBUF is shared by all tracepoints (records carry
 * their tracepoint number).  The programs submit with BPF_RB_NO_WAKEUP,
 * so the epoll fd never becomes readable on its own: the server calls
 * bpfc_ring__consume() from a timer (and before answering anything that
 * reads the frame store).  The callback sees each record exactly as the
 * program wrote it (see record.h); returning non-zero stops consumption
 * and is passed back.
 */
#ifndef BPF_RING_H
#define BPF_RING_H

#include <stddef.h>

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
/* Deliver every record available now: count delivered, or -errno / cb's value. */
int bpfc_ring__consume(struct bpfc_ring *r);

#endif
