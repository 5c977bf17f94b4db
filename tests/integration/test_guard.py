"""What a trace may cost the target (stub/trace/guard.c): the overhead guard,
trace-timeout expiry, and a default trace buffer that lasts.

Target: tests/targets/hotloop.c.  Threads hot-1 and hot-2 call hot(k, i)
in a tight loop and count their calls in hot_calls[0].v / hot_calls[1].v
(64 bytes apart): the target's own work rate.  Main calls slow(it, name)
5 times a second (a struct pointer and a string: deep collection applies).
"""

import os
import re
import struct
import subprocess
import time

from harness import (BPFSTUB, Stub, TraceStatus, actions, attached, gdb_batch, gdb_pipe,
                     needs_bpf, require_stub, target_path, tracepoint_hits, wait_until)
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_trace_stopped as wait_stopped

GUARD_NOTE = re.compile(r"tracepoint 1 at 0x[0-9a-f]+ detached by the overhead guard: "
                        r"(\d+) hits/s")


def work(t):
    """The sum of both hot threads' call counters."""
    raw = t.read("hot_calls", 72)
    return struct.unpack_from("<q", raw, 0)[0] + struct.unpack_from("<q", raw, 64)[0]


def work_rate(t, secs=0.4):
    """Calls of hot() per second, measured in the target's own memory."""
    a, t0 = work(t), time.monotonic()
    time.sleep(secs)
    return (work(t) - a) / (time.monotonic() - t0)


def trace_both(g):
    """Tracepoint 1 on hot (tight loop), 2 on slow (5/s), both `collect $regs`."""
    assert "Tracepoint 1 at" in g.cmd("trace hot")
    g.cmd(actions("collect $regs"))
    assert "Tracepoint 2 at" in g.cmd("trace slow")
    g.cmd(actions("collect $regs"))


def wait_guard(g, budget_re, timeout=6):
    """Wait until tstatus's notes name tracepoint 1 as detached, by budget_re."""
    def tripped():
        st = tstatus(g)
        assert st.running, f"the trace stopped:\n{st}"
        return st if GUARD_NOTE.search(st.text) and re.search(budget_re, st.text) else None
    return wait_until(tripped, timeout, interval=0.2, what="the guard to detach tracepoint 1")


def hits(g):
    g.cmd("tstatus")
    return tracepoint_hits(g.cmd("info tracepoints"))


@needs_bpf
def test_guard_detaches_hot_tracepoint_and_enable_reattaches():
    """A tracepoint on hot() is detached within seconds (max-hit-rate), tstatus
    and monitor status say why, the target's work rate recovers, slow() keeps
    collecting; `enable 1` re-attaches, a raised budget lets it run, and
    max-overhead detaches it again."""
    with attached("hotloop") as (t, stub), gdb_pipe(file=t.path) as g:
        base = work_rate(t)
        connect(g, stub)
        trace_both(g)
        t0 = time.monotonic()
        tstart(g)
        st = wait_guard(g, r"max-hit-rate 20000/s")
        took = time.monotonic() - t0
        assert took < 5, f"the guard took {took:.1f} s"
        assert int(GUARD_NOTE.search(st.text).group(1)) > 20000, st.text
        assert "'enable 1' re-attaches it" in st.text, st.text
        mon = g.cmd("monitor status")
        assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: disabled, \d+ hits", mon, re.M), mon
        assert re.search(r"^    tracepoint 1 at 0x[0-9a-f]+ detached by the overhead guard: "
                         r"\d+ hits/s > max-hit-rate 20000/s", mon, re.M), mon
        assert re.search(r"^  tracepoint 2 at 0x[0-9a-f]+: enabled, installed", mon, re.M), mon
        assert re.search(r"^    \d hits/s, ~0% of the target's CPU \(budget: 20000 hits/s, "
                         r"40%\)$", mon, re.M), mon
        # hit-cost auto: one hit measured on this kernel at tstart (a trap: 0.1-1000 us).
        m = re.search(r"^hit-cost: auto, (\d+) ns per hit, .* \(measured on this kernel\)$",
                      mon, re.M)
        assert m and 100 <= int(m.group(1)) <= 1_000_000, mon

        # The target's own work recovers; the other tracepoint keeps collecting.
        recovered = work_rate(t)
        h0 = hits(g)
        time.sleep(0.6)
        h1 = hits(g)
        assert h1[1] == h0[1], f"tracepoint 1 still hit after the guard: {h0} -> {h1}"
        assert h1[2] > h0[2], f"tracepoint 2 stopped collecting: {h0} -> {h1}"
        assert recovered > 0.5 * base, f"work rate {recovered:.0f}/s, untraced {base:.0f}/s"

        # Raise the budget, re-enable: attached again, and it costs the loop.
        out = g.cmd("monitor set max-hit-rate off")
        assert "max-hit-rate: off" in out and "applies to the running trace at once" in out, out
        assert "max-overhead: off" in g.cmd("monitor set max-overhead off")
        g.cmd("enable 1")
        time.sleep(0.2)
        traced = work_rate(t)
        mon = g.cmd("monitor status")
        assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: enabled, installed", mon, re.M), mon
        assert "detached by the overhead guard" not in mon, mon
        assert traced < 0.5 * recovered, f"traced {traced:.0f}/s vs {recovered:.0f}/s untraced"
        assert "overhead guard" not in tstatus(g).text

        # A share of the target's CPU: the other budget.
        assert "max-overhead: 50%" in g.cmd("monitor set max-overhead 50%")
        st = wait_guard(g, r"of the target's CPU > max-overhead 50%")
        assert work_rate(t) > 0.5 * recovered
        g.cmd("tstop")


@needs_bpf
def test_guard_state_uploaded_disabled():
    """After the guard detached tracepoint 1, a GDB connecting afresh gets it
    disabled (Enb n in info tracepoints), tracepoint 2 enabled."""
    with attached("hotloop") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("set disconnected-tracing on")
        trace_both(g)
        tstart(g)
        wait_guard(g, r"max-hit-rate")
        g.cmd("disconnect")
        r = gdb_batch([f"target remote {stub.addr}", "info tracepoints", "tstatus", "tstop"],
                      file=t.path)
        info = r.out[1]
        assert re.search(r"^1\s+tracepoint\s+keep n\s+0x[0-9a-f]+ in hot ", info, re.M), info
        assert re.search(r"^2\s+tracepoint\s+keep y\s+0x[0-9a-f]+ in slow ", info, re.M), info
        assert GUARD_NOTE.search(r.out[2]), r.out[2]


@needs_bpf
def test_trace_timeout_ends_run():
    """--trace-timeout 2s: a run nobody stops ends by itself, and says why."""
    with attached("hotloop", options=["--trace-timeout", "2s"]) as (t, stub), \
            gdb_pipe(file=t.path) as g:
        connect(g, stub)
        assert "trace-timeout: 2s after which a run nobody stopped ends by itself" in \
            g.cmd("monitor show")
        assert "Tracepoint 1 at" in g.cmd("trace slow")
        g.cmd(actions("collect $regs"))
        t0 = time.monotonic()
        tstart(g)
        st = wait_stopped(g, timeout=6)
        took = time.monotonic() - t0
        assert 1.8 < took < 4, f"ended after {took:.1f} s"
        assert st.stop == ("Trace stopped by a tstop command (bpfstub: trace-timeout: the run "
                           "ended by itself after 2s)."), st.text
        assert st.frames and st.frames >= 5, st.text
        mon = g.cmd("monitor status")
        assert re.search(r"^tracing: stopped: trace-timeout reached: bpfstub: trace-timeout: "
                         r"the run ended by itself after 2s;", mon, re.M), mon
        # monitor tstatus (LLDB's view) says the same, from the same table.
        out = g.cmd("monitor tstatus")
        assert re.search(r"^trace stopped: trace-timeout reached: bpfstub: trace-timeout: the "
                         r"run ended by itself after 2s; \d+ frames", out, re.M), out
        # Set from GDB: a 1-minute timeout leaves a short run alone.
        assert "trace-timeout: 1m" in g.cmd("monitor set trace-timeout 60s")
        tstart(g)
        time.sleep(2.5)
        assert tstatus(g).running
        g.cmd("tstop")


def stub_rss_kib(stub):
    with open(f"/proc/{stub.proc.pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


@needs_bpf
def test_default_buffer_holds_100k_frames():
    """Without `set trace-buffer-size`, the buffer holds >= 100,000 frames of
    `collect $regs` (measured on slow(): registers, stack window, deep
    collection), costs memory only as it fills, and monitor status shows the
    fill rate; a full linear buffer is named with the circular alternative."""
    with attached("hotloop") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        assert "Tracepoint 1 at" in g.cmd("trace slow")
        g.cmd(actions("collect $regs"))
        tstart(g)
        time.sleep(2.2)
        mon = g.cmd("monitor status")
        m = re.search(r"^fill rate: (\d+) frames/s, (\d+) bytes/s over the last [\d.]+ s; "
                      r"full in ~(\d+) s at this rate$", mon, re.M)
        assert m, mon
        assert 3 <= int(m.group(1)) <= 7, mon
        st = tstatus(g)
        g.cmd("tstop")
        per_frame = (st.size - st.free) / st.frames
        assert st.size / per_frame >= 100000, f"{st.size} bytes hold {st.size / per_frame:.0f}"
        # Also the largest `collect $regs` frame the defaults allow (the stack
        # window is clamped at the top of the stack, so a frame may be less):
        # header, registers, a full 2 KiB window and 2 KiB of deep collection.
        largest = 6 + 3 + 8 * 27 + 14 + 2048 + 2048 + 16 * 11 + 2 * 11
        assert st.size >= 100000 * largest, f"{st.size} bytes < 100,000 x {largest}"
        assert stub_rss_kib(stub) < 64 * 1024, "the buffer's pages were paid before use"

        # A small linear buffer fills: monitor status names it and the way out.
        g.cmd("set trace-buffer-size 8192")
        tstart(g)
        st = wait_stopped(g, timeout=5)
        assert st.stop == "Trace stopped because the buffer was full.", st.text
        mon = g.cmd("monitor status")
        assert re.search(r"^trace buffer full: the linear buffer \(8192 bytes\) holds \d+ "
                         r"frames and took no more; 'set circular-trace-buffer on', then "
                         r"'tstart', keeps the newest frames instead$", mon, re.M), mon


BAD = [
    ("--max-hit-rate", "0", "--max-hit-rate: 0 is out of bounds (1..10000000)"),
    ("--max-hit-rate", "-5", "--max-hit-rate: '-5' is not a number"),
    ("--max-hit-rate", "99999999999", "--max-hit-rate: 99999999999 is out of bounds "
     "(1..10000000)"),
    ("--max-overhead", "0", "--max-overhead: 0 is out of bounds (1..100)"),
    ("--max-overhead", "150%", "--max-overhead: 150 is out of bounds (1..100)"),
    ("--max-overhead", "lots", "--max-overhead: 'lots' is not a number"),
    ("--trace-timeout", "0", "--trace-timeout: 0 is too short (at least 1s, or off)"),
    ("--trace-timeout", "-1h", "--trace-timeout: '-1h' is not a duration"),
    ("--trace-timeout", "10y", "--trace-timeout: '10y' is not a duration"),
    ("--trace-timeout", "400d", "--trace-timeout: 400d is too long (at most 2592000s)"),
    ("--hit-cost", "0", "--hit-cost: 0 is out of bounds (1..10000000)"),
]


def test_bad_budgets_refused():
    """Zero, negative, absurd and garbage budgets: exit 2 with the reason on the
    command line; one console line, and the setting unchanged, in monitor set."""
    require_stub()
    for opt, val, want in BAD:
        p = subprocess.run([BPFSTUB, opt, val, "127.0.0.1:0", "--attach", str(os.getpid())],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        err = p.stderr.decode()
        assert p.returncode == 2, f"{opt} {val}: exit {p.returncode}, {err}"
        assert f"bpfstub: {want}" in err, f"{opt} {val}: {err}"
    with attached("hotloop") as (t, stub):
        cmds = [f"target remote {stub.addr}"]
        for opt, val, _ in BAD:
            cmds.append(f"monitor set {opt[2:]} {val}")
        cmds += ["monitor set max-hit-rate 5000", "monitor set max-overhead off",
                 "monitor set trace-timeout 90m", "monitor show"]
        r = gdb_batch(cmds, file=t.path)
        for i, (opt, val, want) in enumerate(BAD):
            out = r.out[i + 1]
            assert f"monitor: {want.replace('--', 'set ', 1)}" in out, f"{opt} {val}: {out}"
        show = r.out[-1]
        assert "max-hit-rate: 5000 hits/s per tracepoint" in show, show
        assert "max-overhead: off" in show, show
        assert "trace-timeout: 90m" in show, show
        assert "hit-cost: auto, measured at the first tstart (20000 ns until then)" in show, show
