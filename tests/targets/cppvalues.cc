// SPDX-License-Identifier: MIT
// cppvalues.cc - a C++ target for `monitor trace` by demangled name
// (issue 10): shop::Cart::total(long) const and shop::tax(const Cart &).
//
// Output: "ready <pid>" on stdout, then main calls, for k = 0, 1, 2, ...
// every 5 ms, with a Cart {items = k % 7, owner = "ann"}:
//   sink = cart.total(k) + shop::tax(cart)
// total returns items * price, tax returns items * 2.  Both are noinline.
#include <cstdio>
#include <unistd.h>

namespace shop {
struct Cart {
	int items;
	const char *owner;
	long total(long price) const;
};

__attribute__((noinline)) long Cart::total(long price) const
{
	return items * price;
}

__attribute__((noinline)) long tax(const Cart &c)
{
	return c.items * 2;
}
} // namespace shop

volatile long sink;

int main()
{
	shop::Cart cart{0, "ann"};

	std::printf("ready %d\n", (int)getpid());
	std::fflush(stdout);
	for (long k = 0;; k++) {
		cart.items = (int)(k % 7);
		sink = cart.total(k) + shop::tax(cart);
		usleep(5000);
	}
}
