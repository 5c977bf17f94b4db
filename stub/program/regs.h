/* SPDX-License-Identifier: MIT */
/*
 * stub/program/regs.h - the amd64 Linux register file as GDB numbers it.
 *
 * One table describes every register GDB's amd64-linux target description
 * has: its name, size, offset in the `g` packet, type and feature.  From
 * that single table come the `g` layout (560 bytes), target.xml for
 * qXfer:features:read, and the register numbers `p` takes, so they can
 * never disagree.  Trace frames (R blocks) use the same layout.
 */
#ifndef STUB_REGS_H
#define STUB_REGS_H

#include <stddef.h>
#include <stdint.h>

struct rsp_buf;

enum {
	AMD64_RAX = 0,
	AMD64_RBX,
	AMD64_RCX,
	AMD64_RDX,
	AMD64_RSI,
	AMD64_RDI,
	AMD64_RBP,
	AMD64_RSP,
	AMD64_R8,
	AMD64_R15 = 15,
	AMD64_RIP = 16,
	AMD64_EFLAGS = 17,
	AMD64_NUM = 60,
};

#define REGS_G_SIZE 560

struct reg_desc {
	const char *name;
	unsigned bits;
	const char *type;
	const char *group;   /* NULL: general */
	const char *generic; /* LLDB's generic name (pc, sp, fp, flags) or NULL */
	int dwarf;	     /* DWARF / eh_frame number, -1 if none */
};

const struct reg_desc *regs_desc(unsigned regno);
/* Byte offset of regno in the g packet; regs_offset(AMD64_NUM) is the size. */
int regs_offset(unsigned regno);
/* The whole target description, one flat document. */
int regs_target_xml(struct rsp_buf *out);

#endif
