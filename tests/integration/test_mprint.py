"""Typed values of stored frames (stub/views/mprint.c, stub/views/tdump.c): `monitor
tdump`, `monitor tframes` and `monitor tlive`, from real gdb and real lldb.

Frames are made with GDB's own tracepoints (`trace FUNC`, `collect $regs`):
deep collection adds what the parameters point to and, for Go, the
goroutine id.  Targets (tests/targets): govalues (Go) calls, for k = 0, 1, ...
handle("req-k", 100+k, &Point{k, 2k, "pt-k"}, tags) with tags ["a", "bb"]
(k even) or ["a", "bb", "ccc"] (k odd); describe(v) with v = the *Point
(k even) or int64(100+k) (k odd); stats(m, c) with len(m) = len(tags) + 1
and c a chan of cap 4 holding k % 4 values.  cvalues-O2 (C) calls
process(&items[0], "alpha", 1000+k) / (&items[1], "beta", ...) /
(heap_item, "gamma", ...) for k % 3 = 0, 1, 2.
"""

import re
import signal
import subprocess
import time

from harness import (CLIENT_ENV, actions, attached, gdb_pipe, needs_bpf, tail, wait_until)
from harness import gdb_connect as connect
from harness import gdb_trace_regs
from harness import gdb_tstart as tstart

TFRAMES_GO = re.compile(
    r"^(\d+)  \d\d:\d\d:\d\d\.\d{6}  thread (\d+)  goroutine (\d+)  tp (\d+)  "
    r"main\.handle\(name=\"req-(\d+)\", n=(\d+), p=0x[0-9a-f]+ -> \{\.\.\.\}, "
    r"tags=\[\]string len (\d) cap \d \[(.*)\]\)$", re.M)


def go_handle_lines(k):
    tags = '"a", "bb"' if k % 2 == 0 else '"a", "bb", "ccc"'
    n = 2 if k % 2 == 0 else 3
    return [f'name = "req-{k}"', f"n = {100 + k}",
            f'p = 0x[0-9a-f]+ -> {{X: {k}, Y: {2 * k}, Label: "pt-{k}"}}',
            rf"tags = \[\]string len {n} cap {n} \[{tags}\]"]


def check_dump(out, want_lines):
    for w in want_lines:
        assert re.search("^" + w + "$", out, re.M), f"no line {w!r} in:\n{out}"


@needs_bpf
def test_tdump_go_strings_structs_slices():
    """Go handle(): exact strings, struct fields through a pointer, slices;
    tframes shows the goroutine id; tdump defaults to the tfind frame."""
    with attached("govalues") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "main.handle", frames=3)
        out = g.cmd("monitor tframes 0 3")
        lines = TFRAMES_GO.findall(out)
        assert len(lines) == 3, f"tframes:\n{out}"
        for num, tid, goid, tp, k, n, ntags, tags in lines:
            k = int(k)
            assert int(n) == 100 + k and int(goid) >= 1 and tp == "1", out
            assert int(ntags) == (2 if k % 2 == 0 else 3), out
        ks = [int(x[4]) for x in lines]
        assert ks == list(range(ks[0], ks[0] + 3)), f"not consecutive calls: {ks}"
        for i, k in enumerate(ks):
            out = g.cmd(f"monitor tdump {i}")
            assert re.search(rf"^frame {i}: tracepoint 1, main\.handle at 0x[0-9a-f]+, "
                             r"thread \d+  goroutine \d+, \d\d:\d\d:\d\d\.\d{6}$", out, re.M), out
            check_dump(out, go_handle_lines(k))
        # With a frame selected by tfind, tdump shows that one.
        assert "Found trace frame 1" in g.cmd("tfind 1")
        check_dump(g.cmd("monitor tdump"), go_handle_lines(ks[1]))
        g.cmd("tfind none")
        # No such frame: one line naming it.
        out = g.cmd("monitor tdump 100000")
        assert re.search(r"^monitor: no frame 100000 \(\d+ stored\)$", out, re.M), out


@needs_bpf
def test_tdump_go_interface_map_chan():
    """Go describe(any) and stats(map, chan): the dynamic type's name and
    value; a map's length; a channel's length and capacity."""
    with attached("govalues") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "main.describe", "main.stats", frames=8)
        out = g.cmd("monitor tframes 0 8")
        vals = re.findall(r"tp 1  main\.describe\(v=(.*)\)$", out, re.M)
        stats = re.findall(r"tp 2  main\.stats\(m=map\[string\]int64 len (\d), "
                           r"c=chan int64 len (\d) cap 4\)$", out, re.M)
        assert len(vals) >= 3 and len(stats) >= 3, f"tframes:\n{out}"
        kinds = set()
        for i in range(8):
            d = g.cmd(f"monitor tdump {i}")
            m = re.search(r"^v = \(int64\) (\d+)$", d, re.M)
            if m:
                kinds.add("int64")
                assert int(m.group(1)) % 2 == 1, d  # 100 + k, k odd
                continue
            m = re.search(r'^v = \(\*main\.Point\) 0x[0-9a-f]+ -> '
                          r'\{X: (\d+), Y: (\d+), Label: "pt-(\d+)"\}$', d, re.M)
            if m:
                kinds.add("*main.Point")
                x, y, lk = map(int, m.groups())
                assert y == 2 * x and lk == x and x % 2 == 0, d
                continue
            m = re.search(r"^m = map\[string\]int64 len (\d)\n"
                          r"c = chan int64 len (\d) cap 4$", d, re.M)
            assert m, f"frame {i}:\n{d}"
            assert int(m.group(1)) in (3, 4) and int(m.group(2)) in range(4), d
        assert kinds == {"int64", "*main.Point"}, kinds


@needs_bpf
def test_tdump_c_strings_structs():
    """C process(): a struct through a pointer (char * and char[] fields,
    a nested struct), a C string, a long; tframes has no goroutine."""
    items = {"alpha": '{id = 1, label = "first", pos = {x = 10, y = 20}, tag = "one"}',
             "beta": '{id = 2, label = "second", pos = {x = 30, y = 40}, tag = "two"}',
             "gamma": '{id = 3, label = "heap-third", pos = {x = 50, y = 60}, tag = "three"}'}
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "process", frames=3)
        out = g.cmd("monitor tframes 0 3")
        lines = re.findall(r"^(\d+)  \d\d:\d\d:\d\d\.\d{6}  thread (\d+)  tp 1  "
                           r"process\(it=0x[0-9a-f]+ -> \{\.\.\.\}, name=\"(\w+)\", n=(\d+)\)$",
                           out, re.M)
        assert len(lines) == 3 and all(int(x[1]) == t.pid for x in lines), f"{t.pid}:\n{out}"
        for num, tid, name, n in lines:
            assert name == ["alpha", "beta", "gamma"][(int(n) - 1000) % 3], out
            d = g.cmd(f"monitor tdump {num}")
            check_dump(d, [re.escape(f"it = ") + "0x[0-9a-f]+ -> " + re.escape(items[name]),
                           f'name = "{name}"', f"n = {n}"])
            assert "goroutine" not in d, d


def tlive_check(text):
    """Lines of a tlive stream: every frame after the first is either shown
    or counted in a "... N hits not shown" line; the values match the frame
    (req-k with n = 100 + k).  Returns (lines shown, hits counted)."""
    shown, counted, last, pending = 0, 0, None, 0
    for line in text.splitlines():
        m = re.match(r"^\.\.\. (\d+) hits not shown$", line)
        if m:
            pending += int(m.group(1))
            counted += int(m.group(1))
            continue
        m = TFRAMES_GO.match(line)
        if not m:
            continue
        num, k, n = int(m.group(1)), int(m.group(5)), int(m.group(6))
        assert n == 100 + k, line
        if last is not None:
            assert num == last + 1 + pending, f"frame {num} after {last} (+{pending} not shown)"
        last, pending = num, 0
        shown += 1
    return shown, counted


@needs_bpf
def test_tlive_gdb_continue_streams_until_interrupt():
    """tlive on: GDB's continue stays running, each hit printed as it is
    collected, at most 20 lines a second with the rest counted; Ctrl-C
    (0x03) stops it.  tlive off: continue is answered at once, as before."""
    with attached("govalues") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("trace main.handle")
        g.cmd(actions("collect $regs"))
        tstart(g)
        assert "tlive: on" in g.cmd("monitor tlive on")
        start = len(g.all_output())
        calls0 = t.read_long("main.calls")
        g.proc.stdin.write(b"continue\n")
        g.proc.stdin.flush()
        wait_until(lambda: "hits not shown" in g.all_output()[start:], 5,
                   what="a '... N hits not shown' line")
        t0 = time.monotonic()
        wait_until(lambda: g.all_output()[start:].count("hits not shown") >= 2, 5,
                   what="a second one")
        g.proc.send_signal(signal.SIGINT)
        wait_until(lambda: "received signal SIGINT" in g.all_output()[start:], 5,
                   what="the stop after the interrupt")
        text = g.all_output()[start:]
        assert "each hit is printed" in text, text[:500]
        shown, counted = tlive_check(text)
        # ~200 hits a second: 20 lines a second shown, the rest counted
        assert shown >= 20 and counted >= 100, f"{shown} shown, {counted} counted"
        assert t.read_long("main.calls") > calls0, "the target did not run"
        # The prompt is back; tracing went on.
        assert "Trace is running" in g.cmd("tstatus")
        assert "tlive: off" in g.cmd("monitor tlive off")
        out = g.cmd("continue", timeout=10)
        assert "received signal SIGINT" in out and "the target never stops" in out, out
        out = g.cmd("monitor tlive maybe")
        assert "monitor: tlive takes on or off, not 'maybe'" in out, out


@needs_bpf
def test_tlive_lldb_streams_hits():
    """LLDB: tracepoints defined by GDB (disconnected tracing), then lldb's
    `process continue` with tlive on prints one line per hit while the
    target runs, until `process interrupt`."""
    with attached("govalues") as (t, stub):
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set disconnected-tracing on")
            g.cmd("trace main.handle")
            g.cmd(actions("collect $regs"))
            tstart(g)
            g.cmd("disconnect")
        p = subprocess.Popen(["lldb", "--no-lldbinit"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=CLIENT_ENV)

        def send(c):
            p.stdin.write((c + "\n").encode())
            p.stdin.flush()

        try:
            send(f"target create {t.path}")
            send(f"gdb-remote {stub.addr}")
            send("process plugin packet monitor tlive on")
            send("process continue")
            time.sleep(1.5)
            send("process interrupt")
            send("process detach")
            send("quit")
            out, _ = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
        text = out.decode(errors="replace")
        cont = text[text.index("(lldb) process continue"):text.index("(lldb) process interrupt")]
        shown, counted = tlive_check(cont)
        assert shown >= 20, f"{shown} lines while running:\n{tail(text)}"
        assert "stop reason = signal SIGINT" in text, tail(text)
