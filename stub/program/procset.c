/* SPDX-License-Identifier: MIT */
/*
 * stub/program/procset.c - which processes belong to a multi-process
 * target, read from /proc (stub/program/procset.h).
 *
 * A process runs the executable when stat(/proc/N/exe) gives the file's
 * (dev, ino): the magic link resolves to the very file, so a process in
 * another mount namespace (a container) running the same inode belongs,
 * and one running another file of the same name does not.  Descendants
 * are found by walking /proc/N/stat's ppid from the root.  Nothing here
 * is cached: a set is asked again each time, since processes come and go.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/program/procset.h"

int tgt_set__init_exe(struct tgt_set *s, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->mode = TGT_SET_EXE;
	if (!path || !*path || strlen(path) >= sizeof(s->exe)) {
		snprintf(err, errlen, "--attach-exe: bad path");
		return -EINVAL;
	}
	if (stat(path, &st)) {
		snprintf(err, errlen, "--attach-exe %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--attach-exe %s: not a regular file", path);
		return -EINVAL;
	}
	snprintf(s->exe, sizeof(s->exe), "%s", path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

int tgt_set__parse_pids(const char *arg, pid_t *pids, size_t *n)
{
	const char *p = arg;

	*n = 0;
	if (!arg || !*arg)
		return -EINVAL;
	for (;;) {
		char *end;
		long v;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || v <= 0 || v > 0x3fffffff || *n == TGT_SET_MAX_PIDS)
			return -EINVAL;
		pids[(*n)++] = (pid_t)v;
		if (!*end)
			return 0;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

static int exe_stat(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, st) ? -errno : 0;
}

bool tgt_set__runs_exe(const struct tgt_set *s, pid_t pid)
{
	struct stat st;

	return !exe_stat(pid, &st) && st.st_dev == s->dev && st.st_ino == s->ino;
}

int tgt_set__init_pids(struct tgt_set *s, const pid_t *pids, size_t n, bool children, char *err,
		       size_t errlen)
{
	struct stat st;
	char link[64];
	ssize_t l;
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->mode = children ? TGT_SET_CHILDREN : TGT_SET_PIDS;
	if (!n || n > TGT_SET_MAX_PIDS || (children && n != 1)) {
		snprintf(err, errlen,
			 children ? "--children takes one --attach PID"
				  : "--attach: 1 to %d process ids",
			 TGT_SET_MAX_PIDS);
		return -EINVAL;
	}
	if (exe_stat(pids[0], &st)) {
		snprintf(err, errlen, "pid %d: no such process (or its executable cannot be read)",
			 (int)pids[0]);
		return -ESRCH;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pids[0]);
	l = readlink(link, s->exe, sizeof(s->exe) - 1);
	s->exe[l > 0 ? l : 0] = '\0';
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (pids[j] == pids[i]) {
				snprintf(err, errlen, "--attach: pid %d named twice", (int)pids[i]);
				return -EINVAL;
			}
		if (!tgt_set__runs_exe(s, pids[i])) {
			snprintf(err, errlen,
				 "pid %d does not run %s (pid %d's executable): the processes of "
				 "one session run one executable",
				 (int)pids[i], s->exe, (int)pids[0]);
			return -EINVAL;
		}
		s->pids[s->npids++] = pids[i];
	}
	return 0;
}

/* Field 4 (ppid) and 22 (starttime) of /proc/N/stat.  0 or -errno. */
static int proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	int pp = 0, i;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &pp) != 1)
		return -EIO;
	/* after ')': state(3) ppid(4) ... starttime(22) */
	for (i = 3, p++; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &st) != 1)
		return -EIO;
	*ppid = pp;
	*start = st;
	return 0;
}

struct pp {
	pid_t pid, ppid;
};

/* Every process: pid and ppid (malloc'd). */
static int all_procs(struct pp **out, size_t *n)
{
	struct pp *v = NULL, *nv;
	size_t cap = 0;
	struct dirent *d;
	DIR *dir;

	*out = NULL;
	*n = 0;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		unsigned long long st;
		pid_t pid, ppid;
		char *end;
		long l = strtol(d->d_name, &end, 10);

		if (*end || l <= 0)
			continue;
		pid = (pid_t)l;
		if (proc_stat(pid, &ppid, &st))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[*n].pid = pid;
		v[(*n)++].ppid = ppid;
	}
	closedir(dir);
	*out = v;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int tgt_set__members(const struct tgt_set *s, pid_t **out, size_t *n)
{
	struct pp *all = NULL;
	size_t nall = 0, i, k = 0;
	bool *in = NULL, grew;
	pid_t *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if (s->mode == TGT_SET_PIDS) {
		v = calloc(s->npids ? s->npids : 1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (i = 0; i < s->npids; i++)
			if (tgt_set__runs_exe(s, s->pids[i]))
				v[k++] = s->pids[i];
		goto done;
	}
	err = all_procs(&all, &nall);
	if (err)
		return err;
	v = calloc(nall ? nall : 1, sizeof(*v));
	in = calloc(nall ? nall : 1, sizeof(*in));
	if (!v || !in) {
		free(all);
		free(v);
		free(in);
		return -ENOMEM;
	}
	if (s->mode == TGT_SET_CHILDREN) {
		/* The root, then whoever descends from a member, until nothing changes. */
		for (i = 0; i < nall; i++)
			in[i] = all[i].pid == s->pids[0];
		do {
			grew = false;
			for (i = 0; i < nall; i++) {
				size_t j;

				if (in[i])
					continue;
				for (j = 0; j < nall; j++)
					if (in[j] && all[j].pid == all[i].ppid) {
						in[i] = grew = true;
						break;
					}
			}
		} while (grew);
	} else {
		for (i = 0; i < nall; i++)
			in[i] = true;
	}
	for (i = 0; i < nall; i++)
		if (in[i] && tgt_set__runs_exe(s, all[i].pid))
			v[k++] = all[i].pid;
	free(all);
	free(in);
done:
	qsort(v, k, sizeof(*v), cmp_pid);
	*out = v;
	*n = k;
	return 0;
}

int tgt_set__leader(const struct tgt_set *s, pid_t *pid, char *err, size_t errlen)
{
	unsigned long long best = ~0ull, st;
	pid_t *v = NULL, ppid;
	size_t n = 0, i;
	int ret;

	*pid = 0;
	if (s->mode != TGT_SET_EXE) {
		*pid = s->pids[0];
		return 0;
	}
	ret = tgt_set__members(s, &v, &n);
	if (ret) {
		snprintf(err, errlen, "cannot list processes: %s", strerror(-ret));
		return ret;
	}
	/* The oldest: a service's master started before its workers. */
	for (i = 0; i < n; i++)
		if (!proc_stat(v[i], &ppid, &st) && st < best) {
			best = st;
			*pid = v[i];
		}
	free(v);
	if (!*pid) {
		snprintf(err, errlen,
			 "no process runs %s: start it first (processes that start later are "
			 "served too, once one runs)",
			 s->exe);
		return -ESRCH;
	}
	return 0;
}

bool tgt_set__owned_by(pid_t pid, uid_t uid, bool gid_known, gid_t gid)
{
	unsigned int u[4] = {0}, g[4] = {0};
	char path[64], line[256];
	int have = 0;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4) &&
		    sscanf(line + 4, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4)
			have |= 1;
		else if (!strncmp(line, "Gid:", 4) &&
			 sscanf(line + 4, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]) == 4)
			have |= 2;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (have != 3 || stat(path, &st))
		return false;
	return u[0] == uid && u[1] == uid && u[2] == uid && g[0] == g[1] && g[1] == g[2] &&
	       (!gid_known || g[0] == gid) && st.st_uid == uid;
}

void tgt_set__describe(const struct tgt_set *s, char *out, size_t len)
{
	size_t i, used;

	if (s->mode == TGT_SET_EXE) {
		snprintf(out, len, "--attach-exe %s", s->exe);
		return;
	}
	used = (size_t)snprintf(out, len, "--attach ");
	for (i = 0; i < s->npids && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%d", i ? "," : "",
					 (int)s->pids[i]);
	if (s->mode == TGT_SET_CHILDREN && used < len)
		snprintf(out + used, len - used, " --children");
}

int tgt_set__cpu_ns(pid_t pid, uint64_t *ns)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	int field;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0 || hz <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* Past fields 3 (state) .. 13 (cmajflt): utime (14) and stime (15). */
	for (field = 2; field < 14 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -EIO;
	*ns = (ut + st) * (1000000000ull / (unsigned long long)hz);
	return 0;
}
