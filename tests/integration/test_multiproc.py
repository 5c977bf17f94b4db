"""Several processes of one executable as one target (issue 19):
--attach-exe PATH, --attach PID,PID, --attach PID --children.

Target: tests/targets/prefork.c, a pre-forked TCP service: a master, 3
workers sharing its listening socket, each worker replies "2N PID" to a
request "N" through handle(n) and exits after 3 requests (REQS), the master
replacing it.  Each request is its own TCP connection, so the reply names
the process that served it: the frames expected are known exactly.
Nothing may ever stop: every process of the set is sampled throughout.
"""

import os
import re
import subprocess
import sys
import threading
import time

from harness import Stub, Target, gdb_pipe, lldb_batch, needs_bpf, require_stub, target_path
from harness import gdb_connect as connect
from prefork_req import request

MON = "process plugin packet monitor"


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


class TreeSampler:
    """ThreadStateSampler over processes and all their children: fails the
    test if any thread of any of them is ever stopped ('t'/'T') or traced."""

    def __init__(self, roots, interval=0.002):
        self.roots = list(roots)
        self.interval = interval
        self.samples = 0
        self.seen = set()
        self.violations = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        pids = list(self.roots)
        for r in self.roots:
            pids += children(r)
        for pid in pids:
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        s = f.read()
                    if s[s.rindex(")") + 2] in "tT":
                        self.violations.append(f"pid {pid} thread {tid} stopped")
                with open(f"/proc/{pid}/status") as f:
                    m = re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M)
                if m and int(m.group(1)):
                    self.violations.append(f"pid {pid} traced")
                self.seen.add(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
        self.samples += 1

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._stop.set()
        self._thread.join(5)
        if exc_type is None:
            assert not self.violations, sorted(set(self.violations))[:5]
            assert self.samples > 10 and len(self.seen) >= 2, (self.samples, self.seen)


def frames(g, count):
    """tfind 0..count-1: [(n, $trace_pid, info symbol $pc)]."""
    rows = []
    for i in range(count):
        out = g.cmd(f"tfind {i}")
        assert f"Found trace frame {i}," in out, out
        n = re.search(r"\$\d+ = (-?\d+)", g.cmd("print n"))
        pid = re.search(r"\$\d+ = (\d+)", g.cmd("print $trace_pid"))
        assert n and pid, g.cmd("tdump")
        rows.append((int(n.group(1)), int(pid.group(1)), g.cmd("info symbol $pc").strip()))
    g.cmd("tfind none")
    return rows


def gdb_trace(stub, exe, during, check_lines=None):
    """GDB: trace handle (collect $regs, n), tstart, during(), tstop:
    (tstatus, monitor tframes, frames rows, monitor status)."""
    with gdb_pipe(exe) as g:
        connect(g, stub)
        out = g.cmd("trace handle")
        assert "Tracepoint 1 at" in out, out
        g.cmd("actions 1\ncollect $regs\ncollect n\nend")
        out = g.cmd("tstart")
        assert not re.search(r"error|warning", out, re.I), out
        during()
        g.cmd("tstop")
        st = g.cmd("tstatus")
        m = re.search(r"Collected (\d+) trace frames", st)
        assert m, st
        count = int(m.group(1))
        tframes = g.cmd("monitor tframes")
        rows = frames(g, count)
        status = g.cmd("monitor status")
        return count, tframes, rows, status


def tframes_pids(text):
    """{frame: pid} from monitor tframes lines "N  TIME  pid P  thread T  tp 1 ..."."""
    out = {}
    for m in re.finditer(r"^(\d+)\s+\S+\s+pid (\d+)\s+thread (\d+)\s+tp 1\s+handle\(n=(\d+)\)",
                         text, re.M):
        out[int(m.group(1))] = (int(m.group(2)), int(m.group(4)))
    return out


@needs_bpf
def test_attach_exe_gdb_prefork_with_replacements():
    """--attach-exe: 20 requests, each its own connection, to a master whose
    workers exit after 3 requests: exactly 20 frames, their n values the 20
    sent, from every worker that served one (replacements forked after
    tstart included), each frame naming its pid in tframes and $trace_pid."""
    require_stub()
    exe = target_path("prefork")
    with Target("prefork") as t, TreeSampler([t.pid]), \
            Stub(["--attach-exe", exe]) as stub:
        assert f"serving pid {t.pid} as the leader" in stub.stderr_text()
        sent = [1000 + i for i in range(20)]
        served = {}
        before = set()

        def during():
            before.update(children(t.pid))
            for n in sent:
                served[n] = request(t.port, n)

        count, tframes, rows, status = gdb_trace(stub, exe, during)
        assert count == 20, (count, tframes)
        assert sorted(n for n, _, _ in rows) == sorted(sent), rows
        for n, pid, sym in rows:
            assert pid == served[n], (n, pid, served)
            assert re.match(r"handle( \+ \d+)? in section \.text", sym), sym
        pids = {pid for _, pid, _ in rows}
        assert len(pids) >= 4, pids
        assert pids - before, f"no replacement worker's frames: {pids} vs {before}"
        tf = tframes_pids(tframes)
        assert len(tf) == 20, tframes
        for i, (n, pid, _) in enumerate(rows):
            assert tf[i] == (pid, n), (i, tf[i], rows[i])
        assert "processes: --attach-exe " + exe in status, status
        assert "collected in: every process running the file" in status, status
        m = re.search(r"most frames: (.*)", status)
        assert m, status
        top = [(int(a), int(b)) for a, b in re.findall(r"pid (\d+): (\d+)", m.group(1))]
        assert 1 <= len(top) <= 5 and top[0][1] == max(
            sum(1 for _, p, _ in rows if p == q) for q in pids), (top, rows)


@needs_bpf
def test_attach_exe_process_started_later_and_pie_layout():
    """--attach-exe on a PIE: a second master started separately *after*
    tstart (its own ASLR base) is served from its first hit: its frames hold
    the n sent to it, and $pc is handle in the leader's layout."""
    require_stub()
    exe = target_path("prefork-pie")
    with Target("prefork-pie") as a, TreeSampler([a.pid]), \
            Stub(["--attach-exe", exe]) as stub:
        later = {}

        def during():
            with Target("prefork-pie") as b:
                later["pid"] = b.pid
                for n in (7, 8, 9, 10):
                    later[n] = request(b.port, n)
            for n in (20, 21):
                later[n] = request(a.port, n)

        count, tframes, rows, _ = gdb_trace(stub, exe, during)
        assert count == 6, (count, tframes)
        assert sorted(n for n, _, _ in rows) == [7, 8, 9, 10, 20, 21], rows
        for n, pid, sym in rows:
            assert pid == later[n], (n, pid, later)
            assert re.match(r"handle( \+ \d+)? in section \.text", sym), sym
        b_workers = {later[n] for n in (7, 8, 9, 10)}
        assert not b_workers & set(children(a.pid)), "b's workers are not a's"


@needs_bpf
def test_attach_exe_lldb_monitor():
    """LLDB over --attach-exe: monitor trace handle, tstart, requests, tstop:
    monitor tframes lists one frame per request with its pid."""
    require_stub()
    exe = target_path("prefork")
    with Target("prefork") as t, TreeSampler([t.pid]), \
            Stub(["--attach-exe", exe]) as stub:
        script = os.path.join(os.path.dirname(__file__), "..", "lib", "prefork_req.py")
        ns = [500 + i for i in range(8)]
        r = lldb_batch([f"gdb-remote {stub.addr}",
                        f"{MON} trace handle",
                        f"{MON} tstart",
                        f"platform shell {sys.executable} {script} {t.port} "
                        + " ".join(map(str, ns)),
                        f"{MON} tstop",
                        f"{MON} tframes",
                        "process detach"])
        served = dict(re.findall(r"(\d+)->(\d+)", r.out[3]))
        assert len(served) == 8, r.text
        got = {}
        for m in re.finditer(r"pid (\d+)\s+thread \d+\s+tp 1\s+handle\(n=(\d+)\)", r.out[5]):
            got[m.group(2)] = m.group(1)
        assert got == {str(n): served[str(n)] for n in ns}, (got, served, r.out[5])


@needs_bpf
def test_attach_pids_only_the_chosen():
    """--attach W1,W2 (two workers of a master whose workers never exit):
    frames exactly of the requests those two served, none of the third's."""
    require_stub()
    with Target("prefork", [0, 3, 0]) as t, TreeSampler([t.pid]):
        w = sorted(children(t.pid))
        assert len(w) == 3, w
        with Stub(["--attach", f"{w[0]},{w[1]}"]) as stub:
            served = {}

            def during():
                for n in range(1, 31):
                    served[n] = request(t.port, n)

            count, tframes, rows, status = gdb_trace(stub, target_path("prefork"), during)
            want = sorted(n for n, p in served.items() if p in (w[0], w[1]))
            assert set(served.values()) >= {w[0], w[1]} or len(want) > 0, served
            assert sorted(n for n, _, _ in rows) == want, (rows, served)
            assert {p for _, p, _ in rows} <= {w[0], w[1]}, rows
            assert f"processes: --attach {w[0]},{w[1]}" in status, status
            assert "process map" in status, status


@needs_bpf
def test_children_of_a_master_not_another_instance():
    """--attach MASTER --children: frames of its workers (replacements forked
    during the run included), none of an unrelated prefork running the same
    executable at the same time."""
    require_stub()
    with Target("prefork") as a, Target("prefork") as b, TreeSampler([a.pid, b.pid]), \
            Stub(["--attach", a.pid, "--children"]) as stub:
        served = {}
        before = set(children(a.pid))

        def during():
            for n in range(1, 13):
                served[n] = request(a.port, n)
                served[100 + n] = request(b.port, 100 + n)

        count, tframes, rows, status = gdb_trace(stub, target_path("prefork"), during)
        assert count == 12, (count, tframes)
        assert sorted(n for n, _, _ in rows) == list(range(1, 13)), rows
        for n, pid, _ in rows:
            assert pid == served[n], (n, pid)
        assert {p for _, p, _ in rows} - before, "no replacement's frames"
        assert "children joining at fork" in status, status


@needs_bpf
def test_uid_owner_sees_only_its_processes():
    """A client let in as the owner of the leader (not root, no --allow-user)
    of --attach-exe sees frames only of processes it owns: a prefork of the
    same file run by root at the same time is not collected for it."""
    require_stub()
    import pwd
    name = "bpfsmp" + os.urandom(3).hex()
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-U", name], check=True,
                   capture_output=True)
    try:
        pw = pwd.getpwnam(name)
        prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
        exe = target_path("prefork")
        script = os.path.join(os.path.dirname(__file__), "..", "lib", "prefork_req.py")
        lib = os.path.join(os.path.dirname(__file__), "..", "lib")
        with Target("prefork", prefix=prefix) as mine, TreeSampler([mine.pid]):
            time.sleep(0.05)
            with Target("prefork") as roots, Stub(["--attach-exe", exe]) as stub:
                client = subprocess.run(
                    [*prefix, sys.executable, script, "--monitor", lib, stub.addr,
                     str(mine.port), str(roots.port)],
                    capture_output=True, text=True, timeout=60)
                out = client.stdout + client.stderr
                assert client.returncode == 0, out
                mine_served = dict(re.findall(r"mine (\d+)->(\d+)", out))
                assert len(mine_served) == 4, out
                got = {m.group(2): m.group(1) for m in re.finditer(
                    r"pid (\d+)\s+thread \d+\s+tp 1\s+handle\(n=(\d+)\)", out)}
                assert got == mine_served, (got, mine_served, out)
                assert "only those uid %d owns" % pw.pw_uid in out, out
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)
