"""`monitor tsave-ctf NAME`: the stored frames as a CTF 1.8 trace directory
beneath --save-dir, read by the real babeltrace2: one event per frame (as
many as `monitor tframes` lists), its text field the tframes line after
"tp N  ", its time the frame's $trace_timestamp on a clock of ns since the
Unix epoch, so `babeltrace2 dirA dirB` interleaves two nodes' traces by
time; the refusals (no --save-dir, an existing name, '..', outside).

Targets (tests/targets): govalues calls main.handle(name="req-k", n=100+k,
...) and main.pair(k) every 5 ms; counter calls compute(n, m, ...) about
every 5 ms.  Real BPF, real gdb, real lldb, real babeltrace2.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time

from harness import (Skip, attached, gdb_pipe, gdb_values_by_frame, lldb_batch, needs_bpf, tail,
                     wait_until)
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor
from harness import gdb_tstatus as tstatus

# babeltrace2's pretty line with --clock-seconds:
#   [1796606140.330208000] (+0.000076000) HOST bpfstub:return: { tp = 2, ..., text = "..." }
EVENT = re.compile(r'^\[(\d+)\.(\d{9})\] \(\S+\) (\S+) (bpfstub:\w+): \{ tp = (\d+), '
                   r'pid = (-?\d+), tid = (-?\d+), pc = (0x[0-9A-F]+), latency_ns = (-?\d+), '
                   r'frame = (\d+), text = "(.*)" \}$')
TFRAME = re.compile(r"^(\d+)  (\d\d:\d\d:\d\d\.\d{6})  (.*?)  tp (\d+)  (.*)$")


def babeltrace(*dirs):
    """babeltrace2 --clock-seconds DIRS: [event dict], checking it said nothing else."""
    if not shutil.which("babeltrace2"):
        raise Skip("babeltrace2 is not installed (scripts/install-deps.sh installs it)")
    p = subprocess.run(["babeltrace2", "--clock-seconds", *dirs], capture_output=True,
                       text=True, errors="replace", timeout=120)
    assert p.returncode == 0, f"babeltrace2 exit {p.returncode}:\n{tail(p.stderr)}"
    assert not p.stderr.strip(), f"babeltrace2 stderr:\n{tail(p.stderr)}"
    evs = []
    for line in p.stdout.splitlines():
        m = EVENT.match(line)
        assert m, f"babeltrace2 printed a line that is not an event:\n{line}"
        text = re.sub(r'\\(["\\])', r"\1", m.group(11))
        evs.append({"ns": int(m.group(1)) * 10**9 + int(m.group(2)), "host": m.group(3),
                    "class": m.group(4), "tp": int(m.group(5)), "pid": int(m.group(6)),
                    "tid": int(m.group(7)), "pc": int(m.group(8), 16),
                    "latency": int(m.group(9)), "frame": int(m.group(10)), "text": text})
    return evs


def tframes(g, n):
    """{frame: (tp, text after "tp N  ", who)} of `monitor tframes 0 n`."""
    out = monitor(g, f"tframes 0 {n}")
    got = {}
    for line in out.splitlines():
        m = TFRAME.match(line)
        if m:
            got[int(m.group(1))] = (int(m.group(4)), m.group(5), m.group(3))
    return got


def env_of(d):
    """The trace's env, as babeltrace2's sink.text.details prints it."""
    p = subprocess.run(["babeltrace2", d, "-c", "sink.text.details"], capture_output=True,
                       text=True, errors="replace", timeout=60)
    assert p.returncode == 0, tail(p.stderr)
    m = re.search(r"Environment \(\d+ entries\):\n((?:      .*\n)+)", p.stdout)
    assert m, f"no Environment in babeltrace2's details:\n{tail(p.stdout)}"
    return dict(re.findall(r"^      (\w+): (.*)$", m.group(1), re.M))


def run_govalues(g, t):
    """trace main.handle collecting its name and n, trace -return main.pair; >= 20 frames."""
    out = monitor(g, "trace main.handle collect name, n")
    entry = int(re.search(r"tracepoint 1 at (0x[0-9a-f]+)", out).group(1), 16)
    out = monitor(g, "trace -return main.pair")
    rets = {int(a, 16) for a in re.search(r"return instructions?: ((?:0x[0-9a-f]+ ?)+)",
                                          out).group(1).split()}
    monitor(g, "tstart")
    wait_until(lambda: (tstatus(g).frames or 0) >= 20, 20, what="20 frames")
    monitor(g, "tstop")
    return entry, rets


@needs_bpf
def test_tsave_ctf_babeltrace():
    """govalues: every frame is one event; its text is the tframes line's,
    tp, tid, pc and latency_ns the frame's (latency -1 for an entry frame),
    pid the target's; timestamps go up and equal $trace_timestamp * 1000;
    the env names host, executable, pid and version; 0700 / 0600 files."""
    with tempfile.TemporaryDirectory() as sd:
        with attached("govalues", options=["--save-dir", sd]) as (t, stub), \
                gdb_pipe(file=t.path) as g:
            connect(g, stub)
            entry, rets = run_govalues(g, t)
            n = tstatus(g).frames
            lines = tframes(g, n)
            assert len(lines) == n, f"{len(lines)} tframes lines, {n} frames"
            out = monitor(g, "tsave-ctf node")
            assert f"CTF trace written to node: {n} events (babeltrace2 node)" in out, out
            stamps = {f: v[0] for f, _, v in gdb_values_by_frame(g, ["$trace_timestamp"])}
            tids = {f: v[0] for f, _, v in gdb_values_by_frame(g, ["$trace_thread"])}
            t.assert_running("main.calls")
        check_node(sd, t, n, lines, stamps, tids, entry, rets)


def check_node(sd, t, n, lines, stamps, tids, entry, rets):
    d = os.path.join(sd, "node")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert sorted(os.listdir(d)) == ["metadata", "stream"], os.listdir(d)
    for f in os.listdir(d):
        assert stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode) == 0o600, f
    assert not [f for f in os.listdir(sd) if f.startswith(".")], os.listdir(sd)

    evs = babeltrace(d)
    assert len(evs) == n, f"{len(evs)} events, {n} frames"
    assert sorted(e["frame"] for e in evs) == list(range(n))
    assert len(stamps) == n, f"$trace_timestamp of {len(stamps)} frames, {n} frames"
    ns = [e["ns"] for e in evs]
    assert ns == sorted(ns), "babeltrace2's events go back in time"
    kinds = set()
    for e in evs:
        tp, text, who = lines[e["frame"]]
        assert (e["tp"], e["text"]) == (tp, text), \
            f"frame {e['frame']}: event {e['tp']} {e['text']!r}, tframes {tp} {text!r}"
        assert e["ns"] == stamps[e["frame"]] * 1000, e
        assert e["tid"] == tids[e["frame"]] and f"thread {e['tid']}" in who, (e, who)
        assert e["pid"] == t.pid and e["host"] == socket.gethostname(), e
        kinds.add(e["class"])
        if tp == 1:
            assert e["class"] == "bpfstub:monitor" and e["pc"] == entry, e
            assert e["latency"] == -1, e
            assert re.match(r'^main\.handle: name="req-(\d+)", n=(\d+)$', text), text
        else:
            assert e["class"] == "bpfstub:return" and e["pc"] in rets, e
            m = re.search(r"  latency (.*)$", text)
            assert m, text
            if m.group(1) == "unknown":
                assert e["latency"] == -1, e
            else:
                assert e["latency"] >= 0, e  # 0: within the probes' own cost (latency-bias)
                v, unit = m.group(1).split()
                scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
                assert abs(float(v) * scale - e["latency"]) <= scale / 1000 + 1, (e, text)
    assert kinds == {"bpfstub:monitor", "bpfstub:return"}, kinds
    env = env_of(d)
    assert env["hostname"] == socket.gethostname(), env
    assert os.path.realpath(env["executable"]) == os.path.realpath(t.path), env
    assert env["pid"].replace(",", "") == str(t.pid), env
    assert env["tracer_name"] == "bpfstub" and re.match(r"^\d+\.\d+\.\d+$",
                                                         env["tracer_version"]), env
    assert env["frames"].replace(",", "") == str(n), env


@needs_bpf
def test_tsave_ctf_two_nodes_merge():
    """Two stubs on two targets (counter's compute, govalues' handle),
    running at the same time, each written to its own directory:
    `babeltrace2 A B` prints all events of both, in time order, the two
    interleaved (the merge docs/DEPLOY.md describes), each as in its own."""
    with tempfile.TemporaryDirectory() as sd:
        with attached("counter", options=["--save-dir", sd]) as (ta, sa), \
                attached("govalues", options=["--save-dir", sd]) as (tb, sb), \
                gdb_pipe(file=ta.path) as ga, gdb_pipe(file=tb.path) as gb:
            connect(ga, sa)
            connect(gb, sb)
            monitor(ga, "trace compute collect n")
            monitor(gb, "trace main.handle collect n")
            monitor(ga, "tstart")
            monitor(gb, "tstart")
            wait_until(lambda: min(tstatus(ga).frames or 0, tstatus(gb).frames or 0) >= 15,
                       20, what="15 frames on each")
            monitor(ga, "tstop")
            monitor(gb, "tstop")
            na, nb = tstatus(ga).frames, tstatus(gb).frames
            assert "CTF trace written" in monitor(ga, "tsave-ctf nodeA")
            assert "CTF trace written" in monitor(gb, "tsave-ctf nodeB")
        check_merge(sd, ta, tb, na, nb)


def check_merge(sd, ta, tb, na, nb):
    a, b = os.path.join(sd, "nodeA"), os.path.join(sd, "nodeB")
    ea, eb = babeltrace(a), babeltrace(b)
    assert (len(ea), len(eb)) == (na, nb)
    assert {e["pid"] for e in ea} == {ta.pid} and {e["pid"] for e in eb} == {tb.pid}
    merged = babeltrace(a, b)
    assert len(merged) == na + nb, f"{len(merged)} events merged, {na} + {nb}"
    ns = [e["ns"] for e in merged]
    assert ns == sorted(ns), "the merged events are not in time order"
    # Each trace's events, in the merge, are its own, in its own order.
    for own, pid in ((ea, ta.pid), (eb, tb.pid)):
        assert [e for e in merged if e["pid"] == pid] == own
    # Interleaved: both ran at once, 5 ms apart each.
    switches = sum(1 for x, y in zip(merged, merged[1:]) if x["pid"] != y["pid"])
    assert switches >= 4, f"only {switches} switches between the two traces"
    assert all(re.match(r"^compute: n=\d+$", e["text"]) for e in ea), ea[:3]
    assert all(re.match(r"^main\.handle: n=\d+$", e["text"]) for e in eb), eb[:3]


@needs_bpf
def test_tsave_ctf_refusals():
    """No --save-dir: refused, saying so; with one: an existing name, '..',
    an absolute path outside it and a missing parent are refused with the
    reason, nothing is written anywhere and no partial directory stays;
    LLDB's console writes one the same way."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor tsave-ctf x")
        assert re.search(r"^monitor: bpfstub writes files only beneath a directory named "
                         r"with --save-dir", out, re.M), out
        assert not os.path.exists("x")
        out = g.cmd("monitor tsave-ctf")
        assert out.strip() == "monitor: usage: monitor tsave-ctf NAME", out
        assert re.search(r"^  tsave-ctf NAME +\S", g.cmd("monitor help tsave-ctf"), re.M)

    with tempfile.TemporaryDirectory() as top:
        sd = os.path.join(top, "save")
        os.mkdir(sd)
        os.mkdir(os.path.join(sd, "taken"))
        os.symlink(top, os.path.join(sd, "link"))
        with attached("counter", options=["--save-dir", sd]) as (t, stub):
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                monitor(g, "trace compute collect n")
                monitor(g, "tstart")
                wait_until(lambda: (tstatus(g).frames or 0) >= 3, 10, what="3 frames")
                monitor(g, "tstop")
                refusals = {
                    "taken": r"'taken' exists; bpfstub never overwrites",
                    "link": r"'link' exists; bpfstub never overwrites",
                    "../x": r"'\.\.' is not a directory inside .* \(no '\.\.' or symlinks\)",
                    "link/x": r"'link' is not a directory inside .* \(no '\.\.' or symlinks\)",
                    f"{top}/x": r".* is outside the save directory",
                    "nodir/x": r"'nodir' is not a directory inside",
                }
                for name, want in refusals.items():
                    out = g.cmd(f"monitor tsave-ctf {name}")
                    assert re.search(rf"^monitor: {want}", out, re.M), f"{name}:\n{out}"
                assert os.listdir(os.path.join(sd, "taken")) == []
                assert sorted(os.listdir(sd)) == ["link", "taken"], os.listdir(sd)
                assert sorted(os.listdir(top)) == ["save"], os.listdir(top)
                out = monitor(g, f"tsave-ctf {sd}/gdb")
                assert "CTF trace written" in out, out
            time.sleep(0.3)  # one client at a time: let the stub see GDB go
            r = lldb_batch([f"gdb-remote {stub.addr}",
                            "process plugin packet monitor tsave-ctf lldb", "process detach"])
            assert "CTF trace written to lldb:" in r.text, r.text
        assert len(babeltrace(os.path.join(sd, "lldb"))) == len(babeltrace(os.path.join(sd, "gdb")))
