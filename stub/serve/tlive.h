/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/tlive.h - `monitor tlive`: a client's all-stop continue streams
 * each new trace frame to its console.
 *
 * An all-stop continue (handlers.c) calls tlive__start(); the server calls
 * tlive__tick() after each drain of the ring buffer while the session is
 * "running": each new frame's line (stub/views/tdump.h) as an O packet, at
 * most TLIVE_PER_SEC a second, then "... N hits not shown" once a second.
 */
#ifndef STUB_TLIVE_H
#define STUB_TLIVE_H

#define TLIVE_PER_SEC 20 /* lines per second before hits are only counted */

struct sess;

void tlive__start(struct sess *s);
void tlive__tick(struct sess *s);

#endif
