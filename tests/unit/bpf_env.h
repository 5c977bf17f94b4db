/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/bpf_env.h - what the unit tests that load BPF share.
 */
#ifndef TESTS_UNIT_BPF_ENV_H
#define TESTS_UNIT_BPF_ENV_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* 0 if BPF works; else prints why (as "<name>: ...") and returns -errno. */
static int bpf_available(const char *name)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_probe", 4, 4, 1, NULL);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	printf("%s: BPF unavailable: bpf(BPF_MAP_CREATE): %s\n", name, strerror(-fd));
	return fd;
}

#endif
