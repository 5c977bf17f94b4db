/* SPDX-License-Identifier: MIT */
/*
 * stub/program/regs.c - the amd64 Linux register table and the target description
 * built from it.
 *
 * GDB checks a target description by register name and feature, and lays
 * out `g` by the order and sizes given; LLDB reads the same document and
 * takes the DWARF numbers and generic names (pc, sp, fp) from attributes
 * GDB ignores.  Serving one flat target.xml (no xi:include) keeps both
 * clients on one round trip and one source of truth.
 */
#include <errno.h>

#include "rsp/buf.h"
#include "stub/program/regs.h"

#define R(n, b, t, g, gen, dw)                                                                     \
	{                                                                                          \
		n, b, t, g, gen, dw                                                                \
	}

static const struct reg_desc reg_table[AMD64_NUM] = {
	R("rax", 64, "int64", NULL, NULL, 0),
	R("rbx", 64, "int64", NULL, NULL, 3),
	R("rcx", 64, "int64", NULL, NULL, 2),
	R("rdx", 64, "int64", NULL, NULL, 1),
	R("rsi", 64, "int64", NULL, NULL, 4),
	R("rdi", 64, "int64", NULL, NULL, 5),
	R("rbp", 64, "data_ptr", NULL, "fp", 6),
	R("rsp", 64, "data_ptr", NULL, "sp", 7),
	R("r8", 64, "int64", NULL, NULL, 8),
	R("r9", 64, "int64", NULL, NULL, 9),
	R("r10", 64, "int64", NULL, NULL, 10),
	R("r11", 64, "int64", NULL, NULL, 11),
	R("r12", 64, "int64", NULL, NULL, 12),
	R("r13", 64, "int64", NULL, NULL, 13),
	R("r14", 64, "int64", NULL, NULL, 14),
	R("r15", 64, "int64", NULL, NULL, 15),
	R("rip", 64, "code_ptr", NULL, "pc", 16),
	R("eflags", 32, "i386_eflags", NULL, "flags", 49),
	R("cs", 32, "int32", NULL, NULL, 51),
	R("ss", 32, "int32", NULL, NULL, 52),
	R("ds", 32, "int32", NULL, NULL, 53),
	R("es", 32, "int32", NULL, NULL, 50),
	R("fs", 32, "int32", NULL, NULL, 54),
	R("gs", 32, "int32", NULL, NULL, 55),
	R("st0", 80, "i387_ext", "float", NULL, 33),
	R("st1", 80, "i387_ext", "float", NULL, 34),
	R("st2", 80, "i387_ext", "float", NULL, 35),
	R("st3", 80, "i387_ext", "float", NULL, 36),
	R("st4", 80, "i387_ext", "float", NULL, 37),
	R("st5", 80, "i387_ext", "float", NULL, 38),
	R("st6", 80, "i387_ext", "float", NULL, 39),
	R("st7", 80, "i387_ext", "float", NULL, 40),
	R("fctrl", 32, "int", "float", NULL, 65),
	R("fstat", 32, "int", "float", NULL, 66),
	R("ftag", 32, "int", "float", NULL, -1),
	R("fiseg", 32, "int", "float", NULL, -1),
	R("fioff", 32, "int", "float", NULL, -1),
	R("foseg", 32, "int", "float", NULL, -1),
	R("fooff", 32, "int", "float", NULL, -1),
	R("fop", 32, "int", "float", NULL, -1),
	R("xmm0", 128, "vec128", "vector", NULL, 17),
	R("xmm1", 128, "vec128", "vector", NULL, 18),
	R("xmm2", 128, "vec128", "vector", NULL, 19),
	R("xmm3", 128, "vec128", "vector", NULL, 20),
	R("xmm4", 128, "vec128", "vector", NULL, 21),
	R("xmm5", 128, "vec128", "vector", NULL, 22),
	R("xmm6", 128, "vec128", "vector", NULL, 23),
	R("xmm7", 128, "vec128", "vector", NULL, 24),
	R("xmm8", 128, "vec128", "vector", NULL, 25),
	R("xmm9", 128, "vec128", "vector", NULL, 26),
	R("xmm10", 128, "vec128", "vector", NULL, 27),
	R("xmm11", 128, "vec128", "vector", NULL, 28),
	R("xmm12", 128, "vec128", "vector", NULL, 29),
	R("xmm13", 128, "vec128", "vector", NULL, 30),
	R("xmm14", 128, "vec128", "vector", NULL, 31),
	R("xmm15", 128, "vec128", "vector", NULL, 32),
	R("mxcsr", 32, "i386_mxcsr", "vector", NULL, 64),
	R("orig_rax", 64, "int", "system", NULL, -1),
	R("fs_base", 64, "int", "system", NULL, 58),
	R("gs_base", 64, "int", "system", NULL, 59),
};

const struct reg_desc *regs_desc(unsigned regno)
{
	return regno < AMD64_NUM ? &reg_table[regno] : NULL;
}

int regs_offset(unsigned regno)
{
	unsigned off = 0, i;

	if (regno > AMD64_NUM)
		return -EINVAL;
	for (i = 0; i < regno; i++)
		off += reg_table[i].bits / 8;
	return (int)off;
}

static const char *feature_of(unsigned regno)
{
	if (regno < 40)
		return "org.gnu.gdb.i386.core";
	if (regno < 57)
		return "org.gnu.gdb.i386.sse";
	if (regno == 57)
		return "org.gnu.gdb.i386.linux";
	return "org.gnu.gdb.i386.segments";
}

static const char types_core[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>\n"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>\n"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>\n"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>\n"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>\n"
	"</flags>\n";

static const char types_sse[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>\n"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>\n"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>\n"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>\n"
	"</union>\n"
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>\n"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>\n"
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>\n"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>\n"
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>\n"
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>\n"
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>\n"
	"</flags>\n";

int regs_target_xml(struct rsp_buf *out)
{
	const char *cur = NULL;
	unsigned i;

	rsp_buf__puts(out, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
			   "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n"
			   "<osabi>GNU/Linux</osabi>\n");
	for (i = 0; i < AMD64_NUM; i++) {
		const struct reg_desc *r = &reg_table[i];
		const char *f = feature_of(i);

		if (f != cur) {
			if (cur)
				rsp_buf__puts(out, "</feature>\n");
			rsp_buf__printf(out, "<feature name=\"%s\">\n", f);
			if (i == 0)
				rsp_buf__puts(out, types_core);
			else if (i == 40)
				rsp_buf__puts(out, types_sse);
			cur = f;
		}
		rsp_buf__printf(out, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
				r->name, r->bits, r->type, i);
		if (r->group)
			rsp_buf__printf(out, " group=\"%s\"", r->group);
		if (r->generic)
			rsp_buf__printf(out, " generic=\"%s\"", r->generic);
		if (r->dwarf >= 0)
			rsp_buf__printf(out, " dwarf_regnum=\"%d\" ehframe_regnum=\"%d\"", r->dwarf,
					r->dwarf);
		rsp_buf__puts(out, "/>\n");
	}
	rsp_buf__puts(out, "</feature>\n</target>\n");
	return out->oom ? -ENOMEM : 0;
}
