/* SPDX-License-Identifier: MIT */
/*
 * rsp/framer.h - the remote serial protocol's framing, both directions.
 *
 * Input: a byte-at-a-time state machine.  Bytes go in with
 * rsp_framer__feed(); out come events: a complete packet (checksum verified,
 * '}' escapes undone, run-length encoding expanded, NUL-terminated), an ack
 * '+', a nak '-', the 0x03 interrupt, a packet with a bad checksum (the caller
 * answers '-'), or a packet whose decoded payload exceeds the PacketSize we
 * advertised (the caller answers with an error).  Bytes outside a packet that
 * mean nothing are skipped and counted.  No I/O, no globals: the caller owns
 * the struct and the socket.
 *
 * Output: rsp_frame__encode() wraps a payload in $...#cs (or %...#cs for
 * non-stop notifications), escaping '$', '#', '}' and '*' so any binary reply
 * survives, and never run-length encodes.
 */
#ifndef RSP_FRAMER_H
#define RSP_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "rsp/buf.h"

enum rsp_event_type {
	RSP_EV_NONE = 0,     /* all input consumed, nothing complete yet */
	RSP_EV_PACKET,	     /* ev.data/ev.len: the decoded payload */
	RSP_EV_ACK,	     /* '+' */
	RSP_EV_NAK,	     /* '-' */
	RSP_EV_INTERRUPT,    /* 0x03 outside a packet */
	RSP_EV_BAD_CHECKSUM, /* answer '-' (in ack mode) */
	RSP_EV_TOO_LONG,     /* payload over the limit: answer with an error */
	RSP_EV_BAD_PACKET,   /* malformed: bad RLE, bad checksum digits */
};

struct rsp_event {
	enum rsp_event_type type;
	const char *data; /* RSP_EV_PACKET: valid until the next feed */
	size_t len;
};

enum rsp_framer_state {
	RSP_FS_IDLE,
	RSP_FS_BODY,
	RSP_FS_ESCAPE,
	RSP_FS_RLE,
	RSP_FS_CSUM1,
	RSP_FS_CSUM2,
};

struct rsp_framer {
	enum rsp_framer_state state;
	char *pkt; /* max_payload + 1 bytes */
	size_t len;
	size_t max_payload;
	uint8_t sum;	       /* running checksum of the raw body bytes */
	uint8_t rx_sum;	       /* checksum digits received */
	int overflow;	       /* this packet went over max_payload */
	int bad;	       /* this packet is malformed (e.g. RLE at start) */
	unsigned long skipped; /* stray bytes ignored outside packets */
};

/* 0 or -ENOMEM.  max_payload: the largest decoded payload accepted. */
int rsp_framer__init(struct rsp_framer *f, size_t max_payload);
void rsp_framer__free(struct rsp_framer *f);
/*
 * Consume bytes from in[0..len) until one event completes or input runs out.
 * Returns the number of bytes consumed (the caller feeds the rest again);
 * *ev says what happened (RSP_EV_NONE when input ran out mid-way or empty).
 */
size_t rsp_framer__feed(struct rsp_framer *f, const void *in, size_t len, struct rsp_event *ev);

/* Append "$<escaped payload>#cs" (start '$') or "%...#cs" (start '%'). */
int rsp_frame__encode(struct rsp_buf *out, char start, const void *payload, size_t len);

#endif
