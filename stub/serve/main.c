/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/main.c - bpfstub's command line, in gdbserver's conventions.
 *
 *   bpfstub [OPTIONS] COMM --attach PID
 *   bpfstub [OPTIONS] --attach COMM PID
 *   bpfstub [OPTIONS] COMM PROG [ARGS...]
 *
 * Exit codes: 0 done, 1 the target could not be served (no such pid, no
 * permission, program would not start), 2 usage, 3 cannot listen.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/base/audit.h"
#include "stub/program/procset.h"
#include "stub/program/target.h"
#include "stub/serve/monitor.h"
#include "stub/serve/peer.h"
#include "stub/serve/server.h"

enum {
	EXIT_USAGE = 2,
	EXIT_LISTEN = 3,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: bpfstub [OPTIONS] COMM --attach PID\n"
		   "       bpfstub [OPTIONS] --attach COMM PID\n"
		   "       bpfstub [OPTIONS] COMM PROG [ARGS...]\n"
		   "\n"
		   "A GDB/LLDB remote stub that never stops the target: memory is read live,\n"
		   "tracepoints run as BPF uprobes, and no thread is ever ptrace-stopped.\n"
		   "\n"
		   "COMM is where to listen:\n"
		   "  [HOST]:PORT   TCP (HOST defaults to 127.0.0.1; PORT 0 picks a free port).\n"
		   "                HOST must be a loopback address unless --allow-remote.\n"
		   "  unix:PATH     a Unix socket, mode 0600 (wider with --allow-user/-group)\n"
		   "  - | stdio     stdin/stdout, for: target remote | bpfstub - --attach PID\n"
		   "                (remotely: target remote | ssh HOST sudo bpfstub - ...)\n"
		   "\n"
		   "Who may connect: root, a process with CAP_SYS_PTRACE (unix sockets), the\n"
		   "user who owns the target (if it is dumpable), and the users and groups\n"
		   "given below; anyone else gets an error.  See docs/SECURITY.md.\n"
		   "\n"
		   "Options:\n"
		   "  --attach PID  serve the running process PID\n"
		   "  --attach PID,PID,...\n"
		   "                serve these processes (of one executable) as one target:\n"
		   "                GDB sees the first; frames come from all (pid in each)\n"
		   "  --attach PID --children\n"
		   "                PID and its descendants running its executable, those\n"
		   "                forked later included (pre-forked workers, replacements)\n"
		   "  --attach-exe PATH\n"
		   "                every process running the executable PATH, now and\n"
		   "                later (GDB sees the oldest one); see docs/PROTOCOL.md\n"
		   "  --allow-user USER|UID\n"
		   "                also serve this user (repeatable)\n"
		   "  --allow-group GROUP|GID\n"
		   "                also serve members of this group (repeatable)\n"
		   "  --allow-remote\n"
		   "                allow a non-loopback HOST: anyone who reaches the port\n"
		   "                can read the target's memory (prefer ssh)\n"
		   "  --once        exit when the first client leaves (a disconnected trace\n"
		   "                that is still running keeps bpfstub up until it stops)\n"
		   "  --save-dir DIR\n"
		   "                let `tsave -r FILE` (QTSave), `monitor thist N json FILE`\n"
		   "                and `monitor tsave-ctf NAME` write, only inside DIR\n"
		   "                (no '..', no symlinks, never overwriting)\n"
		   "  --save-on-exit FILE\n"
		   "                on SIGTERM/SIGINT or when the last client leaves, save\n"
		   "                the frames to FILE (GDB trace file format) first\n"
		   "  --max-hit-rate N|off\n"
		   "                hits/s a tracepoint may take before the overhead guard\n"
		   "                detaches its uprobe (default 20000)\n"
		   "  --max-overhead PCT|off\n"
		   "                estimated share of the target's CPU a tracepoint may\n"
		   "                cost before the guard detaches it (default 40)\n"
		   "  --hit-cost auto|NS\n"
		   "                what one hit is taken to cost, for that estimate (default\n"
		   "                auto: measured on this kernel at the first tstart)\n"
		   "  --trace-timeout DURATION|off\n"
		   "                a run nobody stopped ends by itself after DURATION\n"
		   "                (90s, 30m, 2h, 1d; default 1h)\n"
		   "  --debuginfod DURATION|off\n"
		   "                the longest a stripped file's debug info may be downloaded\n"
		   "                from the servers in DEBUGINFOD_URLS (default 10s; the\n"
		   "                server waits meanwhile); off, like --no-debuginfod: never\n"
		   "  --no-debuginfod\n"
		   "                never ask debuginfod servers (as without DEBUGINFOD_URLS)\n"
		   "  --audit FILE  append an audit event (connections, tracepoints defined,\n"
		   "                started, stopped, saved, settings) to FILE as one JSON\n"
		   "                object per line (created 0600; no symlinks); events go\n"
		   "                to syslog (LOG_AUTHPRIV) with or without it\n"
		   "  -v, --debug   log every packet to stderr\n"
		   "  -h, --help    this text\n"
		   "  -V, --version print the version\n"
		   "\n"
		   "Exit status: 0 done, 1 target error (no such pid, no permission), 2 usage,\n"
		   "3 cannot listen (address in use).\n");
}

/* Effective capabilities of this process (all of them when unknown). */
static unsigned long long cap_eff(void)
{
	uint64_t caps = ~0ull;

	peer__cap_eff(0, &caps);
	return caps;
}

/* Tracepoints need BPF and perf events: say which capability is missing, once. */
static void check_caps(void)
{
	unsigned long long c = cap_eff();
	bool admin = c & (1ull << 21);		    /* CAP_SYS_ADMIN */
	bool bpf = admin || (c & (1ull << 39));	    /* CAP_BPF */
	bool perfmon = admin || (c & (1ull << 38)); /* CAP_PERFMON */

	if (!bpf || !perfmon)
		fprintf(stderr,
			"bpfstub: warning: missing %s%s%s: memory reads work, but tracepoints "
			"(BPF uprobes) will be refused; run as root\n",
			bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "",
			perfmon ? "" : "CAP_PERFMON");
}

/* --max-hit-rate and the like: checked as `monitor set` checks them, applied at start. */
static int add_setting(struct srv_opts *o, const struct option *longopts, int c, const char *arg)
{
	char what[64], msg[256];
	const char *name = NULL;
	uint32_t v;
	size_t i;

	for (i = 0; longopts[i].name; i++)
		if (longopts[i].val == c)
			name = longopts[i].name;
	snprintf(what, sizeof(what), "--%s", name);
	if (mon__parse_setting(name, arg, what, &v, msg, sizeof(msg))) {
		fprintf(stderr, "bpfstub: %s\n", msg);
		return -EINVAL;
	}
	if (o->nsettings == sizeof(o->settings) / sizeof(o->settings[0])) {
		fprintf(stderr, "bpfstub: too many settings\n");
		return -E2BIG;
	}
	o->settings[o->nsettings].name = name;
	o->settings[o->nsettings++].value = v;
	return 0;
}

/* --allow-user / --allow-group: a name or a number; an unknown name is an error. */
static int add_allowed(struct peer_rules *r, int c, const char *arg)
{
	bool user = c == 'U';
	size_t *n = user ? &r->nusers : &r->ngroups;
	int err;

	if (*n == PEER_MAX_ALLOWED) {
		fprintf(stderr, "bpfstub: at most %d --allow-%s options\n", PEER_MAX_ALLOWED,
			user ? "user" : "group");
		return -E2BIG;
	}
	err = user ? peer__parse_user(arg, &r->users[*n]) : peer__parse_group(arg, &r->groups[*n]);
	if (err) {
		fprintf(stderr, "bpfstub: --allow-%s %s: no such %s\n", user ? "user" : "group",
			arg, user ? "user" : "group");
		return err;
	}
	(*n)++;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"attach", no_argument, NULL, 'a'},
		{"attach-exe", required_argument, NULL, 'X'},
		{"children", no_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"debug", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"save-dir", required_argument, NULL, 'D'},
		{"save-on-exit", required_argument, NULL, 'S'},
		{"max-hit-rate", required_argument, NULL, 'R'},
		{"max-overhead", required_argument, NULL, 'O'},
		{"hit-cost", required_argument, NULL, 'C'},
		{"trace-timeout", required_argument, NULL, 'T'},
		{"debuginfod", required_argument, NULL, 'I'},
		{"no-debuginfod", no_argument, NULL, 'N'},
		{"allow-user", required_argument, NULL, 'U'},
		{"allow-group", required_argument, NULL, 'G'},
		{"allow-remote", no_argument, NULL, 'r'},
		{"audit", required_argument, NULL, 'A'},
		{NULL, 0, NULL, 0},
	};
	static char save_dir[4096];
	struct srv_opts o = {.save_dirfd = -1};
	static struct tgt_set set;
	struct tgt t;
	char err[512] = "";
	const char *exe = NULL;
	pid_t pids[TGT_SET_MAX_PIDS];
	size_t npids = 0;
	bool attach = false, children = false;
	const char *comm = NULL, *audit_file = NULL;
	pid_t pid = 0;
	int c, rc;

	/* '+': stop at the first non-option, so PROG's own options stay PROG's. */
options:
	while ((c = getopt_long(argc, argv, "+vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attach = true;
			break;
		case 'X':
			exe = optarg;
			break;
		case 'c':
			children = true;
			break;
		case 'o':
			o.once = true;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bpfstub %s\n", BPFSTUB_VERSION);
			return 0;
		case 'D':
			if (!realpath(optarg, save_dir)) {
				fprintf(stderr, "bpfstub: --save-dir %s: %s\n", optarg,
					strerror(errno));
				return EXIT_USAGE;
			}
			o.save_dir = save_dir;
			break;
		case 'S':
			o.save_on_exit = optarg;
			break;
		case 'A':
			audit_file = optarg;
			break;
		case 'R':
		case 'O':
		case 'C':
		case 'T':
		case 'I':
			if (add_setting(&o, longopts, c, optarg))
				return EXIT_USAGE;
			break;
		case 'N':
			if (add_setting(&o, longopts, 'I', "off"))
				return EXIT_USAGE;
			break;
		case 'U':
		case 'G':
			if (add_allowed(&o.peers, c, optarg))
				return EXIT_USAGE;
			break;
		case 'r':
			o.peers.allow_remote = true;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!comm && optind >= argc) {
		fprintf(stderr, "bpfstub: missing COMM (where to listen)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!comm) {
		comm = argv[optind++];
		/* "COMM --attach PID", "COMM --attach-exe PATH": options may come after COMM. */
		if (optind < argc && argv[optind][0] == '-' && argv[optind][1])
			goto options;
	}
	/* "--attach PID --children": the option may come after the pid. */
	if (attach && optind + 2 == argc && !strcmp(argv[argc - 1], "--children")) {
		children = true;
		argc--;
	}
	if (o.save_dir) {
		o.save_dirfd = open(o.save_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (o.save_dirfd < 0) {
			fprintf(stderr, "bpfstub: --save-dir %s: %s\n", o.save_dir,
				strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (srv__parse_comm(comm, &o)) {
		fprintf(stderr, "bpfstub: bad COMM '%s': expected [HOST]:PORT, unix:PATH or -\n",
			comm);
		return EXIT_USAGE;
	}
	if (exe && (attach || optind < argc)) {
		fprintf(stderr, "bpfstub: --attach-exe PATH takes no --attach and no program\n");
		return EXIT_USAGE;
	}
	if (attach && (optind + 1 != argc || tgt_set__parse_pids(argv[optind], pids, &npids))) {
		fprintf(stderr, "bpfstub: --attach takes a process id, or several: PID,PID,...\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (children && (!attach || npids != 1)) {
		fprintf(stderr, "bpfstub: --children goes with --attach PID (one pid)\n");
		return EXIT_USAGE;
	}
	pid = npids ? pids[0] : 0;
	/* Several processes: the set, then its leader is the process served. */
	if (exe || npids > 1 || children) {
		rc = exe ? tgt_set__init_exe(&set, exe, err, sizeof(err))
			 : tgt_set__init_pids(&set, pids, npids, children, err, sizeof(err));
		if (!rc)
			rc = tgt_set__leader(&set, &pid, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "bpfstub: %s\n", err);
			return 1;
		}
		attach = true;
	}
	if (!attach && !exe && optind >= argc) {
		fprintf(stderr, "bpfstub: give --attach PID or a program to run\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Syslog always; FILE opened now, while bpfstub has every privilege. */
	if (audit__new(&o.audit, audit_file, err, sizeof(err))) {
		fprintf(stderr, "bpfstub: %s\n", err);
		return EXIT_USAGE;
	}
	if (attach)
		rc = tgt__attach(&t, pid, err, sizeof(err));
	else
		rc = tgt__launch(&t, argv + optind, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bpfstub: %s\n", err[0] ? err : strerror(-rc));
		audit__free(o.audit);
		return 1;
	}
	if (exe || npids > 1 || children) {
		char what[PATH_MAX + 64];

		t.set = &set;
		tgt_set__describe(&set, what, sizeof(what));
		fprintf(stderr, "bpfstub: %s: serving pid %d as the leader (what GDB sees)\n",
			what, (int)pid);
	}
	audit__set_target(o.audit, t.pid);
	audit__log(o.audit, "start", "listen", comm, "mode", attach ? "attach" : "launch",
		   "version", BPFSTUB_VERSION, NULL);
	check_caps();
	if (t.launched && o.kind != SRV_STDIO)
		fprintf(stderr, "bpfstub: launched %s as pid %d (running, never stopped)\n",
			argv[optind], t.pid);

	rc = srv__run(&o, &t);
	tgt__close(&t);
	audit__log(o.audit, "exit", "status", rc ? "error" : "ok", NULL);
	audit__free(o.audit);
	return rc;
}
