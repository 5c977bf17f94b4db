/* SPDX-License-Identifier: MIT */
/*
 * rsp/dispatch.h - map a packet to its handler through one static table.
 *
 * The server keeps a single const table of struct rsp_handler.  The same
 * table answers two questions: which handler takes this packet (longest
 * name that matches), and what goes in the qSupported reply (the feature
 * strings of the handlers present), so bpfstub advertises exactly what it
 * implements.  The table's context type is opaque here: rsp/ knows nothing of
 * the server's state.
 *
 * Matching: a name matches a packet that starts with it when the name is
 * one character long (single-letter packets such as 'm' take arguments
 * directly), when the name ends in ':', ',' or ';', or when the packet
 * continues with ':', ',', ';' or ends right after the name.  So "qC" matches
 * "qC" but not "qCRC:..."; "vFile:open:" matches "vFile:open:2f...".
 */
#ifndef RSP_DISPATCH_H
#define RSP_DISPATCH_H

#include <stddef.h>

#include "rsp/buf.h"

struct rsp_handler {
	const char *name;
	/* qSupported feature this handler implements ("qXfer:auxv:read+"), or NULL */
	const char *feature;
	/*
	 * args/len: the packet after the name (NUL-terminated).  Append the reply
	 * to *reply; an empty reply means "not supported".  Return 0, or -errno
	 * for a failure the caller turns into "E<errno>" when reply is empty.
	 */
	int (*fn)(void *ctx, const char *args, size_t len, struct rsp_buf *reply);
};

const struct rsp_handler *rsp_dispatch__find(const struct rsp_handler *tbl, size_t n,
					     const char *pkt, size_t len, size_t *name_len);
/* "PacketSize=<hex>;" followed by every feature in the table, ';'-separated. */
int rsp_dispatch__supported(const struct rsp_handler *tbl, size_t n, size_t packet_size,
			    struct rsp_buf *out);

#endif
