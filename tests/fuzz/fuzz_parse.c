/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_parse.c - libFuzzer target for rsp/parse.c and dispatch.
 *
 * Byte 0 picks a parser, the rest is its input, copied into a buffer of
 * exactly that size (not NUL-terminated) so reading one byte too far is an
 * ASan report.  Beyond "no crash", each successful parse is checked for the
 * properties a caller relies on: strings terminated inside their buffers,
 * pointers inside the input, counts within their limits, numbers that
 * print back to an input the parser accepts with the same value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/dispatch.h"
#include "rsp/parse.h"

static int h_nop(void *ctx, const char *args, size_t len, struct rsp_buf *reply)
{
	return 0;
}

static const struct rsp_handler tbl[] = {
	{"?", NULL, h_nop},
	{"g", NULL, h_nop},
	{"m", NULL, h_nop},
	{"M", NULL, h_nop},
	{"p", NULL, h_nop},
	{"q", NULL, h_nop},
	{"qC", NULL, h_nop},
	{"qSupported", NULL, h_nop},
	{"qXfer:", NULL, h_nop},
	{"qXfer:features:read:", "qXfer:features:read+", h_nop},
	{"qXfer:auxv:read:", "qXfer:auxv:read+", h_nop},
	{"vCont", NULL, h_nop},
	{"vCont?", "vContSupported+", h_nop},
	{"vFile:", NULL, h_nop},
	{"vFile:open:", NULL, h_nop},
	{"QStartNoAckMode", "QStartNoAckMode+", h_nop},
	{"Z0,", "swbreak+", h_nop},
	{NULL, NULL, NULL},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void check(int ok)
{
	if (!ok)
		abort();
}

static int valid_errno(int err)
{
	return err == 0 || err == -EINVAL || err == -ERANGE || err == -E2BIG;
}

static int str_in(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_tid(const struct rsp_tid *t)
{
	check(t->tid >= -1 && (t->pid >= -1 || t->pid == RSP_TID_NONE));
}

static void fuzz_cursor(const char *p, size_t len)
{
	struct rsp_cursor c;
	uint8_t bytes[16];
	char tok[16];
	int64_t s;
	size_t n;
	int err;

	rsp_cur__init(&c, p, len);
	while (rsp_cur__left(&c)) {
		const char *before = c.p;

		switch ((unsigned char)*c.p % 6) {
		case 0:
			err = rsp_cur__hex_s64(&c, &s);
			break;
		case 1:
			err = rsp_cur__hex_bytes(&c, ",:;", bytes, sizeof(bytes), &n);
			if (!err)
				check(n <= sizeof(bytes));
			break;
		case 2:
			err = rsp_cur__token(&c, ",:;", tok, sizeof(tok));
			if (!err)
				check(str_in(tok, sizeof(tok)));
			break;
		case 3: {
			struct rsp_tid t;

			err = rsp_cur__tid(&c, &t);
			if (!err)
				check_tid(&t);
			break;
		}
		case 4:
			err = rsp_cur__expect(&c, ',');
			break;
		default:
			err = rsp_cur__skip(&c, "thread:") ? 0 : -EINVAL;
		}
		check(valid_errno(err));
		check(c.p >= before && c.p <= c.end);
		if (err)
			check(c.p == before);
		if (c.p == before)
			c.p++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;
	size_t len;
	int err = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	p = malloc(len ? len : 1);
	if (!p)
		abort();
	memcpy(p, data + 1, len);

	switch (data[0] % 16) {
	case 0: {
		uint64_t v, w;
		char txt[32];

		err = rsp_parse_hex_u64(p, len, &v);
		if (!err) {
			snprintf(txt, sizeof(txt), "%" PRIx64, v);
			check(rsp_parse_hex_u64(txt, strlen(txt), &w) == 0 && w == v);
		}
		break;
	}
	case 1: {
		uint64_t v[3];

		err = rsp_parse_hex_list(p, len, ',', v, 3);
		break;
	}
	case 2: {
		char out[64];

		err = rsp_parse_hex_string(p, len, out, sizeof(out));
		if (!err)
			check(strlen(out) * 2 == len);
		break;
	}
	case 3: {
		struct rsp_tid t;

		err = rsp_parse_tid(p, len, &t);
		if (!err)
			check_tid(&t);
		break;
	}
	case 4: {
		struct rsp_mem_req r;

		err = rsp_parse_mem(p, len, &r);
		break;
	}
	case 5: {
		struct rsp_write_req r;

		err = rsp_parse_write(p, len, &r);
		if (!err)
			check(r.data >= p && r.data + r.data_len == p + len);
		break;
	}
	case 6: {
		struct rsp_xfer_req r;

		err = rsp_parse_qxfer(p, len, &r);
		if (!err)
			check(str_in(r.object, sizeof(r.object)) && str_in(r.op, sizeof(r.op)) &&
			      str_in(r.annex, sizeof(r.annex)) && r.object[0]);
		break;
	}
	case 7: {
		struct rsp_thread_suffix s;

		err = rsp_parse_thread_suffix(p, len, &s);
		if (!err && s.present)
			check_tid(&s.tid);
		if (!err)
			check(s.present == (len != 0));
		break;
	}
	case 8: {
		struct rsp_reg_req r;

		err = rsp_parse_p(p, len, &r);
		break;
	}
	case 9: {
		struct rsp_vcont v;
		size_t i;

		err = rsp_parse_vcont(p, len, &v);
		if (!err) {
			check(v.n >= 1 && v.n <= RSP_VCONT_MAX);
			for (i = 0; i < v.n; i++)
				check(strchr("cCsStr", v.a[i].action) && v.a[i].action);
		}
		break;
	}
	case 10: {
		static struct rsp_vfile_open r;

		err = rsp_parse_vfile_open(p, len, &r);
		if (!err)
			check(str_in(r.path, sizeof(r.path)));
		break;
	}
	case 11: {
		struct rsp_client_features f;

		err = rsp_parse_qsupported(p, len, &f);
		break;
	}
	case 12:
		fuzz_cursor(p, len);
		break;
	case 13: {
		const struct rsp_handler *h;
		size_t nlen;

		h = rsp_dispatch__find(tbl, ARRAY_SIZE(tbl), p, len, &nlen);
		if (h) {
			check(h->name && nlen == strlen(h->name) && nlen <= len &&
			      memcmp(h->name, p, nlen) == 0);
		} else {
			check(nlen == 0);
		}
		break;
	}
	case 14: {
		uint64_t v[2];

		err = rsp_parse_hex_list(p, len, ';', v, 2);
		break;
	}
	default: {
		struct rsp_buf b;

		rsp_buf__init(&b);
		check(rsp_dispatch__supported(tbl, ARRAY_SIZE(tbl), len, &b) == 0);
		rsp_buf__free(&b);
	}
	}
	check(valid_errno(err));
	free(p);
	return 0;
}
