/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_peer.c - who is connected (stub/serve/peer.c).
 *
 * Part 1 builds sock_diag requests (IPv4, IPv6, v4-mapped asked as IPv4)
 * and feeds the reply parser hand-made kernel replies: the answer, an
 * NLMSG_ERROR, NLMSG_DONE, a stale reply before the answer, and every kind
 * of malformed one (lengths past the end, short payloads, another socket).
 *
 * Part 2 asks the kernel: a loopback TCP connection and a unix socket pair
 * made here must be identified as this process's uid, and peer__check must
 * allow root and refuse another uid with the line the user sees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "stub/serve/peer.h"
#include "tests/unit/check.h"

static struct sockaddr_in in4(const char *a, unsigned short port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 in6(const char *a, unsigned short port)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

/* A reply the kernel could send: the diag message for req's socket. */
static size_t diag_reply(unsigned char *buf, const struct peer_diag_req *req, uint32_t seq,
			 uint32_t uid)
{
	struct nlmsghdr h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg)),
			     .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			     .nlmsg_seq = seq};
	struct inet_diag_msg m = {.idiag_family = req->r.sdiag_family, .idiag_uid = uid};

	m.id = req->r.id;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + NLMSG_HDRLEN, &m, sizeof(m));
	return NLMSG_ALIGN(h.nlmsg_len);
}

static size_t nl_error(unsigned char *buf, uint32_t seq, int error)
{
	struct nlmsghdr h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)),
			     .nlmsg_type = NLMSG_ERROR,
			     .nlmsg_seq = seq};
	struct nlmsgerr e = {.error = error};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + NLMSG_HDRLEN, &e, sizeof(e));
	return NLMSG_ALIGN(h.nlmsg_len);
}

static void test_request(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 40000), b = in4("127.0.0.2", 2345);
	struct sockaddr_in6 c = in6("::1", 40000), d = in6("::1", 2345);
	struct sockaddr_in6 m1 = in6("::ffff:127.0.0.1", 40000), m2 = in6("::ffff:127.0.0.1", 2345);
	struct peer_diag_req r;

	CHECK(!peer__diag_request(&r, (struct sockaddr *)&a, (struct sockaddr *)&b, 7));
	CHECK(r.nlh.nlmsg_len == sizeof(r) && r.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY);
	CHECK(r.nlh.nlmsg_flags == NLM_F_REQUEST && r.nlh.nlmsg_seq == 7);
	CHECK(r.r.sdiag_family == AF_INET && r.r.sdiag_protocol == IPPROTO_TCP);
	CHECK(r.r.id.idiag_sport == htons(40000) && r.r.id.idiag_dport == htons(2345));
	CHECK(r.r.id.idiag_src[0] == a.sin_addr.s_addr && r.r.id.idiag_dst[0] == b.sin_addr.s_addr);
	CHECK(r.r.id.idiag_cookie[0] == INET_DIAG_NOCOOKIE);

	CHECK(!peer__diag_request(&r, (struct sockaddr *)&c, (struct sockaddr *)&d, 8));
	CHECK(r.r.sdiag_family == AF_INET6);
	CHECK(!memcmp(r.r.id.idiag_src, &c.sin6_addr, 16) &&
	      !memcmp(r.r.id.idiag_dst, &d.sin6_addr, 16));

	/* v4-mapped (a dual-stack listener): the client socket is IPv4. */
	CHECK(!peer__diag_request(&r, (struct sockaddr *)&m1, (struct sockaddr *)&m2, 9));
	CHECK(r.r.sdiag_family == AF_INET && r.r.id.idiag_src[0] == htonl(0x7f000001));
	CHECK(r.r.id.idiag_src[1] == 0 && r.r.id.idiag_sport == htons(40000));

	CHECK(peer__diag_request(&r, (struct sockaddr *)&a, (struct sockaddr *)&d, 1) ==
	      -EAFNOSUPPORT);
	struct sockaddr un = {.sa_family = AF_UNIX};
	CHECK(peer__diag_request(&r, &un, (struct sockaddr *)&b, 1) == -EAFNOSUPPORT);
}

static void test_parse(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 40000), b = in4("127.0.0.1", 2345);
	struct peer_diag_req r, other;
	unsigned char buf[1024];
	uint32_t uid = 0;
	size_t n;

	peer__diag_request(&r, (struct sockaddr *)&a, (struct sockaddr *)&b, 42);
	n = diag_reply(buf, &r, 42, 1001);
	CHECK(!peer__diag_parse(buf, n, &r, &uid) && uid == 1001);

	/* A stale reply of another sequence number first, then ours. */
	n = diag_reply(buf, &r, 41, 5);
	n += diag_reply(buf + n, &r, 42, 1002);
	CHECK(!peer__diag_parse(buf, n, &r, &uid) && uid == 1002);

	/* Only stale replies: not an answer yet (the caller reads on). */
	CHECK(peer__diag_parse(buf, diag_reply(buf, &r, 41, 5), &r, &uid) == -ENOENT);

	CHECK(peer__diag_parse(buf, nl_error(buf, 42, -ENOENT), &r, &uid) == -ENOENT);
	CHECK(peer__diag_parse(buf, nl_error(buf, 42, 0), &r, &uid) == -ENOENT);
	CHECK(peer__diag_parse(buf, nl_error(buf, 42, 7), &r, &uid) == -EBADMSG);
	CHECK(peer__diag_parse(buf, nl_error(buf, 42, -100000), &r, &uid) == -EBADMSG);
	CHECK(peer__diag_parse(buf, 0, &r, &uid) == -ENOENT);

	/* Truncated anywhere: never read past the end. */
	n = diag_reply(buf, &r, 42, 1001);
	for (size_t cut = 1; cut < n; cut++) {
		int err = peer__diag_parse(buf, cut, &r, &uid);

		CHECKF(err == -EBADMSG, "cut at %zu: %d", cut, err);
	}
	/* nlmsg_len past the buffer, or shorter than a header. */
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)n + 4;
	CHECK(peer__diag_parse(buf, n, &r, &uid) == -EBADMSG);
	((struct nlmsghdr *)buf)->nlmsg_len = 8;
	CHECK(peer__diag_parse(buf, n, &r, &uid) == -EBADMSG);
	/* A payload too short for an inet_diag_msg. */
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_HDRLEN + 8;
	CHECK(peer__diag_parse(buf, NLMSG_HDRLEN + 8, &r, &uid) == -EBADMSG);

	/* The answer names another socket: refused, not believed. */
	peer__diag_request(&other, (struct sockaddr *)&b, (struct sockaddr *)&a, 42);
	n = diag_reply(buf, &other, 42, 0);
	CHECK(peer__diag_parse(buf, n, &r, &uid) == -EBADMSG);
}

static void test_loopback(void)
{
	struct sockaddr_in a = in4("127.3.4.5", 1), b = in4("10.0.0.1", 1);
	struct sockaddr_in6 c = in6("::1", 1), d = in6("::ffff:127.0.0.1", 1),
			    e = in6("fd00::2", 1), f = in6("::ffff:10.0.0.1", 1);

	CHECK(peer__is_loopback((struct sockaddr *)&a));
	CHECK(!peer__is_loopback((struct sockaddr *)&b));
	CHECK(peer__is_loopback((struct sockaddr *)&c));
	CHECK(peer__is_loopback((struct sockaddr *)&d));
	CHECK(!peer__is_loopback((struct sockaddr *)&e));
	CHECK(!peer__is_loopback((struct sockaddr *)&f));
}

static void test_names(void)
{
	uid_t u;
	gid_t g;

	CHECK(!peer__parse_user("root", &u) && u == 0);
	CHECK(!peer__parse_user("4242", &u) && u == 4242);
	CHECK(peer__parse_user("no-such-user-bpfstub", &u) == -ENOENT);
	CHECK(peer__parse_user("", &u) == -ENOENT);
	CHECK(!peer__parse_group("root", &g) && g == 0);
	CHECK(!peer__parse_group("4243", &g) && g == 4243);
	CHECK(peer__parse_group("no-such-group-bpfstub", &g) == -ENOENT);
}

/* Both ends of a loopback TCP connection: (client, accepted). */
static int tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = in4("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -errno;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	*s = accept(l, NULL, NULL);
	close(l);
	return *s < 0 ? -errno : 0;
}

static void test_live(void)
{
	struct peer_rules rules = {0};
	struct peer p;
	char why[512];
	int c = -1, s = -1, sv[2];

	if (!CHECK(!tcp_pair(&c, &s)))
		return;
	CHECK(!peer__identify(s, false, &p));
	CHECKF(p.kind == PEER_TCP_LOCAL && p.uid_known && p.uid == getuid(), "kind %d uid %u",
	       p.kind, p.uid);
	CHECK(!strncmp(p.addr, "127.0.0.1:", 10));
	close(c);
	close(s);

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(!peer__identify(sv[0], true, &p));
	CHECK(p.kind == PEER_UNIX && p.uid == getuid() && p.gid == getgid() && p.pid == getpid());
	close(sv[0]);
	close(sv[1]);

	/* The rule, on this very process as the target. */
	p = (struct peer){.kind = PEER_TCP_LOCAL, .uid_known = true, .uid = 0};
	strcpy(p.addr, "127.0.0.1:1");
	CHECK(!peer__check(&rules, &p, getpid(), why, sizeof(why)) && !strcmp(why, "root"));
	if (getuid() == 0) {
		p.uid = 65534;
		CHECK(peer__check(&rules, &p, getpid(), why, sizeof(why)) == -EACCES);
		CHECKF(strstr(why, "uid 65534") && strstr(why, "may not debug pid") &&
			       strstr(why, "(owned by uid 0") && strstr(why, "--allow-user"),
		       "%s", why);
		rules.users[rules.nusers++] = 65534;
		CHECK(!peer__check(&rules, &p, getpid(), why, sizeof(why)));
	}
	p.kind = PEER_TCP_REMOTE;
	p.uid_known = false;
	CHECK(peer__check(&rules, &p, getpid(), why, sizeof(why)) == -EACCES);
	rules.allow_remote = true;
	CHECK(!peer__check(&rules, &p, getpid(), why, sizeof(why)));
}

int main(void)
{
	test_request();
	test_parse();
	test_loopback();
	test_names();
	test_live();
	return check_summary("test_peer");
}
