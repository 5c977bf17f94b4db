/* SPDX-License-Identifier: MIT */
/*
 * bench/httpload.c - a closed-loop HTTP/1.1 load generator for `make bench`.
 *
 *   httpload PORT PATH CONNS SECONDS
 *
 * Opens CONNS keep-alive connections to 127.0.0.1:PORT; each, in its own
 * thread, sends `GET PATH`, reads the whole response (Content-Length or
 * chunked is not needed: the Go test server's small answers carry a
 * Content-Length), and sends the next request at once, for SECONDS.
 * Prints one line:
 *
 *   requests N rps R p50_us P50 p99_us P99 errors E
 *
 * Latency is measured per request, from the write to the last byte read.
 * A connection that fails is counted in errors and reopened.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "bench/bench_clock.h"

#define MAX_CONNS 64
#define MAX_LAT	  (1u << 21) /* per connection */

struct conn {
	pthread_t th;
	double *lat_us;
	size_t n;
	long errors;
};

static int port;
static char request[512];
static size_t request_len;
static double end_at;

static int dial(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Read one response: headers, then Content-Length bytes.  0 or -errno. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0, need = 0;
	char *hdr_end = NULL, *cl;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		have += (size_t)n;
		buf[have] = '\0';
		if (!hdr_end) {
			hdr_end = strstr(buf, "\r\n\r\n");
			if (!hdr_end) {
				if (have >= cap - 1)
					return -E2BIG;
				continue;
			}
			cl = strcasestr(buf, "\r\ncontent-length:");
			if (!cl || cl > hdr_end)
				return -EPROTO;
			need = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 17, NULL, 10);
			if (need >= cap)
				return -E2BIG;
		}
		if (have >= need)
			return have == need ? 0 : -EPROTO; /* no pipelining: nothing more */
	}
}

static void *run_conn(void *arg)
{
	struct conn *c = arg;
	char buf[8192];
	double t0;
	int fd = -1;

	while (bench_now_s() < end_at) {
		if (fd < 0) {
			fd = dial();
			if (fd < 0) {
				c->errors++;
				usleep(10000);
				continue;
			}
		}
		t0 = bench_now_s();
		if (write(fd, request, request_len) != (ssize_t)request_len ||
		    read_response(fd, buf, sizeof(buf))) {
			c->errors++;
			close(fd);
			fd = -1;
			continue;
		}
		if (c->n < MAX_LAT)
			c->lat_us[c->n++] = (bench_now_s() - t0) * 1e6;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct conn conns[MAX_CONNS];
	double secs, t0, took, *all = NULL;
	size_t total = 0, k;
	long errors = 0;
	int nconns, i, ret = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: httpload PORT PATH CONNS SECONDS\n");
		return 2;
	}
	port = atoi(argv[1]);
	nconns = atoi(argv[3]);
	secs = atof(argv[4]);
	if (port <= 0 || port > 65535 || nconns < 1 || nconns > MAX_CONNS || secs <= 0 ||
	    secs > 3600 || strlen(argv[2]) > 256) {
		fprintf(stderr, "httpload: bad arguments\n");
		return 2;
	}
	request_len = (size_t)snprintf(request, sizeof(request),
				       "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", argv[2]);
	memset(conns, 0, sizeof(conns));
	for (i = 0; i < nconns; i++) {
		conns[i].lat_us = malloc(MAX_LAT * sizeof(double));
		if (!conns[i].lat_us)
			goto cleanup;
	}
	t0 = bench_now_s();
	end_at = t0 + secs;
	for (i = 0; i < nconns; i++)
		if (pthread_create(&conns[i].th, NULL, run_conn, &conns[i])) {
			fprintf(stderr, "httpload: cannot start a thread\n");
			exit(1);
		}
	for (i = 0; i < nconns; i++) {
		pthread_join(conns[i].th, NULL);
		total += conns[i].n;
		errors += conns[i].errors;
	}
	took = bench_now_s() - t0;
	all = malloc((total ? total : 1) * sizeof(double));
	if (!all)
		goto cleanup;
	for (i = 0, k = 0; i < nconns; i++) {
		memcpy(all + k, conns[i].lat_us, conns[i].n * sizeof(double));
		k += conns[i].n;
	}
	qsort(all, total, sizeof(double), cmp_double);
	printf("requests %zu rps %.1f p50_us %.1f p99_us %.1f errors %ld\n", total,
	       (double)total / took, total ? all[total / 2] : 0.0,
	       total ? all[(size_t)((double)total * 0.99)] : 0.0, errors);
	ret = 0;
cleanup:
	free(all);
	for (i = 0; i < nconns; i++)
		free(conns[i].lat_us);
	return ret;
}
