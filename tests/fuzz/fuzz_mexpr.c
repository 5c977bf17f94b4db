/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_mexpr.c - libFuzzer target for rsp/mexpr.c.
 *
 * The input, copied into a buffer of exactly its size (not NUL-terminated),
 * is parsed both as a value and as a condition.  Beyond "no crash": an error
 * is -EINVAL or -E2BIG with a message and no tree; a tree has its root and
 * every child index inside it, children before their parents (so no cycle),
 * each node's text inside the input, names NUL-terminated and non-empty,
 * and a value tree holds no comparison or logic node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/mexpr.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_tree(const struct mx_expr *e, const char *s, size_t size, bool cond)
{
	char text[64];
	int i;

	check(e->nn > 0 && e->nn <= MX_NODES_MAX && e->root >= 0 && e->root < e->nn);
	for (i = 0; i < e->nn; i++) {
		const struct mx_node *n = &e->n[i];

		check(n->a < i && n->b < i && n->a >= -1 && n->b >= -1);
		check(n->at <= size && n->len <= size - n->at && n->len > 0);
		check(memchr(n->name, '\0', sizeof(n->name)) != NULL);
		if (n->kind == MX_NAME || n->kind == MX_MEMBER || n->kind == MX_REG)
			check(n->name[0] != '\0');
		if (n->kind == MX_DEREF || n->kind == MX_MEMBER || n->kind == MX_INDEX ||
		    n->kind == MX_NOT)
			check(n->a >= 0 && n->b == -1);
		if (n->kind == MX_CMP || n->kind == MX_AND || n->kind == MX_OR)
			check(cond && n->a >= 0 && n->b >= 0);
		if (n->kind == MX_INT)
			check(cond);
		if (n->kind == MX_INDEX)
			check(n->ival >= 0);
		mx_node_text(e, i, s, text, sizeof(text));
		check(strlen(text) < sizeof(text));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mx_expr e;
	char *s = malloc(size ? size : 1), msg[160];
	int pass, err;

	memcpy(s, data, size);
	for (pass = 0; pass < 2; pass++) {
		msg[0] = '\0';
		err = pass ? mx_parse_cond(s, size, &e, msg, sizeof(msg))
			   : mx_parse_value(s, size, &e, msg, sizeof(msg));
		if (err) {
			check(err == -EINVAL || err == -E2BIG);
			check(msg[0] != '\0' && e.nn == 0 && e.root == -1);
		} else {
			check(msg[0] == '\0');
			check_tree(&e, s, size, pass);
		}
	}
	free(s);
	return 0;
}
