/* SPDX-License-Identifier: MIT */
/*
 * stub/program/osdata.c - qXfer:osdata:read: the process list, as gdbserver sends it.
 *
 * bpfstub runs as root, but its client may see only what the user who owns
 * the served process could see of its own: the processes of that user.  No
 * other user's processes, command lines or names are listed.  The list is
 * bounded (OSDATA_PROCESSES_MAX processes, 256 bytes of command line each).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/program/osdata.h"

#define CMDLINE_MAX 256

static void put_column(struct rsp_buf *o, const char *name, const char *value)
{
	rsp_buf__printf(o, "<column name=\"%s\">", name);
	rsp_buf__put_xml(o, value);
	rsp_buf__puts(o, "</column>");
}

/* The command line with NULs as spaces; "[comm]" for kernel threads. */
static void read_command(int dfd, char *cmd, size_t cap)
{
	ssize_t n = -1, i;
	int fd;

	cmd[0] = '\0';
	fd = openat(dfd, "cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, cmd, cap - 1);
		close(fd);
	}
	if (n > 0) {
		while (n > 0 && cmd[n - 1] == '\0')
			n--;
		for (i = 0; i < n; i++)
			if (cmd[i] == '\0' || !isprint((unsigned char)cmd[i]))
				cmd[i] = cmd[i] ? '?' : ' ';
		cmd[n] = '\0';
		if (n)
			return;
	}
	fd = openat(dfd, "comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	cmd[0] = '[';
	n = read(fd, cmd + 1, cap - 3);
	close(fd);
	if (n <= 0)
		n = 0;
	while (n > 0 && (cmd[n] == '\n' || cmd[n] == '\0'))
		n--;
	cmd[n + 1] = ']';
	cmd[n + 2] = '\0';
}

/* The CPU the process last ran on (field 39 of /proc/PID/stat), or -1. */
static int read_core(int dfd)
{
	char buf[1024], *p;
	int fd, field, core = -1;
	ssize_t n;

	fd = openat(dfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* Field 3 (state) follows ") "; count spaces up to field 39. */
	for (field = 2; *p && field < 39; p++)
		if (*p == ' ')
			field++;
	if (field == 39)
		core = atoi(p);
	return core;
}

static void user_name(uid_t uid, char *name, size_t cap)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(name, cap, "%s", res->pw_name);
	else
		snprintf(name, cap, "%u", (unsigned)uid);
}

static int processes_xml(pid_t owner_pid, struct rsp_buf *o)
{
	char path[64], name[64], cmd[CMDLINE_MAX], num[24];
	struct stat sb;
	struct dirent *de;
	size_t count = 0;
	uid_t uid;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d", (int)owner_pid);
	if (stat(path, &sb))
		return -errno;
	uid = sb.st_uid;
	user_name(uid, name, sizeof(name));
	d = opendir("/proc");
	if (!d)
		return -errno;
	rsp_buf__puts(o, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"osdata.dtd\">\n"
			 "<osdata type=\"processes\">\n");
	while ((de = readdir(d)) && count < OSDATA_PROCESSES_MAX) {
		int dfd, core;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue; /* gone */
		if (fstat(dfd, &sb) || sb.st_uid != uid) {
			close(dfd);
			continue;
		}
		read_command(dfd, cmd, sizeof(cmd));
		core = read_core(dfd);
		close(dfd);
		rsp_buf__puts(o, "<item>");
		put_column(o, "pid", de->d_name);
		put_column(o, "user", name);
		put_column(o, "command", cmd);
		snprintf(num, sizeof(num), "%d", core);
		put_column(o, "cores", core >= 0 ? num : "");
		rsp_buf__puts(o, "</item>\n");
		count++;
	}
	closedir(d);
	rsp_buf__puts(o, "</osdata>\n");
	return o->oom ? -ENOMEM : 0;
}

static int types_xml(struct rsp_buf *o)
{
	rsp_buf__puts(o, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"osdata.dtd\">\n"
			 "<osdata type=\"types\">\n<item>");
	put_column(o, "Type", "processes");
	put_column(o, "Description", "Listing of all processes");
	put_column(o, "Title", "Processes");
	rsp_buf__puts(o, "</item>\n</osdata>\n");
	return o->oom ? -ENOMEM : 0;
}

int osdata__xml(const char *annex, pid_t pid, struct rsp_buf *out)
{
	if (!annex[0])
		return types_xml(out);
	if (!strcmp(annex, "processes"))
		return processes_xml(pid, out);
	return -ENOENT;
}
