/* SPDX-License-Identifier: MIT */
/* difflib.c - libdifflib.so, diffprog's shared library (see diffprog.c). */
int lib_total;

__attribute__((noinline)) int lib_mul(int a, int b)
{
	int r = a * b;

	lib_total += r;
	return r;
}
