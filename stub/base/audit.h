/* SPDX-License-Identifier: MIT */
/*
 * stub/base/audit.h - who connected and what they changed, for the host's logs.
 *
 * Every connection (peer, uid, accepted or refused, why) and every change
 * to what is collected (tracepoint defined, enabled, disabled, deleted;
 * tstart, tstop, tsave; monitor settings) is one audit event: a line to
 * syslog(3) (journald picks it up) and, with --audit FILE, one JSON object
 * per line appended to FILE.  An event is a name and key/value pairs of
 * text; nothing of the collected data (memory, registers, frames) is ever
 * an audit value.
 *
 * A NULL struct audit is valid everywhere and logs nothing (unit tests,
 * tools that link the core without a server).
 */
#ifndef STUB_AUDIT_H
#define STUB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct audit;

/*
 * Open the audit sinks: syslog always, and FILE (appended, created 0600)
 * when file is not NULL.  0 or -errno with a message for the user in err.
 */
int audit__new(struct audit **out, const char *file, char *err, size_t errlen);
void audit__free(struct audit *a);

/*
 * One event: audit__log(a, "tp_enable", "tp", "1", "addr", "0x401136",
 * NULL).  Keys and values are NUL-terminated text (escaped as needed for
 * each sink); a key with a NULL or empty value is left out; the list ends
 * with a NULL key.  While a client is connected the event is its doing
 * (session, peer), unless it says "by", "bpfstub".
 */
void audit__log(struct audit *a, const char *event, ...) __attribute__((sentinel));
/*
 * A connection, accepted or refused (the "connect" event: peer, uid,
 * result, why).  An accepted one opens a session: the events after it, to
 * audit__disconnect(), are attributed to it.  uid and why may be NULL.
 */
void audit__connect(struct audit *a, const char *peer, const char *uid, bool accepted,
		    const char *why);
/* The accepted client's connection ended (the "disconnect" event). */
void audit__disconnect(struct audit *a);

/* The pid served, put in every event from now on (target_pid). */
void audit__set_target(struct audit *a, pid_t pid);
/*
 * Is a client connected: between an accepted audit__connect() and
 * audit__disconnect(),
 * or always when no connection is logged at all (stdio, no access control).
 */
bool audit__client(const struct audit *a);

/*
 * How a value is written in each sink (for the unit test): a JSON string
 * with its quotes, always valid UTF-8; a syslog value, quoted when it holds
 * a space, '=' or '"', with no control character left.
 */
struct rsp_buf;
void audit__json_string(struct rsp_buf *b, const char *v);
void audit__syslog_value(struct rsp_buf *b, const char *v);

#endif
