/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers.h - handlers that live outside handlers.c but sit in its
 * one table (the tracepoint packets, handlers_trace.c; vFile,
 * handlers_vfile.c), and what the
 * general handlers ask of a selected trace frame.
 */
#ifndef STUB_HANDLERS_H
#define STUB_HANDLERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rsp_buf;
struct sess;

#define HDL(name) int name(void *ctx, const char *a, size_t len, struct rsp_buf *r)
HDL(hdl_qtinit);
HDL(hdl_qtdp);
HDL(hdl_qtdpsrc);
HDL(hdl_qtdv);
HDL(hdl_qtro);
HDL(hdl_qtdisconnected);
HDL(hdl_qtbuffer);
HDL(hdl_qtnotes);
HDL(hdl_qtstart);
HDL(hdl_qtstop);
HDL(hdl_qtstatus);
HDL(hdl_qtp);
HDL(hdl_qtenable);
HDL(hdl_qtdisable);
HDL(hdl_qtfv);
HDL(hdl_qtsv);
HDL(hdl_qtv);
HDL(hdl_qtframe);
HDL(hdl_qtfp);
HDL(hdl_qtsp);
HDL(hdl_qtbuffer_read);
HDL(hdl_qtsave);
/* handlers_vfile.c */
HDL(hdl_vfile_setfs);
HDL(hdl_vfile_open);
HDL(hdl_vfile_pread);
HDL(hdl_vfile_close);
HDL(hdl_vfile_fstat);
#undef HDL

/* With a trace frame selected (s->frame >= 0): */
/* g (regno < 0) or p regno, from the frame. */
int hdl_frame_regs(struct sess *s, int regno, struct rsp_buf *r);
/* m: collected bytes, or live for QTro ranges; -EIO if neither. */
ssize_t hdl_frame_mem(struct sess *s, uint64_t addr, void *buf, size_t len);
/* Memory no frame holds but that is constant (QTro, read-only file mappings), live. */
ssize_t hdl_frame_live_mem(struct sess *s, uint64_t addr, void *buf, size_t len);
/* qXfer:traceframe-info:read's document. */
int hdl_frame_info_xml(struct sess *s, struct rsp_buf *o);

#endif
