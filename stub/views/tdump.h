/* SPDX-License-Identifier: MIT */
/*
 * stub/views/tdump.h - stored frames as text: `monitor tframes`, `monitor tdump`
 * and the lines `monitor tlive` streams (values typed by stub/views/mprint.c).
 */
#ifndef STUB_TDUMP_H
#define STUB_TDUMP_H

#include <stddef.h>

struct sess;
struct rsp_buf;

/*
 * One line for stored frame n (0 = oldest present), no newline:
 *   3  13:01:02.123456  thread 4242  goroutine 1  tp 1  main.handle(name="req-3", n=103, ...)
 * 0, -ENOENT (no frame n) or -ENOMEM.
 */
int tdump__line(struct sess *s, size_t n, struct rsp_buf *out);
/* tframes: lines for frames [from, from + count) to s's console. */
int tdump__frames(struct sess *s, size_t from, size_t count);
/* tdump: every value of frame n (-1: the one tfind selected, else the last). */
int tdump__frame(struct sess *s, long n, char *msg, size_t mlen);

/*
 * tlive: an all-stop continue (handlers.c) calls tdump__live_start(); the
 * server calls tdump__live_tick() after each drain of the ring buffer while
 * the session is "running": each new frame's line as an O packet, at most
 * LIVE_PER_SEC a second, then "... N hits not shown" once a second.
 */
void tdump__live_start(struct sess *s);
void tdump__live_tick(struct sess *s);

#endif
