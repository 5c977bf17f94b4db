/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/bpf_victim.c - the live victim and its records (see
 * bpf_victim.h): what test_bpf, test_ax_bpf and test_fpchain used to
 * carry each in its own copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/bpf_victim.h"

int victim__build(const char *dir, const char *name, const char *src, const char *cflags,
		  char *path, size_t plen)
{
	char cfile[256], cmd[1024];
	FILE *f;

	snprintf(cfile, sizeof(cfile), "%s/%s.c", dir, name);
	snprintf(path, plen, "%s/%s", dir, name);
	f = fopen(cfile, "w");
	if (!f)
		return -errno;
	if (fputs(src, f) < 0) {
		fclose(f);
		return -EIO;
	}
	if (fclose(f))
		return -EIO;
	snprintf(cmd, sizeof(cmd), "cc -O0 -g %s -o %s %s", cflags, path, cfile);
	return system(cmd) == 0 ? 0 : -ECHILD;
}

int victim__sym(const char *path, const char *sym, __u64 *addr)
{
	char cmd[256], line[512], name[256], type;
	unsigned long long a;
	int err = -ENOENT;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm %s", path);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &type, name) == 3 && !strcmp(name, sym)) {
			*addr = a;
			err = 0;
		}
	pclose(f);
	return err;
}

int victim__wait_for(struct victim *v, const char *want)
{
	struct pollfd pfd = {.fd = v->out_fd, .events = POLLIN};
	char buf[256];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1) {
		if (poll(&pfd, 1, 5000) != 1)
			return -ETIMEDOUT;
		r = read(v->out_fd, buf + n, 1);
		if (r != 1)
			return -EIO;
		n++;
		buf[n] = '\0';
		if (buf[n - 1] == '\n') {
			if (strstr(buf, want))
				return 0;
			n = 0;
		}
	}
	return -EPROTO;
}

int victim__launch(struct victim *v, const char *path, bool commands)
{
	int in[2] = {-1, -1}, out[2];
	int err;

	v->pid = -1;
	v->in_fd = v->out_fd = -1;
	if (commands && pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		err = -errno;
		goto cleanup;
	}
	v->pid = fork();
	if (v->pid < 0) {
		err = -errno;
		close(out[0]);
		close(out[1]);
		goto cleanup;
	}
	if (!v->pid) {
		if (commands)
			dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	v->out_fd = out[0];
	if (commands) {
		close(in[0]);
		v->in_fd = in[1];
	}
	err = victim__wait_for(v, "ready");
	if (err)
		victim__reap(v);
	return err;
cleanup:
	if (commands) {
		close(in[0]);
		close(in[1]);
	}
	return err;
}

int victim__cmd(struct victim *v, const char *cmd)
{
	size_t n = strlen(cmd);

	if (write(v->in_fd, cmd, n) != (ssize_t)n || write(v->in_fd, "\n", 1) != 1)
		return -EIO;
	return victim__wait_for(v, "done");
}

void victim__reap(struct victim *v)
{
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
	}
	if (v->in_fd >= 0)
		close(v->in_fd);
	if (v->out_fd >= 0)
		close(v->out_fd);
	v->pid = v->in_fd = v->out_fd = -1;
}

int victim_recs__add(void *ctx, void *data, size_t len)
{
	struct victim_recs *recs = ctx;
	struct victim_rec *r;

	if (recs->n == recs->cap) {
		size_t ncap = recs->cap ? 2 * recs->cap : 256;

		r = realloc(recs->rec, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		recs->rec = r;
		recs->cap = ncap;
	}
	r = &recs->rec[recs->n];
	r->data = malloc(len ? len : 1);
	if (!r->data)
		return -ENOMEM;
	memcpy(r->data, data, len);
	r->len = len;
	recs->n++;
	return 0;
}

int victim_recs__ring(struct victim_recs *recs, struct bpfc_ring **ring)
{
	return bpfc_ring__new(ring, VICTIM_RING_SIZE, victim_recs__add, recs);
}

void victim_recs__clear(struct victim_recs *recs)
{
	size_t i;

	for (i = 0; i < recs->n; i++)
		free(recs->rec[i].data);
	recs->n = 0;
}

void victim_recs__free(struct victim_recs *recs)
{
	victim_recs__clear(recs);
	free(recs->rec);
	recs->rec = NULL;
	recs->cap = 0;
}
