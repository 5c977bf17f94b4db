"""Least privilege (issue 15): once bpfstub listens and has opened the target
it keeps only the capabilities it still needs and sets no_new_privs.

The checks read bpfstub's own capability sets from /proc/PID/status after it
started (the "Listening on" line, or for stdio the "serving pid" line), for
every transport, then trace a function end to end (tstart, frames, a value
in tdump), which must still work with what was kept, and `monitor status`
must say what was kept.

The plain-user case: a throwaway user runs the target and a copy of
bpfstub carrying exactly the file capabilities the README names
(cap_sys_ptrace,cap_bpf,cap_perfmon+ep); the same trace must work.  That
user cannot follow /proc/PID/map_files (CAP_CHECKPOINT_RESTORE) nor create
perf uprobes (CAP_SYS_ADMIN since Linux 6.16), so this exercises the
open-through-the-target's-root fallback (and its refusal of a file replaced
under the target) and the uprobe_multi links.  Then root's bpfstub, after
its drop, serves that other user's process, file replaced and all.
"""

import os
import platform
import re
import secrets
import select
import shutil
import subprocess
import tempfile

from harness import (BPFSTUB, ROOT, Skip, Stub, Target, actions, gdb_connect, gdb_pipe,
                     gdb_tfind, gdb_tstart, gdb_wait_frames, needs_bpf, require_stub, tail,
                     target_path, wait_until)

CAP_NAMES = {2: "cap_dac_read_search", 19: "cap_sys_ptrace", 21: "cap_sys_admin",
             38: "cap_perfmon", 39: "cap_bpf", 40: "cap_checkpoint_restore"}
# What bpfstub keeps (stub/serve/privs.c; docs/SECURITY.md, "Privileges").
KEPT = ("cap_dac_read_search", "cap_sys_ptrace", "cap_perfmon", "cap_bpf",
        "cap_checkpoint_restore")
# What the README promises is enough for a plain user.
USER_CAPS = ("cap_sys_ptrace", "cap_perfmon", "cap_bpf")


def mask(names):
    bits = {v: k for k, v in CAP_NAMES.items()}
    return sum(1 << bits[n] for n in names)


def names(m):
    return ",".join(CAP_NAMES.get(b, f"cap_{b}") for b in range(64) if m >> b & 1)


def proc_status(pid):
    """{field: value} of /proc/PID/status (Cap* as ints)."""
    st = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.strip()
            st[k] = int(v, 16) if k.startswith("Cap") else v
    return st


def expected_root_caps():
    """KEPT, and CAP_SYS_ADMIN on kernels without uprobe_multi links (< 6.6),
    of what this (root) test holds."""
    want = mask(KEPT)
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", platform.release()).groups())
    if (major, minor) < (6, 6):
        want |= 1 << 21
    return want & proc_status(os.getpid())["CapPrm"]


def assert_dropped(pid, want, bounding=True, what="bpfstub"):
    st = proc_status(pid)
    got = {k: st[k] for k in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")}
    detail = (f"{what}: " + ", ".join(f"{k}={v:#x} ({names(v)})" for k, v in got.items()) +
              f", NoNewPrivs={st.get('NoNewPrivs')}; want {names(want)}")
    assert st["CapEff"] == want and st["CapPrm"] == want, detail
    assert st["CapInh"] == 0 and st["CapAmb"] == 0, detail
    if bounding:
        assert st["CapBnd"] == want, detail
    assert st.get("NoNewPrivs") == "1", detail


def trace_compute(stub, path):
    """trace compute, collect $regs and calls, tstart, 3 frames, tdump frame 0;
    returns what `monitor status` printed."""
    with gdb_pipe(file=path) as g:
        gdb_connect(g, stub)
        out = g.cmd("trace compute")
        assert re.search(r"^Tracepoint 1 at 0x", out, re.M), out
        g.cmd(actions("collect $regs", "collect calls"))
        gdb_tstart(g)
        gdb_wait_frames(g, 3)
        g.cmd("tstop")
        assert gdb_tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        assert re.search(r"^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <compute", out, re.M), \
            f"tdump: no rip in compute:\n{out}"
        m = re.search(r"^calls = (\d+)\s*$", out, re.M)
        assert m and int(m.group(1)) > 0, f"tdump: no value of calls:\n{out}"
        g.cmd("tfind none")
        status = g.cmd("monitor status")
        g.cmd("detach")
        return status


def assert_status_line(status, want):
    line = f"capabilities: {names(want) or 'none'}; no_new_privs: 1"
    assert line in status, f"monitor status does not say {line!r}:\n{status}"


@needs_bpf
def test_root_keeps_only_the_documented_capabilities():
    require_stub()
    if os.geteuid() != 0:
        raise Skip("needs root")
    want = expected_root_caps()
    with Target("counter") as t:
        with tempfile.TemporaryDirectory(prefix="bpfstub-privs-") as tmp:
            for comm in ("127.0.0.1:0", f"unix:{tmp}/sock"):
                with Stub.attach(t.pid, comm=comm) as stub:
                    assert_dropped(stub.proc.pid, want, what=f"bpfstub on {comm}")
                    assert "kept capabilities " + names(want) in stub.stderr_text(), \
                        tail(stub.stderr_text())
                    if comm.startswith("127."):
                        assert_status_line(trace_compute(stub, t.path), want)
                        # Still the same sets after a trace (nothing raised them back).
                        assert_dropped(stub.proc.pid, want, what="bpfstub after the trace")

        # stdio: dropped before the first packet.
        err = tempfile.TemporaryFile()
        p = subprocess.Popen([BPFSTUB, "-", "--attach", str(t.pid)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err)
        try:
            def serving():
                err.seek(0)
                return b"serving pid" in err.read() or p.poll() is not None
            wait_until(serving, 10, what="bpfstub serving stdio")
            assert p.poll() is None, f"bpfstub exited: {p.returncode}"
            assert_dropped(p.pid, want, what="bpfstub on stdio")
            # ... and still serves: qC gets its reply.
            p.stdin.write(b"$qC#b4")
            p.stdin.flush()
            reply = b""
            while not re.search(rb"\$QC[^#]*#", reply):
                ready, _, _ = select.select([p.stdout], [], [], 10)
                chunk = os.read(p.stdout.fileno(), 4096) if ready else b""
                assert chunk, f"no reply to qC on stdio (got {reply!r})"
                reply += chunk
        finally:
            p.stdin.close()
            rc = p.wait(10)
            p.stdout.close()
        err.seek(0)
        text = err.read().decode(errors="replace")
        assert rc == 0 and "Sanitizer" not in text, f"stdio bpfstub: exit {rc}\n{tail(text)}"


def nosuid(path):
    r = subprocess.run(["findmnt", "-n", "-o", "OPTIONS", "-T", path], capture_output=True,
                       text=True)
    return r.returncode != 0 or "nosuid" in r.stdout.split(",")


def setcap_dir():
    """A fresh directory where file capabilities count (not on a nosuid mount)."""
    for base in ("/var/tmp", tempfile.gettempdir(), os.path.join(ROOT, "build")):
        if os.path.isdir(base) and not nosuid(base):
            d = tempfile.mkdtemp(prefix="bpfstub-privs-", dir=base)
            os.chmod(d, 0o755)
            return d
    raise Skip("no directory outside a nosuid mount for a file-capability binary")


@needs_bpf
def test_plain_user_with_the_readme_file_capabilities():
    require_stub()
    if os.geteuid() != 0:
        raise Skip("needs root (to create a user and set file capabilities)")
    for tool in ("useradd", "userdel", "setcap", "setpriv", "findmnt"):
        if not shutil.which(tool):
            raise Skip(f"no {tool} (setcap: Debian's libcap2-bin)")
    user = "bpfstub-t" + secrets.token_hex(3)
    d = setcap_dir()
    created = False
    try:
        subprocess.run(["useradd", "-m", "-U", "-s", "/bin/sh", user], check=True,
                       capture_output=True)
        created = True
        stub_copy = os.path.join(d, "bpfstub")
        prog = os.path.join(d, "counter")
        shutil.copy(BPFSTUB, stub_copy)
        shutil.copy(target_path("counter"), prog)
        os.chmod(stub_copy, 0o755)
        os.chmod(prog, 0o755)
        r = subprocess.run(["setcap", ",".join(USER_CAPS) + "+ep", stub_copy],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"setcap: {r.stderr}"
        as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"]
        with Target(prog, prefix=as_user) as t:
            uid = proc_status(t.pid)["Uid"].split()[0]
            assert uid != "0", f"the target runs as uid {uid}, not {user}"
            with Stub.attach(t.pid, prefix=as_user, binary=stub_copy) as stub:
                st = proc_status(stub.proc.pid)
                assert st["Uid"].split()[0] == uid, f"bpfstub runs as {st['Uid']}"
                # No CAP_SETPCAP: the bounding set stays as it was.
                assert_dropped(stub.proc.pid, mask(USER_CAPS), bounding=False,
                               what=f"bpfstub run by {user}")
                assert_status_line(trace_compute(stub, prog), mask(USER_CAPS))
                assert_dropped(stub.proc.pid, mask(USER_CAPS), bounding=False,
                               what="bpfstub after the trace")

                # The target's file replaced under it: without map_files the path
                # names another inode now, and the fallback refuses it.
                shutil.copy(target_path("counter"), prog + ".new")
                os.replace(prog + ".new", prog)
                with gdb_pipe(file=prog) as g:
                    gdb_connect(g, stub)
                    g.cmd("trace compute")
                    g.cmd(actions("collect calls"))
                    out = g.cmd("tstart")
                    refused = r"deleted or replaced since pid \d+ mapped it|is not the file it maps"
                    assert re.search(refused, out), f"tstart on a replaced file:\n{out}"
                    assert "map_files" in out, out
                    g.cmd("detach")
                assert stub.alive() and t.alive()

            # Root's bpfstub, after its drop, serves this other user's process:
            # the target's auxv is the user's 0400 file (CAP_DAC_READ_SEARCH), and
            # its file was replaced above, so only map_files leads to the code it
            # runs (CAP_CHECKPOINT_RESTORE).
            with Stub.attach(t.pid) as stub:
                want = expected_root_caps()
                assert_dropped(stub.proc.pid, want, what="root's bpfstub")
                with gdb_pipe(file=prog) as g:
                    gdb_connect(g, stub)
                    out = g.cmd("info auxv")
                    assert "AT_ENTRY" in out, f"info auxv:\n{out}"
                    g.cmd("detach")
                assert_status_line(trace_compute(stub, prog), want)
    finally:
        if created:
            subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
