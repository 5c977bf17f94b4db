"""Traces outlive the session: disconnected tracing and reconnecting to a
running trace, trace files (tsave, tsave -ctf, tsave -r under --save-dir,
--save-on-exit), bpfstub ending on SIGTERM/SIGINT, and a long trace
through a circular buffer.

Every test watches the target's threads with ThreadStateSampler: one
thread in state t/T, or a tracer, fails it.  The checks are what the user
sees: gdb's output (tstatus, info tracepoints, tfind, tdump, print), files
gdb or babeltrace2 read back, the target's code bytes in /proc/PID/mem.

The C target's facts used here (tests/targets/counter.c): compute(n, m, it,
buf) is called by main with i = calls: n = i % 1000, m = 3i + 1,
it = &items[i % 4]; note_tick(t) is called by worker-2 with t = ticks;
main write()s 5 bytes to devnull_fd when calls % 10 == 0; with a second
argument H, hot threads "hot-1".."hot-H" call hot(k, i) in a tight loop,
i counting that thread's calls.

bpfstub runs without --once unless said otherwise, so that it keeps
listening after a client leaves.  The long trace's frame count is
BPFSTUB_LONG_FRAMES (default 1000000).
"""

import os
import re
import signal
import struct
import subprocess
import tempfile
import time

from harness import (FRAME_NOT_FOUND, Stub, Target, ThreadStateSampler, TraceStatus, actions,
                     assert_consecutive, elf_file_bytes, found_frame, gdb_batch, gdb_pipe,
                     gdb_values_by_frame, load_bias, needs_bpf, read_mem, tail,
                     tracepoint_address, tracepoint_hits, wait_until)
from harness import gdb_connect as connect
from harness import gdb_hits as hits
from harness import gdb_print_int as pint
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_frames as wait_created

COMPUTE_ACTIONS = ("collect $regs", "collect calls")
LONG_FRAMES = int(os.environ.get("BPFSTUB_LONG_FRAMES", "1000000"))


# --------------------------------------------------------------------------
# helpers


def clients_left(stub):
    return stub.stderr_text().count("bpfstub: client left")


def wait_client_left(stub, n):
    """Wait until bpfstub has logged its n-th "client left"."""
    wait_until(lambda: clients_left(stub) >= n, 10, interval=0.02,
               what=f"bpfstub to see client {n} leave")


def end_session(g, how, stub):
    """End a gdb session with a running trace: `disconnect`, `detach`, or
    SIGKILL to gdb.  Waits until bpfstub has seen the client go."""
    before = clients_left(stub)
    if how == "kill":
        g.proc.kill()
        g.proc.wait(10)
    else:
        out = g.cmd(how)
        assert not re.search(r"error|not confirmed", out, re.I), f"{how}:\n{out}"
        g.close()
    wait_client_left(stub, before + 1)


def trace_compute(g, t, *setup):
    """setup commands, then `trace compute` with COMPUTE_ACTIONS and tstart;
    returns the tracepoint's address."""
    for c in setup:
        out = g.cmd(c)
        assert "error" not in out.lower(), f"{c}:\n{out}"
    tp = tracepoint_address(g.cmd("trace compute"))
    code = t.addr_of("compute")
    assert code <= tp < code + 32, f"tracepoint at {tp:#x}, compute at {code:#x}"
    g.cmd(actions(*COMPUTE_ACTIONS))
    tstart(g)
    return tp


def check_compute_rows(rows, tp, what):
    """rows from gdb_values_by_frame(g, COMPUTE_EXPRS): every frame is at the
    tracepoint, its registers follow counter.c's formula, and `calls` goes
    up by 1 from frame to frame.  Returns the list of calls."""
    assert rows, f"{what}: no frames"
    for frame, tpn, (calls, rdi, rsi, pc) in rows:
        where = f"{what}: frame {frame}: calls={calls} rdi={rdi} rsi={rsi} pc={pc:#x}"
        assert tpn == 1, where
        assert pc == tp, f"{where}: $pc is not the tracepoint address {tp:#x}"
        assert rdi & 0xffffffff == calls % 1000, f"{where}: $rdi != calls % 1000"
        assert rsi == calls * 3 + 1, f"{where}: $rsi != 3 * calls + 1"
    calls = [r[2][0] for r in rows]
    assert_consecutive(calls, f"{what}: calls of successive frames")
    assert [r[0] for r in rows] == list(range(len(rows))), f"{what}: frame numbers"
    return calls


COMPUTE_EXPRS = ["calls", "$rdi", "$rsi", "(long)$pc"]

# Every frame's tdump, one gdb command (gdb's while loop).
WALK_TDUMP = "\n".join(["tfind start",
                        "while ($trace_frame != -1)",
                        'printf "@@FRAME %d %d\\n", $trace_frame, $tracepoint',
                        "tdump",
                        "tfind",
                        "end"])


def parse_tdumps(out):
    """{frame: (tracepoint, [tdump lines])} from the output of WALK_TDUMP."""
    dumps = {}
    cur = None
    for line in out.splitlines():
        m = re.search(r"@@FRAME (\d+) (\d+)\s*$", line)
        if m:
            cur = int(m.group(1))
            dumps[cur] = (int(m.group(2)), [])
            continue
        if cur is None or not line.strip():
            continue
        if line.startswith("Found trace frame") or FRAME_NOT_FOUND.search(line):
            continue
        dumps[cur][1].append(line.rstrip())
    return dumps


def live_tdumps(g):
    g.cmd("tfind none")
    d = parse_tdumps(g.cmd(WALK_TDUMP, timeout=120))
    g.cmd("tfind none")
    return d


def tfile_session(path, prog, cmds, timeout=120):
    """A fresh `gdb -batch PROG -ex 'target tfile PATH' ...`; returns the
    GdbResult (out[0] is target tfile's output, out[i + 1] is cmds[i]'s)."""
    r = gdb_batch([f"target tfile {path}", *cmds], file=prog, timeout=timeout)
    assert "Excessively long lines" not in r.out[0], \
        f"gdb cannot read the trace file {path} (a header line of 1000+ characters, " \
        f"e.g. a one-line target description):\n{r.out[0]}"
    assert not re.search(r"error|not a trace file|unknown", r.out[0], re.I), \
        f"target tfile {path}:\n{r.out[0]}"
    return r


def assert_same_tdumps(live, saved, what):
    """The tdump of every frame read back from a file equals the live one.
    A trace file's R block has no way to say a register was not collected,
    so a register <unavailable> live may show a value from the file: only
    its name is compared."""
    assert live, f"{what}: no live frames"
    assert sorted(saved) == sorted(live), \
        f"{what}: frames {sorted(saved)[:10]}... ({len(saved)}) in the file, " \
        f"{sorted(live)[:10]}... ({len(live)}) live"
    for f in sorted(live):
        ltp, llines = live[f]
        stp, slines = saved[f]
        assert stp == ltp, f"{what}: frame {f} is of tracepoint {stp} in the file, {ltp} live"
        assert any(re.match(r"^calls = \d+$", x) for x in llines), \
            f"{what}: live tdump of frame {f} shows no calls:\n" + "\n".join(llines)
        assert len(slines) == len(llines), \
            f"{what}: frame {f}: tdump has {len(slines)} lines from the file, " \
            f"{len(llines)} live:\n--- live\n" + "\n".join(llines) + \
            "\n--- file\n" + "\n".join(slines)
        for a, b in zip(llines, slines):
            if "<unavailable>" in a:
                assert a.split()[0] == b.split()[0], f"{what}: frame {f}: {a!r} vs {b!r}"
            else:
                assert a == b, f"{what}: frame {f}: live {a!r}, from the file {b!r}"


def orig_code(t, tp, n=4):
    return elf_file_bytes(t.path, tp - load_bias(t.pid, t.path), n)


def wait_code_restored(t, tp, orig):
    wait_until(lambda: read_mem(t.pid, tp, len(orig)) == orig, 5, interval=0.02,
               what=f"the code at {tp:#x} to be the original {orig.hex()} "
                    f"(now {read_mem(t.pid, tp, len(orig)).hex()})")


def vm_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


# --------------------------------------------------------------------------
# 1. Disconnected tracing: the trace runs on with nobody connected


def disconnected_run(how):
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub:
        g = gdb_pipe(file=t.path)
        try:
            connect(g, stub)
            tp = trace_compute(g, t, "set disconnected-tracing on")
            wait_created(g, 20)
            st1 = tstatus(g)
            assert st1.running and "Trace will continue if GDB disconnects." in st1.text, \
                str(st1)
            end_session(g, how, stub)
        finally:
            if g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait(5)
        # Nobody is connected now.
        calls_gone = t.read_long("calls")
        time.sleep(1.0)
        calls_back = t.read_long("calls")
        assert calls_back - calls_gone > 50, "compute() was hardly called"
        assert read_mem(t.pid, tp, 1) == b"\xcc", "the uprobe is gone with the client"

        with gdb_pipe(file=t.path) as g2:
            out = connect(g2, stub)
            assert "Trace is already running on the target." in out, \
                f"reconnecting to a running trace:\n{out}"
            assert re.search(r"Created tracepoint 1 for target's tracepoint 1 at "
                             rf"0x0*{tp:x}", out), f"tracepoint not uploaded:\n{out}"
            st2 = tstatus(g2)
            assert st2.running, f"the trace is not running after the reconnect:\n{st2}"
            assert st2.created >= st1.created + 0.8 * (calls_back - calls_gone), \
                f"frames did not keep arriving while nobody was connected: {st1.created} " \
                f"at the end of session 1, {st2.created} on reconnecting, and compute() " \
                f"was called {calls_back - calls_gone} times in between:\n{st2}"
            info = g2.cmd("info tracepoints")
            assert re.search(rf"^1\s+tracepoint\s+keep\s+y\s+0x0*{tp:x}\s+in compute at ",
                             info, re.M), f"info tracepoints:\n{info}"
            for a in COMPUTE_ACTIONS:
                assert re.search(rf"^\s+{re.escape(a)}\s*$", info, re.M), \
                    f"info tracepoints does not list the action {a!r}:\n{info}"
            assert "installed on target" in info and "not installed" not in info, info
            h = tracepoint_hits(info)
            assert h.get(1, 0) >= st2.created, f"hits {h} < frames {st2.created}"

            out = g2.cmd("tstop")
            assert "error" not in out.lower(), out
            st = tstatus(g2)
            assert not st.running and st.stop and "tstop command" in st.stop, str(st)
            rows = gdb_values_by_frame(g2, COMPUTE_EXPRS)
            assert len(rows) == st.frames, f"walked {len(rows)} frames, tstatus: {st.frames}"
            calls = check_compute_rows(rows, tp, f"after {how} and reconnect")
            assert calls[0] < calls_gone and calls[-1] >= calls_back, \
                f"frames cover calls {calls[0]}..{calls[-1]}, but nobody was connected " \
                f"for calls {calls_gone}..{calls_back}"
            # One frame of the time nobody was connected, as the user looks at it.
            mid = calls.index((calls_gone + calls_back) // 2)
            assert tfind(g2, str(mid)) == (mid, 1)
            out = g2.cmd("tdump")
            c = calls[mid]
            assert re.search(rf"^calls = {c}\s*$", out, re.M), f"tdump of frame {mid}:\n{out}"
            assert re.search(rf"^rdi\s+0x[0-9a-f]+\s+{c % 1000}\s*$", out, re.M), out
            assert re.search(rf"^rip\s+0x0*{tp:x}\s", out, re.M), out
            assert pint(g2, "$rsi") == 3 * c + 1
            g2.cmd("tfind none")
            out = g2.cmd("detach")
            assert "detached" in out.lower(), out
        wait_code_restored(t, tp, orig_code(t, tp))
        t.assert_running()


@needs_bpf
def test_disconnected_tracing_disconnect():
    """set disconnected-tracing on, tstart, disconnect: frames keep coming
    with nobody connected; a new gdb finds the trace running, gets the
    tracepoint back with its actions, and tstop/tfind/tdump show every
    call of the unattended time."""
    disconnected_run("disconnect")


@needs_bpf
def test_disconnected_tracing_detach():
    """The same, ending the first session with `detach`."""
    disconnected_run("detach")


@needs_bpf
def test_disconnected_tracing_gdb_killed():
    """The same, the first gdb dying from SIGKILL."""
    disconnected_run("kill")


# --------------------------------------------------------------------------
# 2. Several tracepoints: the same numbers after the reconnect


@needs_bpf
def test_reconnect_keeps_tracepoint_numbers():
    """compute (1), note_tick (2), write (3), disconnected tracing: after a
    reconnect gdb's tracepoints have the same numbers, and tfind tracepoint
    N finds frames of N's function with N's data."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub:
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set disconnected-tracing on")
            addr = {1: tracepoint_address(g.cmd("trace compute"))}
            g.cmd(actions("collect $regs", "collect calls"))
            addr[2] = tracepoint_address(g.cmd("trace note_tick"))
            g.cmd(actions("collect $regs", "collect ticks"))
            addr[3] = tracepoint_address(g.cmd("trace write"))
            g.cmd(actions("collect $regs", "collect writes"))
            tstart(g)
            wait_until(lambda: all(hits(g).get(n, 0) >= 2 for n in (1, 2, 3)), 10,
                       interval=0.1, what="2 hits on each tracepoint")
            end_session(g, "disconnect", stub)
        time.sleep(0.3)
        with gdb_pipe(file=t.path) as g:
            out = connect(g, stub)
            assert "Trace is already running on the target." in out, out
            for n in (1, 2, 3):
                assert re.search(rf"Created tracepoint {n} for target's tracepoint {n} at "
                                 rf"0x0*{addr[n]:x}", out), \
                    f"tracepoint {n} does not keep its number:\n{out}"
            info = g.cmd("info tracepoints")
            for n, where, coll in ((1, "in compute at", "collect calls"),
                                   (2, "in note_tick at", "collect ticks"),
                                   (3, "write", "collect writes")):
                m = re.search(rf"^{n}\s+tracepoint\s+keep\s+y\s+0x0*{addr[n]:x}\s+(.*)$"
                              rf"((?:\n[ \t].*)*)", info, re.M)
                assert m and where in m.group(1), f"tracepoint {n}:\n{info}"
                assert re.search(rf"^\s+{coll}\s*$", m.group(2), re.M), \
                    f"tracepoint {n} lost its action {coll!r}:\n{info}"
            g.cmd("tstop")
            h = hits(g)
            st = tstatus(g)
            assert all(h.get(n, 0) > 0 for n in (1, 2, 3)), f"hits {h}"
            assert st.frames == sum(h.values()), f"frames {st.frames} != hits {h}:\n{st}"

            g.cmd("tfind none")
            seen = set()
            for _ in range(3):
                frame, tpn = tfind(g, "tracepoint 2")
                assert tpn == 2 and frame not in seen, (frame, tpn)
                seen.add(frame)
                assert pint(g, "(long)$pc") == addr[2], "not at note_tick's tracepoint"
                rdi, ticks = pint(g, "$rdi"), pint(g, "ticks")
                assert rdi == ticks, f"note_tick(t) is called with t = ticks: {rdi} != {ticks}"
                out = g.cmd("tdump")
                assert re.search(rf"^ticks = {ticks}\s*$", out, re.M), f"tdump:\n{out}"
                assert "calls =" not in out and "writes =" not in out, f"tdump:\n{out}"
            g.cmd("tfind none")
            frame, tpn = tfind(g, "tracepoint 1")
            assert tpn == 1 and pint(g, "(long)$pc") == addr[1]
            c = pint(g, "calls")
            assert pint(g, "$rdi") == c % 1000, "compute's n != calls % 1000"
            g.cmd("tfind none")
            frame, tpn = tfind(g, "tracepoint 3")
            assert tpn == 3 and pint(g, "(long)$pc") == addr[3]
            assert "libc.so.6" in g.cmd("info symbol $pc")
            assert pint(g, "$rdx") == 5, "counter writes 5 bytes"
            assert re.search(r"^writes = \d+\s*$", g.cmd("tdump"), re.M)
            g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_reconnect_after_a_deleted_tracepoint():
    """Tracepoints 1 and 3 on the target (2 deleted before tstart): a fresh
    gdb numbers them 1 and 2, and each still finds its own frames and data
    (gdb asks for target's tracepoint 3 when the user says 2)."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub:
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set disconnected-tracing on")
            a1 = tracepoint_address(g.cmd("trace compute"))
            g.cmd(actions("collect calls"))
            tracepoint_address(g.cmd("trace write"))
            g.cmd(actions("collect writes"))
            a3 = tracepoint_address(g.cmd("trace note_tick"))
            g.cmd(actions("collect $regs", "collect ticks"))
            g.cmd("delete 2")
            tstart(g)
            wait_until(lambda: all(hits(g).get(n, 0) >= 2 for n in (1, 3)), 10,
                       interval=0.1, what="2 hits on tracepoints 1 and 3")
            end_session(g, "disconnect", stub)
        with gdb_pipe(file=t.path) as g:
            out = connect(g, stub)
            assert re.search(rf"Created tracepoint 1 for target's tracepoint 1 at 0x0*{a1:x}",
                             out), out
            assert re.search(rf"Created tracepoint 2 for target's tracepoint 3 at 0x0*{a3:x}",
                             out), out
            g.cmd("tstop")
            h = hits(g)
            st = tstatus(g)
            assert set(h) == {1, 2} and st.frames == h[1] + h[2], f"hits {h}:\n{st}"
            g.cmd("tfind none")
            for _ in range(3):
                frame, tpn = tfind(g, "tracepoint 2")
                assert tpn == 2 and pint(g, "(long)$pc") == a3, (frame, tpn)
                out = g.cmd("tdump")
                ticks = int(re.search(r"^ticks = (\d+)\s*$", out, re.M).group(1))
                assert re.search(rf"^rdi\s+0x[0-9a-f]+\s+{ticks}\s*$", out, re.M), out
                assert "calls =" not in out, out
            g.cmd("tfind none")
            frame, tpn = tfind(g, "tracepoint 1")
            assert tpn == 1 and pint(g, "(long)$pc") == a1
            assert re.search(r"^calls = \d+\s*$", g.cmd("tdump"), re.M)
            g.cmd("tfind none")
        t.assert_running()


# --------------------------------------------------------------------------
# 3. Disconnected tracing off: a disconnect ends the run


def not_allowed_run(how):
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub:
        g = gdb_pipe(file=t.path)
        try:
            connect(g, stub)
            tp = trace_compute(g, t, "set disconnected-tracing off")
            orig = orig_code(t, tp)
            st = wait_created(g, 10)
            assert "Trace will stop if GDB disconnects." in st.text, str(st)
            assert read_mem(t.pid, tp, 1) == b"\xcc", "no uprobe during the run"
            end_session(g, how, stub)
        finally:
            if g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait(5)
        wait_code_restored(t, tp, orig)
        with gdb_pipe(file=t.path) as g:
            out = connect(g, stub)
            assert "Trace is already running" not in out, out
            st = tstatus(g)
            assert not st.running, f"the trace still runs after the disconnect:\n{st}"
            assert st.stop == "Trace stopped because of disconnection.", str(st)
            h1 = hits(g).get(1)
            f1 = tstatus(g).created
            time.sleep(0.3)
            assert tstatus(g).created == f1, "frames are still being created"
            if h1 is not None:
                assert hits(g).get(1) == h1, "hits still grow"
        assert read_mem(t.pid, tp, len(orig)) == orig
        t.assert_running()


@needs_bpf
def test_disconnect_stops_trace_when_not_allowed():
    """disconnected-tracing off: disconnecting stops the run, the probe is
    removed (compute's code bytes are the original ones), and the next gdb
    is told the trace stopped because of the disconnection."""
    not_allowed_run("disconnect")


@needs_bpf
def test_gdb_killed_stops_trace_when_not_allowed():
    """The same when gdb dies from SIGKILL."""
    not_allowed_run("kill")


# --------------------------------------------------------------------------
# 4-6. Trace files written by gdb: tsave, tsave after a wrap, tsave -ctf


def saved_file_matches_live(setup, min_created, check_wrapped):
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.tf")
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            tp = trace_compute(g, t, *setup)
            wait_created(g, min_created, timeout=20)
            g.cmd("tstop")
            st = tstatus(g)
            if check_wrapped:
                assert st.circular and st.created > 10 * st.frames, \
                    f"the circular buffer did not wrap many times:\n{st}"
            rows = gdb_values_by_frame(g, COMPUTE_EXPRS)
            assert len(rows) == st.frames, f"walked {len(rows)} frames, tstatus: {st.frames}"
            check_compute_rows(rows, tp, "live")
            live = live_tdumps(g)
            assert len(live) == st.frames, f"{len(live)} tdumps for {st.frames} frames"
            out = g.cmd(f"tsave {path}")
            assert f"Trace data saved to file '{path}'" in out, f"tsave:\n{out}"
        assert os.path.getsize(path) > st.frames * 500, "the file is too small"

        r = tfile_session(path, t.path, ["tstatus", "info tracepoints", WALK_TDUMP])
        assert re.search(rf"Created tracepoint 1 for target's tracepoint 1 at 0x0*{tp:x}",
                         r.out[0]), r.out[0]
        fst = TraceStatus(r.out[1])
        assert "Using a trace file." in r.out[1], r.out[1]
        assert (fst.frames, fst.created) == (st.frames, st.created), \
            f"the file says {fst.frames} frames of {fst.created}, live {st.frames} of " \
            f"{st.created}:\n{r.out[1]}"
        for a in COMPUTE_ACTIONS:
            assert re.search(rf"^\s+{re.escape(a)}\s*$", r.out[2], re.M), r.out[2]
        assert_same_tdumps(live, parse_tdumps(r.out[3]), "tsave + target tfile")

        # The values, as a user prints them, in every frame of the file.
        with gdb_pipe(file=t.path) as g:
            out = g.cmd(f"target tfile {path}")
            assert "Excessively long lines" not in out, out
            saved_rows = gdb_values_by_frame(g, COMPUTE_EXPRS)
        assert saved_rows == rows, \
            f"values from the file differ from the live ones: first live {rows[:3]}, " \
            f"file {saved_rows[:3]} ({len(saved_rows)} rows, {len(rows)} live)"
        t.assert_running()


@needs_bpf
def test_tsave_then_tfile():
    """tsave FILE (gdb pulls the frames with qTBuffer) then a fresh gdb on
    `target tfile FILE`: the same frames, tdump and values as live."""
    saved_file_matches_live((), 40, check_wrapped=False)


@needs_bpf
def test_tsave_after_wraparound():
    """8 KiB circular buffer that wrapped many times: tsave + target tfile
    give the same frame count (kept and created) and the same frames."""
    saved_file_matches_live(("set trace-buffer-size 8192", "set circular-trace-buffer on"),
                            300, check_wrapped=True)


def babeltrace_events(out):
    """[(name, tpnum, body)] from babeltrace2's pretty output."""
    evs = []
    for line in out.splitlines():
        m = re.match(r"^(\w+): \{ tpnum = (\d+) \}, \{(.*)\}\s*$", line)
        if m:
            evs.append((m.group(1), int(m.group(2)), m.group(3)))
    return evs


@needs_bpf
def test_tsave_ctf_babeltrace():
    """tsave -ctf DIR: babeltrace2 reads it without an error; one `frame`
    event per trace frame (tpnum 1; tpnum 0 is the definitions packet),
    each followed by the `memory` event of `calls` with that frame's value."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub, tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "ctf")
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            tp = trace_compute(g, t)
            wait_created(g, 30)
            g.cmd("tstop")
            st = tstatus(g)
            rows = gdb_values_by_frame(g, COMPUTE_EXPRS)
            calls = check_compute_rows(rows, tp, "live")
            out = g.cmd(f"tsave -ctf {d}")
            assert f"Trace data saved to directory '{d}'" in out, f"tsave -ctf:\n{out}"
        p = subprocess.run(["babeltrace2", d], capture_output=True, text=True,
                           errors="replace", timeout=60)
        assert p.returncode == 0, f"babeltrace2 exit {p.returncode}:\n{tail(p.stderr)}"
        assert not p.stderr.strip(), f"babeltrace2 stderr:\n{tail(p.stderr)}"
        evs = babeltrace_events(p.stdout)
        assert len(evs) == len(p.stdout.splitlines()), \
            "babeltrace2 printed lines that are not events:\n" + tail(p.stdout)
        frames = [e for e in evs if e[0] == "frame" and e[1] != 0]
        assert len(frames) == st.frames == len(calls), \
            f"{len(frames)} frame events, {st.frames} frames"
        assert all(e[1] == 1 for e in frames), "frame events of another tracepoint"
        status = [e for e in evs if e[0] == "status"]
        assert len(status) == 1 and f"traceframe_count = {st.frames}," in status[0][2], status
        tpdef = [e for e in evs if e[0] == "tp_def"]
        assert len(tpdef) == 1 and f"addr = {tp:#X}".replace("0X", "0x") in tpdef[0][2], tpdef
        # The memory event after each frame event holds `calls` of that frame.
        got = []
        for i, e in enumerate(evs):
            if e[0] == "frame" and e[1] != 0:
                mem = next((x for x in evs[i + 1:] if x[0] in ("memory", "frame")), None)
                assert mem and mem[0] == "memory", f"frame event {len(got)} has no memory event"
                b = [int(v) for v in re.findall(r"\[\d+\] = (\d+)", mem[2])]
                assert len(b) == 8, mem
                got.append(struct.unpack("<q", bytes(b))[0])
        assert got == calls, f"calls in the CTF frames {got[:5]}..., live {calls[:5]}..."
        t.assert_running()


# --------------------------------------------------------------------------
# 7. tsave -r (QTSave): only inside --save-dir


def tsave_r(g, name):
    return g.cmd(f"tsave -r {name}")


@needs_bpf
def test_tsave_r_save_dir_policy():
    """--save-dir D: `tsave -r good.tf` writes D/good.tf (mode 0600, readable by
    target tfile); a second one is refused (it exists) and leaves the file
    alone; `..`, an absolute path outside D, a symlinked directory and a
    symlinked file name are all refused with the reason shown by gdb, and
    nothing is written outside D."""
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "saves")
        elsewhere = os.path.join(tmp, "elsewhere")
        os.mkdir(d)
        os.mkdir(elsewhere)
        sibling = d + "x"  # same prefix as the save dir, not inside it
        os.mkdir(sibling)
        os.symlink(elsewhere, os.path.join(d, "link"))
        os.symlink(os.path.join(elsewhere, "pointed.tf"), os.path.join(d, "symfile"))
        victim = os.path.join(elsewhere, "victim.tf")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.symlink(victim, os.path.join(d, "symvictim"))
        etc_x = "/etc/bpfstub-test-x.tf"
        assert not os.path.exists(etc_x)

        with Target("counter") as t, ThreadStateSampler(t.pid), \
                Stub.attach(t.pid, options=["--save-dir", d]) as stub:
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                tp = trace_compute(g, t)
                wait_created(g, 10)
                g.cmd("tstop")
                st = tstatus(g)

                out = tsave_r(g, "good.tf")
                good = os.path.join(d, "good.tf")
                assert "Trace data saved to file 'good.tf'" in out and os.path.isfile(good), \
                    f"tsave -r good.tf:\n{out}\n{os.listdir(d)}"
                mode = os.stat(good).st_mode & 0o7777
                assert mode == 0o600, f"good.tf has mode {mode:o}, expected 600"
                with open(good, "rb") as f:
                    first = f.read()
                mtime = os.stat(good).st_mtime_ns

                out = tsave_r(g, "good.tf")
                assert "saved" not in out and re.search(r"exist", out), \
                    f"a second tsave -r good.tf should say the file exists:\n{out}"
                with open(good, "rb") as f:
                    assert f.read() == first, "good.tf was changed"
                assert os.stat(good).st_mtime_ns == mtime, "good.tf was rewritten"

                absname = os.path.join(d, "abs.tf")
                out = tsave_r(g, absname)
                assert "saved" in out and os.path.isfile(absname), \
                    f"an absolute name inside the save dir should work:\n{out}"

                refused = {}
                for name in ("../x.tf", etc_x, "link/x.tf", "symfile", "symvictim",
                             f"{d}/../x.tf", f"{sibling}/x.tf", "link"):
                    out = tsave_r(g, name)
                    refused[name] = out
                    assert "saved" not in out.lower(), f"tsave -r {name} was accepted:\n{out}"
                    assert re.search(r"Target returns error code '\.\S.*'", out) or \
                        re.search(r"error", out, re.I), \
                        f"tsave -r {name}: gdb shows no reason:\n{out}"
                assert "outside" in refused[etc_x], refused[etc_x]
                assert "outside" in refused[f"{sibling}/x.tf"], refused[f"{sibling}/x.tf"]
                assert os.listdir(sibling) == [], f"written into {sibling}"
                assert "'..'" in refused["../x.tf"] or "outside" in refused["../x.tf"], \
                    refused["../x.tf"]
                assert "symlink" in refused["link/x.tf"], refused["link/x.tf"]
                # nothing outside D
                assert not os.path.exists(os.path.join(tmp, "x.tf")), "../x.tf was written"
                assert not os.path.exists(etc_x), f"{etc_x} was written"
                assert sorted(os.listdir(elsewhere)) == ["victim.tf"], \
                    f"something was written through a symlink: {os.listdir(elsewhere)}"
                with open(victim) as f:
                    assert f.read() == "precious\n", "a symlinked file was overwritten"
                assert os.path.islink(os.path.join(d, "symfile")) and \
                    os.path.islink(os.path.join(d, "symvictim")), "a symlink was replaced"
                assert sorted(os.listdir(d)) == ["abs.tf", "good.tf", "link", "symfile",
                                                 "symvictim"], \
                    f"unexpected files in the save dir (temporary files left?): {os.listdir(d)}"
                g.cmd("detach")

        r = tfile_session(good, t.path, ["tstatus", "tfind 0", "print calls", "print $rdi",
                                         "print (long)$pc"])
        assert TraceStatus(r.out[1]).frames == st.frames, r.out[1]
        assert found_frame(r.out[2]) == (0, 1), r.out[2]
        c, rdi, pc = (int(re.search(r"= (-?\d+)", r.out[i]).group(1)) for i in (3, 4, 5))
        assert rdi == c % 1000 and pc == tp, (c, rdi, pc)


@needs_bpf
def test_tsave_r_refused_without_save_dir():
    """Without --save-dir, `tsave -r NAME` is refused with a message naming
    --save-dir, nothing is written, and bpfstub goes on serving."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            tempfile.TemporaryDirectory() as tmp, Stub.attach(t.pid) as stub:
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            trace_compute(g, t)
            wait_created(g, 3)
            g.cmd("tstop")
            name = os.path.join(tmp, "nodir.tf")
            for n in ("rel.tf", name):
                out = tsave_r(g, n)
                time.sleep(0.1)
                assert stub.alive(), \
                    f"bpfstub died (exit status {stub.proc.poll()}) on `tsave -r {n}` " \
                    f"(QTSave) without --save-dir; gdb says:\n{out}"
                assert "--save-dir" in out and "saved" not in out, \
                    f"tsave -r {n} without --save-dir:\n{out}"
            assert not os.path.exists(name) and not os.path.exists("rel.tf")
            assert stub.alive(), "bpfstub died on QTSave without --save-dir"
            st = tstatus(g)
            assert st.frames and st.frames >= 3, f"bpfstub no longer answers:\n{st}"
        t.assert_running()


# --------------------------------------------------------------------------
# 8. SIGTERM / SIGINT to bpfstub during a run


def signal_during_run(sig, save, disconnected):
    """A trace runs (gdb connected, or disconnected tracing and no client);
    bpfstub gets sig: it exits 0, the probe is gone, the target runs on.
    With save, --save-on-exit FILE holds the frames."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "exit.tf")
        stub = Stub.attach(t.pid, options=["--save-on-exit", path] if save else [])
        stub.start()
        try:
            g = gdb_pipe(file=t.path)
            try:
                connect(g, stub)
                tp = trace_compute(g, t, *(["set disconnected-tracing on"] if disconnected
                                           else []))
                orig = orig_code(t, tp)
                st = wait_created(g, 20)
                assert read_mem(t.pid, tp, 1) == b"\xcc"
                calls_alone = None
                if disconnected:
                    end_session(g, "disconnect", stub)
                    calls_alone = t.read_long("calls")
                    # Hits while nobody is connected (compute runs every ~5 ms).
                    wait_until(lambda: t.read_long("calls") >= calls_alone + 40, 20,
                               what="40 calls of compute with nobody connected")
                stub.proc.send_signal(sig)
                rc = stub.wait(10)
                calls_after_exit = t.read_long("calls")
                assert rc == 0, f"bpfstub exited {rc} on signal {sig}:\n{tail(stub.stderr_text())}"
                if not disconnected:
                    out = g.cmd("tstatus")
                    assert re.search(r"closed|not connected|No trace|Trace can not",
                                     out, re.I), f"gdb after bpfstub left:\n{out}"
            finally:
                if g.proc.poll() is None:
                    g.close()
        finally:
            stub.kill()
        wait_code_restored(t, tp, orig)
        t.assert_running()
        err = stub.stderr_text()
        assert re.search(rf"pid {t.pid} runs on", err), f"bpfstub's goodbye:\n{tail(err)}"
        if not save:
            assert not os.path.exists(path)
            return
        assert os.path.isfile(path), f"--save-on-exit {path} not written:\n{tail(err)}"
        m = re.search(r"saved (\d+) trace frames to (\S+)", err)
        assert m and m.group(2) == path, f"no 'saved N trace frames' message:\n{tail(err)}"
        saved = int(m.group(1))
        assert saved >= st.frames, f"saved {saved} frames, gdb saw {st.frames} before"
        with gdb_pipe(file=t.path) as g:
            out = g.cmd(f"target tfile {path}")
            assert "Excessively long lines" not in out and "rror" not in out, out
            assert re.search(rf"Created tracepoint 1 for target's tracepoint 1 at 0x0*{tp:x}",
                             out), out
            fst = tstatus(g)
            assert fst.frames == saved, f"{fst.frames} frames in the file, saved {saved}"
            rows = gdb_values_by_frame(g, COMPUTE_EXPRS)
        assert len(rows) == saved, f"walked {len(rows)} frames of {saved}"
        calls = check_compute_rows(rows, tp, "--save-on-exit file")
        # Every saved frame is from a call made before bpfstub exited.
        assert calls[-1] <= calls_after_exit, (calls[-1], calls_after_exit)
        if disconnected:
            assert sum(1 for c in calls if c > calls_alone) >= 30, \
                "the frames of the time nobody was connected are not in the file"


@needs_bpf
def test_sigterm_during_run():
    """SIGTERM while gdb traces: bpfstub exits 0, compute's code is the
    original again and the target runs on, never stopped."""
    signal_during_run(signal.SIGTERM, save=False, disconnected=False)


@needs_bpf
def test_sigint_during_run():
    """The same with SIGINT."""
    signal_during_run(signal.SIGINT, save=False, disconnected=False)


@needs_bpf
def test_sigterm_save_on_exit():
    """--save-on-exit FILE, SIGTERM while gdb traces: FILE is written first,
    and target tfile FILE shows the frames with counter.c's values."""
    signal_during_run(signal.SIGTERM, save=True, disconnected=False)


@needs_bpf
def test_sigint_save_on_exit_disconnected():
    """--save-on-exit FILE, a disconnected trace with nobody connected,
    SIGINT: FILE holds the frames, including the unattended ones."""
    signal_during_run(signal.SIGINT, save=True, disconnected=True)


@needs_bpf
def test_save_on_exit_when_last_client_leaves():
    """--once --save-on-exit FILE: the client stops its trace and leaves;
    bpfstub saves the frames to FILE and exits 0."""
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "left.tf")
        with Stub.attach(t.pid, options=["--once", "--save-on-exit", path]) as stub:
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                tp = trace_compute(g, t)
                wait_created(g, 10)
                g.cmd("tstop")
                st = tstatus(g)
                g.cmd("detach")
            assert stub.wait(10) == 0
        assert os.path.isfile(path), f"{path} not written:\n{tail(stub.stderr_text())}"
        with gdb_pipe(file=t.path) as g:
            out = g.cmd(f"target tfile {path}")
            assert "Excessively long lines" not in out and "rror" not in out, out
            assert tstatus(g).frames == st.frames
            rows = gdb_values_by_frame(g, COMPUTE_EXPRS)
        check_compute_rows(rows, tp, "--save-on-exit file")
        t.assert_running()


# --------------------------------------------------------------------------
# 9. A long trace through a circular buffer


HOT_THREADS = 2
GUARD_OFF = ["--max-hit-rate", "off", "--max-overhead", "off"]


@needs_bpf
def test_long_trace_circular():
    """LONG_FRAMES (1 million) hits of hot() from 2 threads through a 5 MB
    circular buffer (gdbserver's default, set): frames created = hits -
    drops, the buffer keeps a bounded number of frames, the kept frames are
    right, and bpfstub's memory stays below the buffer size + 40 MB."""
    # A tight loop on purpose: the overhead guard (stub/trace/guard.c) is turned off.
    with Target("counter", ["0", HOT_THREADS]) as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid, options=GUARD_OFF) as stub:
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set circular-trace-buffer on")
            g.cmd("set trace-buffer-size 5242880")  # gdbserver's default
            tp = tracepoint_address(g.cmd("trace hot"))
            g.cmd(actions("collect $regs", "collect hot_last"))
            tstart(g)
            t0 = time.monotonic()
            rss = []

            def enough():
                rss.append(vm_kb(stub.proc.pid, "VmRSS"))
                st = tstatus(g)
                assert st.running, f"the circular run stopped:\n{st}"
                return st.created >= LONG_FRAMES

            wait_until(enough, 35, interval=0.5, what=f"{LONG_FRAMES} frames")
            took = time.monotonic() - t0
            g.cmd("tstop")
            st = tstatus(g)
            h = hits(g)
            mon = g.cmd("monitor status")
            m = re.search(r"tracepoint 1 at 0x[0-9a-f]+: .*?(\d+) hits, (\d+) frames collected, "
                          r"(\d+) dropped", mon)
            assert m, f"monitor status:\n{mon}"
            drops = int(m.group(3))
            hwm = vm_kb(stub.proc.pid, "VmHWM")
            print(f"long trace: {st.created} frames in {took:.1f}s, {h[1]} hits, {drops} "
                  f"dropped, {st.frames} kept; bpfstub VmRSS max {max(rss)} kB, "
                  f"VmHWM {hwm} kB")

            assert st.created >= LONG_FRAMES, str(st)
            assert st.created == h[1] - drops, \
                f"created {st.created} != hits {h[1]} - dropped {drops}:\n{st}\n{mon}"
            assert st.circular and st.size == 5 * 1024 * 1024, str(st)
            used = st.size - st.free
            assert 0 < st.frames < st.created and used <= st.size, str(st)
            per_frame = used / st.frames
            assert per_frame >= 567, f"{per_frame:.0f} bytes a frame: $regs alone is 561"
            assert st.frames <= st.size // 567, f"{st.frames} frames cannot fit:\n{st}"
            assert st.frames >= (st.size // per_frame) * 0.9, f"the buffer is not full:\n{st}"
            # Under ASan (make SAN=1) the shadow memory and quarantine are
            # the sanitizer's, not bpfstub's: allow them.
            extra = 40 * 1024 if not os.environ.get("BPFSTUB_SAN") else 120 * 1024
            limit = st.size // 1024 + extra
            assert max(rss) < limit and hwm < limit, \
                f"bpfstub's memory: VmRSS up to {max(rss)} kB, VmHWM {hwm} kB, " \
                f"limit {limit} kB (buffer + {extra // 1024} MB)"

            # The first and the last 200 kept frames: hot(k, i) from thread
            # hot-k, i going up in each thread (by 1 when nothing dropped).
            def walk(first, n):
                g.cmd("tfind none")
                out = g.cmd("\n".join([
                    f"tfind {first}",
                    f"while ($trace_frame != -1 && $trace_frame < {first + n})",
                    'printf "@@H %d %ld %ld %ld %ld\\n", $trace_frame, (long)$pc, $rdi, '
                    '$rsi, $trace_thread',
                    "tfind", "end"]), timeout=60)
                return [tuple(int(v) for v in x) for x in
                        re.findall(r"@@H (\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+)", out)]
            rows = [walk(0, 200), walk(st.frames - 200, 200)]
            g.cmd("tfind none")
        assert [r[0] for r in rows[0]] == list(range(200)) and \
            [r[0] for r in rows[1]] == list(range(st.frames - 200, st.frames)), \
            f"walked frames {[r[0] for r in rows[0]][:5]}... and " \
            f"{[r[0] for r in rows[1]][:5]}... of {st.frames}"
        calls_now = struct.unpack(f"<{HOT_THREADS}q", t.read("hot_calls", 8 * HOT_THREADS))
        for window in rows:
            last = {}
            for frame, pc, k, i, tid in window:
                where = f"frame {frame}: pc={pc:#x} k={k} i={i} thread={tid}"
                assert pc == tp, f"{where}: not at hot()'s tracepoint {tp:#x}"
                assert 1 <= k <= HOT_THREADS, f"{where}: k is not a hot thread's number"
                with open(f"/proc/{t.pid}/task/{tid}/comm") as f:
                    assert f.read().strip() == f"hot-{k}", f"{where}: not thread hot-{k}"
                assert 0 <= i < calls_now[k - 1], f"{where}: i beyond the thread's calls"
                if k in last:
                    step = i - last[k]
                    assert step == 1 if drops == 0 else step >= 1, \
                        f"{where}: thread {k}'s i went from {last[k]} to {i}"
                last[k] = i
        assert rows[1][-1][3] > rows[0][-1][3] or rows[1][-1][2] != rows[0][-1][2], \
            "the last frames are not newer than the first ones"
        t.assert_running()
