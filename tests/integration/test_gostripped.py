"""Stripped Go services (issue 18): built with -ldflags "-s -w" they have no
DWARF and no symbol table, only the runtime's own function table
(.gopclntab).  By name through it, from LLDB and GDB: entry frames with the
arguments as untyped words in Go's registers (~a0 = rax, ~a1 = rbx ...),
return frames with the result registers (~r0 = rax ...) and the latency,
the goroutine id, FILE:LINE at the same places as the unstripped build
(PIE and not), a net/http function once per request, GDB's own `trace
*ADDR` with the same frames, and `-ldflags=-w` (a .symtab, no DWARF)
showing Go's registers rather than the C ABI's.

goserver: GET /greet?name=S calls greet(S) once (Go string S: ~a0 its
pointer, ~a1 its length) and returns "hello, " + S (~r0 pointer, ~r1
length 7 + len(S)).  govalues: handle(name, n, p, tags) and pair(k) for k =
0, 1, ... every 5 ms, as tests/targets/govalues/main.go says."""

import re
import time
import urllib.request

from harness import (attached, gdb_connect, gdb_monitor, gdb_pipe, gdb_tfind, gdb_int,
                     lldb_batch, load_bias, needs_bpf)

MON = "process plugin packet monitor"
ALIAS = "command regex bpf 's/(.+)/process plugin packet monitor %1/'"
NAMES = ["bob", "al", "charlie", "dave-the-fifth", "x", "bob"]
FRAME = re.compile(r"^(\d+)  \S+  thread \d+  goroutine (\d+|-)  tp (\d+)  (.*)$")


def greet_all(port, names=NAMES):
    for n in names:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/greet?name={n}", timeout=5) as r:
            assert r.read().decode() == f"hello, {n}\n"


def frames(text):
    """[(frame, goroutine, tp, text)] of monitor tframes output."""
    out = []
    for ln in text.splitlines():
        m = FRAME.match(ln.strip())
        if m:
            out.append((int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)))
    return out


def words(text):
    """{'~a0': value, ...} of 'f(~a0=1, ~a1=2)' or 'f() -> ~r0=1, ~r1=2  latency ...'."""
    return {k: int(v) for k, v in re.findall(r"(~[ar]\d+)=(-?\d+)", text)}


def tp_num(reply):
    m = re.search(r"^tracepoint (\d+)", reply, re.M)
    assert m, reply
    return int(m.group(1))


def tp_addr(reply):
    m = re.search(r"^tracepoint \d+ at (0x[0-9a-f]+)", reply, re.M)
    assert m, reply
    return int(m.group(1), 16)


def ret_addrs(reply):
    m = re.search(r"return instructions?:((?: 0x[0-9a-f]+)+)", reply)
    assert m, reply
    return [int(a, 16) for a in m.group(1).split()]


def trace_greets(g, port, names=NAMES):
    gdb_monitor(g, "tstart")
    greet_all(port, names)
    time.sleep(0.2)
    out = gdb_monitor(g, "tstop")
    assert "trace stopped" in out, out
    return frames(gdb_monitor(g, "tframes 0 500"))


@needs_bpf
def test_goserver_stripped_by_name_gdb():
    """monitor trace by name, -return, a condition on a register word, a
    net/http function and FILE:LINE from GDB: one frame per request each,
    the values exactly the request's, the goroutine id, the latency; the
    same result lengths as the unstripped build's typed strings; the same
    addresses as the unstripped build's DWARF."""
    with attached("goserver-stripped", ["0"]) as (t, stub), gdb_pipe() as g:
        gdb_connect(g, stub)
        r1 = gdb_monitor(g, "trace main.greet")
        assert "in main.greet: enabled" in r1, r1
        assert "Go's function table" in r1 and "rax, rbx, rcx" in r1 and "rdi, rsi, rdx" not in r1
        assert "goroutine id (8 bytes at $r14+152)" in r1, r1
        r2 = gdb_monitor(g, "trace -return main.greet")
        assert "value ~r1 (untyped): rbx" in r2 and "goroutine id: 8 bytes at $r14 + 152" in r2, r2
        r3 = gdb_monitor(g, "trace net/http.HandlerFunc.ServeHTTP")
        r4 = gdb_monitor(g, "trace main.greet if ~a1 == 3")
        r5 = gdb_monitor(g, "trace -return main.greet if ~r1 > 12")
        r6 = gdb_monitor(g, "trace main.go:42")
        nums = [tp_num(r) for r in (r1, r2, r3, r4, r5, r6)]
        fs = trace_greets(g, t.port)
        by = {n: [f for f in fs if f[2] == n] for n in nums}
        entry, ret, serve, cond, rcond, line = (by[n] for n in nums)
        assert len(entry) == len(NAMES) and len(ret) == len(NAMES), fs
        assert len(serve) == len(NAMES) and len(line) == len(NAMES), fs
        assert [words(f[3])["~a1"] for f in entry] == [len(n) for n in NAMES], entry
        for f in entry:
            assert f[3].startswith("main.greet(~a0="), f
            assert f[1] != "-" and int(f[1]) > 1, f  # a connection's goroutine
        assert [words(f[3])["~r1"] for f in ret] == [7 + len(n) for n in NAMES], ret
        for f in ret:
            assert re.search(r"  latency [\d.]+ (ns|us|ms)$", f[3]), f
        # The entry and the return of one call are on one goroutine.
        assert [f[1] for f in entry] == [f[1] for f in ret], (entry, ret)
        assert [f[1] for f in serve] == [f[1] for f in entry], (serve, entry)
        assert len(cond) == NAMES.count("bob") and all(words(f[3])["~a1"] == 3 for f in cond)
        assert [words(f[3])["~r1"] for f in rcond] == [7 + len(n) for n in NAMES
                                                        if 7 + len(n) > 12], rcond
        out = gdb_monitor(g, f"tdump {entry[0][0]}")
        assert re.match(r"frame \d+: tracepoint \d+, main\.greet \(no DWARF: Go's function "
                        r"table, arguments are Go's registers ~a0\.\. = rax, rbx, rcx, rdi, rsi, "
                        r"r8\.\.r11, untyped\) at 0x[0-9a-f]+, thread \d+  goroutine \d+", out), out
        assert re.search(r"^~a1 = 3$", out, re.M), out
        out = gdb_monitor(g, f"tdump {ret[0][0]}")
        assert re.search(r"results are Go's registers ~r0\.\. = rax, rbx, rcx, rdi, untyped",
                         out.splitlines()[0]), out
        assert re.search(r"^~r1 = 10$", out, re.M), out
        assert re.search(r"^latency = [\d.]+ (ns|us|ms)$", out, re.M), out
        stripped = {"greet": tp_addr(r1), "line": tp_addr(r6), "ret": ret_addrs(r2)}
        g.cmd("detach")
    # The unstripped build: DWARF types the same result as a string.
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe() as g:
        gdb_connect(g, stub)
        u1 = gdb_monitor(g, "trace main.greet")
        u2 = gdb_monitor(g, "trace -return main.greet")
        u6 = gdb_monitor(g, "trace main.go:42")
        assert {"greet": tp_addr(u1), "line": tp_addr(u6), "ret": ret_addrs(u2)} == stripped
        fs = trace_greets(g, t.port)
        ret = [f for f in fs if f[2] == tp_num(u2)]
        typed = [re.search(r'~r0="([^"]*)"', f[3]).group(1) for f in ret]
        assert typed == [f"hello, {n}" for n in NAMES], ret
        g.cmd("detach")


@needs_bpf
def test_gdb_trace_addr_stripped():
    """GDB's own `trace *ADDR` at the address `monitor trace` gave: the same
    frames, registers in each (`p $rbx` is the name's length), named by Go's
    table in monitor tdump."""
    with attached("goserver-stripped", ["0"]) as (t, stub), gdb_pipe() as g:
        gdb_connect(g, stub)
        addr = tp_addr(gdb_monitor(g, "trace main.greet"))
        gdb_monitor(g, "tdelete all")
        out = g.cmd(f"trace *{addr:#x}")
        assert re.search(r"Tracepoint 1 at 0x%x" % addr, out), out
        out = g.cmd("tstart")
        assert not re.search(r"error|warning", out, re.I), out
        greet_all(t.port)
        time.sleep(0.2)
        g.cmd("tstop")
        st = g.cmd("tstatus")
        assert re.search(rf"Collected {len(NAMES)} trace frames", st), st
        for i, name in enumerate(NAMES):
            gdb_tfind(g, str(i))
            assert gdb_int(g.cmd("p $rbx")) == len(name)
            assert gdb_int(g.cmd("p (long)$pc")) == addr
            out = gdb_monitor(g, f"tdump {i}")
            assert re.search(rf"^frame {i}: tracepoint 1, main\.greet \(no DWARF: Go's", out,
                             re.M), out
            assert re.search(rf"^~a1 = {len(name)}$", out, re.M), out
        g.cmd("tfind none")
        g.cmd("detach")


@needs_bpf
def test_pie_stripped_same_places():
    """A stripped PIE: FUNC, FILE:LINE and the return sites at the same
    offsets from the load base as the unstripped PIE's DWARF says."""
    got = {}
    for name in ("goserver-pie", "goserver-pie-stripped"):
        with attached(name, ["0"]) as (t, stub), gdb_pipe() as g:
            gdb_connect(g, stub)
            base = load_bias(t.pid, t.path)
            assert base, "a PIE is loaded above 0"
            r = [gdb_monitor(g, c) for c in ("trace main.greet", "trace main.go:42",
                                              "trace main.go:55", "trace -return main.greet")]
            got[name] = [tp_addr(r[0]) - base, tp_addr(r[1]) - base, tp_addr(r[2]) - base,
                         [a - base for a in ret_addrs(r[3])]]
            if name.endswith("stripped"):
                fs = trace_greets(g, t.port, ["bob", "charlie"])
                ret = [words(f[3])["~r1"] for f in fs if f[2] == tp_num(r[3])]
                assert ret == [10, 14], fs
            g.cmd("detach")
    assert got["goserver-pie"] == got["goserver-pie-stripped"], got


def lldb_govalues(target, cmds):
    with attached(target) as (t, stub):
        r = lldb_batch([ALIAS, f"gdb-remote {stub.addr}", *cmds, "bpf tstart",
                        "platform shell sleep 0.5", "bpf tstop", "bpf tframes 0 400",
                        "bpf tdump 0", "process detach"])
    n = len(cmds)
    return r, frames(r.out[n + 5]), r.out[n + 6]


@needs_bpf
def test_lldb_govalues_stripped():
    """From LLDB: handle's seven argument words are (name.ptr, len("req-k"),
    100 + k, p, tags.ptr, tags.len, tags.cap); pair(k) returns 3k or 3k + 1
    in rax and "even"/"odd" (length 4/3 in rcx); the same results as the
    unstripped build's DWARF shows for the same k."""
    r, fs, dump = lldb_govalues("govalues-stripped", [
        "bpf trace main.handle", "bpf trace main.pair", "bpf trace -return main.pair"])
    assert "in main.handle" in r.out[2] and "7 untyped words ~a0" in r.out[2], r.text
    assert "return of main.pair" in r.out[4], r.text
    handle = [words(f[3]) for f in fs if f[2] == 1]
    assert len(handle) >= 20, r.text
    for w in handle:
        k = w["~a2"] - 100
        assert w["~a1"] == len(f"req-{k}") and w["~a5"] == w["~a6"] == (3 if k % 2 else 2), w
    assert all(f[1] == "1" for f in fs), fs  # main's goroutine
    stripped = {}
    last = None  # (frame number, k) of the last entry of pair
    for f in fs:
        if f[2] == 2:
            last = (f[0], words(f[3])["~a0"])
        elif f[2] == 3 and last and last[0] + 1 == f[0]:
            # The return right after its call's entry (main's goroutine calls pair in turn).
            k, w = last[1], words(f[3])
            assert w["~r0"] == 3 * k + k % 2 and w["~r2"] == (3 if k % 2 else 4), (k, f, fs)
            assert re.search(r"  latency [\d.]+ (ns|us|ms)$", f[3]), f
            stripped[k] = (w["~r0"], w["~r2"])
    assert len(stripped) >= 20, fs
    # Frame 0 is whichever probe fired first after tstart: an entry, or a
    # return of pair whose entry probe was attached before tracepoint 2's.
    assert re.search(r"^frame 0: tracepoint \d, main\.(handle|pair) \(no DWARF: Go's function "
                     r"table, (arguments|results) are Go's registers", dump, re.M), dump
    # The unstripped build: DWARF's typed results for the same k.
    r, fs, _ = lldb_govalues("govalues", ["bpf trace main.pair", "bpf trace -return main.pair"])
    typed = {}
    for f in fs:
        m = re.search(r'^main\.pair\(\) -> ~r0=(\d+), ~r1="(even|odd)"', f[3])
        if m:
            r0 = int(m.group(1))
            typed[r0 // 3] = (r0, len(m.group(2)))
    assert typed, r.text
    both = set(typed) & set(stripped)
    for k in both:
        assert typed[k] == stripped[k], (k, typed[k], stripped[k])
    for k, v in typed.items():
        assert v == (3 * k + k % 2, 3 if k % 2 else 4), (k, v)


@needs_bpf
def test_symtab_no_dwarf_go_registers():
    """go build -ldflags=-w: a .symtab, no DWARF.  The arguments are Go's
    registers (~a0 = rax = k), not the C ABI's rdi...; the goroutine id."""
    with attached("govalues-nodwarf") as (t, stub), gdb_pipe() as g:
        gdb_connect(g, stub)
        r = gdb_monitor(g, "trace main.pair")
        assert "$args are 1 untyped word ~a0.. in Go's argument registers" in r, r
        assert "rdi, rsi, rdx" not in r, r
        gdb_monitor(g, "tstart")
        time.sleep(0.3)
        gdb_monitor(g, "tstop")
        fs = frames(gdb_monitor(g, "tframes 0 100"))
        ks = [words(f[3])["~a0"] for f in fs]
        assert len(ks) >= 10 and ks == list(range(ks[0], ks[0] + len(ks))), fs
        assert all(f[1] == "1" and re.match(r"^main\.pair\(~a0=\d+\)$", f[3]) for f in fs), fs
        g.cmd("detach")
