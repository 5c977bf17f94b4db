/* SPDX-License-Identifier: MIT */
/*
 * rsp/framer.c - turning a byte stream into packets and packets into bytes.
 *
 * This file owns the wire format of the remote serial protocol and nothing
 * else: where a packet starts and ends, its checksum, the '}' escape and the
 * '*' run-length encoding.  What a packet means is parse.c's business, and
 * reading the socket is the caller's, so the framer is a plain state machine
 * over bytes that can be fed one at a time or a megabyte at a time with the
 * same result.  That property is what makes it testable (the unit tests and
 * the fuzzer feed the same input split at every possible point and expect
 * identical events) and what lets the server stay non-blocking.
 *
 * Shape of the input side.  Every byte moves the machine through one
 * transition and the function returns as soon as a transition completes an
 * event, with the count of bytes consumed, so the caller handles one event
 * at a time and never has to queue them.  The decoded payload is written
 * into a buffer allocated once in rsp_framer__init() (max_payload + 1 bytes,
 * the last for a NUL): nothing from the wire sizes an allocation.  A packet
 * that decodes to more than max_payload bytes is still read to its end,
 * checksum included, so the stream stays in sync, and then reported as
 * RSP_EV_TOO_LONG rather than silently truncated.
 *
 * Decisions taken where the protocol is loose, following gdbserver:
 *  - a '$' inside a packet body starts a new packet; the partial one is lost;
 *  - '+', '-' and 0x03 mean something only between packets; inside a body
 *    they are data;
 *  - the two bytes after '#' are always taken as the checksum; if either is
 *    not a hex digit the packet is RSP_EV_BAD_PACKET (the byte is consumed);
 *  - '*' with nothing before it, a run-length count outside 32..126 or equal
 *    to '#' or '$', or a '}' right before '#' make the packet malformed, but
 *    it is still read to its checksum so framing survives;
 *  - a wrong checksum wins over every other complaint: the packet was
 *    damaged in transit and a retransmission may fix it;
 *  - '%' never comes from a client: outside a packet it is a stray byte.
 *
 * The output side, rsp_frame__encode(), escapes the four special bytes and
 * never run-length encodes: the saving is small for our replies and a
 * simple encoder is easy to trust.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/framer.h"
#include "rsp/parse.h"

int rsp_framer__init(struct rsp_framer *f, size_t max_payload)
{
	memset(f, 0, sizeof(*f));
	if (max_payload == SIZE_MAX)
		return -ENOMEM;
	f->pkt = malloc(max_payload + 1);
	if (!f->pkt)
		return -ENOMEM;
	f->pkt[0] = '\0';
	f->max_payload = max_payload;
	f->state = RSP_FS_IDLE;
	return 0;
}

void rsp_framer__free(struct rsp_framer *f)
{
	free(f->pkt);
	f->pkt = NULL;
	f->len = 0;
	f->max_payload = 0;
	f->state = RSP_FS_IDLE;
}

static void start_packet(struct rsp_framer *f)
{
	f->state = RSP_FS_BODY;
	f->len = 0;
	f->sum = 0;
	f->rx_sum = 0;
	f->overflow = 0;
	f->bad = 0;
}

/* Store one decoded byte, or note that the packet went over the limit. */
static void put_byte(struct rsp_framer *f, char ch)
{
	if (f->overflow)
		return;
	if (f->len >= f->max_payload) {
		f->overflow = 1;
		return;
	}
	f->pkt[f->len++] = ch;
}

/* Expand a run: the last decoded byte, count more times. */
static void put_run(struct rsp_framer *f, size_t count)
{
	char ch;

	if (f->overflow)
		return;
	if (f->len == 0) {
		/* '*' right after '$': there is nothing to repeat */
		f->bad = 1;
		return;
	}
	if (count > f->max_payload - f->len) {
		f->overflow = 1;
		return;
	}
	ch = f->pkt[f->len - 1];
	memset(f->pkt + f->len, ch, count);
	f->len += count;
}

/* The second checksum digit arrived: decide what the packet was. */
static void finish_packet(struct rsp_framer *f, struct rsp_event *ev)
{
	f->state = RSP_FS_IDLE;
	if (f->sum != f->rx_sum)
		ev->type = RSP_EV_BAD_CHECKSUM;
	else if (f->bad)
		ev->type = RSP_EV_BAD_PACKET;
	else if (f->overflow)
		ev->type = RSP_EV_TOO_LONG;
	else
		ev->type = RSP_EV_PACKET;
	if (ev->type == RSP_EV_PACKET) {
		f->pkt[f->len] = '\0';
		ev->data = f->pkt;
		ev->len = f->len;
	}
}

/* One byte, one transition.  Returns true when *ev was completed. */
static int step(struct rsp_framer *f, unsigned char ch, struct rsp_event *ev)
{
	int v;

	switch (f->state) {
	case RSP_FS_IDLE:
		switch (ch) {
		case '$':
			start_packet(f);
			return 0;
		case '+':
			ev->type = RSP_EV_ACK;
			return 1;
		case '-':
			ev->type = RSP_EV_NAK;
			return 1;
		case 0x03:
			ev->type = RSP_EV_INTERRUPT;
			return 1;
		default:
			f->skipped++;
			return 0;
		}
	case RSP_FS_BODY:
		switch (ch) {
		case '$':
			start_packet(f);
			return 0;
		case '#':
			f->state = RSP_FS_CSUM1;
			return 0;
		case '}':
			f->sum += ch;
			f->state = RSP_FS_ESCAPE;
			return 0;
		case '*':
			f->sum += ch;
			f->state = RSP_FS_RLE;
			return 0;
		default:
			f->sum += ch;
			put_byte(f, (char)ch);
			return 0;
		}
	case RSP_FS_ESCAPE:
		if (ch == '$') {
			start_packet(f);
			return 0;
		}
		if (ch == '#') {
			/* a dangling '}' at the end of the body */
			f->bad = 1;
			f->state = RSP_FS_CSUM1;
			return 0;
		}
		f->sum += ch;
		put_byte(f, (char)(ch ^ 0x20));
		f->state = RSP_FS_BODY;
		return 0;
	case RSP_FS_RLE:
		if (ch == '$') {
			start_packet(f);
			return 0;
		}
		if (ch == '#') {
			/* a count of '#' is forbidden; the '#' still ends the body */
			f->bad = 1;
			f->state = RSP_FS_CSUM1;
			return 0;
		}
		f->sum += ch;
		if (ch < 32 || ch > 126)
			f->bad = 1;
		else
			put_run(f, (size_t)ch - 29);
		f->state = RSP_FS_BODY;
		return 0;
	case RSP_FS_CSUM1:
		v = rsp_hexval(ch);
		if (v < 0) {
			f->state = RSP_FS_IDLE;
			ev->type = RSP_EV_BAD_PACKET;
			return 1;
		}
		f->rx_sum = (uint8_t)(v << 4);
		f->state = RSP_FS_CSUM2;
		return 0;
	case RSP_FS_CSUM2:
		v = rsp_hexval(ch);
		if (v < 0) {
			f->state = RSP_FS_IDLE;
			ev->type = RSP_EV_BAD_PACKET;
			return 1;
		}
		f->rx_sum |= (uint8_t)v;
		finish_packet(f, ev);
		return 1;
	}
	/* not reached: every state is handled above */
	f->state = RSP_FS_IDLE;
	return 0;
}

size_t rsp_framer__feed(struct rsp_framer *f, const void *in, size_t len, struct rsp_event *ev)
{
	const unsigned char *p = in;
	size_t i;

	ev->type = RSP_EV_NONE;
	ev->data = NULL;
	ev->len = 0;
	for (i = 0; i < len; i++) {
		if (step(f, p[i], ev))
			return i + 1;
	}
	return len;
}

static const char hexdig[] = "0123456789abcdef";

int rsp_frame__encode(struct rsp_buf *out, char start, const void *payload, size_t len)
{
	const unsigned char *s = payload;
	uint8_t sum = 0;
	size_t i;
	char *d;

	if (start != '$' && start != '%')
		return -EINVAL;
	/* worst case: every byte escaped, plus start, '#' and two digits */
	if (len > (RSP_BUF_MAX - 4) / 2 || rsp_buf__reserve(out, 2 * len + 4))
		return -ENOMEM;
	d = out->data + out->len;
	*d++ = start;
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch == '$' || ch == '#' || ch == '}' || ch == '*') {
			*d++ = '}';
			sum += '}';
			ch ^= 0x20;
		}
		*d++ = (char)ch;
		sum += ch;
	}
	*d++ = '#';
	*d++ = hexdig[sum >> 4];
	*d++ = hexdig[sum & 15];
	out->len = (size_t)(d - out->data);
	out->data[out->len] = '\0';
	return 0;
}
