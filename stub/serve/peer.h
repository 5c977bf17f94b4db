/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/peer.h - who is on the other end of a connection, and may they
 * debug the target.
 */
#ifndef STUB_PEER_H
#define STUB_PEER_H

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PEER_MAX_ALLOWED 16

/* Who may connect besides root, CAP_SYS_PTRACE and the target's owner. */
struct peer_rules {
	uid_t users[PEER_MAX_ALLOWED]; /* --allow-user */
	size_t nusers;
	gid_t groups[PEER_MAX_ALLOWED]; /* --allow-group */
	size_t ngroups;
	bool allow_remote; /* --allow-remote: serve non-loopback peers */
};

enum peer_kind {
	PEER_STDIO,	 /* stdin/stdout: whoever started bpfstub */
	PEER_UNIX,	 /* unix socket: SO_PEERCRED */
	PEER_TCP_LOCAL,	 /* TCP from a loopback address: uid from sock_diag */
	PEER_TCP_REMOTE, /* TCP from elsewhere: nobody can say who */
};

struct peer {
	enum peer_kind kind;
	char addr[80]; /* "127.0.0.1:40122", "[::1]:40122", "unix", "stdio" */
	bool uid_known;
	uid_t uid;
	bool gid_known; /* unix sockets only */
	gid_t gid;
	pid_t pid;	 /* unix sockets only, else 0 */
	bool ptrace_cap; /* unix: that process held CAP_SYS_PTRACE in our user ns */
};

/* A sock_diag request for one TCP socket, as sent to NETLINK_SOCK_DIAG. */
struct peer_diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/*
 * Pure: the request that finds the socket whose local end is src and
 * whose remote end is dst (for the client's socket: src = our peer's
 * address, dst = our own).  v4-mapped IPv6 addresses are asked for as
 * IPv4.  0, or -EAFNOSUPPORT when the two are not both IPv4/IPv6.
 */
int peer__diag_request(struct peer_diag_req *req, const struct sockaddr *src,
		       const struct sockaddr *dst, uint32_t seq);
/*
 * Pure: the owner's uid from the kernel's reply to req: buf[0..len) is
 * walked message by message, every length checked against what is left.
 * 0 with *uid set; -ENOENT when no such socket; the kernel's -errno for
 * an NLMSG_ERROR; -EBADMSG when the reply is malformed or names another
 * socket.
 */
int peer__diag_parse(const void *buf, size_t len, const struct peer_diag_req *req, uint32_t *uid);

/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 (a unix address counts too). */
bool peer__is_loopback(const struct sockaddr *sa);

/*
 * Who is connected on fd (unix: SO_PEERCRED; TCP: the client socket's
 * owner through sock_diag when it comes from a loopback address).  0 or
 * -errno; p->uid_known stays false for a remote TCP peer.
 */
int peer__identify(int fd, bool unix_sock, struct peer *p);

/*
 * May p debug pid?  0 (allowed) or -EACCES (refused); why says which rule
 * decided, and when refused is the line for the user and the client.
 */
int peer__check(const struct peer_rules *r, const struct peer *p, pid_t pid, char *why, size_t len);

/*
 * Does what lets p in hold whatever the process: root, CAP_SYS_PTRACE,
 * --allow-user/--allow-group, stdio, --allow-remote?  False for a peer let
 * in only as the target's owner: of several processes (a multi-process
 * target) it may then see only those it owns (docs/SECURITY.md).
 */
bool peer__grants_all(const struct peer_rules *r, const struct peer *p);

/* Effective capabilities of pid (0: this process), from /proc/PID/status. */
int peer__cap_eff(pid_t pid, uint64_t *caps);

/* --allow-user USER|UID and --allow-group GROUP|GID: 0 or -ENOENT. */
int peer__parse_user(const char *s, uid_t *uid);
int peer__parse_group(const char *s, gid_t *gid);

#endif
