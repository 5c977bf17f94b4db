/* SPDX-License-Identifier: MIT */
/*
 * rsp/dispatch.c - one table, two uses: routing packets and qSupported.
 *
 * The server describes everything it implements in a single const array of
 * struct rsp_handler.  Routing a packet is a linear scan for the longest
 * name that matches under the rules in dispatch.h; the table has a few dozen
 * entries and packets arrive at human speed, so a scan beats any index in
 * simplicity and cannot go stale.  Longest match is what lets "qXfer:auxv:"
 * and "q" coexist, and the boundary rule (the name must end at ':', ',', ';'
 * or the end of the packet, unless it is one letter or ends in punctuation
 * itself) is what keeps "qC" from answering "qCRC:...".  Ties go to the
 * earlier entry, so the table order is the tie-break and nothing else.
 *
 * The qSupported reply is generated from the same table so bpfstub never
 * advertises a feature whose handler is missing, nor forgets one it has.
 * Several handlers may implement one feature (a read and a write half); it
 * is listed once, at its first appearance.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "rsp/dispatch.h"

static bool is_boundary(char ch)
{
	return ch == ':' || ch == ',' || ch == ';';
}

/* Does the handler name match the packet under dispatch.h's rules? */
static bool name_matches(const char *name, size_t nlen, const char *pkt, size_t len)
{
	if (nlen == 0 || nlen > len || memcmp(name, pkt, nlen) != 0)
		return false;
	return nlen == 1 || is_boundary(name[nlen - 1]) || nlen == len || is_boundary(pkt[nlen]);
}

const struct rsp_handler *rsp_dispatch__find(const struct rsp_handler *tbl, size_t n,
					     const char *pkt, size_t len, size_t *name_len)
{
	const struct rsp_handler *best = NULL;
	size_t best_len = 0, nlen, i;

	for (i = 0; i < n; i++) {
		if (!tbl[i].name)
			continue;
		nlen = strlen(tbl[i].name);
		if (nlen > best_len && name_matches(tbl[i].name, nlen, pkt, len)) {
			best = &tbl[i];
			best_len = nlen;
		}
	}
	if (name_len)
		*name_len = best_len;
	return best;
}

/* Did an earlier entry already list this exact feature? */
static bool seen_before(const struct rsp_handler *tbl, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++) {
		if (tbl[j].feature && strcmp(tbl[j].feature, tbl[i].feature) == 0)
			return true;
	}
	return false;
}

int rsp_dispatch__supported(const struct rsp_handler *tbl, size_t n, size_t packet_size,
			    struct rsp_buf *out)
{
	size_t i;

	rsp_buf__printf(out, "PacketSize=%zx", packet_size);
	for (i = 0; i < n; i++) {
		if (!tbl[i].feature || tbl[i].feature[0] == '\0' || seen_before(tbl, i))
			continue;
		rsp_buf__putc(out, ';');
		rsp_buf__puts(out, tbl[i].feature);
	}
	return out->oom ? -ENOMEM : 0;
}
