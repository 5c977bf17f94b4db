/* SPDX-License-Identifier: MIT */
/*
 * bench/empty_probe.c - the baseline of `make bench`: a uprobe running an
 * empty BPF program (r0 = 0; exit) at one address of a live process.
 *
 *   empty_probe PID ADDR      (ADDR in hex; runs until SIGTERM/SIGINT)
 *
 * Prints "attached" once the probe is in place.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/insn.h"
#include "bpf/probe.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = sig;
}

int main(int argc, char **argv)
{
	static const struct bpf_insn empty[] = {BPF_MOV64_IMM(BPFC_R0, 0), BPF_EXIT_INSN()};
	struct bpfc_probe p;
	char msg[256] = "";
	int fd, err;

	if (argc != 3)
		return 2;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bench_empty", "GPL", empty, 2, NULL);
	if (fd < 0) {
		fprintf(stderr, "empty_probe: cannot load: %d\n", fd);
		return 1;
	}
	err = bpfc_probe__attach(&p, atoi(argv[1]), strtoull(argv[2], NULL, 16), fd,
				 BPFC_PROBE_PATH_AUTO, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "empty_probe: %s\n", msg);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (!quit)
		pause();
	bpfc_probe__detach(&p);
	close(fd);
	return 0;
}
