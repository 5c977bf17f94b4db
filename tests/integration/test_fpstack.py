"""Call stacks by frame pointers in `monitor tdump N` (stub/views/fpstack.c,
named by dw_cache__name_at): the chain of saved rbp / return addresses in
the frame's stack window, each return address checked to be code of the
target and named (DWARF FILE:LINE, else the ELF symbol), up to main.

Oracle: GDB's own `bt` in tfind of the same frame (it unwinds by CFI).

Targets (tests/targets): fpchain.c: main -> outer -> middle -> inner -> leaf,
each call on a line marked "call: NAME"; fpchain is -O0
-fno-omit-frame-pointer, fpchain-O2 GCC's -O2 (no frame pointers).
goserver: GET /greet -> net/http ... main.handleGreet -> main.greet.
deep_c-symtab: main -> process, symbols only.
"""

import os
import re
import urllib.request

from harness import actions, attached, elf_symbols, gdb_monitor, gdb_pipe, needs_bpf, src_line
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_frames

STACK = re.compile(r"^#(\d+) 0x([0-9a-f]+) in (\S+?)(?:\+0x[0-9a-f]+)?(?: at (\S+):(\d+))?"
                   r"(?: \(inlined into \S+\))?$")
BT = re.compile(r"^#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+) \(.*\)(?: at (\S+):(\d+))?$")



CALL = {n: src_line("fpchain.c", f"/* call: {n} */") for n in ("leaf", "inner", "middle", "outer")}
LEAF_OPEN = src_line("fpchain.c", "NOINLINE long leaf(") + 1  # its "{"
LEAF_BODY = LEAF_OPEN + 1
MIDDLE_RET = src_line("fpchain.c", "return r + 2;")
# The callers of leaf, as fpchain.c makes them: (function, line of the call)
C_CALLERS = [("inner", CALL["leaf"]), ("middle", CALL["inner"]), ("outer", CALL["middle"]),
             ("main", CALL["outer"])]
GREET = src_line("goserver/main.go", "func greet(")
HANDLE_GREET_CALL = src_line("goserver/main.go", "greet(r.URL.Query()")
GO_CALLERS = ["main.handleGreet", "net/http.HandlerFunc.ServeHTTP",
              "net/http.(*ServeMux).ServeHTTP", "net/http.serverHandler.ServeHTTP",
              "net/http.(*conn).serve"]


def stack_of(out):
    """tdump's `stack:` section: ([(n, addr, func, file, line)], the lines after the frames)."""
    assert re.search(r"^stack:$", out, re.M), f"no stack: in\n{out}"
    lines = out.split("stack:\n", 1)[1].splitlines()
    frames, rest = [], []
    for ln in lines:
        m = STACK.match(ln)
        if m and not rest:
            frames.append((int(m.group(1)), int(m.group(2), 16), m.group(3), m.group(4),
                           int(m.group(5)) if m.group(5) else 0))
        elif ln.strip():
            rest.append(ln)
    assert [f[0] for f in frames] == list(range(len(frames))), out
    return frames, rest


def bt_of(g):
    """GDB's bt in the selected frame: [(n, addr or None, func, file basename, line)]."""
    out = g.cmd("bt")
    frames = []
    for ln in out.splitlines():
        m = BT.match(ln)
        if m and m.group(3) != "??":
            frames.append((int(m.group(1)), int(m.group(2), 16) if m.group(2) else None,
                           m.group(3), os.path.basename(m.group(4)) if m.group(4) else None,
                           int(m.group(5)) if m.group(5) else 0))
    assert frames, out
    return frames


def check_same_as_bt(g, n, want_lines=True):
    """tdump N's stack equals GDB's bt of tfind N: names, lines, return addresses."""
    out = g.cmd(f"tfind {n}")
    assert f"Found trace frame {n}" in out, out
    bt = bt_of(g)
    frames, rest = stack_of(g.cmd(f"monitor tdump {n}"))
    assert len(frames) == len(bt), (frames, bt, rest)
    for f, b in zip(frames, bt):
        assert f[2] == b[2], (f, b)
        if want_lines:
            assert (f[3], f[4]) == (b[3], b[4]), (f, b)
        if b[1] is not None:
            assert f[1] == b[1], (hex(f[1]), hex(b[1]))
    g.cmd("tfind none")
    return frames, rest


def trace_regs(g, wheres, n):
    """GDB tracepoints at wheres collecting $regs, a run until n frames, tstop."""
    for w in wheres:
        assert re.search(r"Tracepoint \d+ at", g.cmd(f"trace {w}"))
        g.cmd(actions("collect $regs"))
    tstart(g)
    wait_frames(g, n)
    g.cmd("tstop")


@needs_bpf
def test_fpstack_c_after_prologue_equals_bt():
    """C -O0 -fno-omit-frame-pointer, GDB's `trace leaf` (after the
    prologue: the return address at [rbp+8]) and `trace middle`: tdump's
    stack is GDB's bt, four callers of leaf up to main, nothing past it."""
    with attached("fpchain") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        trace_regs(g, ("leaf", "middle"), 4)
        seen = set()
        for n in range(4):
            tp = int(re.search(r"tracepoint (\d+)", g.cmd(f"tfind {n}")).group(1))
            frames, rest = check_same_as_bt(g, n)
            assert rest == [], rest
            got = [(f[2], f[4]) for f in frames]
            if tp == 1:
                assert got == [("leaf", LEAF_BODY)] + C_CALLERS, got
            else:
                assert got == [("middle", CALL["inner"])] + C_CALLERS[2:], got
            seen.add(tp)
        assert seen == {1, 2}, seen


@needs_bpf
def test_fpstack_c_entry_monitor_trace():
    """A tracepoint at the entry (before `push %rbp`: the return address at
    [rsp], rbp still the caller's), by `monitor trace *ADDR`, beside a
    `monitor trace leaf` after the prologue: the same callers, exact; a
    return probe's frame has no stack window and says so."""
    with attached("fpchain") as (t, stub), gdb_pipe(file=t.path) as g:
        entry = elf_symbols(t.path)["leaf"]
        connect(g, stub)
        gdb_monitor(g, f"trace *{entry:#x}")
        gdb_monitor(g, "trace leaf")
        gdb_monitor(g, "trace -return inner")
        g.cmd("monitor tstart")
        g.cmd("shell sleep 0.3")
        g.cmd("monitor tstop")
        st = g.cmd("monitor tframes 0 6")
        tps = {int(m.group(1)): int(m.group(2))
               for m in re.finditer(r"^(\d+)  \S+  thread \d+  tp (\d+) ", st, re.M)}
        assert set(tps.values()) >= {1, 2, 3}, st
        for n, tp in tps.items():
            out = g.cmd(f"monitor tdump {n}")
            frames, rest = stack_of(out)
            got = [(f[2], f[4]) for f in frames]
            if tp == 1:
                assert frames[0][1] == entry, out
                assert got == [("leaf", LEAF_OPEN)] + C_CALLERS, out
                assert rest == [], out
            elif tp == 2:
                assert got == [("leaf", LEAF_BODY)] + C_CALLERS, out
                assert rest == [], out
            else:
                assert len(frames) == 1 and frames[0][2] == "inner", out
                assert rest == ["(no stack collected in this frame: callers unknown)"], out
        # the entry frame, against GDB's bt
        first = min(n for n, tp in tps.items() if tp == 1)
        check_same_as_bt(g, first)


@needs_bpf
def test_fpstack_c_o2_without_frame_pointers():
    """C -O2 (no frame pointers): past middle's entry the return address is
    where only CFI knows: one line says so, no guessed frame.  At its entry
    ([rsp]) the caller is right, and the chain through main's rbp (a plain
    register at -O2) is checked and cut, never printed as frames."""
    with attached("fpchain-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        trace_regs(g, (f"fpchain.c:{MIDDLE_RET}", "middle"), 4)
        seen = set()
        for n in range(4):
            tp = int(re.search(r"tracepoint (\d+)", g.cmd(f"tfind {n}")).group(1))
            bt = bt_of(g)
            g.cmd("tfind none")
            out = g.cmd(f"monitor tdump {n}")
            frames, rest = stack_of(out)
            if tp == 1:
                assert [(f[2], f[4]) for f in frames] == [("middle", MIDDLE_RET)], out
                assert rest == ["(callers unknown: middle keeps no frame pointer at this pc; "
                                "built without -fno-omit-frame-pointer?)"], out
            else:
                got = [(f[2], f[4]) for f in frames]
                assert got[:2] == [("middle", CALL["inner"]), ("outer", CALL["middle"])], out
                assert frames[1][1] == bt[1][1], (out, bt)
                # beyond outer: only main itself, else one line saying why not
                assert got[2:] in ([], [("main", CALL["outer"])]), out
                if len(got) == 2:
                    assert len(rest) == 1 and re.match(
                        r"^\(the (frame-pointer chain breaks|stack window ends)", rest[0]), out
            seen.add(tp)
        assert seen == {1, 2}, seen


@needs_bpf
def test_fpstack_symbols_only():
    """deep_c-symtab (no DWARF): `monitor trace process` at its entry; the
    stack names ELF symbols with their offsets, as GDB's bt (no lines)."""
    with attached("deep_c-symtab") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        gdb_monitor(g, "trace process")
        g.cmd("monitor tstart")
        g.cmd("shell sleep 0.2")
        g.cmd("monitor tstop")
        out = g.cmd("monitor tdump 0")
        assert re.search(r"^#0 0x[0-9a-f]+ in process\+0x0$", out, re.M), out
        assert re.search(r"^#1 0x[0-9a-f]+ in main\+0x[0-9a-f]+$", out, re.M), out
        frames, rest = check_same_as_bt(g, 0, want_lines=False)
        assert [f[2] for f in frames] == ["process", "main"] and rest == [], (frames, rest)


def greet(t):
    body = urllib.request.urlopen(f"http://127.0.0.1:{t.port}/greet?name=fp", timeout=2).read()
    assert body == b"hello, fp\n", body


def frame_of(g, func):
    """The first stored frame whose tframes line is func's."""
    st = g.cmd("monitor tframes")
    m = re.search(rf"^(\d+)  .*  tp \d+  {re.escape(func)}\(", st, re.M)
    assert m, f"no frame of {func} in:\n{st}"
    return int(m.group(1))


def check_greet_stack(out):
    """A frame of main.greet (Go's entry, after the stack-growth check, where
    `monitor trace main.greet` puts it) after one request: the stack from
    net/http's goroutine to main.greet, exact names, main.go's lines."""
    frames, rest = stack_of(out)
    names = [f[2] for f in frames]
    assert names[:6] == ["main.greet"] + GO_CALLERS, out
    assert (frames[0][3], frames[0][4]) == ("main.go", GREET), out
    assert (frames[1][3], frames[1][4]) == ("main.go", HANDLE_GREET_CALL), out
    assert all(f[3] == "server.go" and f[4] > 0 for f in frames[2:6]), out
    # net/http's goroutine starts in (*Server).Serve's closure, from
    # runtime.goexit: what the window reaches past (*conn).serve is those, or said
    tail = names[6:]
    assert tail in ([], ["net/http.(*Server).Serve.func3"],
                    ["net/http.(*Server).Serve.func3", "runtime.goexit"]), out
    if tail != ["net/http.(*Server).Serve.func3", "runtime.goexit"]:
        assert len(rest) == 1 and rest[0].startswith("(the stack window ends"), out
    else:
        assert rest == [], out
    return frames


@needs_bpf
def test_fpstack_go_equals_bt():
    """Go (goserver with DWARF): GDB's `trace main.handleGreet` and `monitor
    trace main.greet`, one request: stacks through net/http's frames, each
    equal to GDB's bt of the same frame."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        assert re.search(r"Tracepoint \d+ at", g.cmd("trace main.handleGreet"))
        g.cmd(actions("collect $regs"))
        tstart(g)
        gdb_monitor(g, "trace main.greet")
        greet(t)
        wait_frames(g, 2)
        g.cmd("tstop")
        n = frame_of(g, "main.greet")
        frames = check_greet_stack(g.cmd(f"monitor tdump {n}"))
        check_same_as_bt(g, n)
        hf, rest = check_same_as_bt(g, frame_of(g, "main.handleGreet"))
        assert [f[2] for f in hf[:5]] == GO_CALLERS, hf
        assert [f[1] for f in hf[1:5]] == [f[1] for f in frames[2:6]], (hf, frames)


@needs_bpf
def test_fpstack_go_stripped():
    """Go built as services ship (-ldflags "-s -w": no DWARF, no .symtab):
    the frames are named through Go's function table, the same names and
    lines as with DWARF."""
    with attached("goserver-stripped", ["0"]) as (t, stub), gdb_pipe() as g:
        connect(g, stub)
        gdb_monitor(g, "trace main.greet")
        g.cmd("monitor tstart")
        greet(t)
        g.cmd("monitor tstop")
        check_greet_stack(g.cmd("monitor tdump 0"))
