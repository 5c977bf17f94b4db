/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/server.c - the listening socket and the single-client I/O loop.
 *
 * bpfstub serves one client at a time, like gdbserver: a plain poll()
 * loop over the listening socket and the current client, waking every
 * SRV_TICK_MS to notice a target that exited or a signal that asked us to
 * leave.  Bytes from the client go through the framer (rsp/framer.c); each
 * complete packet goes to the session (session.c), whose framed replies
 * are written back in order.  A second client that connects while one is
 * served gets an error reply and is closed, and the first carries on.
 *
 * Every connection is admitted first (admit_client): who the peer is
 * (stub/serve/peer.c) and whether they may debug the target are decided before
 * a single packet is answered.  A refused peer gets one E. reply, as the
 * answer to its first packet so that GDB and LLDB print it, from a short
 * detached thread that owns nothing but that socket: a peer that never
 * sends cannot hold up the client being served.
 *
 * The loop owns the only blocking I/O in bpfstub.  Writes are bounded by a
 * send timeout, so a client that stops reading cannot wedge the stub.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rsp/framer.h"
#include "stub/base/audit.h"
#include "stub/base/sys.h"
#include "stub/program/target.h"
#include "stub/serve/handlers.h"
#include "stub/serve/monitor.h"
#include "stub/serve/privs.h"
#include "stub/serve/server.h"
#include "stub/serve/session.h"
#include "stub/serve/tlive.h"
#include "stub/trace/audit_trace.h"
#include "stub/trace/trace.h"
#include "stub/trace/tracefile.h"
#include "stub/views/thist.h"

#define SRV_TICK_MS	   200
#define SRV_TRACE_TICK_MS  50 /* ring buffer drain interval while tracing */
#define SRV_READ_CHUNK	   65536
#define SRV_REFUSE_WAIT_MS 5000 /* for a refused peer's first packet */
#define SRV_MAX_REFUSING   8	/* refusals in flight; more are just closed */

static volatile sig_atomic_t srv_quit_signal;

static void on_quit_signal(int sig)
{
	srv_quit_signal = sig;
}

int srv__parse_comm(const char *comm, struct srv_opts *o)
{
	const char *colon;
	size_t hlen;
	char *end;
	long port;

	if (!strcmp(comm, "-") || !strcmp(comm, "stdio")) {
		o->kind = SRV_STDIO;
		return 0;
	}
	if (!strncmp(comm, "unix:", 5)) {
		if (!comm[5] || strlen(comm + 5) >= sizeof(o->path))
			return -EINVAL;
		o->kind = SRV_UNIX;
		strcpy(o->path, comm + 5);
		return 0;
	}
	colon = strrchr(comm, ':');
	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - comm);
	if (hlen >= 2 && comm[0] == '[' && comm[hlen - 1] == ']') {
		comm++;
		hlen -= 2;
	}
	if (hlen >= sizeof(o->host))
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || port < 0 || port > 65535)
		return -EINVAL;
	o->kind = SRV_TCP;
	memcpy(o->host, comm, hlen);
	o->host[hlen] = '\0';
	if (!o->host[0])
		strcpy(o->host, "127.0.0.1");
	snprintf(o->port, sizeof(o->port), "%ld", port);
	return 0;
}

static int listen_tcp(const struct srv_opts *o, char *where, size_t wlen)
{
	struct addrinfo hints = {0}, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int fd = -1, one = 1, err;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	err = getaddrinfo(o->host, o->port, &hints, &ai);
	if (err) {
		fprintf(stderr, "bpfstub: cannot resolve '%s': %s\n", o->host, gai_strerror(err));
		return -EINVAL;
	}
	if (!peer__is_loopback(ai->ai_addr) && !o->peers.allow_remote) {
		fprintf(stderr,
			"bpfstub: %s is not a loopback address: anyone who can reach it could "
			"read the target's memory; listen on 127.0.0.1 or ::1 and use ssh (see "
			"docs/SECURITY.md), or give --allow-remote\n",
			o->host);
		err = -EACCES;
		goto cleanup;
	}
	if (!peer__is_loopback(ai->ai_addr))
		fprintf(stderr,
			"bpfstub: warning: listening on %s, which is not loopback "
			"(--allow-remote): "
			"the remote protocol has no authentication, anyone who can reach this "
			"port can read the target's memory and trace it\n",
			o->host);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4)) {
		err = -errno;
		fprintf(stderr, "bpfstub: cannot listen on %s:%s: %s\n", o->host, o->port,
			err == -EADDRINUSE ? "address already in use (is another bpfstub or "
					     "gdbserver on that port?)"
					   : strerror(-err));
		goto cleanup;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (ss.ss_family == AF_INET6)
		snprintf(where, wlen, "[%s]:%s", host, serv);
	else
		snprintf(where, wlen, "%s:%s", host, serv);
	err = 0;
cleanup:
	freeaddrinfo(ai);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

/*
 * The socket file is 0600 (root's, so only root connects) unless
 * --allow-user/--allow-group name someone else: one group alone makes it
 * 0660 and that group's, anything else 0666.  The file's mode only decides
 * who reaches connect(); peer__check still decides every connection.
 */
static int unix_mode(const struct srv_opts *o, gid_t *group)
{
	const struct peer_rules *r = &o->peers;

	*group = (gid_t)-1;
	if (!r->nusers && r->ngroups == 1) {
		*group = r->groups[0];
		return 0660;
	}
	return r->nusers || r->ngroups ? 0666 : 0600;
}

static int listen_unix(const struct srv_opts *o, char *where, size_t wlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	gid_t group;
	int fd, err = 0, mode = unix_mode(o, &group);

	strcpy(sun.sun_path, o->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
		err = -errno;
	umask(old);
	if (!err && group != (gid_t)-1 && chown(o->path, (uid_t)-1, group))
		err = -errno;
	if (!err && chmod(o->path, (mode_t)mode))
		err = -errno;
	if (!err && listen(fd, 4))
		err = -errno;
	if (err) {
		fprintf(stderr, "bpfstub: cannot listen on unix:%s: %s\n", o->path,
			err == -EADDRINUSE ? "address already in use (remove the stale socket "
					     "file if no bpfstub uses it)"
					   : strerror(-err));
		close(fd);
		return err;
	}
	snprintf(where, wlen, "unix:%s", o->path);
	return fd;
}

static void print_connect_lines(const struct srv_opts *o, const char *where, pid_t pid)
{
	if (o->kind == SRV_UNIX) {
		printf("Listening on %s (pid %d)\n", where, pid);
		printf("  gdb -ex 'target remote %s'\n", o->path);
		printf("  lldb -o 'process connect unix-connect://%s'\n", o->path);
	} else {
		printf("Listening on %s (pid %d)\n", where, pid);
		printf("  gdb -ex 'target remote %s'\n", where);
		printf("  lldb -o 'gdb-remote %s'\n", where);
	}
	fflush(stdout);
}

/*
 * After D or k the client closes its end; wait briefly for that instead of
 * closing first, so unread bytes do not turn our close into a reset.
 */
static void drain_client(int fd, char *buf)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rounds = 5;

	shutdown(fd, SHUT_WR);
	while (rounds-- && poll(&p, 1, SRV_TICK_MS) > 0)
		if (read(fd, buf, SRV_READ_CHUNK) <= 0)
			break;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 10};
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A refused peer, answered by a thread of its own. */
struct refusal {
	int fd;
	bool wait_ack; /* unix socket: take the client's '+' before closing */
	char msg[600];
};

static atomic_int srv_refusing;

/* Wait, bounded, until the peer's first packet is in, so the reply answers it. */
static void await_first_packet(int fd, char *buf)
{
	struct rsp_framer fr;
	struct rsp_event ev;
	int rounds = SRV_REFUSE_WAIT_MS / SRV_TICK_MS;

	if (rsp_framer__init(&fr, 4096))
		return;
	while (rounds--) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		size_t off = 0;
		ssize_t n;

		if (poll(&p, 1, SRV_TICK_MS) <= 0)
			continue;
		n = read(fd, buf, SRV_READ_CHUNK);
		if (n <= 0)
			break;
		while (off < (size_t)n) {
			off += rsp_framer__feed(&fr, buf + off, (size_t)n - off, &ev);
			if (ev.type != RSP_EV_NONE && ev.type != RSP_EV_ACK &&
			    ev.type != RSP_EV_NAK)
				goto done;
		}
	}
done:
	rsp_framer__free(&fr);
}

static void *refusal_thread(void *arg)
{
	struct refusal *r = arg;
	char *buf = malloc(SRV_READ_CHUNK);
	struct rsp_buf b;
	char ack;

	if (buf)
		await_first_packet(r->fd, buf);
	rsp_buf__init(&b);
	rsp_buf__putc(&b, '+');
	rsp_frame__encode(&b, '$', r->msg, strlen(r->msg));
	if (!b.oom)
		(void)sys__write_all(r->fd, b.data, b.len);
	rsp_buf__free(&b);
	/*
	 * Then closed with no shutdown first and no waiting for the client's
	 * next packet: LLDB 14 waits forever for the answer to it.  The client
	 * sends nothing but its '+' before it has read the reply, so the reset
	 * its next packet meets over TCP cannot lose the reply.  On a unix
	 * socket writing to a closed peer fails at once, and GDB would fail on
	 * its '+' before printing the reply: that '+' is taken first.
	 */
	if (r->wait_ack &&
	    poll(&(struct pollfd){.fd = r->fd, .events = POLLIN}, 1, SRV_TICK_MS * 5) > 0)
		(void)!read(r->fd, &ack, 1);
	close(r->fd);
	free(buf);
	free(r);
	atomic_fetch_sub(&srv_refusing, 1);
	return NULL;
}

/*
 * Answer fd's first packet with "E.<msg>" and close it, from a detached
 * thread (signals blocked: they are the main loop's), so that a peer that
 * sends nothing holds up nobody.  fd is the thread's, or closed here.
 */
static void refuse_peer(int fd, bool wait_ack, const char *msg)
{
	struct refusal *r = NULL;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t th;
	int err = -EAGAIN;

	if (atomic_fetch_add(&srv_refusing, 1) >= SRV_MAX_REFUSING)
		goto cleanup;
	err = -ENOMEM;
	r = malloc(sizeof(*r));
	if (!r)
		goto cleanup;
	r->fd = fd;
	r->wait_ack = wait_ack;
	snprintf(r->msg, sizeof(r->msg), "E.%s", msg);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(&th, &attr, refusal_thread, r);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
cleanup:
	if (err) {
		atomic_fetch_sub(&srv_refusing, 1);
		free(r);
		close(fd);
	}
}

/* Audit a connection and say on stderr what was decided. */
static void log_peer(const struct srv_opts *o, const struct peer *p, bool accepted, const char *why)
{
	char uid[16] = "-";

	if (p->uid_known)
		snprintf(uid, sizeof(uid), "%u", p->uid);
	audit__connect(o->audit, p->addr, uid, accepted, why);
	if (!accepted)
		fprintf(stderr, "%s\n", why);
	else if (o->verbose)
		fprintf(stderr, "bpfstub: client %s (uid %s) accepted: %s\n", p->addr, uid, why);
}

/*
 * Several processes (tgt->set): a peer let in only as the leader's owner
 * sees frames of its own processes only (stub/trace/trace_procs.h), so it
 * is refused when the trace holds a run that collected for someone else
 * (a client that may see every process, or another user); otherwise it
 * becomes the viewer whose processes the next tstart collects in.
 */
static int admit_viewer(const struct srv_opts *o, struct trace *tr, const struct peer *p,
			bool busy, char *why, size_t len)
{
	struct tr_procs *pr = &tr->procs;
	bool all = peer__grants_all(&o->peers, p);
	bool held = tr__running(tr) || tf_store__count(&tr->store);

	if (!all && held &&
	    (pr->audience_uid != (int64_t)p->uid ||
	     (p->gid_known && (!pr->audience_gid_known || pr->audience_gid != p->gid)))) {
		snprintf(why, len,
			 "bpfstub: uid %u may debug only its own processes of the set, and the "
			 "trace holds a run collected for %s; run bpfstub --allow-user %u to allow it",
			 p->uid, pr->audience_uid < 0 ? "every process" : "another user", p->uid);
		return -EACCES;
	}
	if (busy)
		return 0;
	pr->viewer_uid = all ? -1 : (int64_t)p->uid;
	pr->viewer_gid_known = !all && p->gid_known;
	pr->viewer_gid = p->gid;
	if (!all)
		snprintf(why + strlen(why), len - strlen(why),
			 "; of the set, only processes uid %u owns", p->uid);
	return 0;
}

/*
 * Before anything is answered: may fd's peer debug the target?  0 to
 * serve it; -EACCES when it is refused (by peer__check, or with busy, as
 * a second client), in which case fd is no longer the caller's.
 */
static int admit_client(const struct srv_opts *o, struct tgt *t, struct trace *tr, int fd,
			bool busy)
{
	static const char busy_msg[] = "bpfstub is already serving a client; one client at a time";
	struct peer p;
	char why[512];
	int err;

	err = peer__identify(fd, o->kind == SRV_UNIX, &p);
	if (err)
		snprintf(why, sizeof(why), "bpfstub: cannot tell who %s is (%s); refused",
			 p.addr[0] ? p.addr : "the peer", strerror(-err));
	else
		err = peer__check(&o->peers, &p, t->pid, why, sizeof(why));
	if (!err && t->set)
		err = admit_viewer(o, tr, &p, busy, why, sizeof(why));
	if (!err && busy) {
		snprintf(why, sizeof(why), "%s", busy_msg);
		err = -EBUSY;
	}
	log_peer(o, &p, !err, why);
	if (!err)
		return 0;
	refuse_peer(fd, o->kind == SRV_UNIX, why);
	return -EACCES;
}

/* A second client while one is served: checked, then an error reply and closed. */
static void refuse_client(const struct srv_opts *o, struct tgt *t, struct trace *tr, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	set_timeouts(fd);
	admit_client(o, t, tr, fd, true);
}

enum client_end {
	CLIENT_LEFT, /* closed the connection, or D / k */
	CLIENT_QUIT, /* bpfstub should exit: signal, target gone */
};

/* Handle framer events for the bytes in buf; 0, or -errno to drop the client. */
static int feed_bytes(struct sess *s, struct rsp_framer *fr, const char *buf, size_t len)
{
	struct rsp_event ev;
	size_t used;
	int err = 0;

	while (len && !err) {
		bool ack = !s->noack;

		used = rsp_framer__feed(fr, buf, len, &ev);
		buf += used;
		len -= used;
		switch (ev.type) {
		case RSP_EV_PACKET:
			if (ack)
				rsp_buf__putc(&s->tx, '+');
			err = hdl__packet(s, ev.data, ev.len);
			break;
		case RSP_EV_NAK:
			if (ack && s->last.len)
				rsp_buf__put(&s->tx, s->last.data, s->last.len);
			break;
		case RSP_EV_INTERRUPT:
			err = hdl__interrupt(s);
			break;
		case RSP_EV_BAD_CHECKSUM:
		case RSP_EV_BAD_PACKET:
			if (s->opts->verbose)
				fprintf(stderr, "bpfstub: <- bad packet (checksum or framing)\n");
			if (ack)
				rsp_buf__putc(&s->tx, '-');
			break;
		case RSP_EV_TOO_LONG: {
			static const char e[] = "E.packet longer than PacketSize";

			if (ack)
				rsp_buf__putc(&s->tx, '+');
			err = sess__send(s, '$', e, sizeof(e) - 1);
			break;
		}
		case RSP_EV_ACK:
		case RSP_EV_NONE:
			break;
		}
		if (s->close_after_reply)
			break;
	}
	return err;
}

/*
 * While tracing, the loop drains the ring every SRV_TRACE_TICK_MS, or at
 * once when the last drain stopped at its budget with records left
 * (tr__backlog): each drain is bounded (stub/trace/trace.c), and the client's
 * bytes, the guard and the expiry are handled between two drains, so a
 * flood slows nothing down but the drain itself.  The loop waits again as
 * soon as a drain empties the ring.
 */
static int tick_ms(const struct trace *tr)
{
	if (!tr__running(tr))
		return SRV_TICK_MS;
	return tr__backlog(tr) ? 0 : SRV_TRACE_TICK_MS;
}

static enum client_end serve_client(const struct srv_opts *o, struct tgt *t, struct trace *tr,
				    int rfd, int wfd, int lfd)
{
	struct rsp_framer fr;
	struct sess s;
	enum client_end end = CLIENT_LEFT;
	char *buf = malloc(SRV_READ_CHUNK);
	bool gone_reported = false;

	sess__init(&s, t, tr, o);
	s.wfd = wfd;
	if (!buf || rsp_framer__init(&fr, SESS_PACKET_SIZE)) {
		free(buf);
		sess__fini(&s);
		return CLIENT_QUIT;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = rfd, .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
		int n = poll(p, lfd >= 0 ? 2 : 1, tick_ms(tr));
		ssize_t got;

		if (srv_quit_signal) {
			end = CLIENT_QUIT;
			break;
		}
		tr__poll(tr);
		tlive__tick(&s);
		if (!tgt__alive(t) && !gone_reported) {
			gone_reported = true;
			fprintf(stderr, "bpfstub: pid %d exited\n", t->pid);
			if (s.running || s.nonstop)
				sess__target_exited(&s);
			/* Collected frames outlive the target: keep serving them. */
			if (!tf_store__count(&tr->store))
				s.quit_after_close = true;
		}
		if (n < 0 && errno != EINTR)
			break;
		/*
		 * A second client is refused only once the current one has no
		 * input left: a client that just closed is noticed first (its EOF
		 * is read below), so the one reconnecting after it is served.
		 */
		if (n > 0 && lfd >= 0 && (p[1].revents & POLLIN) &&
		    !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			refuse_client(o, t, tr, lfd);
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			got = read(rfd, buf, SRV_READ_CHUNK);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			if (feed_bytes(&s, &fr, buf, (size_t)got))
				break;
		}
		if (s.tx.len) {
			if (sys__write_all(wfd, s.tx.data, s.tx.len))
				break;
			rsp_buf__reset(&s.tx);
		}
		if (s.close_after_reply)
			break;
	}
	if (s.close_after_reply && rfd == wfd)
		drain_client(rfd, buf);
	/* Without disconnected tracing, a run ends with its client (not with a signal). */
	if (tr__running(tr) && !tr->disconnected_ok && !srv_quit_signal)
		tr__stop(tr, TR_STOP_DISCONNECTED, 0, NULL);
	if (s.quit_after_close)
		end = CLIENT_QUIT;
	rsp_framer__free(&fr);
	sess__fini(&s);
	free(buf);
	audit__disconnect(o->audit);
	return end;
}

/* --save-on-exit: keep the frames in a trace file before leaving. */
static void save_on_exit(const struct srv_opts *o, struct trace *tr)
{
	char msg[512] = "";

	if (!o->save_on_exit)
		return;
	tr__stop(tr, TR_STOP_USER, 0, NULL);
	if (audit_tr__tsave(tr, "save-on-exit", o->save_on_exit,
			    tfile__save_path(tr, o->save_on_exit, msg, sizeof(msg)), msg))
		fprintf(stderr, "bpfstub: cannot save the trace to %s: %s\n", o->save_on_exit, msg);
	else
		fprintf(stderr, "bpfstub: saved %zu trace frames to %s\n",
			tf_store__count(&tr->store), o->save_on_exit);
	/* Histograms beside it (stub/views/thist.h). */
	if (thist__save_beside(tr, THIST_OPERATOR, NULL, o->save_on_exit, msg, sizeof(msg)))
		fprintf(stderr, "bpfstub: cannot save the histograms beside %s: %s\n",
			o->save_on_exit, msg);
}

/* Listening, the target open, no client yet: keep only what serving needs (stub/serve/privs.c). */
static int drop_privs(const struct srv_opts *o)
{
	char msg[512];

	if (privs__drop(msg, sizeof(msg))) {
		fprintf(stderr, "bpfstub: cannot drop privileges: %s\n", msg);
		return -1;
	}
	if (o->verbose)
		fprintf(stderr, "bpfstub: %s\n", msg);
	return 0;
}

int srv__run(const struct srv_opts *o, struct tgt *t)
{
	struct sigaction sa = {.sa_handler = on_quit_signal};
	struct trace tr;
	char where[NI_MAXHOST + NI_MAXSERV + 8];
	int lfd = -1, rc = 0;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (tr__init(&tr, t)) {
		fprintf(stderr, "bpfstub: out of memory\n");
		return 1;
	}
	tr.audit = o->audit;
	tr.events = &audit_tr__events;
	for (i = 0; i < o->nsettings; i++)
		mon__store_setting(&tr, o->settings[i].name, o->settings[i].value);
	if (o->kind == SRV_STDIO) {
		struct peer p = {.kind = PEER_STDIO, .uid_known = true, .uid = getuid()};

		if (drop_privs(o)) {
			tr__fini(&tr);
			return 1;
		}
		strcpy(p.addr, "stdio");
		log_peer(o, &p, true, "stdio (bpfstub's own user)");
		fprintf(stderr, "bpfstub: serving pid %d on stdin/stdout\n", t->pid);
		serve_client(o, t, &tr, STDIN_FILENO, STDOUT_FILENO, -1);
		save_on_exit(o, &tr);
		tr__fini(&tr);
		return 0;
	}
	lfd = o->kind == SRV_TCP ? listen_tcp(o, where, sizeof(where))
				 : listen_unix(o, where, sizeof(where));
	if (lfd < 0) {
		tr__fini(&tr);
		return lfd == -EACCES ? 2 : 3;
	}
	if (drop_privs(o)) {
		tr__fini(&tr);
		close(lfd);
		if (o->kind == SRV_UNIX)
			unlink(o->path);
		return 1;
	}
	print_connect_lines(o, where, t->pid);

	while (!srv_quit_signal) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		enum client_end end;
		int cfd;

		if (!tgt__alive(t) && !tf_store__count(&tr.store)) {
			fprintf(stderr, "bpfstub: pid %d exited; nothing left to serve\n", t->pid);
			break;
		}
		tr__poll(&tr);
		if (poll(&p, 1, tick_ms(&tr)) <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		set_timeouts(cfd);
		if (admit_client(o, t, &tr, cfd, false))
			continue;
		if (o->verbose)
			fprintf(stderr, "bpfstub: client connected\n");
		end = serve_client(o, t, &tr, cfd, cfd, lfd);
		close(cfd);
		if (o->verbose)
			fprintf(stderr, "bpfstub: client left\n");
		if (end == CLIENT_QUIT)
			break;
		if (o->once) {
			/* A disconnected trace still running outlives --once's client. */
			if (!tr__running(&tr))
				break;
			fprintf(stderr, "bpfstub: the client left a disconnected trace running; "
					"serving until it stops\n");
		}
	}
	if (srv_quit_signal)
		fprintf(stderr, "bpfstub: %s, leaving; pid %d runs on\n",
			strsignal(srv_quit_signal), t->pid);
	save_on_exit(o, &tr);
	/* Probes go with the trace: the target runs on untouched. */
	tr__fini(&tr);
	close(lfd);
	if (o->kind == SRV_UNIX)
		unlink(o->path);
	return rc;
}
