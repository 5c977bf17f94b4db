/* SPDX-License-Identifier: MIT */
/*
 * stub/base/audit.c - audit events to syslog and an optional JSON-lines file.
 *
 * bpfstub runs as root and reads a live process's memory for whoever
 * connects, so the host's administrator must be able to answer afterwards:
 * who connected, from where, and what did they make bpfstub collect.  Each
 * event (stub/base/audit.h) goes to two sinks, written at the moment it happens:
 *
 *   syslog(3), always: one line "EVENT key=value key=\"a value\" ...", to
 *   LOG_AUTHPRIV.  One facility for every event, the one sshd, sudo and su
 *   use: it is where an administrator looks for "who got in and what did
 *   they do", and the usual configurations keep it in a file only root can
 *   read (/var/log/auth.log, /var/log/secure), apart from LOG_DAEMON's
 *   often more widely readable ones.  Splitting connections (AUTHPRIV)
 *   from changes (DAEMON) would scatter one session over two files and
 *   lose their order.  The severity is LOG_NOTICE, LOG_WARNING for a
 *   refused connection.  The socket is bpfstub's own, not syslog(3)'s: a
 *   datagram socket connected to /dev/log at start (while bpfstub still
 *   has every privilege and sees the host's /dev/log), written with
 *   MSG_DONTWAIT in syslog(3)'s own format.  glibc's syslog() blocks while
 *   the daemon does not read, and with it the server loop; here a line the
 *   daemon has no room for is counted as dropped and said once on stderr
 *   (the --audit file still has it), and the server never waits.
 *
 *   --audit FILE: one JSON object per line, appended.  FILE is opened at
 *   start (before privileges are dropped), O_APPEND | O_NOFOLLOW, created
 *   0600; it must be a regular file.  Each event is one write() of a whole
 *   line, so lines of concurrent writers never interleave.  A write that
 *   fails is said once on stderr (again after one succeeds); serving goes
 *   on, syslog still has the event.  A syslog line is cut at 8 KiB (the
 *   usual daemons' limit); the file has each value up to its cap.
 *
 * Every event carries the target's pid and the number of the connection it
 * belongs to ("session", counted by the accepted "connect" events; 0 before
 * any), and while a client is connected its "peer" (from its connect event),
 * so that a change can be traced to who made it.  An event the stub makes
 * by itself (the overhead guard, a run ending on its own) has by=bpfstub
 * and no peer.
 *
 * Values are text, escaped for each sink: in syslog, control characters,
 * '\\', '"' and bytes that are not UTF-8 become \n, \t, \\, \", \xNN, and
 * a value with a space, '=' or '"' is quoted; in JSON, the escapes of RFC
 * 8259 (\" \\ \n \uXXXX) and U+FFFD for a byte that is not UTF-8, so each
 * line always parses.  A value is cut at AUDIT_VALUE_MAX bytes, marked;
 * a key whose value is empty (or NULL) is left out.
 * Nothing the target's memory holds is ever passed here: values are the
 * definitions (locations, expressions, GDB's action strings), settings,
 * names and counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "rsp/buf.h"
#include "stub/base/audit.h"

#define AUDIT_VALUE_MAX	 4096
#define AUDIT_TRUNCATED	 "...[truncated]"
#define AUDIT_PEER_MAX	 256
#define AUDIT_SYSLOG_MAX 8192 /* rsyslog's default line; journald's is larger */

struct audit {
	int fd;		   /* --audit FILE, or -1 */
	char *path;	   /* for messages */
	bool write_failed; /* said once on stderr */
	bool partial;	   /* the file ends inside a line cut short */
	pid_t pid;	   /* bpfstub's */
	pid_t target;	   /* 0 until audit__set_target */
	unsigned long session;
	bool connected;
	char peer[AUDIT_PEER_MAX];
	int log_fd;		   /* datagram socket to /dev/log, or -1 */
	unsigned long log_dropped; /* syslog lines the daemon had no room for */
};

#define AUDIT_DEVLOG "/dev/log"

/* Connect the syslog socket (again); 0 or -errno.  Never blocks. */
static int log_connect(struct audit *a)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (a->log_fd < 0)
		a->log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->log_fd < 0)
		return -errno;
	strcpy(sun.sun_path, AUDIT_DEVLOG);
	return connect(a->log_fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
}

/*
 * One syslog line, as syslog(3) formats it ("<PRI>Mmm dd hh:mm:ss
 * bpfstub[PID]: text"), sent without waiting: a daemon with no room drops
 * it (counted, said once); a daemon that restarted is reconnected once.
 */
static void log_send(struct audit *a, int prio, const char *text)
{
	char head[96], stamp[32];
	struct rsp_buf b;
	struct tm tm;
	time_t now = time(NULL);
	int tries;

	stamp[0] = '\0';
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%h %e %T", &tm);
	snprintf(head, sizeof(head), "<%d>%s bpfstub[%d]: ", prio, stamp, (int)a->pid);
	rsp_buf__init(&b);
	rsp_buf__puts(&b, head);
	rsp_buf__puts(&b, text);
	for (tries = 0; !b.oom && b.data && tries < 2; tries++) {
		if (a->log_fd >= 0 &&
		    send(a->log_fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			break;
		if (a->log_fd >= 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			if (!a->log_dropped++)
				fprintf(stderr,
					"bpfstub: syslog is not reading %s: audit lines are "
					"dropped there, not waited for (--audit FILE keeps "
					"them)\n",
					AUDIT_DEVLOG);
			break;
		}
		/* No daemon yet, or it restarted: connect (again), then once more. */
		if (tries || log_connect(a))
			break;
	}
	rsp_buf__free(&b);
}

int audit__new(struct audit **out, const char *file, char *err, size_t errlen)
{
	struct audit *a = calloc(1, sizeof(*a));
	struct stat st;
	int e;

	*out = NULL;
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->fd = -1;
	a->log_fd = -1;
	a->pid = getpid();
	if (file) {
		a->path = strdup(file);
		if (!a->path) {
			free(a);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		/* O_NONBLOCK: a FIFO without a reader must not hang the start. */
		a->fd = open(file,
			     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			     0600);
		if (a->fd < 0) {
			e = -errno;
			if (e == -ELOOP)
				snprintf(err, errlen, "--audit %s: is a symbolic link (refused)",
					 file);
			else
				snprintf(err, errlen, "--audit %s: %s", file, strerror(-e));
			goto fail;
		}
		if (fstat(a->fd, &st) || !S_ISREG(st.st_mode)) {
			e = -EINVAL;
			snprintf(err, errlen, "--audit %s: not a regular file", file);
			goto fail;
		}
		fcntl(a->fd, F_SETFL, O_APPEND);
		/* Past RLIMIT_FSIZE a write fails (EFBIG), said once; it must not kill bpfstub. */
		signal(SIGXFSZ, SIG_IGN);
	}
	(void)log_connect(a); /* now, while the host's /dev/log can be reached */
	*out = a;
	return 0;
fail:
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
	return e;
}

void audit__free(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->log_fd >= 0)
		close(a->log_fd);
	free(a->path);
	free(a);
}

bool audit__client(const struct audit *a)
{
	return a && (a->connected || !a->session);
}

void audit__set_target(struct audit *a, pid_t pid)
{
	if (a)
		a->target = pid;
}

/*
 * The length of the UTF-8 sequence at p (at most n bytes), or 0 if the
 * byte there does not start a valid one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* How much of v to show: all of it, or up to AUDIT_VALUE_MAX, not inside a character. */
static size_t shown_len(const char *v, bool *cut)
{
	size_t n = strlen(v), at = 0, l;

	*cut = n > AUDIT_VALUE_MAX;
	if (!*cut)
		return n;
	while (at < AUDIT_VALUE_MAX) {
		l = utf8_len((const unsigned char *)v + at, n - at);
		if (!l)
			l = 1;
		if (at + l > AUDIT_VALUE_MAX)
			break;
		at += l;
	}
	return at;
}

void audit__json_string(struct rsp_buf *b, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	bool cut;
	size_t n = shown_len(v, &cut), i = 0, l;

	rsp_buf__putc(b, '"');
	while (i < n) {
		unsigned char c = p[i];

		l = utf8_len(p + i, n - i);
		if (!l) {
			rsp_buf__puts(b, "\\ufffd");
			i++;
			continue;
		}
		if (l > 1) {
			rsp_buf__put(b, (const char *)p + i, l);
			i += l;
			continue;
		}
		switch (c) {
		case '"':
			rsp_buf__puts(b, "\\\"");
			break;
		case '\\':
			rsp_buf__puts(b, "\\\\");
			break;
		case '\n':
			rsp_buf__puts(b, "\\n");
			break;
		case '\r':
			rsp_buf__puts(b, "\\r");
			break;
		case '\t':
			rsp_buf__puts(b, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				rsp_buf__printf(b, "\\u%04x", c);
			else
				rsp_buf__putc(b, (char)c);
		}
		i++;
	}
	if (cut)
		rsp_buf__puts(b, AUDIT_TRUNCATED);
	rsp_buf__putc(b, '"');
}

void audit__syslog_value(struct rsp_buf *b, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	bool cut, quote = !*v;
	size_t n = shown_len(v, &cut), i, l;

	for (i = 0; i < n && !quote; i++)
		quote = p[i] == ' ' || p[i] == '=' || p[i] == '"';
	if (quote)
		rsp_buf__putc(b, '"');
	for (i = 0; i < n;) {
		unsigned char c = p[i];

		l = utf8_len(p + i, n - i);
		if (l > 1) {
			rsp_buf__put(b, (const char *)p + i, l);
			i += l;
			continue;
		}
		if (!l || c < 0x20 || c == 0x7f) {
			if (c == '\n')
				rsp_buf__puts(b, "\\n");
			else if (c == '\t')
				rsp_buf__puts(b, "\\t");
			else if (c == '\r')
				rsp_buf__puts(b, "\\r");
			else
				rsp_buf__printf(b, "\\x%02x", c);
		} else if (c == '"' || c == '\\') {
			rsp_buf__putc(b, '\\');
			rsp_buf__putc(b, (char)c);
		} else {
			rsp_buf__putc(b, (char)c);
		}
		i++;
	}
	if (cut)
		rsp_buf__puts(b, AUDIT_TRUNCATED);
	if (quote)
		rsp_buf__putc(b, '"');
}

/* Keys are the code's own words; anything else in one becomes '_'. */
static void put_key(struct rsp_buf *b, const char *k)
{
	for (; *k; k++) {
		char c = *k;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';

		rsp_buf__putc(b, ok ? c : '_');
	}
}

/* RFC 3339, UTC, milliseconds: 2026-12-06T18:30:00.123Z. */
static void put_time(struct rsp_buf *b)
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	rsp_buf__printf(b, "%s.%03ldZ", s, ts.tv_nsec / 1000000);
}

#define AUDIT_MAX_PAIRS 32

struct pair {
	const char *k, *v;
};

static ssize_t write_once(int fd, const char *p, size_t len)
{
	ssize_t n;

	do
		n = write(fd, p, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static void write_file(struct audit *a, const char *line, size_t len)
{
	const char *why;
	ssize_t n = -1;

	/* A line cut short before is ended first, so the next ones still parse. */
	if (a->partial && write_once(a->fd, "\n", 1) == 1)
		a->partial = false;
	if (!a->partial)
		n = write_once(a->fd, line, len);
	if (n == (ssize_t)len) {
		a->write_failed = false;
		return;
	}
	why = n < 0 ? strerror(errno) : "short write (file size limit or disk full?)";
	if (n > 0 && write_once(a->fd, "\n", 1) != 1)
		a->partial = true;
	if (a->write_failed)
		return;
	a->write_failed = true;
	fprintf(stderr,
		"bpfstub: --audit %s: %s; audit events still go to syslog (said once until a "
		"write succeeds)\n",
		a->path, why);
}

/*
 * One event to both sinks.  "session" is the connected client's number, 0
 * when none is (or for a refused connection); "peer" is added when the
 * event is attributed to the connected client.
 */
static void emit(struct audit *a, const char *event, const struct pair *kv, size_t n,
		 bool attribute)
{
	struct rsp_buf j, s;
	unsigned long sid = a->connected ? a->session : 0;
	size_t i;
	int prio = LOG_AUTHPRIV | LOG_NOTICE;

	rsp_buf__init(&s);
	put_key(&s, event);
	if (a->target)
		rsp_buf__printf(&s, " target_pid=%d", (int)a->target);
	rsp_buf__printf(&s, " session=%lu", sid);
	if (attribute) {
		rsp_buf__puts(&s, " peer=");
		audit__syslog_value(&s, a->peer);
	}
	for (i = 0; i < n; i++) {
		rsp_buf__putc(&s, ' ');
		put_key(&s, kv[i].k);
		rsp_buf__putc(&s, '=');
		audit__syslog_value(&s, kv[i].v);
		if (!strcmp(kv[i].k, "result") && !strcmp(kv[i].v, "refused"))
			prio = LOG_AUTHPRIV | LOG_WARNING;
	}
	if (!s.oom && s.data) {
		if (s.len > AUDIT_SYSLOG_MAX) {
			size_t at = AUDIT_SYSLOG_MAX - sizeof(AUDIT_TRUNCATED);

			/* Not inside a character: back off continuation bytes. */
			while (at && ((unsigned char)s.data[at] & 0xc0) == 0x80)
				at--;
			strcpy(s.data + at, AUDIT_TRUNCATED);
		}
		log_send(a, prio, s.data);
	}
	rsp_buf__free(&s);

	if (a->fd < 0)
		return;
	rsp_buf__init(&j);
	rsp_buf__puts(&j, "{\"time\":\"");
	put_time(&j);
	rsp_buf__puts(&j, "\",\"event\":");
	audit__json_string(&j, event);
	rsp_buf__printf(&j, ",\"bpfstub_pid\":%d,\"target_pid\":%d,\"session\":%lu", (int)a->pid,
			(int)a->target, sid);
	if (attribute) {
		rsp_buf__puts(&j, ",\"peer\":");
		audit__json_string(&j, a->peer);
	}
	for (i = 0; i < n; i++) {
		rsp_buf__putc(&j, ',');
		/* A key is put_key's characters: no escaping needed, but quoted as one. */
		rsp_buf__putc(&j, '"');
		put_key(&j, kv[i].k);
		rsp_buf__puts(&j, "\":");
		audit__json_string(&j, kv[i].v);
	}
	rsp_buf__puts(&j, "}\n");
	if (!j.oom && j.data)
		write_file(a, j.data, j.len);
	rsp_buf__free(&j);
}

/* A key without a value is left out ("why" of an accepted connection). */
static void add_pair(struct pair *kv, size_t *n, const char *k, const char *v)
{
	if (v && *v && *n < AUDIT_MAX_PAIRS)
		kv[(*n)++] = (struct pair){k, v};
}

void audit__log(struct audit *a, const char *event, ...)
{
	struct pair kv[AUDIT_MAX_PAIRS];
	const char *by = NULL;
	size_t n = 0;
	va_list ap;

	if (!a || !event)
		return;
	va_start(ap, event);
	for (;;) {
		const char *k = va_arg(ap, const char *), *v;

		if (!k)
			break;
		v = va_arg(ap, const char *);
		if (v && !strcmp(k, "by"))
			by = v;
		add_pair(kv, &n, k, v);
	}
	va_end(ap);
	/* The connected client's doing, unless the stub did it by itself. */
	emit(a, event, kv, n, a->connected && !(by && !strcmp(by, "bpfstub")));
}

void audit__connect(struct audit *a, const char *peer, const char *uid, bool accepted,
		    const char *why)
{
	struct pair kv[4];
	size_t n = 0;
	bool was;

	if (!a)
		return;
	/* An accepted connection opens the session the next events belong to. */
	if (accepted) {
		a->session++;
		a->connected = true;
		snprintf(a->peer, sizeof(a->peer), "%s", peer ? peer : "");
	}
	add_pair(kv, &n, "peer", peer);
	add_pair(kv, &n, "uid", uid);
	add_pair(kv, &n, "result", accepted ? "accepted" : "refused");
	add_pair(kv, &n, "why", why);
	/* A refused connection belongs to no session: session 0, and no peer but its own. */
	was = a->connected;
	if (!accepted)
		a->connected = false;
	emit(a, "connect", kv, n, false);
	a->connected = was;
}

void audit__disconnect(struct audit *a)
{
	if (!a)
		return;
	emit(a, "disconnect", NULL, 0, a->connected);
	a->connected = false;
	a->peer[0] = '\0';
}
