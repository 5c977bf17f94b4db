/* SPDX-License-Identifier: MIT */
/* noinline.h - NOINLINE for the test targets: a function that stays a real
 * call with its arguments where the ABI puts them, even at -O2, so a
 * tracepoint on it sees them. */
#ifndef TARGETS_NOINLINE_H
#define TARGETS_NOINLINE_H

#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noipa))
#else
#define NOINLINE __attribute__((noinline, optnone))
#endif

#endif
