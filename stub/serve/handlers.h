/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers.h - the packet handlers: the entry the server calls
 * for each packet, and the handlers that live outside handlers.c but sit
 * in its one table (the tracepoint packets, handlers_trace.c; vFile,
 * handlers_vfile.c).
 */
#ifndef STUB_HANDLERS_H
#define STUB_HANDLERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rsp_buf;
struct sess;

#define HDL(name) int name(void *ctx, const char *a, size_t len, struct rsp_buf *r)
HDL(hdl__qtinit);
HDL(hdl__qtdp);
HDL(hdl__qtdpsrc);
HDL(hdl__qtdv);
HDL(hdl__qtro);
HDL(hdl__qtdisconnected);
HDL(hdl__qtbuffer);
HDL(hdl__qtnotes);
HDL(hdl__qtstart);
HDL(hdl__qtstop);
HDL(hdl__qtstatus);
HDL(hdl__qtp);
HDL(hdl__qtenable);
HDL(hdl__qtdisable);
HDL(hdl__qtfv);
HDL(hdl__qtsv);
HDL(hdl__qtv);
HDL(hdl__qtframe);
HDL(hdl__qtfp);
HDL(hdl__qtsp);
HDL(hdl__qtbuffer_read);
HDL(hdl__qtsave);
/* handlers_vfile.c */
HDL(hdl__vfile_setfs);
HDL(hdl__vfile_open);
HDL(hdl__vfile_pread);
HDL(hdl__vfile_close);
HDL(hdl__vfile_fstat);
HDL(hdl__xfer_features);
HDL(hdl__xfer_auxv);
HDL(hdl__xfer_exec_file);
HDL(hdl__xfer_libraries);
HDL(hdl__xfer_threads);
HDL(hdl__xfer_osdata);
HDL(hdl__xfer_traceframe);
#undef HDL

/*
 * One packet from the server: dispatch it through the table and queue the
 * framed reply (and a pending notification) on s.  An empty reply is sent as
 * "$#00" (not supported); no reply at all while the all-stop target is
 * "running" after c/vCont;c.
 */
int hdl__packet(struct sess *s, const char *pkt, size_t len);
/* The 0x03 interrupt: a running all-stop session stops with SIGINT. */
int hdl__interrupt(struct sess *s);

#endif
