/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_retprobe.c - retprobe__decode(): Capstone finds every
 * return instruction, reports jmps that leave the function, and steps over
 * bytes that are no instruction.
 */
#define CHECK_COUNTERS
#include "tests/unit/check.h"

#include <stdint.h>

#include "bpf/latency.h"
#include "stub/trace/retprobe.h"

static void test_decode(void)
{
	static const uint8_t code[] = {
		0x55,			      /* 0x1000 push rbp */
		0x74, 0x03,		      /* 0x1001 je 0x1006 */
		0x5d,			      /* 0x1003 pop rbp */
		0xc3,			      /* 0x1004 ret */
		0xcc,			      /* 0x1005 int3 */
		0xc2, 0x08, 0x00,	      /* 0x1006 ret 8 */
		0xe9, 0xf2, 0x0f, 0x00, 0x00, /* 0x1009 jmp 0x2000: a tail call */
		0xff, 0xe0,		      /* 0x100e jmp rax: indirect */
		0xeb, 0xee,		      /* 0x1010 jmp 0x1000: inside */
		0x0f, 0x0b,		      /* 0x1012 ud2 */
		0x06,			      /* 0x1014 not an instruction in 64-bit mode */
	};
	const uint64_t ranges[1][2] = {{0x1000, 0x1000 + sizeof(code)}};
	struct ret_sites s = {0};

	CHECK(retprobe__decode(code, sizeof(code), 0x1000, ranges, 1, &s) == 0);
	CHECKF(s.nret == 2, "nret %zu", s.nret);
	CHECK(s.ret[0] == 0x1004 && s.ret[1] == 0x1006);
	CHECKF(s.ntail == 2, "ntail %zu", s.ntail);
	CHECK(s.tail[0][0] == 0x1009 && s.tail[0][1] == 0x2000);
	CHECK(s.tail[1][0] == 0x100e && s.tail[1][1] == 0);
	CHECKF(s.bad == 1, "bad %zu", s.bad);
}

static void test_many_returns(void)
{
	uint8_t code[RET_MAX_SITES + 5];
	const uint64_t ranges[1][2] = {{0, sizeof(code)}};
	struct ret_sites s = {0};
	size_t i;

	for (i = 0; i < sizeof(code); i++)
		code[i] = 0xc3;
	CHECK(retprobe__decode(code, sizeof(code), 0, ranges, 1, &s) == 0);
	CHECK(s.nret == RET_MAX_SITES && s.ret_dropped == 5);
	CHECK(s.ret[RET_MAX_SITES - 1] == RET_MAX_SITES - 1);
}

/* How the kernel runs a probed instruction (arch/x86/kernel/uprobes.c's lists). */
static void test_site_kind(void)
{
	static const struct {
		uint8_t code[8];
		size_t len;
		enum bpfc_lat_site want;
	} cases[] = {
		{{0x55}, 1, BPFC_LAT_EMULATED},			  /* push rbp */
		{{0x41, 0x57}, 2, BPFC_LAT_EMULATED},		  /* push r15 */
		{{0x48, 0x55}, 2, BPFC_LAT_STEPPED},		  /* rex.w push: not 0x41 */
		{{0x90}, 1, BPFC_LAT_EMULATED},			  /* nop */
		{{0xf3, 0x90}, 2, BPFC_LAT_EMULATED},		  /* pause: prefix + 0x90 */
		{{0xe8, 0, 0, 0, 0}, 5, BPFC_LAT_EMULATED},	  /* call rel32 */
		{{0xeb, 0x02}, 2, BPFC_LAT_EMULATED},		  /* jmp rel8 */
		{{0x74, 0x02}, 2, BPFC_LAT_EMULATED},		  /* je */
		{{0x0f, 0x84, 0, 0, 0, 0}, 6, BPFC_LAT_EMULATED}, /* je rel32 */
		{{0x66, 0xe8, 0, 0}, 4, BPFC_LAT_STEPPED},	  /* callw: refused, not emulated */
		{{0xc3}, 1, BPFC_LAT_STEPPED},			  /* ret */
		{{0xc2, 0x08, 0x00}, 3, BPFC_LAT_STEPPED},	  /* ret 8 */
		{{0x49, 0x3b, 0x66, 0x10}, 4, BPFC_LAT_STEPPED},  /* Go: cmp 0x10(%r14),%rsp */
		{{0xf3, 0x0f, 0x1e, 0xfa}, 4, BPFC_LAT_STEPPED},  /* endbr64 */
		{{0x48, 0x83, 0xec, 0x08}, 4, BPFC_LAT_STEPPED},  /* sub $8,%rsp */
		{{0}, 0, BPFC_LAT_STEPPED},			  /* nothing */
		{{0x66, 0x66}, 2, BPFC_LAT_STEPPED},		  /* prefixes only */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(bpfc_lat__site_kind(cases[i].code, cases[i].len) == cases[i].want);
}

int main(void)
{
	test_site_kind();
	test_decode();
	test_many_returns();
	return check_summary("test_retprobe");
}
