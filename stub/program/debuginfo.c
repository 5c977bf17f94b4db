/* SPDX-License-Identifier: MIT */
/*
 * stub/program/debuginfo.c - debug files from debuginfod servers (see debuginfo.h).
 *
 * Why libdebuginfod: it is elfutils' own client (the library GDB, perf,
 * systemtap and libdwfl use), speaks the servers' protocol, shares the
 * user's cache with those tools and honours the same environment
 * (DEBUGINFOD_URLS, _CACHE_PATH, _TIMEOUT, _MAXSIZE, _MAXTIME, _RETRY_LIMIT).
 * What bpfstub adds around it:
 *
 *   - when: only inside a window the serving layer opens for a request
 *     that may wait (dbgi__open_window); the progress callback cancels a
 *     download past the window's budget and sends a line to the console
 *     every 2 s meanwhile.  libdebuginfod 0.188 records a cancelled query
 *     as "not found" (an empty file in its cache, believed for 10
 *     minutes): that empty file, ours and just made, is removed again.
 *   - what: the build-id is read here from the target's own file; the
 *     downloaded file must carry the same one (libdebuginfod does not
 *     check), else it is refused: a wrong or hostile server cannot make
 *     bpfstub read another program's DWARF as this one's.  libdw parses it
 *     as it parses any local debug file (untrusted input, fuzzed).
 *   - where: the cache directory is resolved as libdebuginfod resolves it;
 *     it is created 0700 when missing, and used only when it and every
 *     directory above it belong to root or to bpfstub's user and nobody
 *     else may write there (a sticky /tmp above is fine): otherwise anyone
 *     who could plant a file in it would choose what root parses.
 *   - memory: one entry per build-id asked, kept for `monitor status`.
 */
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf/clock.h"
#include "rsp/buf.h"
#include "stub/program/debuginfo.h"

#define DBGI_MAX	32    /* files remembered (the oldest goes) */
#define DBGI_SAY_MS	2000  /* a progress line at most this often */
#define DBGI_QUIET_MS	1000  /* and none for a download this short */
#define DBGI_BACKOFF_MS 60000 /* after a timeout, the servers are left alone */
#define DBGI_ID_MAX	64    /* build-id bytes */

struct dbgi_entry {
	char id[2 * DBGI_ID_MAX + 1]; /* build-id, hex */
	char path[256];		      /* the target's file */
	int err;		      /* 0: found */
	char url[256];		      /* found: where from; else the servers asked */
	char why[256];		      /* found: the cache file; else why not */
	uint64_t ms;		      /* how long asking took */
	uint64_t bytes;		      /* found: its size */
	bool cached;		      /* found: in the cache already, no server asked */
};

struct dbgi {
	debuginfod_client *client;
	struct dbgi_entry e[DBGI_MAX];
	size_t n, next;

	/* the window (dbgi__open_window) */
	bool open;
	uint32_t budget_s, last_budget_s;
	dbgi_say_fn say;
	void *ctx;

	uint64_t backoff_until_ms; /* CLOCK_MONOTONIC */
	char backoff_why[160];

	/* the query in progress, for the progress callback */
	const char *cur_path;
	uint64_t t0_ms, said_ms;
	bool cancelled, said;

	char cache[PATH_MAX]; /* the cache directory, as libdebuginfod resolves it */
	char cache_msg[512];  /* why it is not used, "" when it is */
};

static uint64_t now_ms(void)
{
	return bpfc_clock__ms(CLOCK_MONOTONIC);
}

struct dbgi *dbgi__new(void)
{
	return calloc(1, sizeof(struct dbgi));
}

void dbgi__free(struct dbgi *d)
{
	if (!d)
		return;
	if (d->client)
		debuginfod_end(d->client);
	free(d);
}

void dbgi__open_window(struct dbgi *d, uint32_t budget_s, dbgi_say_fn say, void *ctx)
{
	size_t i, k;

	if (!d)
		return;
	if (budget_s != d->last_budget_s) {
		/* A new setting: what failed may be asked again. */
		for (i = k = 0; i < d->n; i++)
			if (!d->e[i].err)
				d->e[k++] = d->e[i];
		d->n = k;
		d->next = k % DBGI_MAX;
		d->backoff_until_ms = 0;
		d->last_budget_s = budget_s;
	}
	d->open = true;
	d->budget_s = budget_s;
	d->say = say;
	d->ctx = ctx;
}

void dbgi__close_window(struct dbgi *d)
{
	if (!d)
		return;
	d->open = false;
	d->say = NULL;
	d->ctx = NULL;
}

int dbgi__may_ask(const struct dbgi *d)
{
	return d && d->open && d->budget_s;
}

static const char *urls(void)
{
	const char *u = getenv(DEBUGINFOD_URLS_ENV_VAR);

	return u && *u ? u : NULL;
}

/* The build-id of the ELF file at fd, as hex into hex: its length in bytes, or 0. */
static size_t build_id(int fd, unsigned char *id, char *hex)
{
	const unsigned char *p;
	Elf *elf;
	ssize_t n;
	size_t i, len = 0;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return 0;
	n = elf_kind(elf) == ELF_K_ELF ? dwelf_elf_gnu_build_id(elf, (const void **)&p) : -1;
	if (n > 0 && n <= DBGI_ID_MAX) {
		len = (size_t)n;
		memcpy(id, p, len);
		for (i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", id[i]);
	}
	hex[2 * len] = '\0';
	elf_end(elf);
	return len;
}

/* ---- the cache directory ---- */

/* Where libdebuginfod keeps its cache (debuginfod-client.c's own rule). */
static void cache_path(char *p, size_t len)
{
	const char *env = getenv(DEBUGINFOD_CACHE_PATH_ENV_VAR);
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
	struct stat st;

	if (!home || !*home)
		home = "/";
	if (env && *env) {
		snprintf(p, len, "%s", env);
		return;
	}
	snprintf(p, len, "%s/.debuginfod_client_cache", home);
	if (!stat(p, &st))
		return;
	if (xdg && *xdg)
		snprintf(p, len, "%s/debuginfod_client", xdg);
	else
		snprintf(p, len, "%s/.cache/debuginfod_client", home);
}

/* Nobody but root and bpfstub's user may write into dir (sticky excepted unless last). */
static int dir_safe(const char *dir, bool last, char *msg, size_t mlen)
{
	struct stat st;

	if (stat(dir, &st)) {
		rsp_buf__msgf(msg, mlen, "cache %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		rsp_buf__msgf(msg, mlen, "cache %s is not a directory", dir);
		return -ENOTDIR;
	}
	if ((last && st.st_uid != geteuid()) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		rsp_buf__msgf(
			msg, mlen,
			"not used: the cache directory %s belongs to uid %u, not to bpfstub's "
			"user",
			dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX))) {
		rsp_buf__msgf(
			msg, mlen,
			"not used: %s (mode %04o) is writable by others, who could choose "
			"the files root parses; set DEBUGINFOD_CACHE_PATH to a 0700 directory",
			dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/*
 * The cache directory, created 0700 (its parent too, as libdebuginfod would
 * make it) when missing, then checked from / down: 0 or -EPERM/-errno.
 */
static int cache_check(struct dbgi *d, char *msg, size_t mlen)
{
	char p[PATH_MAX], real[PATH_MAX], *s;
	int err;

	cache_path(p, sizeof(p));
	if (mkdir(p, 0700) && errno == ENOENT) {
		s = strrchr(p, '/');
		if (s && s != p) {
			*s = '\0';
			mkdir(p, 0700);
			*s = '/';
		}
		mkdir(p, 0700);
	}
	if (!realpath(p, real)) {
		rsp_buf__msgf(msg, mlen, "cache %s: %s", p, strerror(errno));
		return -errno;
	}
	snprintf(d->cache, sizeof(d->cache), "%s", real);
	/* Every directory from / down to the cache itself. */
	for (s = real + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		err = dir_safe(real, c == '\0', msg, mlen);
		*s = c;
		if (err)
			return err;
		if (c == '\0')
			return dir_safe("/", false, msg, mlen);
	}
}

/* libdebuginfod's record of a cancelled query as a miss: remove it if it is ours and new. */
static void unmiss(struct dbgi *d, const char *hex, time_t since)
{
	char p[PATH_MAX + 160];
	struct stat st;

	if (!d->cache[0])
		return;
	snprintf(p, sizeof(p), "%s/%s/debuginfo", d->cache, hex);
	if (!lstat(p, &st) && S_ISREG(st.st_mode) && !st.st_size && st.st_uid == geteuid() &&
	    st.st_mtime >= since)
		unlink(p);
	snprintf(p, sizeof(p), "%s/%s", d->cache, hex);
	rmdir(p); /* only if empty */
}

/* ---- asking ---- */

static void say(struct dbgi *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct dbgi *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!d->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->say(d->ctx, line);
}

/* The server part of a URL ("http://host:port"), for short lines. */
static void url_host(const char *url, char *out, size_t len)
{
	const char *b = url ? strstr(url, "/buildid/") : NULL;

	snprintf(out, len, "%.*s", url ? (int)(b ? (size_t)(b - url) : strlen(url)) : 0,
		 url ? url : "");
}

/* libdebuginfod calls this about once a second while it waits or downloads. */
static int progress(debuginfod_client *c, long a, long b)
{
	struct dbgi *d = debuginfod_get_user_data(c);
	uint64_t now = now_ms(), t = now - d->t0_ms;
	const char *url = debuginfod_get_url(c);
	char host[256];

	if (t >= (uint64_t)d->budget_s * 1000) {
		d->cancelled = true;
		return 1;
	}
	if (t < DBGI_QUIET_MS || (d->said && now - d->said_ms < DBGI_SAY_MS))
		return 0;
	d->said = true;
	d->said_ms = now;
	url_host(url, host, sizeof(host));
	if (url && b > 0)
		say(d,
		    "debuginfod: downloading the debug info of %s from %s: %ld of %ld KiB (%.1f s, "
		    "at most %u s)",
		    d->cur_path, host, a / 1024, b / 1024, t / 1000.0, d->budget_s);
	else if (url)
		say(d,
		    "debuginfod: downloading the debug info of %s from %s: %ld KiB (%.1f s, at "
		    "most %u s)",
		    d->cur_path, host, a / 1024, t / 1000.0, d->budget_s);
	else
		say(d, "debuginfod: asking %s for the debug info of %s (%.1f s, at most %u s)",
		    urls(), d->cur_path, t / 1000.0, d->budget_s);
	return 0;
}

static struct dbgi_entry *entry_of(struct dbgi *d, const char *hex)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->e[i].id, hex))
			return &d->e[i];
	return NULL;
}

static struct dbgi_entry *entry_new(struct dbgi *d, const char *hex, const char *path)
{
	struct dbgi_entry *e = &d->e[d->next];

	d->next = (d->next + 1) % DBGI_MAX;
	if (d->n < DBGI_MAX)
		d->n++;
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", hex);
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "?");
	return e;
}

/* Why a query failed, in words. */
static void failure(struct dbgi *d, int rc, struct dbgi_entry *e)
{
	const char *env;

	switch (rc) {
	case -ENOENT:
		snprintf(e->why, sizeof(e->why), "not on the servers");
		break;
	case -ETIME:
	case -ETIMEDOUT:
		env = getenv(DEBUGINFOD_TIMEOUT_ENV_VAR);
		if (d->cancelled)
			snprintf(e->why, sizeof(e->why),
				 "timed out: no debug file within %u s (monitor set debuginfod "
				 "DURATION)",
				 d->budget_s);
		else
			snprintf(e->why, sizeof(e->why),
				 "timed out: the servers did not answer within "
				 "DEBUGINFOD_TIMEOUT=%s "
				 "s",
				 env ? env : "90");
		break;
	case -ECONNREFUSED:
		snprintf(e->why, sizeof(e->why), "connection refused: is the server down?");
		break;
	case -EHOSTUNREACH:
		snprintf(e->why, sizeof(e->why), "cannot resolve the server's host name");
		break;
	case -EFBIG:
		snprintf(e->why, sizeof(e->why), "larger than DEBUGINFOD_MAXSIZE");
		break;
	default:
		snprintf(e->why, sizeof(e->why), "%s", strerror(-rc));
		break;
	}
}

/* The downloaded file at fd must be an ELF file with the build-id asked for. */
static int verify(int fd, const char *hex, char *why, size_t len)
{
	unsigned char id[DBGI_ID_MAX];
	char got[2 * DBGI_ID_MAX + 1];

	if (!build_id(fd, id, got)) {
		snprintf(why, len, "refused: the server's file is not an ELF file with a build-id");
		return -EINVAL;
	}
	if (strcmp(got, hex)) {
		snprintf(why, len, "refused: the server's file has build-id %.40s, not %.40s", got,
			 hex);
		return -EINVAL;
	}
	return 0;
}

static int ask(struct dbgi *d, struct dbgi_entry *e, const unsigned char *id, size_t idlen,
	       int *dbg_fd, char *dpath, size_t dlen)
{
	char *cpath = NULL, host[256];
	const char *url;
	time_t since = time(NULL);
	struct stat st;
	int rc;

	if (!d->client) {
		d->client = debuginfod_begin();
		if (!d->client) {
			snprintf(e->why, sizeof(e->why), "libdebuginfod: %s", strerror(errno));
			return -ENOMEM;
		}
		debuginfod_set_user_data(d->client, d);
		debuginfod_set_progressfn(d->client, progress);
	}
	d->cur_path = e->path;
	d->t0_ms = now_ms();
	d->said = d->cancelled = false;
	rc = debuginfod_find_debuginfo(d->client, id, (int)idlen, &cpath);
	e->ms = now_ms() - d->t0_ms;
	url = debuginfod_get_url(d->client);
	snprintf(e->url, sizeof(e->url), "%s", url ? url : urls());
	e->cached = rc >= 0 && !url;
	if (d->cancelled) {
		unmiss(d, e->id, since);
		if (rc >= 0)
			close(rc);
		rc = -ETIMEDOUT;
	}
	if (rc < 0) {
		free(cpath);
		failure(d, rc, e);
		if (rc == -ETIMEDOUT || rc == -ETIME) {
			d->backoff_until_ms = now_ms() + DBGI_BACKOFF_MS;
			snprintf(d->backoff_why, sizeof(d->backoff_why), "%.150s", e->why);
		}
		return rc;
	}
	if (verify(rc, e->id, e->why, sizeof(e->why))) {
		/* Not kept in the cache either: it is not what its name says. */
		close(rc);
		if (cpath && d->cache[0] && !strncmp(cpath, d->cache, strlen(d->cache)))
			unlink(cpath);
		free(cpath);
		return -EINVAL;
	}
	*dbg_fd = rc;
	if (!fstat(rc, &st))
		e->bytes = (uint64_t)st.st_size;
	snprintf(e->why, sizeof(e->why), "%s", cpath ? cpath : "?");
	snprintf(dpath, dlen, "%s", cpath ? cpath : "?");
	free(cpath);
	url_host(e->url, host, sizeof(host));
	if (d->said || e->ms >= DBGI_QUIET_MS)
		say(d, "debuginfod: got the debug info of %s from %s (%llu KiB, %.1f s)", e->path,
		    host, (unsigned long long)(e->bytes / 1024), e->ms / 1000.0);
	return 0;
}

int dbgi__find(struct dbgi *d, int fd, const char *path, int *dbg_fd, char *dpath, size_t dlen,
	       char *msg, size_t mlen)
{
	unsigned char id[DBGI_ID_MAX];
	char hex[2 * DBGI_ID_MAX + 1];
	struct dbgi_entry *e;
	size_t idlen;
	int err;

	*dbg_fd = -1;
	if (!d || !urls()) {
		rsp_buf__msgf(msg, mlen, "debuginfod off: DEBUGINFOD_URLS is not set");
		return -ENOSYS;
	}
	/* -EAGAIN: the cache opens the file again once the servers may be asked. */
	if (!d->open) {
		rsp_buf__msgf(msg, mlen,
			      "debuginfod not asked yet (only while a monitor command, tstart or "
			      "a tracepoint definition is served)");
		return -EAGAIN;
	}
	if (!d->budget_s) {
		rsp_buf__msgf(msg, mlen, "debuginfod off (monitor set debuginfod off)");
		return -EAGAIN;
	}
	idlen = build_id(fd, id, hex);
	if (!idlen) {
		rsp_buf__msgf(msg, mlen, "no build-id, so debuginfod cannot be asked");
		return -ENOENT;
	}
	e = entry_of(d, hex);
	if (e && e->err) {
		rsp_buf__msgf(msg, mlen, "debuginfod: %s", e->why);
		return e->err;
	}
	if (!e && now_ms() < d->backoff_until_ms) {
		rsp_buf__msgf(msg, mlen, "debuginfod not asked: a moment ago the servers %s",
			      d->backoff_why);
		return -ETIMEDOUT;
	}
	err = cache_check(d, msg, mlen);
	if (err) {
		/* Not remembered per file: it is the machine's, and may be fixed meanwhile. */
		if (strcmp(d->cache_msg, msg)) {
			snprintf(d->cache_msg, sizeof(d->cache_msg), "%s", msg);
			say(d, "debuginfod: %s", msg);
		}
		return err;
	}
	d->cache_msg[0] = '\0';
	if (e) {
		/* Found before (the file was closed since): libdebuginfod's cache has it. */
		struct dbgi_entry again = *e;

		err = ask(d, &again, id, idlen, dbg_fd, dpath, dlen);
		if (err)
			*e = again;
	} else {
		e = entry_new(d, hex, path);
		err = ask(d, e, id, idlen, dbg_fd, dpath, dlen);
	}
	e->err = err;
	if (err) {
		rsp_buf__msgf(msg, mlen, "debuginfod: %s", e->why);
		if (err != -ENOENT)
			say(d, "debuginfod: no debug info for %s: %s", e->path, e->why);
	}
	return err;
}

int dbgi__status(const struct dbgi *d, uint32_t budget_s, struct rsp_buf *out)
{
	const char *u = urls();
	size_t i;
	int err;

	if (!u)
		return rsp_buf__puts(out, "debuginfod: off (DEBUGINFOD_URLS is not set)\n");
	if (!budget_s)
		err = rsp_buf__printf(
			out, "debuginfod: off (monitor set debuginfod off), servers %s\n", u);
	else
		err = rsp_buf__printf(out, "debuginfod: %s, at most %u s per file, cache %s\n", u,
				      budget_s,
				      d && d->cache_msg[0] ? d->cache_msg
				      : d && d->cache[0]   ? d->cache
							   : "not used yet");
	for (i = 0; !err && d && i < d->n; i++) {
		const struct dbgi_entry *e = &d->e[i];

		if (!e->err)
			err = rsp_buf__printf(
				out, "  %s (build-id %s): found %s%s (%llu KiB, %llu ms), %s\n",
				e->path, e->id,
				e->cached ? "in the cache, fetched before from " : "at ", e->url,
				(unsigned long long)(e->bytes / 1024), (unsigned long long)e->ms,
				e->why);
		else
			err = rsp_buf__printf(out, "  %s (build-id %s): %s (asked %s, %llu ms)\n",
					      e->path, e->id, e->why, e->url,
					      (unsigned long long)e->ms);
	}
	return err;
}
