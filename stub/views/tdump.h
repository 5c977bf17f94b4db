/* SPDX-License-Identifier: MIT */
/*
 * stub/views/tdump.h - stored frames as text: `monitor tframes`, `monitor tdump`
 * and the lines `monitor tlive` streams (values typed by stub/views/mprint.c,
 * frames seen through stub/views/frame.h).  Text is appended to a buffer,
 * one line per '\n'; sending it anywhere is the caller's business.
 */
#ifndef STUB_TDUMP_H
#define STUB_TDUMP_H

#include <stddef.h>

struct rsp_buf;
struct tgt;
struct trace;

/*
 * One line for stored frame n of tr (0 = oldest present), no newline:
 *   3  13:01:02.123456  thread 4242  goroutine 1  tp 1  main.handle(name="req-3", n=103, ...)
 * 0, -ENOENT (no frame n) or -ENOMEM.
 */
int tdump__line(struct trace *tr, struct tgt *t, size_t n, struct rsp_buf *out);
/* tframes: lines for frames [from, from + count), or why there are none. */
int tdump__frames(struct trace *tr, struct tgt *t, size_t from, size_t count, struct rsp_buf *out);
/*
 * tdump: every value of frame n (-1: selected, the one tfind selected, if
 * >= 0, else the last).  -errno with msg naming the mistake.
 */
int tdump__frame(struct trace *tr, struct tgt *t, long n, long selected, struct rsp_buf *out,
		 char *msg, size_t mlen);

#endif
