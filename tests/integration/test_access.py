"""Who may connect: a client is served only if its user could debug the
target itself (root, the target's owner, --allow-user, --allow-group), and
a non-loopback listening address needs --allow-remote.

Throwaway users and groups (bpfsacc<random>) are created with useradd and
groupadd and always deleted; clients run as them through setpriv.  A
refused client must get one E. reply naming who was refused and how to
allow them, and nothing of the target: the raw client's `m` is answered
with the refusal, bpfstub's packet log (-v) never shows it, and the
connection is closed.  The last test serves GDB over ssh (a real sshd on a
free loopback port, throwaway keys) and traces the target end to end.
"""

import contextlib
import os
import pwd
import grp
import json
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

from harness import (BPFSTUB, CLIENT_ENV, ROOT, Stub, Target, ThreadStateSampler, actions,
                     attached, gdb_pipe, gdb_tfind, gdb_tstart, gdb_wait_frames, hexstr,
                     needs_bpf, require_stub, rsp_client, tail, tracepoint_address, wait_until)

LIB = os.path.join(ROOT, "tests", "lib")
REFUSED = re.compile(r"E\.bpfstub: uid (\d+) \((\w+)\) may not debug pid (\d+) "
                     r"\(owned by [^)]*\)+; run bpfstub --allow-user (\w+) to allow it")


# --------------------------------------------------------------------------
# helpers


def _name():
    return "bpfsacc" + secrets.token_hex(3)


@contextlib.contextmanager
def throwaway_group():
    name = _name()
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    try:
        yield grp.getgrnam(name)
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


@contextlib.contextmanager
def throwaway_user(groups=()):
    """A user with no home and no login shell (and its own private group)."""
    name = _name()
    argv = ["useradd", "-M", "-s", "/usr/sbin/nologin", "-U"]
    if groups:
        argv += ["-G", ",".join(groups)]
    subprocess.run([*argv, name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        with contextlib.suppress(KeyError):
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], capture_output=True)


def as_user(pw, argv, caps=()):
    """argv run as pw; caps (e.g. "sys_ptrace") kept as ambient capabilities."""
    keep = []
    if caps:
        c = ",".join("+" + x for x in caps)
        keep = [f"--inh-caps={c}", f"--ambient-caps={c}"]
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", *keep,
            "env", "HOME=/tmp", *argv]


def run_stub(args, timeout=10):
    require_stub()
    return subprocess.run([BPFSTUB, *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


# A raw client, run as another user: its first packet is `m` (then `?`).
RAW_CLIENT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from harness import RspClient
addr, mem = sys.argv[2], sys.argv[3]
if addr.startswith("["):
    host, port = addr[1:].split("]:")
    import socket
    c = RspClient.__new__(RspClient)
    c.sock = socket.create_connection((host, int(port)), 5)
    c.timeout, c.ack_mode, c._buf, c.log = 5, True, b"", []
else:
    c = RspClient(addr)
print("REPLY", c.request(mem), flush=True)
try:
    print("SECOND", c.request("?", timeout=3), flush=True)
except Exception as e:
    print("CLOSED", type(e).__name__, flush=True)
"""


def raw_client_as(pw, addr, mem, caps=()):
    """(first reply, what happened to the second request) for a client run as pw."""
    # The system python: the test's own may live where pw cannot read.
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    p = subprocess.run(as_user(pw, [python, "-c", RAW_CLIENT, LIB, addr, mem], caps),
                       capture_output=True, text=True, timeout=30)
    reply = re.search(r"^REPLY (.*)$", p.stdout, re.M)
    assert reply, f"raw client as {pw.pw_name} got no reply:\n{p.stdout}\n{p.stderr}"
    second = re.search(r"^(SECOND|CLOSED) ?(.*)$", p.stdout, re.M)
    return reply.group(1), second.group(0) if second else p.stdout


def gdb_as(pw, addr, *cmds):
    argv = ["gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off",
            "-ex", f"target remote {addr}", *sum((["-ex", c] for c in cmds), [])]
    p = subprocess.run(as_user(pw, argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, env=dict(CLIENT_ENV, HOME="/tmp"))
    return p.stdout.decode(errors="replace")


def assert_refused(stub, t, pw, addr):
    """pw is refused: the raw `m` gets the E. reply and the connection closes,
    nothing reaches the session, GDB prints the message, stderr says it."""
    mem = f"m{t.addr_of('message'):x},c"
    start = len(stub.stderr_text())
    reply, second = raw_client_as(pw, addr, mem)
    m = REFUSED.match(reply)
    assert m, f"expected the refusal as the reply to `m`, got {reply!r}"
    assert m.group(1) == str(pw.pw_uid) and m.group(2) == pw.pw_name, reply
    assert m.group(3) == str(t.pid) and m.group(4) == pw.pw_name, reply
    assert second.startswith("CLOSED"), f"the connection stayed open: {second}"
    out = gdb_as(pw, addr, "print 1")
    assert re.search(r"Remote failure reply: E\.bpfstub: uid \d+ \(" + pw.pw_name +
                     r"\) may not debug pid " + str(t.pid), out), f"gdb showed:\n{out}"
    assert "Remote debugging using" not in out or "Remote connection closed" in out or \
        "Target disconnected" in out, out
    err = stub.stderr_text()[start:]
    assert re.search(rf"^bpfstub: uid {pw.pw_uid} \({pw.pw_name}\) may not debug pid {t.pid}",
                     err, re.M), f"stderr does not say who was refused:\n{tail(err)}"
    # Nothing of the refused clients reached the session.
    assert f"<- {mem}" not in err and not re.search(r"^bpfstub: <- ", err, re.M), \
        f"a refused client's packet was handled:\n{tail(err)}"


def assert_served(t, pw, addr, caps=()):
    mem = f"m{t.addr_of('message'):x},c"
    reply, second = raw_client_as(pw, addr, mem, caps)
    assert reply == hexstr("hello from c"), f"{pw.pw_name}: `{mem}` -> {reply!r}"
    assert second.startswith("SECOND T"), f"{pw.pw_name}: `?` -> {second}"


@contextlib.contextmanager
def user_target(pw, name="counter", real_only=False):
    """A target started as pw (setpriv execs it: the pid is the same);
    real_only: only its real uid and gid are pw's (as a set-uid-root program)."""
    t = Target(name)
    real = t.path
    t.path = "/usr/bin/setpriv"
    if real_only:
        t.args = [f"--ruid={pw.pw_uid}", f"--rgid={pw.pw_gid}", "--keep-groups", real]
    else:
        t.args = [f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", real]
    try:
        t.start()
        t.path = real
        yield t
    finally:
        t.kill()


@contextlib.contextmanager
def sock_dir():
    """A temporary directory other users can reach a socket in."""
    d = tempfile.mkdtemp(prefix="bpfsacc-")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# refused


def test_refused_tcp_ipv4():
    """Neither root nor the owner, over 127.0.0.1: refused, reads nothing.
    LLDB 14 prints no message from the stub while connecting, only its own
    "no stop reply packet was received" (and, rarely, LLDB itself waits on
    the closed connection until killed: a race in LLDB, tolerated here)."""
    with throwaway_user() as pw, attached("counter") as (t, stub):
        assert_refused(stub, t, pw, stub.addr)
        start = len(stub.stderr_text())
        try:
            p = subprocess.run(as_user(pw, ["lldb", "--no-lldbinit", "--batch", "-o",
                                            f"gdb-remote {stub.addr}"]),
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=15, env=dict(CLIENT_ENV, HOME="/tmp"))
            assert re.search(r"^error: .*no stop reply", p.stdout + p.stderr, re.M), \
                f"lldb:\n{p.stdout}{p.stderr}"
        except subprocess.TimeoutExpired:
            pass
        err = stub.stderr_text()[start:]
        assert f"uid {pw.pw_uid} ({pw.pw_name}) may not debug" in err, tail(err)
        assert not re.search(r"^bpfstub: <- ", err, re.M), tail(err)
        with rsp_client(stub.addr) as c:  # root is still served afterwards
            c.supported()
            assert (c.request("?") or "")[:1] == "T"


def test_refused_tcp_ipv6():
    """The same over [::1] (sock_diag with IPv6 addresses)."""
    with throwaway_user() as pw, attached("counter", comm="[::1]:0") as (t, stub):
        assert stub.addr.startswith("[::1]:"), stub.addr
        assert_refused(stub, t, pw, stub.addr)


def test_refused_unix_socket_widened_for_someone_else():
    """unix socket widened (--allow-user another user): the socket is 0666,
    and the peer check still refuses this one."""
    with throwaway_user() as other, throwaway_user() as pw, sock_dir() as d:
        sock = os.path.join(d, "stub.sock")
        with attached("counter", comm=f"unix:{sock}",
                      options=["--allow-user", other.pw_name]) as (t, stub):
            assert stat.S_IMODE(os.stat(sock).st_mode) == 0o666, oct(os.stat(sock).st_mode)
            assert_refused(stub, t, pw, sock)


def test_cap_sys_ptrace_served_over_unix_socket():
    """A unix-socket peer holding CAP_SYS_PTRACE is served (its CapEff read
    through the SO_PEERCRED pid); without it the same user is refused."""
    with throwaway_user() as other, throwaway_user() as pw, sock_dir() as d:
        sock = os.path.join(d, "stub.sock")
        with attached("counter", comm=f"unix:{sock}", options=["--allow-user", other.pw_name],
                      verbose=False) as (t, stub):
            assert_served(t, pw, sock, caps=["sys_ptrace"])
            reply, _ = raw_client_as(pw, sock, f"m{t.addr_of('message'):x},c")
            assert REFUSED.match(reply), reply


def test_unix_socket_default_mode_0600():
    with sock_dir() as d:
        sock = os.path.join(d, "stub.sock")
        with attached("counter", comm=f"unix:{sock}"):
            st = os.stat(sock)
            assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, oct(st.st_mode)


def test_second_client_still_refused_busy():
    """A second (allowed) client while one is served gets the busy reply."""
    with attached("counter") as (t, stub), rsp_client(stub.addr) as first:
        first.supported()
        with rsp_client(stub.addr) as second:
            r = second.request("qSupported")
            assert r and r.startswith("E.") and "one client at a time" in r, r
            second.assert_closed()
        assert (first.request("?") or "")[:1] == "T"


# --------------------------------------------------------------------------
# served


def test_owner_is_served():
    """A target started by the user, bpfstub as root: the user is served
    over TCP, another user is not."""
    with throwaway_user() as pw, throwaway_user() as other, user_target(pw) as t, \
            ThreadStateSampler(t.pid), Stub.attach(t.pid) as stub:
        assert_served(t, pw, stub.addr)
        reply, _ = raw_client_as(other, stub.addr, f"m{t.addr_of('message'):x},c")
        m = REFUSED.match(reply)
        assert m and f"owned by uid {pw.pw_uid} ({pw.pw_name})" in reply, reply
        t.assert_running()


def test_set_id_target_not_owned():
    """A target whose real uid is the user's but effective and saved uids
    are root's (as a set-uid-root program runs): the user may not debug it."""
    with throwaway_user() as pw, user_target(pw, real_only=True) as t, \
            Stub.attach(t.pid) as stub:
        uids = open(f"/proc/{t.pid}/status").read().split("Uid:")[1].split()[:3]
        assert uids == [str(pw.pw_uid), "0", "0"], uids
        assert_refused(stub, t, pw, stub.addr)


def test_root_is_served():
    with attached("counter") as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        assert c.request(f"m{t.addr_of('message'):x},c") == hexstr("hello from c")


def test_allow_user_is_served():
    """--allow-user NAME and --allow-user UID."""
    with throwaway_user() as pw:
        for who in (pw.pw_name, str(pw.pw_uid)):
            with attached("counter", options=["--allow-user", who]) as (t, stub):
                assert_served(t, pw, stub.addr)


def test_allow_group_member_is_served():
    """--allow-group GROUP alone: the unix socket is 0660 and that group's;
    a member (supplementary group) is served, a non-member refused (over TCP,
    since it cannot even open the socket)."""
    with throwaway_group() as g, throwaway_user(groups=[g.gr_name]) as pw, \
            throwaway_user() as other, sock_dir() as d:
        sock = os.path.join(d, "stub.sock")
        with attached("counter", comm=f"unix:{sock}",
                      options=["--allow-group", g.gr_name]) as (t, stub):
            st = os.stat(sock)
            assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == g.gr_gid, \
                f"mode {oct(st.st_mode)} gid {st.st_gid}"
            assert_served(t, pw, sock)
        with attached("counter", options=["--allow-group", str(g.gr_gid)]) as (t, stub):
            assert_served(t, pw, stub.addr)
            assert_refused(stub, t, other, stub.addr)


# --------------------------------------------------------------------------
# remote access


def host_address():
    """A non-loopback IPv4 address of this host, or None."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if ":" not in a and not a.startswith("127.")), None)


def test_non_loopback_refused_without_allow_remote():
    with Target("counter") as t:
        comms = ["0.0.0.0:0", "[::]:0"]
        if host_address():
            comms.append(f"{host_address()}:0")
        for comm in comms:
            p = run_stub([comm, "--attach", t.pid])
            assert p.returncode == 2, f"{comm}: exit {p.returncode}, expected 2\n{p.stderr}"
            assert "not a loopback address" in p.stderr and "--allow-remote" in p.stderr, \
                f"{comm}: {p.stderr}"
        t.assert_running()


def test_allow_remote_warns_and_serves():
    """--allow-remote: a warning; a remote peer (here: this host's own
    address) is served, whoever it is; a loopback peer is still checked."""
    with throwaway_user() as pw:
        for comm in ("0.0.0.0:0", "[::]:0"):
            with attached("counter", comm=comm, options=["--allow-remote"]) as (t, stub):
                stub.wait_stderr(r"warning: listening on .* not loopback .*anyone who can "
                                 r"reach this port can read the target's memory")
                with rsp_client(f"127.0.0.1:{stub.port}") as c:
                    c.supported()
                    assert (c.request("?") or "")[:1] == "T"
                # v4-mapped on [::]: still checked by uid
                assert_refused(stub, t, pw, f"127.0.0.1:{stub.port}")
                if comm.startswith("["):
                    assert_refused(stub, t, pw, f"[::1]:{stub.port}")
                host = host_address()
                if host:
                    assert_served(t, pw, f"{host}:{stub.port}")


def test_bad_allow_values_exit_2():
    with Target("counter") as t:
        for opt, val, what in (("--allow-user", "nosuchuser" + secrets.token_hex(3), "user"),
                               ("--allow-group", "nosuchgroup" + secrets.token_hex(3),
                                "group")):
            p = run_stub([opt, val, "127.0.0.1:0", "--attach", t.pid])
            assert p.returncode == 2, f"{opt} {val}: exit {p.returncode}\n{p.stderr}"
            assert f"{opt} {val}: no such {what}" in p.stderr, p.stderr


def test_help_mentions_access_options():
    p = run_stub(["--help"])
    for opt in ("--allow-user", "--allow-group", "--allow-remote"):
        assert opt in p.stdout, f"--help does not mention {opt}"


# --------------------------------------------------------------------------
# stdio over ssh


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def sshd():
    """A real sshd on a free loopback port, throwaway host and user keys,
    root logins by key only.  Yields the ssh command line (a list)."""
    if not os.path.exists("/usr/sbin/sshd") or not shutil.which("ssh"):
        raise AssertionError("openssh-server / openssh-client missing (scripts/install-deps.sh)")
    d = tempfile.mkdtemp(prefix="bpfsacc-ssh-")
    os.makedirs("/run/sshd", exist_ok=True)
    proc = None
    try:
        for key in ("host", "user"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(d, key)], check=True)
        shutil.copy(os.path.join(d, "user.pub"), os.path.join(d, "authorized_keys"))
        port = free_port()
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\n"
                    f"PidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\n"
                    "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n")
        log = open(os.path.join(d, "sshd.log"), "w+")
        proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)

        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_until(listening, 10, what="sshd to listen")
        yield ["ssh", "-i", os.path.join(d, "user"), "-p", str(port),
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "root@127.0.0.1"]
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(d, ignore_errors=True)


@needs_bpf
def test_ssh_stdio_traces_end_to_end():
    """target remote | ssh ... bpfstub - --attach PID: trace compute, collect
    calls and $regs, tstart, frames, tstop, tfind, tdump shows the values."""
    require_stub()
    with sshd() as ssh, Target("counter") as t, ThreadStateSampler(t.pid), \
            gdb_pipe(file=t.path) as g:
        # ssh adds latency, and the first tstart measures the probe cost.
        g.cmd("set remotetimeout 30")
        out = g.cmd(f"target remote | {' '.join(ssh)} {BPFSTUB} - --attach {t.pid}",
                    timeout=60)
        assert "Remote debugging using" in out and "failed" not in out.lower(), out
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $regs", "collect calls"))
        gdb_tstart(g)
        gdb_wait_frames(g, 3)
        g.cmd("tstop")
        assert gdb_tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        m = re.search(r"^calls = (\d+)\s*$", out, re.M)
        assert m, f"tdump: no calls:\n{out}"
        calls = int(m.group(1))
        assert re.search(rf"^rdi\s+0x[0-9a-f]+\s+{calls % 1000}\s*$", out, re.M), \
            f"tdump: rdi is not calls % 1000 = {calls % 1000}:\n{out}"
        g.cmd("tfind none")
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
        t.assert_running()


# --------------------------------------------------------------------------
# audited


def test_connections_are_audited():
    """Every connection is one audit event before anything is served: a
    refused one with the peer, its uid and why; an accepted one likewise;
    and what the accepted client changes carries its peer and session."""
    d = tempfile.mkdtemp(prefix="bpfsacc-audit-")
    log = os.path.join(d, "audit.jsonl")
    try:
        with throwaway_user() as pw, attached("counter", options=["--audit", log]) as (t, stub):
            assert_refused(stub, t, pw, stub.addr)
            gdb_as(pwd.getpwuid(0), stub.addr, "monitor set max-hit-rate 12345")
            with open(log) as f:
                events = [json.loads(line) for line in f]
        conns = [e for e in events if e["event"] == "connect"]
        refused = [e for e in conns if e.get("result") == "refused"]
        accepted = [e for e in conns if e.get("result") == "accepted"]
        assert refused and accepted, f"connect events: {conns}"
        for e in refused:
            assert e["uid"] == str(pw.pw_uid), e
            assert re.match(r"127\.0\.0\.1:\d+$", e["peer"]), e
            assert f"uid {pw.pw_uid} ({pw.pw_name}) may not debug pid {t.pid}" in e["why"], e
            assert e["session"] == 0, e
        root = accepted[-1]
        assert root["uid"] == "0" and root["session"] >= 1, root
        change = [e for e in events if e["event"] == "setting" and
                  "12345" in json.dumps(e)]
        assert change, f"no setting event: {events}"
        assert change[0]["session"] == root["session"] and change[0]["peer"] == root["peer"], \
            (change[0], root)
        # Nothing of the target: its string never appears in the audit.
        with open(log) as f:
            assert "hello from c" not in f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)
