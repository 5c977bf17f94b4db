/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/peer.c - who is connected, and whether they may debug the target.
 *
 * bpfstub runs as root and serves the target's whole memory to whoever
 * connects, so a connection is served only if its user could debug the
 * target without bpfstub.  That is decided once per connection, before a
 * single packet is answered, from what the kernel says about the peer:
 *
 *   unix sockets   SO_PEERCRED: the uid, gid and pid of the connecting
 *                  process (as they were at connect()).
 *   TCP, loopback  the uid that owns the client's socket, asked of the
 *                  kernel with sock_diag (NETLINK_SOCK_DIAG, an exact
 *                  lookup of the client socket's 4-tuple).  Only a uid.
 *   TCP, remote    nothing: nobody can say who is on another host.
 *   stdio          whoever started bpfstub, who holds its privileges.
 *
 * A peer is allowed when it is root (uid 0); or a unix-socket peer whose
 * process holds CAP_SYS_PTRACE in bpfstub's user namespace; or the
 * target's owner by the kernel's ptrace rule (the target's real,
 * effective and saved uids all equal the peer's uid, its real, effective
 * and saved gids are all equal (and equal the peer's gid when known), and
 * the target is dumpable); or a user given with --allow-user; or a member
 * (primary or supplementary group) of a group given with --allow-group.
 * Remote TCP peers are allowed only with --allow-remote.
 *
 * Dumpability is read from /proc/PID's owner: the kernel makes a
 * non-dumpable process's /proc/PID directory root's (see proc_pid_make_inode
 * and task_dump_owner), and a dumpable one's its euid's, so the directory
 * owned by the peer's uid is the same answer prctl(PR_GET_DUMPABLE) would
 * give inside the target.  Yama is not consulted (this kernel may not have
 * it); the rule above is the commoncap one.
 *
 * The sock_diag request and the reply parser are pure functions (unit
 * tests and tests/fuzz/fuzz_peer.c feed the parser arbitrary replies);
 * peer__identify does the I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "stub/serve/peer.h"

#define CAP_SYS_PTRACE_BIT   19
#define PEER_DIAG_TIMEOUT_MS 2000
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

/* ---- sock_diag: pure ---------------------------------------------------- */

/* Address and port of sa as sock_diag wants them; v4-mapped becomes IPv4. */
static int diag_addr(const struct sockaddr *sa, int *family, __be32 addr[4], __be16 *port)
{
	memset(addr, 0, 4 * sizeof(addr[0]));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		*family = AF_INET;
		addr[0] = in->sin_addr.s_addr;
		*port = in->sin_port;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*port = in6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			*family = AF_INET;
			memcpy(&addr[0], &in6->sin6_addr.s6_addr[12], 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &in6->sin6_addr, 16);
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

int peer__diag_request(struct peer_diag_req *req, const struct sockaddr *src,
		       const struct sockaddr *dst, uint32_t seq)
{
	int sfam, dfam, err;

	memset(req, 0, sizeof(*req));
	err = diag_addr(src, &sfam, req->r.id.idiag_src, &req->r.id.idiag_sport);
	if (!err)
		err = diag_addr(dst, &dfam, req->r.id.idiag_dst, &req->r.id.idiag_dport);
	if (err)
		return err;
	if (sfam != dfam)
		return -EAFNOSUPPORT;
	req->nlh.nlmsg_len = sizeof(*req);
	req->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req->nlh.nlmsg_flags = NLM_F_REQUEST;
	req->nlh.nlmsg_seq = seq;
	req->r.sdiag_family = (__u8)sfam;
	req->r.sdiag_protocol = IPPROTO_TCP;
	req->r.idiag_states = ~0u;
	req->r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return 0;
}

/* The reply names the socket asked for (family, ports, addresses). */
static bool diag_same_socket(const struct inet_diag_msg *m, const struct peer_diag_req *req)
{
	size_t alen = req->r.sdiag_family == AF_INET ? 4 : 16;

	return m->idiag_family == req->r.sdiag_family &&
	       m->id.idiag_sport == req->r.id.idiag_sport &&
	       m->id.idiag_dport == req->r.id.idiag_dport &&
	       !memcmp(m->id.idiag_src, req->r.id.idiag_src, alen) &&
	       !memcmp(m->id.idiag_dst, req->r.id.idiag_dst, alen);
}

int peer__diag_parse(const void *buf, size_t len, const struct peer_diag_req *req, uint32_t *uid)
{
	const unsigned char *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t plen, step;

		/* Copies, not casts: buf has no alignment promise. */
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -EBADMSG;
		plen = h.nlmsg_len - sizeof(h);
		if (h.nlmsg_seq != req->nlh.nlmsg_seq) {
			/* Not ours (a stale reply): skip it. */
		} else if (h.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (plen < sizeof(e.error))
				return -EBADMSG;
			memcpy(&e.error, p + sizeof(h), sizeof(e.error));
			if (e.error > 0 || e.error < -4095)
				return -EBADMSG;
			return e.error ? e.error : -ENOENT;
		} else if (h.nlmsg_type == NLMSG_DONE) {
			return -ENOENT;
		} else if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct inet_diag_msg m;

			if (plen < sizeof(m))
				return -EBADMSG;
			memcpy(&m, p + sizeof(h), sizeof(m));
			if (!diag_same_socket(&m, req))
				return -EBADMSG;
			*uid = m.idiag_uid;
			return 0;
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len) {
			len = 0;
			break;
		}
		p += step;
		len -= step;
	}
	return len ? -EBADMSG : -ENOENT;
}

bool peer__is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return sa->sa_family == AF_UNIX;
}

/* ---- sock_diag: the I/O ------------------------------------------------- */

static bool unix_peer_has_ptrace_cap(int fd, const struct peer *p);

/* The uid owning the TCP socket whose local end is src and remote end dst. */
static int diag_uid(const struct sockaddr *src, const struct sockaddr *dst, uid_t *uid)
{
	static uint32_t seq;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = PEER_DIAG_TIMEOUT_MS / 1000};
	struct peer_diag_req req;
	/* One inet_diag_msg and its attributes fit many times over. */
	long reply[1024];
	uint32_t u = 0;
	ssize_t n;
	int fd, err;

	err = peer__diag_request(&req, src, dst, ++seq);
	if (err)
		return err;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		err = -errno;
		goto cleanup;
	}
	for (;;) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		err = peer__diag_parse(reply, (size_t)n, &req, &u);
		/* A datagram of other sequence numbers only: read the next. */
		if (err != -ENOENT || !n)
			break;
		if (n >= (ssize_t)sizeof(struct nlmsghdr)) {
			struct nlmsghdr h;

			memcpy(&h, reply, sizeof(h));
			if (h.nlmsg_seq == req.nlh.nlmsg_seq)
				break;
		}
	}
	if (!err)
		*uid = u;
cleanup:
	close(fd);
	return err;
}

/* "127.0.0.1:40122" or "[::1]:40122". */
static void format_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, len, "family %d", ss->ss_family);
	}
}

int peer__identify(int fd, bool unix_sock, struct peer *p)
{
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uid_t uid;
	int err;

	memset(p, 0, sizeof(*p));
	if (unix_sock) {
		p->kind = PEER_UNIX;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
			return -errno;
		p->uid_known = p->gid_known = true;
		p->uid = cred.uid;
		p->gid = cred.gid;
		p->pid = cred.pid;
		p->ptrace_cap = unix_peer_has_ptrace_cap(fd, p);
		snprintf(p->addr, sizeof(p->addr), "unix pid %d", cred.pid);
		return 0;
	}
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    getsockname(fd, (struct sockaddr *)&local, &llen))
		return -errno;
	format_addr(&peer, p->addr, sizeof(p->addr));
	if (!peer__is_loopback((struct sockaddr *)&peer)) {
		p->kind = PEER_TCP_REMOTE;
		return 0;
	}
	p->kind = PEER_TCP_LOCAL;
	/* The client's socket: its local end is our peer, its remote end us. */
	err = diag_uid((struct sockaddr *)&peer, (struct sockaddr *)&local, &uid);
	if (err)
		return err;
	p->uid_known = true;
	p->uid = uid;
	return 0;
}

/* ---- the rule ----------------------------------------------------------- */

/* What /proc/PID/status says: Uid and Gid (real, effective, saved, fs), CapEff. */
struct proc_ids {
	unsigned int uid[4], gid[4];
	unsigned long long cap_eff;
	int have; /* bit 0 Uid, 1 Gid, 2 CapEff */
};

static int read_status(pid_t pid, struct proc_ids *ids)
{
	char path[64], line[256];
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	memset(ids, 0, sizeof(*ids));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int *v = NULL;
		int bit = 0;

		if (!strncmp(line, "Uid:", 4))
			v = ids->uid;
		else if (!strncmp(line, "Gid:", 4))
			v = ids->gid, bit = 1;
		else if (sscanf(line, "CapEff: %llx", &ids->cap_eff) == 1)
			ids->have |= 4;
		if (v && sscanf(line + 4, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) == 4)
			ids->have |= 1 << bit;
	}
	fclose(f);
	return ids->have == 7 ? 0 : -EIO;
}

int peer__cap_eff(pid_t pid, uint64_t *caps)
{
	struct proc_ids ids;
	int err = read_status(pid, &ids);

	if (!err)
		*caps = ids.cap_eff;
	return err;
}

static bool same_userns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	return !stat(path, &a) && !stat("/proc/self/ns/user", &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * The process that connected on fd holds CAP_SYS_PTRACE.  Its status is
 * read by the SO_PEERCRED pid; a pidfd of the peer (SO_PEERPIDFD, Linux
 * 6.5) then proves that pid was not recycled meanwhile (the peer is still
 * alive), and without one its euid must at least still be the peer's.
 */
static bool unix_peer_has_ptrace_cap(int fd, const struct peer *p)
{
	struct proc_ids ids;
	socklen_t len = sizeof(int);
	int pidfd = -1;
	bool ok = false;

	if (p->pid <= 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len))
		pidfd = -1;
	if (read_status(p->pid, &ids) || ids.uid[1] != p->uid || !same_userns(p->pid))
		goto cleanup;
	/* Signal 0 only asks "alive?": EPERM (bpfstub holds no CAP_KILL after
	 * stub/serve/privs.c) still means alive, ESRCH means gone. */
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) && errno == ESRCH)
		goto cleanup;
	ok = ids.cap_eff & (1ull << CAP_SYS_PTRACE_BIT);
cleanup:
	if (pidfd >= 0)
		close(pidfd);
	return ok;
}

static bool in_group(const struct peer *p, gid_t gid)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0])), i;

	if (p->gid_known && p->gid == gid)
		return true;
	pw = getpwuid(p->uid);
	if (!pw)
		return false;
	if (pw->pw_gid == gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = (int)(sizeof(groups) / sizeof(groups[0]));
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* "uid 1001 (alice)" or "uid 1001". */
static void who(uid_t uid, char *out, size_t len, const char **name)
{
	struct passwd *pw = getpwuid(uid);

	*name = pw ? pw->pw_name : NULL;
	if (pw)
		snprintf(out, len, "uid %u (%s)", uid, pw->pw_name);
	else
		snprintf(out, len, "uid %u", uid);
}

int peer__check(const struct peer_rules *r, const struct peer *p, pid_t pid, char *why, size_t len)
{
	char peer_s[300], owner_s[300], dir[64];
	const char *name, *oname;
	struct proc_ids t;
	struct stat st;
	bool owner, dumpable;
	size_t i;

	if (p->kind == PEER_STDIO) {
		snprintf(why, len, "stdio (bpfstub's own user)");
		return 0;
	}
	if (p->kind == PEER_TCP_REMOTE) {
		if (r->allow_remote) {
			snprintf(why, len, "remote peer %s, --allow-remote", p->addr);
			return 0;
		}
		snprintf(why, len,
			 "bpfstub: a remote peer (%s) may not debug pid %d; run bpfstub "
			 "--allow-remote to allow it",
			 p->addr, pid);
		return -EACCES;
	}
	if (!p->uid_known) {
		snprintf(why, len, "bpfstub: cannot tell who %s is; refused", p->addr);
		return -EACCES;
	}
	if (p->uid == 0) {
		snprintf(why, len, "root");
		return 0;
	}
	if (p->kind == PEER_UNIX && p->ptrace_cap) {
		snprintf(why, len, "CAP_SYS_PTRACE");
		return 0;
	}
	memset(&t, 0, sizeof(t));
	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (read_status(pid, &t) || stat(dir, &st)) {
		snprintf(why, len, "bpfstub: cannot read who owns pid %d; refused", pid);
		return -EACCES;
	}
	owner = t.uid[0] == p->uid && t.uid[1] == p->uid && t.uid[2] == p->uid &&
		t.gid[0] == t.gid[1] && t.gid[1] == t.gid[2] &&
		(!p->gid_known || t.gid[0] == p->gid);
	dumpable = st.st_uid == p->uid;
	if (owner && dumpable) {
		snprintf(why, len, "owner of pid %d", pid);
		return 0;
	}
	for (i = 0; i < r->nusers; i++) {
		if (r->users[i] == p->uid) {
			snprintf(why, len, "--allow-user %u", p->uid);
			return 0;
		}
	}
	for (i = 0; i < r->ngroups; i++) {
		if (in_group(p, r->groups[i])) {
			snprintf(why, len, "--allow-group %u", r->groups[i]);
			return 0;
		}
	}
	/* Owner first: getpwuid's result (name) lives until its next call. */
	who((uid_t)t.uid[1], owner_s, sizeof(owner_s), &oname);
	who(p->uid, peer_s, sizeof(peer_s), &name);
	if (!name) {
		snprintf(dir, sizeof(dir), "%u", p->uid);
		name = dir;
	}
	snprintf(why, len,
		 "bpfstub: %s may not debug pid %d (owned by %s%s); run bpfstub --allow-user "
		 "%s to allow it",
		 peer_s, pid, owner_s,
		 owner ? ", not dumpable" : (t.uid[1] == p->uid ? ", set-id" : ""), name);
	return -EACCES;
}

/* ---- command line ------------------------------------------------------- */

static int parse_id(const char *s, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= 0xffffffffu)
		return -EINVAL;
	*id = (unsigned int)v;
	return 0;
}

int peer__parse_user(const char *s, uid_t *uid)
{
	struct passwd *pw;
	unsigned int id;

	if (!parse_id(s, &id)) {
		*uid = id;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -ENOENT;
	*uid = pw->pw_uid;
	return 0;
}

int peer__parse_group(const char *s, gid_t *gid)
{
	struct group *gr;
	unsigned int id;

	if (!parse_id(s, &id)) {
		*gid = id;
		return 0;
	}
	gr = getgrnam(s);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

bool peer__grants_all(const struct peer_rules *r, const struct peer *p)
{
	size_t i;

	if (p->kind == PEER_STDIO || (p->kind == PEER_TCP_REMOTE && r->allow_remote))
		return true;
	if (!p->uid_known)
		return false;
	if (p->uid == 0 || (p->kind == PEER_UNIX && p->ptrace_cap))
		return true;
	for (i = 0; i < r->nusers; i++)
		if (r->users[i] == p->uid)
			return true;
	for (i = 0; i < r->ngroups; i++)
		if (in_group(p, r->groups[i]))
			return true;
	return false;
}
