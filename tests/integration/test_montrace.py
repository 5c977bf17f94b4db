"""`monitor trace` (stub/trace/montrace.c): tracepoints defined by a monitor line,
from LLDB (`process plugin packet monitor ...`) and GDB, in the same trace
as GDB's own.  Values are checked through GDB's own view of the frames
(tfind, print, info args): the typed `monitor tdump` is another module's.

Targets (tests/targets): govalues calls handle(name, n, p, tags) every 5 ms
with, for call k, name = "req-<k>", n = 100 + k, p = &Point{k, 2k, "pt-<k>"},
tags = {"a", "bb"} (k even) or {"a", "bb", "ccc"} (k odd).  cvalues calls
process(it, name, n): items[0] {1, "first", {10, 20}, "one"} with "alpha",
items[1] {2, "second", {30, 40}, "two"} with "beta", a heap item
{3, "heap-third", {50, 60}, "three"} with "gamma".
"""

import re
import urllib.request

from harness import (attached, gdb_batch, gdb_pipe, go_runtime_gdb, lldb_batch, needs_bpf,
                     src_line)
from harness import gdb_connect as connect

GO_HANDLE = src_line("govalues/main.go", "func handle(")  # handle's opening line
GO_BODY = src_line("govalues/main.go", "// BODY")  # sink = total
C_OPEN = src_line("cvalues.c", "NOINLINE long process(") + 1  # process's "{"

MON = "process plugin packet monitor"


def frames_of(g, tp, limit):
    """Up to `limit` frames of tracepoint tp: (frame number, output of tfind)."""
    found = []
    out = g.cmd("tfind start")
    while "Found trace frame" in out and len(found) < limit:
        m = re.search(r"Found trace frame (\d+), tracepoint (\d+)", out)
        if int(m.group(2)) == tp:
            found.append(int(m.group(1)))
        out = g.cmd("tfind")
    return found


def tp_addr(out, num):
    m = re.search(rf"^tracepoint {num} at (0x[0-9a-f]+)", out, re.M)
    assert m, f"no 'tracepoint {num} at' in:\n{out}"
    return int(m.group(1), 16)


@needs_bpf
def test_montrace_lldb_go_then_gdb_reads_frames():
    """LLDB defines two Go tracepoints (name with collect and a condition,
    FILE:LINE), runs the trace; GDB connects later: it shows both, and its
    frames hold p.Label, tags[1], name and the goroutine id, exactly."""
    with attached("govalues") as (t, stub):
        r = lldb_batch([f"gdb-remote {stub.addr}",
                        f"{MON} trace main.handle if tags.len == 3 collect p.Label, tags[1], name",
                        f"{MON} trace main.go:{GO_BODY}",
                        f"{MON} tstart",
                        "platform shell sleep 0.4",
                        f"{MON} tstop",
                        f"{MON} tstatus",
                        "process detach"])
        out = r.out
        assert "tracepoint 1 at 0x" in out[1] and "in main.handle" in out[1], r.text
        goid = re.search(r"goroutine id \(8 bytes at \$r14\+(\d+)\)", out[1])
        assert goid, out[1]
        assert "p.Label (Go string, 255), tags[1] (Go string, 255), name (Go string, 255)" \
            in out[1], out[1]
        assert "only when: tags.len == 3" in out[1], out[1]
        assert "tracepoint 2 at 0x" in out[2] and "$args" in out[2], out[2]
        st = out[6]
        m1 = re.search(r"^tracepoint 1 at 0x[0-9a-f]+: enabled, not installed, (\d+) hits, "
                       r"(\d+) frames: monitor trace main.handle if", st, re.M)
        m2 = re.search(r"^tracepoint 2 at 0x[0-9a-f]+: enabled, not installed, (\d+) hits, "
                       rf"(\d+) frames: monitor trace main.go:{GO_BODY}$", st, re.M)
        assert m1 and m2, st
        f1, f2 = int(m1.group(2)), int(m2.group(2))
        # Only calls with three tags (odd k) pass the condition: about half.
        assert 0 < f1 and f1 <= f2 // 2 + 2, st

        with gdb_pipe(file=t.path) as g:
            g.cmd(f"source {go_runtime_gdb()}")  # what GDB auto-loads for Go
            connect(g, stub)
            info = g.cmd("info tracepoints")
            assert re.search(r"^1\s+tracepoint\s+keep y\s+0x[0-9a-f]+ in main.handle at "
                             rf".*main.go:{GO_HANDLE}$", info, re.M), info
            assert re.search(r"^2\s+tracepoint\s+keep y\s+0x[0-9a-f]+ in main.handle at "
                             rf".*main.go:{GO_BODY}$", info, re.M), info
            assert "collect $regs, $args" in info, info
            frames = frames_of(g, 1, 3)
            assert len(frames) == 3, frames
            for f in frames:
                out = g.cmd(f"tfind {f}")
                assert f"Found trace frame {f}, tracepoint 1" in out, out
                n = int(re.search(r"^n = (\d+)$", g.cmd("info args"), re.M).group(1))
                k = n - 100
                assert k % 2 == 1, f"frame {f}: n = {n} did not pass tags.len == 3"
                for expr, want in (("p.Label", f'"pt-{k}"'), ("name", f'"req-{k}"'),
                                   # GDB cannot index a slice held in registers; its array
                                   ("tags.array[1]", '"bb"')):
                    out = g.cmd(f"print {expr}")
                    assert out.strip().endswith(f"= {want}"), f"frame {f}, {expr}: {out}"
                gid = g.cmd(f"x/1gd $r14+{goid.group(1)}")
                assert re.search(r":\s+1$", gid.strip()), gid  # main.main's goroutine
            frames = frames_of(g, 2, 1)
            out = g.cmd(f"tfind {frames[0]}")
            assert re.search(rf"^{GO_BODY}\s+sink = total // BODY", out, re.M), out
            g.cmd("tfind none")


@needs_bpf
def test_montrace_gdb_c_where_gdb_puts_it():
    """GDB's `monitor trace` on C at -O0 and -O2: the probe is where GDB's own
    `trace process` goes; a condition filters; *it, it->label, name whole."""
    for prog in ("cvalues-O0", "cvalues-O2"):
        with attached(prog) as (t, stub), gdb_pipe(file=t.path) as g:
            connect(g, stub)
            out = g.cmd("monitor trace process if it->id == 2 collect *it, it->label, name")
            assert "collects: registers, *it (40 bytes (*it.label)), it->label (C string, "\
                "255), name (C string, 255)" in out, out
            mine = tp_addr(out, 1)
            out = g.cmd(f"monitor trace cvalues.c:{C_OPEN}")
            assert tp_addr(out, 2) == mine, out  # a function's opening line: after its prologue
            # GDB's own (never downloaded: the run is started by monitor tstart)
            gdbs = re.search(r"^Tracepoint (\d+) at (0x[0-9a-f]+)", g.cmd("trace process"), re.M)
            assert gdbs and int(gdbs.group(2), 16) == mine, (prog, hex(mine), gdbs)
            g.cmd(f"delete {gdbs.group(1)}")
            out = g.cmd("monitor tstart")
            assert "trace started: 2 tracepoints" in out, out
            # a monitor tracepoint added during the run is installed at once
            out = g.cmd("monitor trace main")
            assert "tracepoint 3 at" in out and "installed" in out, out
            g.cmd("shell sleep 0.3")
            st = g.cmd("monitor tstatus")
            g.cmd("monitor tstop")
            m1 = re.search(r"^tracepoint 1 .* (\d+) frames: monitor", st, re.M)
            m2 = re.search(r"^tracepoint 2 .* (\d+) frames: monitor", st, re.M)
            assert m1 and m2 and 0 < int(m1.group(1)) <= int(m2.group(1)) // 3 + 2, st
            for f in frames_of(g, 1, 2):
                g.cmd(f"tfind {f}")
                out = g.cmd("print *it")
                assert re.search(r'= \{id = 2, label = 0x[0-9a-f]+ "second", pos = \{x = 30, '
                                 r'y = 40\}, tag = "two', out), out
                assert re.search(r'^name = 0x[0-9a-f]+ "beta"$', g.cmd("info args"), re.M)
            g.cmd("tfind none")


@needs_bpf
def test_montrace_bad_input_leaves_nothing():
    """Every mistake is one `monitor: ...` line; no tracepoint is left behind."""
    bad = {
        "trace nosuch_function": "monitor: no function nosuch_function in the target's DWARF or ELF symbols",
        "trace cvalues.c:1": "monitor: no code at cvalues.c:1 (no line-table row for it)",
        "trace *0x10": "monitor: address 0x10 is not in an executable mapping",
        "trace process collect nosuch": "monitor: no variable 'nosuch' in scope in process",
        "trace process collect it->nosuch":
            "monitor: it->nosuch: struct item has no member 'nosuch'",
        "trace process collect *n": "monitor: *n: n is not a pointer (long int)",
        "trace process if it->pos > 3":
            "monitor: condition: it->pos (struct point) is not a number it can read",
        "trace process if n >":
            "monitor: condition n >: expected a name: unexpected the end at offset 3",
        "trace process collect it->label, ": "monitor: an empty expression in collect",
        "tdelete 7": "monitor: no tracepoint 7",
    }
    with attached("cvalues-O2") as (t, stub):
        cmds = [f"target remote {stub.addr}"] + [f"monitor {c}" for c in bad] + \
            ["monitor tstatus", "disconnect", f"target remote {stub.addr}", "info tracepoints"]
        r = gdb_batch(cmds, file=t.path)
        for i, (c, want) in enumerate(bad.items()):
            out = r.out[1 + i].strip()
            assert out.startswith(want) and len(out.splitlines()) == 1, f"{c}: {out!r}"
        assert "no tracepoints" in r.out[1 + len(bad)], r.out[1 + len(bad)]
        assert "No tracepoints." in r.out[-1], r.out[-1]
    with attached("govalues") as (t, stub):
        r = gdb_batch([f"target remote {stub.addr}",
                       "monitor trace main.describe collect *v.data",
                       "monitor tstatus"], file=t.path)
        assert r.out[1].strip() == ("monitor: *v.data: cannot collect what an untyped pointer "
                                    "(unsafe.Pointer) points to"), r.out[1]
        assert "no tracepoints" in r.out[2], r.out[2]


@needs_bpf
def test_montrace_tdelete_while_running():
    """tdelete detaches a running tracepoint; the others go on collecting."""
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("monitor trace process collect name")
        g.cmd("monitor trace process if n < 0")  # never true
        g.cmd(f"monitor trace cvalues.c:{C_OPEN + 1} collect it->pos")
        g.cmd("monitor tstart")
        g.cmd("shell sleep 0.1")
        out = g.cmd("monitor tdelete 1")
        assert out.strip() == "deleted tracepoint 1", out
        st1 = g.cmd("monitor tstatus")
        g.cmd("shell sleep 0.2")
        st2 = g.cmd("monitor tstatus")
        assert "tracepoint 1 " not in st2, st2
        h = [int(re.search(r"^tracepoint 3 at .*installed, (\d+) hits", s, re.M).group(1))
             for s in (st1, st2)]
        assert h[1] > h[0] > 0, (st1, st2)
        assert re.search(r"^tracepoint 2 at .*installed, 0 hits, 0 frames", st2, re.M), st2
        out = g.cmd("monitor tdelete all")
        assert out.strip() == "deleted 2 tracepoints", out
        out = g.cmd("monitor tstatus")
        assert out.startswith("trace running") and "no tracepoints" in out, out
        g.cmd("monitor tstop")
        assert "No tracepoints." in g.cmd("info tracepoints")


@needs_bpf
def test_montrace_cpp_demangled_names():
    """C++ by qualified name (shop::Cart::total, Cart::total, shop::tax):
    where GDB's trace puts it; `this` and a reference parameter whole."""
    with attached("cppvalues") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor trace shop::Cart::total collect *this, price")
        assert "in total: enabled" in out and "*this (16 bytes" in out, out
        gdbs = re.search(r"^Tracepoint (\d+) at (0x[0-9a-f]+)",
                         g.cmd("trace shop::Cart::total"), re.M)
        assert gdbs and int(gdbs.group(2), 16) == tp_addr(out, 1), (out, gdbs)
        g.cmd(f"delete {gdbs.group(1)}")
        assert tp_addr(g.cmd("monitor trace Cart::total"), 2) == tp_addr(out, 1)
        out = g.cmd("monitor trace shop::tax collect c")
        assert "*c (16 bytes" in out, out
        g.cmd("monitor tstart")
        g.cmd("shell sleep 0.2")
        g.cmd("monitor tstop")
        for tp in (1, 3):
            f = frames_of(g, tp, 1)[0]
            g.cmd(f"tfind {f}")
            if tp == 1:
                price = int(re.search(r"^price = (\d+)$", g.cmd("info args"), re.M).group(1))
                out = g.cmd("print *this")
                assert re.search(rf'= {{items = {price % 7}, owner = 0x[0-9a-f]+ "ann"}}', out), \
                    (price, out)
            else:
                out = g.cmd("info args")
                assert re.search(r'^c = @0x[0-9a-f]+: {items = [0-6], owner = 0x[0-9a-f]+ "ann"}$',
                                 out, re.M), out
        g.cmd("tfind none")


@needs_bpf
def test_montrace_go_method_and_upload():
    """A Go method by its DWARF name (net/http.(*ServeMux).ServeHTTP) goes
    where GDB's trace puts it; one request, one frame with r's URL; a GDB
    that connects later shows it (uploaded at *ADDR) without an error."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        g.cmd(f"source {go_runtime_gdb()}")
        connect(g, stub)
        out = g.cmd("monitor trace net/http.(*ServeMux).ServeHTTP collect r.URL.Path.len.x")
        assert out.strip().startswith("monitor: r.URL.Path.len.x: "), out
        out = g.cmd("monitor trace net/http.(*ServeMux).ServeHTTP collect r.Method, r.URL, "
                    "r.URL.Path")
        assert "in net/http.(*ServeMux).ServeHTTP: enabled" in out, out
        assert "r.Method (Go string, 255), *r.URL (144 bytes (" in out, out
        assert "r.URL.Path (Go string, 255)" in out, out
        gdbs = re.search(r"^Tracepoint (\d+) at (0x[0-9a-f]+)",
                         g.cmd("trace 'net/http.(*ServeMux).ServeHTTP'"), re.M)
        assert gdbs and int(gdbs.group(2), 16) == tp_addr(out, 1), (out, gdbs)
        g.cmd(f"delete {gdbs.group(1)}")
        g.cmd("monitor tstart")
        body = urllib.request.urlopen(f"http://127.0.0.1:{t.port}/e?iterations=7",
                                      timeout=2).read()
        assert body.startswith(b"2.71"), body
        st = g.cmd("monitor tstatus")
        assert re.search(r"^tracepoint 1 at .*installed, 1 hits, 1 frames", st, re.M), st
        g.cmd("disconnect")
        out = connect(g, stub)
        assert "error" not in out.lower(), out
        info = g.cmd("info tracepoints")
        # GDB numbers it after its own deleted one
        assert re.search(r"^\d+\s+tracepoint\s+keep y\s+0x[0-9a-f]+ in "
                         r"net/http.\(\*ServeMux\).ServeHTTP at .*server.go:\d+$", info, re.M), info
        g.cmd("tfind 0")
        out = g.cmd("print r.Method")
        assert out.strip().endswith('= "GET"'), out
        g.cmd("tfind none")
        d = g.cmd("monitor tdump 0")
        assert re.search(r'^r\.Method = "GET"$', d, re.M), d
        assert re.search(r'^r\.URL\.Path = "/e"$', d, re.M), d
