/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_retprobe.c - retprobe__decode(): Capstone finds every
 * return instruction, reports jmps that leave the function, and steps over
 * bytes that are no instruction.
 */
#define CHECK_COUNTERS
#include "tests/unit/check.h"

#include <stdint.h>

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

int main(void)
{
	test_decode();
	test_many_returns();
	return check_summary("test_retprobe");
}
