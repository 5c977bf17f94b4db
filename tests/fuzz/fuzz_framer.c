/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_framer.c - libFuzzer target for rsp/framer.c.
 *
 * The framer's promise is that it is a pure function of the byte stream:
 * how the stream is cut into feed() calls must not matter.  So the input is
 * fed twice, once whole and once cut at points chosen by the input itself,
 * and the two event sequences (types, lengths, payload hashes, skipped
 * count) must be identical.  Along the way every feed() is held to its
 * contract.  Then the input is used as a payload, encoded with
 * rsp_frame__encode() and decoded again: the round trip must be the
 * identity.  The split feeding runs under a tight, an input-sized and a
 * roomy max_payload, so the overflow path is exercised as much as the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/framer.h"

struct sig {
	enum rsp_event_type type;
	size_t len;
	uint64_t hash;
};

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

/* Feed in[0..len) in chunks; chunk sizes come from a PRNG seeded by seed (0: whole). */
static size_t run(const uint8_t *in, size_t len, size_t max, uint64_t seed, struct sig *sigs,
		  unsigned long *skipped)
{
	struct rsp_framer f;
	struct rsp_event ev;
	size_t off = 0, n = 0;

	if (rsp_framer__init(&f, max))
		abort();
	while (off < len) {
		size_t end = len;

		if (seed) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			end = off + 1 + (size_t)((seed >> 33) % 17);
			if (end > len)
				end = len;
		}
		while (off < end) {
			size_t used = rsp_framer__feed(&f, in + off, end - off, &ev);

			if (used == 0 || used > end - off)
				abort();
			off += used;
			if (ev.type == RSP_EV_NONE) {
				if (off != end)
					abort();
				continue;
			}
			if (ev.type == RSP_EV_PACKET) {
				if (ev.len > max || ev.data[ev.len] != '\0')
					abort();
				sigs[n].hash = fnv(ev.data, ev.len);
			} else {
				if (ev.data || ev.len)
					abort();
				sigs[n].hash = 0;
			}
			sigs[n].type = ev.type;
			sigs[n].len = ev.len;
			n++;
		}
	}
	*skipped = f.skipped;
	rsp_framer__free(&f);
	return n;
}

static void round_trip(const uint8_t *p, size_t len)
{
	struct rsp_framer f;
	struct rsp_event ev;
	struct rsp_buf b;
	size_t used;

	rsp_buf__init(&b);
	if (rsp_frame__encode(&b, '$', p, len) || rsp_framer__init(&f, len))
		abort();
	used = rsp_framer__feed(&f, b.data, b.len, &ev);
	if (used != b.len || ev.type != RSP_EV_PACKET || ev.len != len ||
	    memcmp(ev.data, p, len) != 0)
		abort();
	rsp_framer__free(&f);

	/* a notification is framed the same way, just a different start */
	rsp_buf__reset(&b);
	if (rsp_frame__encode(&b, '%', p, len) || b.data[0] != '%' || b.len < len + 4)
		abort();
	rsp_buf__free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a tight limit to reach overflow, one from the input, a roomy one */
	const size_t maxes[] = {16, size / 2, 8192};
	struct sig *a = NULL, *b = NULL;
	unsigned long skip_a, skip_b;
	uint8_t *in = NULL;
	size_t i, na, nb;

	/* an exactly-sized copy so any over-read is an ASan report */
	in = malloc(size ? size : 1);
	a = calloc(size + 1, sizeof(*a));
	b = calloc(size + 1, sizeof(*b));
	if (!in || !a || !b)
		abort();
	memcpy(in, data, size);

	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		na = run(in, size, maxes[i], 0, a, &skip_a);
		nb = run(in, size, maxes[i], fnv(data, size) | 1, b, &skip_b);
		if (na != nb || skip_a != skip_b || memcmp(a, b, na * sizeof(*a)) != 0)
			abort();
	}
	round_trip(in, size);

	free(in);
	free(a);
	free(b);
	return 0;
}
