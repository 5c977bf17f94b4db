"""USDT probes of a distribution's binary: Debian 12's /usr/bin/python3.11
(python3.11-minimal: non-PIE, stripped, its semaphores in a `.probes`
section of the RW segment, where file offset != vaddr - base).

The target is that interpreter running a loop that calls a Python function
handler() every 20 ms; handler() logs the time of each call (line-buffered)
to a file: the loop's own count of calls.

CPython 3.11 reaches python:function__entry only on its tracing path,
which it takes while sys.settrace is on or python:line's semaphore is
raised (CPython issue gh-98894): with only function__entry's own semaphore
raised - by the kernel, through the uprobe's reference counter, as a
bpftrace or bcc user's is - the site never runs and a uprobe there counts
0 hits.  bpfstub cannot change that; it must not be silent about it:
tstatus names the tracepoint and says what to add.  With python:line
enabled too (a tracepoint with `condition N 0`: its semaphore raised, no
frame collected), every call of handler() is one frame whose
$_probe_arg1 is the function's name, "handler", collected as a string.
"""

import contextlib
import os
import re
import struct
import subprocess
import tempfile

from harness import (Skip, Stub, ThreadStateSampler, actions, gdb_pipe, needs_bpf, read_mem,
                     wait_until)
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus

PYTHON = "/usr/bin/python3.11"

SCRIPT = r"""
import os, sys, time
log = open(sys.argv[1], "w", buffering=1)
def handler():
    log.write("%.6f\n" % time.time())
print("ready", os.getpid(), flush=True)
while True:
    handler()
    time.sleep(0.02)
"""


def sdt_semaphores(path):
    """{"provider:name": semaphore address} from the file's stapsdt notes (readelf)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True,
                         check=True).stdout
    sems = {}
    for m in re.finditer(r"Provider: (\S+)\s+Name: (\S+)\s+Location: 0x[0-9a-f]+, "
                         r"Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)", out):
        sems[f"{m.group(1)}:{m.group(2)}"] = int(m.group(3), 16)
    return sems


def debian_python():
    """Skip unless PYTHON is Debian's, with the probes this test traces."""
    if not os.access(PYTHON, os.X_OK):
        raise Skip(f"{PYTHON} missing (python3.11-minimal, scripts/install-deps.sh)")
    r = subprocess.run(["dpkg", "-S", PYTHON], capture_output=True, text=True)
    if r.returncode or not r.stdout.startswith("python3.11-minimal:"):
        raise Skip(f"{PYTHON} is not Debian's python3.11-minimal: {r.stdout or r.stderr}")
    sems = sdt_semaphores(PYTHON)
    if not (sems.get("python:function__entry") and sems.get("python:line")):
        raise Skip(f"{PYTHON} has no python:function__entry / python:line probes")
    return sems


@contextlib.contextmanager
def python_loop():
    """The interpreter running SCRIPT: yields (pid, log path)."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "calls")
        p = subprocess.Popen([PYTHON, "-c", SCRIPT, log], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        try:
            line = p.stdout.readline()
            m = re.match(rb"ready (\d+)", line)
            assert m, f"{PYTHON}: no 'ready' line: {line!r}"
            yield int(m.group(1)), log
            assert p.poll() is None, f"{PYTHON} died (status {p.returncode})"
        finally:
            p.kill()
            p.wait(timeout=10)
            p.stdout.close()


def calls(log):
    with open(log) as f:
        return [float(x) for x in f.read().split()]


def semaphore(pid, addr):
    return struct.unpack("<H", read_mem(pid, addr, 2))[0]


def frames_with_names(g):
    """[(frame, tracepoint, $trace_timestamp in us, the string at $_probe_arg1)]."""
    g.cmd("tfind none")
    out = g.cmd("\n".join(["tfind start",
                           "while ($trace_frame != -1)",
                           'printf "@@F %ld %ld %ld <%s>\\n", $trace_frame, $tracepoint, '
                           "$trace_timestamp, $_probe_arg1",
                           "tfind",
                           "end"]), timeout=120)
    rows = [(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4))
            for m in re.finditer(r"@@F (\d+) (\d+) (\d+) <(.*)>\s*$", out, re.M)]
    g.cmd("tfind none")
    return rows, out


@needs_bpf
def test_python311_function_entry():
    sems = debian_python()
    entry, line = sems["python:function__entry"], sems["python:line"]
    with python_loop() as (pid, log), ThreadStateSampler(pid), Stub.attach(pid) as stub, \
            gdb_pipe(file=PYTHON) as g:
        connect(g, stub)
        out = g.cmd("trace -probe-stap python:function__entry")
        assert "Tracepoint 1 at" in out, out
        g.cmd(actions("collect $_probe_arg1", "collect/s (char *)$_probe_arg1"))

        # Alone: the semaphore goes up, the site never runs - and tstatus says so.
        tstart(g)
        assert semaphore(pid, entry) == 1 and semaphore(pid, line) == 0
        n0 = len(calls(log))
        wait_until(lambda: len(calls(log)) >= n0 + 15, 10, what="15 calls of handler()")
        st = tstatus(g)
        assert st.running and st.frames == 0, st
        note = re.search(r"^Trace notes: (.*)$", st.text, re.M)
        assert note and re.search(r"tracepoint 1 not hit: CPython 3\.11 reaches "
                                  r"python:function__entry only while python:line is enabled "
                                  r"too \(CPython issue gh-98894\)", note.group(1)), st
        out = g.cmd("tstop")
        assert "warning" not in out.lower(), out
        wait_until(lambda: semaphore(pid, entry) == 0, 5, what="function__entry lowered")

        # With python:line's semaphore raised too, every call is a frame.
        out = g.cmd("trace -probe-stap python:line")
        assert "Tracepoint 2 at" in out, out
        g.cmd("condition 2 0")
        tstart(g)
        assert semaphore(pid, entry) == 1 and semaphore(pid, line) == 1
        n0 = len(calls(log))
        wait_until(lambda: len(calls(log)) >= n0 + 40, 20, what="40 calls of handler()")
        st = tstatus(g)
        assert st.running and "not hit" not in st.text, st
        g.cmd("tstop")
        wait_until(lambda: semaphore(pid, entry) == 0 and semaphore(pid, line) == 0, 5,
                   what="both semaphores lowered after tstop")
        logged = calls(log)

        rows, text = frames_with_names(g)
        assert rows and all(tp == 1 for _, tp, _, _ in rows), \
            f"frames of tracepoint 1 only (2 has condition 0):\n{text[-3000:]}"
        st = tstatus(g)
        assert len(rows) == st.frames, f"{len(rows)} frames read, tstatus says {st.frames}"
        names = {name for _, _, _, name in rows}
        assert names == {"handler"}, f"$_probe_arg1 strings: {names}"
        assert len(rows) >= 30, f"only {len(rows)} frames for 40 calls"
        # One frame per call: each frame's time is within 10 ms of one call
        # (calls are 20 ms apart), no two frames on one call, and every call
        # between the first and the last frame has its frame.
        us = [ts / 1e6 for _, _, ts, _ in rows]
        matched = []
        for t in us:
            near = min(range(len(logged)), key=lambda i: abs(logged[i] - t))
            assert abs(logged[near] - t) < 0.010, \
                f"frame at {t:.6f} matches no call (nearest {logged[near]:.6f})"
            matched.append(near)
        assert len(set(matched)) == len(matched), f"two frames for one call: {matched}"
        assert matched == list(range(matched[0], matched[0] + len(matched))), \
            f"calls without a frame between the first and the last: {matched}"
        out = g.cmd("detach")
        assert "Could not" not in out, out


@needs_bpf
def test_python311_function_entry_hint_only_where_it_applies():
    """No note for a tracepoint that is hit, nor for probes without a known quirk."""
    debian_python()
    with python_loop() as (pid, log), Stub.attach(pid) as stub, gdb_pipe(file=PYTHON) as g:
        connect(g, stub)
        for probe in ("python:line", "python:gc__start"):
            out = g.cmd(f"trace -probe-stap {probe}")
            assert "Tracepoint" in out, out
        g.cmd("condition 1 0")
        tstart(g)
        n0 = len(calls(log))
        wait_until(lambda: len(calls(log)) >= n0 + 5, 10, what="5 calls of handler()")
        st = tstatus(g)
        assert "not hit" not in st.text and "gh-98894" not in st.text, st
        g.cmd("tstop")
