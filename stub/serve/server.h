/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/server.h - listening, accepting and the per-client I/O loop.
 */
#ifndef STUB_SERVER_H
#define STUB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "stub/serve/peer.h"

struct tgt;
struct audit;

enum srv_kind {
	SRV_TCP,
	SRV_UNIX,
	SRV_STDIO,
};

struct srv_opts {
	enum srv_kind kind;
	char host[256];
	char port[16];
	char path[108];
	bool once;
	int verbose;
	const char *save_dir;	  /* --save-dir: where QTSave may write, or NULL */
	int save_dirfd;		  /* save_dir opened O_PATH, or -1 */
	const char *save_on_exit; /* --save-on-exit FILE, or NULL */
	/* --max-hit-rate and the like: `monitor set` settings from the command line */
	struct {
		const char *name;
		uint32_t value;
	} settings[8];
	size_t nsettings;
	struct audit *audit;	 /* audit events (stub/base/audit.h); NULL logs nothing */
	struct peer_rules peers; /* who may connect besides root and the owner */
};

/* Parse COMM ("[HOST]:PORT", "unix:PATH", "-", "stdio"); 0 or -EINVAL. */
int srv__parse_comm(const char *comm, struct srv_opts *o);
/*
 * Listen as o says, print where and how to connect, then serve clients one
 * at a time until --once's client leaves, the target exits or a signal
 * arrives.  Each connection is served only if peer__check allows its peer.
 * Returns a process exit code (2 for a non-loopback address without
 * --allow-remote).
 */
int srv__run(const struct srv_opts *o, struct tgt *t);

#endif
