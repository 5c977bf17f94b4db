/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_symtab.c - stub/program/symtab.c's names: C++ demangled,
 * Rust's legacy mangling without its hash and with its '$' escapes decoded
 * (what `monitor trace rustvalues::greet` is matched against), and names
 * that are not mangled left alone.
 */
#include <stdbool.h>
#include <string.h>

#define CHECK_COUNTERS
#include "stub/program/symtab.h"
#include "tests/unit/check.h"

static void demangles(const char *mangled, const char *want)
{
	char buf[256] = "";
	bool ok = symtab__demangle(mangled, buf, sizeof(buf));

	CHECKF(ok && !strcmp(buf, want), "%s -> %s (%d), want %s", mangled, buf, ok, want);
}

int main(void)
{
	char buf[64];

	demangles("_ZN4shop4Cart5totalEv", "shop::Cart::total()");
	demangles("_ZN10rustvalues5greet17hb02124d6f28262a7E", "rustvalues::greet");
	demangles("_ZN4core3ptr13drop_in_place17h0123456789abcdefE", "core::ptr::drop_in_place");
	demangles("_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$"
		  "3fmt17h66a4c3d2e18b2d1fE",
		  "<alloc::string::String as core::fmt::Display>::fmt");
	demangles("_ZN4core3fmt3num52_$LT$impl$u20$core..fmt..Debug$u20$for$u20$usize$GT$"
		  "3fmt17h1e2b3c4d5e6f7a8bE",
		  "core::fmt::num::<impl core::fmt::Debug for usize>::fmt");
	/* Not the hash's shape: a C++ name that only looks like it stays whole. */
	demangles("_ZN1a3h12E", "a::h12");
	CHECK(!symtab__demangle("process", buf, sizeof(buf)));
	CHECK(!symtab__demangle("_Zgarbage", buf, sizeof(buf)));
	return check_summary("test_symtab");
}
