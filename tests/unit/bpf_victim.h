/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/bpf_victim.h - the live victim and the records its uprobe
 * hits leave in the ring buffer, shared by the unit tests that attach BPF
 * to a real process (test_bpf, test_ax_bpf, test_fpchain).
 *
 * A victim is a small C program each test carries as source text: it is
 * written to the test's scratch directory, compiled with cc, started with
 * its stdout (and, for victims driven by commands, its stdin) on a pipe,
 * and counts as up once it prints "ready".  A victim driven by commands
 * reads one per line and answers "done" when it has run it.  Symbols are
 * read with nm, as a user's tools would.
 *
 * The records: a ring buffer (bpf/ring.h) whose callback copies every
 * record, as the program wrote it, into a growing array the test reads
 * after a consume or a drain.
 */
#ifndef TESTS_UNIT_BPF_VICTIM_H
#define TESTS_UNIT_BPF_VICTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

#include "bpf/ring.h"

/* The ring the tests collect into. */
#define VICTIM_RING_SIZE (4u << 20)

struct victim {
	pid_t pid;
	int in_fd;  /* -1 unless started with commands */
	int out_fd; /* the victim's stdout */
};

#define VICTIM_INIT ((struct victim){.pid = -1, .in_fd = -1, .out_fd = -1})

/*
 * Write src to DIR/NAME.c and compile it with "cc -O0 -g CFLAGS" into
 * DIR/NAME, whose path goes to path.  0, -errno, or -ECHILD if cc failed.
 */
int victim__build(const char *dir, const char *name, const char *src, const char *cflags,
		  char *path, size_t plen);
/* The value of sym in the symbol table of path (nm).  0 or -ENOENT. */
int victim__sym(const char *path, const char *sym, __u64 *addr);
/*
 * Start path and wait (5 s) for its "ready" line; with commands, its stdin
 * is a pipe for victim__cmd().  0 or -errno, the victim reaped on failure.
 */
int victim__launch(struct victim *v, const char *path, bool commands);
/* Read the victim's stdout until a line containing want (5 s per byte). */
int victim__wait_for(struct victim *v, const char *want);
/* Send one command line and wait for its "done". */
int victim__cmd(struct victim *v, const char *cmd);
/* Kill and wait for the victim, close its pipes; again is harmless. */
void victim__reap(struct victim *v);

struct victim_rec {
	unsigned char *data;
	size_t len;
};

struct victim_recs {
	struct victim_rec *rec;
	size_t n, cap;
};

/* A ring of VICTIM_RING_SIZE bytes that copies each record into recs.  0 or -errno. */
int victim_recs__ring(struct victim_recs *recs, struct bpfc_ring **ring);
/* The ring callback: append a copy of the record.  0 or -ENOMEM. */
int victim_recs__add(void *ctx, void *data, size_t len);
/* Forget the records (the array is kept for the next ones). */
void victim_recs__clear(struct victim_recs *recs);
void victim_recs__free(struct victim_recs *recs);

#endif
