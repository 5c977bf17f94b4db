/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_peer.c - libFuzzer target for the sock_diag reply parser
 * (peer__diag_parse in stub/serve/peer.c).
 *
 * The input's first 2 bytes choose the request (IPv4 or IPv6, sequence
 * number), the rest is the kernel's reply, copied into a buffer of exactly
 * that size so reading one byte past it is an ASan report.  Beyond "no
 * crash": a uid is only ever handed out with 0, from a reply that names
 * the very socket asked for; errors are negative errnos.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/serve/peer.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(2345)};
	struct sockaddr_in6 c = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
	struct sockaddr_in6 d = {.sin6_family = AF_INET6, .sin6_port = htons(2345)};
	struct peer_diag_req req;
	uint32_t uid = 0xdeadbeef;
	unsigned char *buf;
	int err;

	if (size < 2)
		return 0;
	a.sin_addr.s_addr = b.sin_addr.s_addr = htonl(0x7f000001);
	c.sin6_addr = d.sin6_addr = in6addr_loopback;
	if (data[0] & 1)
		check(!peer__diag_request(&req, (struct sockaddr *)&c, (struct sockaddr *)&d,
					  data[1]));
	else
		check(!peer__diag_request(&req, (struct sockaddr *)&a, (struct sockaddr *)&b,
					  data[1]));
	size -= 2;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 2, size);
	err = peer__diag_parse(buf, size, &req, &uid);
	check(err <= 0 && err >= -4095);
	if (err)
		check(uid == 0xdeadbeef);
	free(buf);
	return 0;
}
