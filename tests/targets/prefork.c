/*
 * prefork - a pre-forked C service, the shape of nginx, Apache prefork or
 * PostgreSQL: a master listens on a TCP port, forks NWORKERS workers that
 * share the listening socket, and replaces each worker that exits.  Each
 * worker accept()s, reads one request line "N\n", replies "2N PID\n" (handle(N)
 * and the worker's pid), and to "sK\n" calls handle() K times in a row and
 * replies "NS PID\n", the nanoseconds per call (bench/multiproc.py),
 * and exits after REQS requests (0: never).
 *
 *   prefork [PORT [NWORKERS [REQS]]]     defaults: 0 (any free port), 3, 3
 *
 * Prints "ready <master pid> <port>" once listening.  SIGTERM to the master
 * ends the workers too.  tests/integration/test_multiproc.py, bench/multiproc.py.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "noinline.h"

static volatile sig_atomic_t quit;

NOINLINE int handle(int n)
{
	return n * 2;
}

static void on_term(int sig)
{
	(void)sig;
	quit = 1;
}

static void worker(int lfd, int reqs)
{
	int done = 0;

	signal(SIGTERM, SIG_DFL);
	/* A master killed outright takes its workers with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	while (!reqs || done < reqs) {
		char buf[64], out[32];
		ssize_t got = 0, r;
		int fd = accept(lfd, NULL, NULL), len;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		while (got < (ssize_t)sizeof(buf) - 1 &&
		       (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += r;
			if (memchr(buf, '\n', (size_t)got))
				break;
		}
		buf[got > 0 ? got : 0] = '\0';
		if (buf[0] == 's') {
			struct timespec t0, t1;
			long k, calls = atol(buf + 1);
			volatile int sink = 0;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (k = 0; k < calls; k++)
				sink += handle((int)k);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			len = snprintf(out, sizeof(out), "%lld %d\n",
				       calls > 0 ? ((t1.tv_sec - t0.tv_sec) * 1000000000ll +
						    (t1.tv_nsec - t0.tv_nsec)) / calls
						 : 0,
				       (int)getpid());
			if (write(fd, out, (size_t)len) < 0)
				perror("write");
			close(fd);
			done++;
			continue;
		}
		len = snprintf(out, sizeof(out), "%d %d\n", handle(atoi(buf)), (int)getpid());
		if (write(fd, out, (size_t)len) < 0)
			perror("write");
		close(fd);
		done++;
	}
	_exit(0);
}

static pid_t spawn(int lfd, int reqs)
{
	pid_t p = fork();

	if (p == 0)
		worker(lfd, reqs);
	return p;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0;
	int nworkers = argc > 2 ? atoi(argv[2]) : 3;
	int reqs = argc > 3 ? atoi(argv[3]) : 3;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	struct sigaction sa = {.sa_handler = on_term};
	pid_t *kids;
	int lfd, one = 1, i;

	if (nworkers < 1 || nworkers > 4096)
		nworkers = 3;
	kids = calloc((size_t)nworkers, sizeof(*kids));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!kids || lfd < 0)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen)) {
		perror("prefork: listen");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < nworkers; i++)
		kids[i] = spawn(lfd, reqs);
	printf("ready %d %d\n", (int)getpid(), ntohs(a.sin_port));
	fflush(stdout);
	while (!quit) {
		int st;
		pid_t p = waitpid(-1, &st, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < nworkers; i++)
			if (kids[i] == p && !quit)
				kids[i] = spawn(lfd, reqs);
	}
	for (i = 0; i < nworkers; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 0;
}
