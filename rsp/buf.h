/* SPDX-License-Identifier: MIT */
/*
 * rsp/buf.h - a growable byte buffer for building replies.
 *
 * Every reply and every framed packet is assembled in a struct rsp_buf.
 * Appends never fail loudly: on allocation failure the buffer remembers it
 * (b->oom) and the caller checks once at the end, so handler code stays a
 * straight line of appends.  The buffer never holds more than a hard cap
 * (RSP_BUF_MAX) whatever the caller asks for, so no wire length can make it
 * allocate without bound.
 */
#ifndef RSP_BUF_H
#define RSP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define RSP_BUF_MAX (64u << 20)

struct rsp_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	int oom; /* an append failed; contents are truncated */
};

void rsp_buf__init(struct rsp_buf *b);
void rsp_buf__free(struct rsp_buf *b);
void rsp_buf__reset(struct rsp_buf *b);
/* Make room for n more bytes; 0 or -ENOMEM. */
int rsp_buf__reserve(struct rsp_buf *b, size_t n);
int rsp_buf__put(struct rsp_buf *b, const void *p, size_t n);
int rsp_buf__putc(struct rsp_buf *b, char c);
int rsp_buf__puts(struct rsp_buf *b, const char *s);
int rsp_buf__printf(struct rsp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A message into a caller's fixed buffer (msg may be NULL or mlen 0: nothing
 * is written); every layer reports errors this way. */
void rsp_buf__msgf(char *msg, size_t mlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rsp_buf__vprintf(struct rsp_buf *b, const char *fmt, va_list ap);
/* Each byte of p as two lower-case hex digits. */
int rsp_buf__put_hex(struct rsp_buf *b, const void *p, size_t n);
/* A string as hex (for qRcmd output, qThreadExtraInfo, names in LLDB replies). */
int rsp_buf__put_hex_str(struct rsp_buf *b, const char *s);
/* v as n little-endian bytes in hex (register values in target order). */
int rsp_buf__put_le_hex(struct rsp_buf *b, uint64_t v, size_t n);
/* n times "xx": an unavailable register of n bytes. */
int rsp_buf__put_unavail(struct rsp_buf *b, size_t n);
/* XML-escaped text (&, <, >, ", '). */
int rsp_buf__put_xml(struct rsp_buf *b, const char *s);
/* Drop the first n bytes (used by the transmit queue). */
void rsp_buf__consume(struct rsp_buf *b, size_t n);

#endif
