/* SPDX-License-Identifier: MIT */
/*
 * bpf/ring.c - a thin owner of the ring buffer map and its libbpf reader.
 *
 * libbpf's ring_buffer already does the memory mapping and the consumer
 * position bookkeeping; this file only pairs it with the map it reads (so
 * both are created and destroyed together) and checks the size rules the
 * kernel would otherwise report as a bare EINVAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/ring.h"

struct bpfc_ring {
	int map_fd;
	struct ring_buffer *rb;
};

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
	r->rb = ring_buffer__new(r->map_fd, cb, ctx, NULL);
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
