"""Call stacks by frame pointers, walked in the kernel (`monitor set
stack-window fp`, the default; bpf/fpchain.h): each frame with registers
holds the frame-pointer chain (16 bytes a frame: saved rbp and return
address, as M blocks at their addresses) and 512 bytes above rsp; where
the chain is broken (C at -O2) the same room is one 1536-byte window.

Oracle: GDB's own `bt` in tfind (it unwinds by CFI through what the frame
holds), and the same trace with a plain 2 KiB window.

Targets (tests/targets): goserver (GET /greet -> net/http ->
main.handleGreet); fpdeep (main -> descend x51, 100-byte frames ->
bottom: over 5 KiB of stack, -O0 -fno-omit-frame-pointer); fpchain-O2
(main -> outer -> middle -> inner -> leaf, -O2: no frame pointers).
"""

import os
import re
import tempfile
import urllib.request

from harness import actions, attached, gdb_batch, gdb_pipe, needs_bpf
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_frames as wait_frames

BT_FRAME = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-f]+|<unavailable>) in )?(\S+) \(", re.M)
GO_HANDLER = ["main.handleGreet", "net/http.HandlerFunc.ServeHTTP",
              "net/http.(*ServeMux).ServeHTTP", "net/http.serverHandler.ServeHTTP",
              "net/http.(*conn).serve", "net/http.(*Server).Serve.func3", "runtime.goexit"]
DEPTH = 50  # fpdeep.c's FPDEEP_DEPTH: descend(50) .. descend(0), then bottom
C_DEEP = ["bottom"] + ["descend"] * (DEPTH + 1) + ["main"]
C_O2 = ["leaf", "inner", "middle", "outer", "main"]


def bt(g):
    """[(name, pc or None)] of GDB's bt in the selected frame, numbered in order;
    the text too.  A last `<unavailable> in ??` (GDB reading past runtime.goexit
    or past the window's end) is left out."""
    out = g.cmd("bt")
    return bt_frames(out), out


def bt_frames(out):
    frames = BT_FRAME.findall(out)
    assert [int(n) for n, _, _ in frames] == list(range(len(frames))), f"bt:\n{out}"
    got = [(name, pc if pc.startswith("0x") else None) for _, pc, name in frames]
    if got and got[-1][0] == "??" and (got[-1][1] is None or int(got[-1][1], 16) == 0):
        got.pop()
    return got


def one_run(g, setting, where, poke=None, n=1):
    """A fresh run with `monitor set stack-window SETTING`: trace WHERE, collect
    $regs, n frames; then bt of frame 0 and the bytes per frame (tstatus)."""
    out = g.cmd(f"monitor set stack-window {setting}")
    assert out.strip().startswith(f"stack-window: {setting}"), out
    status = g.cmd("monitor status")
    want = {"fp": "fp: the frame-pointer chain", "off": "off"}.get(setting, f"{setting} bytes")
    assert re.search(rf"^stack-window: {re.escape(want)}", status, re.M), status
    g.cmd("delete")
    assert re.search(r"Tracepoint \d+ at", g.cmd(f"trace {where}"))
    g.cmd(actions("collect $regs"))
    tstart(g)
    if poke:
        poke()
    wait_frames(g, n)
    g.cmd("tstop")
    st = tstatus(g)
    assert g.cmd("tfind 0").find("Found trace frame 0") >= 0
    names, out = bt(g)
    g.cmd("tfind none")
    return names, out, (st.size - st.free) / st.frames


@needs_bpf
def test_fp_go_handler_reaches_goexit():
    """goserver, `trace main.handleGreet` + `collect $regs`: with fp, bt in
    tfind names every frame through net/http to runtime.goexit, in order,
    exactly; a frame takes well under half the bytes of a 2 KiB window's,
    which reaches the same frames."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("monitor set deep-collect off")  # the stack's bytes alone

        def get():
            body = urllib.request.urlopen(f"http://127.0.0.1:{t.port}/greet?name=fp",
                                          timeout=2).read()
            assert b"fp" in body, body

        fp, out, fp_bytes = one_run(g, "fp", "main.handleGreet", get)
        assert [n for n, _ in fp] == GO_HANDLER, f"bt with fp:\n{out}"
        win, wout, win_bytes = one_run(g, "2048", "main.handleGreet", get)
        assert [n for n, _ in win] == GO_HANDLER, f"bt with a 2 KiB window:\n{wout}"
        assert [pc for _, pc in fp] == [pc for _, pc in win], (out, wout)
        assert fp_bytes < win_bytes / 2, (fp_bytes, win_bytes)
        print(f"goserver handler: {fp_bytes:.0f} bytes a frame with fp, "
              f"{win_bytes:.0f} with 2048")
        t.assert_running("main.counter")


@needs_bpf
def test_fp_c_deep_recursion_reaches_main():
    """fpdeep (-O0 -fno-omit-frame-pointer, 51 frames of descend over 5 KiB):
    with fp, bt from bottom reaches main: exactly 53 frames, each return
    address where the window of 2 KiB puts it; the 2 KiB window stops
    early ("Backtrace stopped"); off: frame #0 alone.  tsave + target tfile
    keeps the chain: bt from the file is the same."""
    with attached("fpdeep") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        fp, out, fp_bytes = one_run(g, "fp", "bottom", n=2)
        assert [n for n, _ in fp] == C_DEEP, f"bt with fp:\n{out}"
        assert "Backtrace stopped" not in out, out
        assert len(set(pc for _, pc in fp[2:-1])) == 1, out  # one call site of descend

        with tempfile.TemporaryDirectory(prefix="bpfstub-fpcollect-") as tmp:
            path = os.path.join(tmp, "t.tf")
            assert "saved" in g.cmd(f"tsave {path}")
            r = gdb_batch([f"target tfile {path}", "tfind 0", "bt"], file=t.path)
            assert bt_frames(r.out[2]) == fp, f"bt from the trace file:\n{r.text}\nlive:\n{out}"

        win, wout, win_bytes = one_run(g, "2048", "bottom", n=2)
        assert 2 <= len(win) < len(C_DEEP) and win == fp[:len(win)], \
            f"bt with a 2 KiB window:\n{wout}"
        assert "Backtrace stopped" in wout, wout
        off, oout, _ = one_run(g, "off", "bottom", n=2)
        assert [n for n, _ in off] == ["bottom"], oout
        print(f"fpdeep: {len(fp)} frames with fp ({fp_bytes:.0f} bytes a frame), "
              f"{len(win)} with 2048 ({win_bytes:.0f})")
        t.assert_running("sink")


@needs_bpf
def test_fp_broken_chain_as_window():
    """fpchain-O2 (no frame pointers: rbp is an ordinary register, the walk
    stops on it and the 1536-byte window stands in): bt in tfind is what
    the 2 KiB window gives, leaf to main, the same return addresses, no
    frame invented."""
    with attached("fpchain-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        fp, out, fp_bytes = one_run(g, "fp", "leaf", n=2)
        win, wout, win_bytes = one_run(g, "2048", "leaf", n=2)
        assert [n for n, _ in fp] == C_O2, f"bt with fp:\n{out}"
        assert fp == win, f"fp:\n{out}\n2048:\n{wout}"
        assert "Backtrace stopped" not in out, out
        assert fp_bytes < win_bytes, (fp_bytes, win_bytes)
