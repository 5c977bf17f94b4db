/* SPDX-License-Identifier: MIT */
/*
 * bench/gopclntab.c - time and memory of reading a Go binary's function table.
 *
 *     build/bench/gopclntab BINARY [REPS]
 *
 * Prints one line of key=value pairs (bench/gopclntab.py makes the table):
 * the file and table sizes, the function count, the first open's and the
 * median open's wall time (gopcln_elf__open + close), the VmRSS growth of
 * one open (kept open), the heap the reader allocated, and the mean time
 * of a lookup by name, of pc -> FILE:LINE, and of FILE:LINE -> pcs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "stub/program/gopclntab_elf.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_bytes(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb * 1024;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int reps = argc > 2 ? atoi(argv[2]) : 21, i, n_lines = 0, err;
	double *t = calloc((size_t)reps, sizeof(double)), t0, name_ms, pos_ms, line_ms = 0;
	struct gopcln_elf ge;
	struct gopcln_func f, g;
	struct gopcln_pos pos;
	struct stat st;
	long rss0, rss1;
	uint32_t k;
	uint64_t pcs[64];

	if (argc < 2 || stat(argv[1], &st) || reps < 2) {
		fprintf(stderr, "usage: %s GO-BINARY [REPS >= 2]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < reps; i++) {
		t0 = now_ms();
		err = gopcln_elf__open(&ge, argv[1]);
		t[i] = now_ms() - t0;
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[1], ge.err);
			return 1;
		}
		gopcln_elf__close(&ge);
	}
	rss0 = rss_bytes();
	gopcln_elf__open(&ge, argv[1]);
	rss1 = rss_bytes();

	t0 = now_ms();
	for (k = 0; k < ge.tab.nfunc; k++) {
		gopcln__func(&ge.tab, k, &f);
		if (gopcln__func_by_name(&ge.tab, f.name, &g))
			return 1;
	}
	name_ms = now_ms() - t0;
	t0 = now_ms();
	for (k = 0; k < ge.tab.nfunc; k++) {
		gopcln__func(&ge.tab, k, &f);
		gopcln__pos(&ge.tab, f.entry + (f.end - f.entry) / 2, &pos, NULL);
	}
	pos_ms = now_ms() - t0;
	for (k = 0; k < ge.tab.nfunc && n_lines < 50; k += ge.tab.nfunc / 50 + 1) {
		char file[1024];

		gopcln__func(&ge.tab, k, &f);
		if (gopcln__pos(&ge.tab, f.entry, &pos, NULL) || !pos.file)
			continue;
		snprintf(file, sizeof(file), "%s", pos.file);
		t0 = now_ms();
		if (gopcln__line_pcs(&ge.tab, file, pos.line, pcs, 64) < 1)
			return 1;
		line_ms += now_ms() - t0;
		n_lines++;
	}
	qsort(t + 1, (size_t)reps - 1, sizeof(double), cmp_d);
	printf("size=%lld table=%zu nfunc=%u first_ms=%.3f open_ms=%.3f rss=%ld heap=%zu "
	       "name_us=%.3f pos_us=%.3f line_ms=%.3f go=%.*s\n",
	       (long long)st.st_size, ge.tab.len, ge.tab.nfunc, t[0], t[1 + (reps - 1) / 2],
	       rss1 - rss0, (size_t)ge.tab.nfunc * 8, name_ms * 1e3 / ge.tab.nfunc,
	       pos_ms * 1e3 / ge.tab.nfunc, n_lines ? line_ms / n_lines : 0.0,
	       ge.has_buildinfo ? (int)ge.bi.version_len : 1,
	       ge.has_buildinfo ? ge.bi.version : "?");
	gopcln_elf__close(&ge);
	free(t);
	return 0;
}
