/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/privs.h - keep only the capabilities bpfstub still needs once it
 * listens and has opened the target (stub/serve/privs.c says which and why).
 */
#ifndef STUB_PRIVS_H
#define STUB_PRIVS_H

#include <stddef.h>

/*
 * Drop every capability but those bpfstub needs to serve the target
 * (those of them it holds: a user with file capabilities may hold fewer)
 * from the effective, permitted, inheritable, ambient and (if it may)
 * bounding sets, and set no_new_privs.  This thread only: call it before
 * any other thread exists.  0, msg saying what was kept; or -errno, msg
 * saying what failed.
 */
int privs__drop(char *msg, size_t n);

/* "capabilities: cap_sys_ptrace,...; no_new_privs: 1", as they are now. */
void privs__describe(char *buf, size_t n);

#endif
