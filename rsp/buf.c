/* SPDX-License-Identifier: MIT */
/*
 * rsp/buf.c - the growable reply buffer (see buf.h for why it looks so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"

void rsp_buf__init(struct rsp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
}

void rsp_buf__free(struct rsp_buf *b)
{
	free(b->data);
	rsp_buf__init(b);
}

void rsp_buf__reset(struct rsp_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = '\0';
}

int rsp_buf__reserve(struct rsp_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (n > RSP_BUF_MAX || b->len > RSP_BUF_MAX - n) {
		b->oom = 1;
		return -ENOMEM;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int rsp_buf__put(struct rsp_buf *b, const void *p, size_t n)
{
	if (rsp_buf__reserve(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int rsp_buf__putc(struct rsp_buf *b, char c)
{
	return rsp_buf__put(b, &c, 1);
}

int rsp_buf__puts(struct rsp_buf *b, const char *s)
{
	return rsp_buf__put(b, s, strlen(s));
}

int rsp_buf__vprintf(struct rsp_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	if (rsp_buf__reserve(b, (size_t)n))
		return -ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int rsp_buf__printf(struct rsp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = rsp_buf__vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

static const char hexdig[] = "0123456789abcdef";

int rsp_buf__put_hex(struct rsp_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	char *d;

	if (n > RSP_BUF_MAX / 2 || rsp_buf__reserve(b, 2 * n))
		return -ENOMEM;
	d = b->data + b->len;
	for (i = 0; i < n; i++) {
		*d++ = hexdig[s[i] >> 4];
		*d++ = hexdig[s[i] & 15];
	}
	b->len += 2 * n;
	b->data[b->len] = '\0';
	return 0;
}

int rsp_buf__put_hex_str(struct rsp_buf *b, const char *s)
{
	return rsp_buf__put_hex(b, s, strlen(s));
}

int rsp_buf__put_le_hex(struct rsp_buf *b, uint64_t v, size_t n)
{
	unsigned char bytes[8];
	size_t i;

	if (n > 8)
		return -EINVAL;
	for (i = 0; i < n; i++)
		bytes[i] = (unsigned char)(v >> (8 * i));
	return rsp_buf__put_hex(b, bytes, n);
}

int rsp_buf__put_unavail(struct rsp_buf *b, size_t n)
{
	size_t i;

	if (n > RSP_BUF_MAX / 2 || rsp_buf__reserve(b, 2 * n))
		return -ENOMEM;
	for (i = 0; i < 2 * n; i++)
		b->data[b->len++] = 'x';
	b->data[b->len] = '\0';
	return 0;
}

int rsp_buf__put_xml(struct rsp_buf *b, const char *s)
{
	int err = 0;

	for (; *s && !err; s++) {
		switch (*s) {
		case '&':
			err = rsp_buf__puts(b, "&amp;");
			break;
		case '<':
			err = rsp_buf__puts(b, "&lt;");
			break;
		case '>':
			err = rsp_buf__puts(b, "&gt;");
			break;
		case '"':
			err = rsp_buf__puts(b, "&quot;");
			break;
		case '\'':
			err = rsp_buf__puts(b, "&apos;");
			break;
		default:
			err = rsp_buf__putc(b, *s);
		}
	}
	return err;
}

void rsp_buf__consume(struct rsp_buf *b, size_t n)
{
	if (n >= b->len) {
		rsp_buf__reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void rsp_buf__msgf(char *msg, size_t mlen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !mlen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, mlen, fmt, ap);
	va_end(ap);
}
