"""Registers in every frame (issue 17, `monitor set always-regs`, default on).

GDB 13 sends no action for `collect $args` where it finds no argument in
the block at the function's entry (an -O2 function whose body opens with a
lexical block: "warning: No args found in scope."), and refuses `collect
$args` for Go strings ("Expression pieces exceed word size"), so a frame
would hold nothing and every argument would be <unavailable>, though the
registers held them at the hit.  bpfstub collects the registers (one R
block) in every frame of a GDB tracepoint whatever its actions; a tracepoint
whose actions collect nothing but registers is collected as `collect $regs`
is (stack window, deep collection).  `monitor set always-regs off` is
gdbserver's strict behaviour.

Targets (tests/targets): cvalues-O2 calls scale(a, b) with (1, 10), (2, 20),
(3, 30), (1, 10), ... (a = k % 3 + 1, b = 10 a); deepgo calls
main.handle(name, n, p, tags) with name = "alpha" / "bravo-charlie",
n = i + 100, p = {3, 4, "origin"} / {-5, 6, "far"}, tags = {"a", "bb"}.
"""

import json
import os
import re
import tempfile

from harness import (actions, attached, gdb_batch, gdb_pipe, go_runtime_gdb, load_bias,
                     needs_bpf)
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_frames

NO_ARGS = "warning: No args found in scope."


def trace_scale(g, stub, setup=(), frames=6):
    """Connect, run setup, `trace scale` + `collect $args` (for which GDB
    sends no action), run until frames frames, stop."""
    connect(g, stub)
    for c in setup:
        out = g.cmd(c)
        assert "monitor:" not in out, out
    out = g.cmd("trace scale")
    assert re.search(r"Tracepoint 1 at 0x[0-9a-f]+: file cvalues.c", out), out
    g.cmd(actions("collect $args"))
    out = g.cmd("tstart")
    assert NO_ARGS in out, f"GDB compiled `collect $args` in scale after all:\n{out}"
    wait_frames(g, frames)
    g.cmd("tstop")


def scale_args(g, f):
    """(a, b) of frame f from `info args`, checked against `tdump`, the
    registers and `monitor tdump` (all exact)."""
    out = g.cmd(f"tfind {f}")
    assert f"Found trace frame {f}, tracepoint 1" in out, out
    args = g.cmd("info args")
    m = re.fullmatch(r"a = (\d+)\nb = (\d+)", args.strip())
    assert m, f"frame {f}: info args:\n{args}"
    a, b = int(m.group(1)), int(m.group(2))
    assert a in (1, 2, 3) and b == 10 * a, f"frame {f}: scale({a}, {b})"
    # GDB's tdump prints the action it kept, `collect $args`, from the frame.
    out = g.cmd("tdump")
    assert f"a = {a}\nb = {b}" in out, out
    out = g.cmd("info registers rdi rsi")
    assert re.search(rf"^rdi\s+{a:#x}\s+{a}$", out, re.M), out
    assert re.search(rf"^rsi\s+{b:#x}\s+{b}$", out, re.M), out
    out = g.cmd("monitor tdump")
    assert re.search(rf"^frame {f}: tracepoint 1, scale at 0x[0-9a-f]+, thread \d+", out,
                     re.M), out
    assert f"\na = {a}\nb = {b}\n" in out, out
    return a, b


def check_scale_frames(g, n=4):
    """n consecutive frames: each scale(a, 10 a), a cycling 1, 2, 3."""
    seen = [scale_args(g, f)[0] for f in range(n)]
    for x, y in zip(seen, seen[1:]):
        assert y == x % 3 + 1, f"not consecutive calls: {seen}"
    g.cmd("tfind none")


@needs_bpf
def test_c_o2_no_args_found_has_registers():
    """cvalues-O2 scale: GDB warns "No args found in scope" and sends no
    action; every frame holds the registers, so info args, tdump, the
    registers and monitor tdump show a and b exactly."""
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        trace_scale(g, stub)
        check_scale_frames(g)
        out = g.cmd("monitor status")
        assert re.search(r"^always-regs: on: registers in every frame of a GDB tracepoint",
                         out, re.M), out
        # Collected as `collect $regs` is: deep collection was planned.
        assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: deep: nothing to follow in scale",
                         out, re.M), out
        # And as `collect $regs`, with the stack window: bt reaches main.
        g.cmd("tfind 0")
        out = g.cmd("bt")
        assert re.search(r"^#1  0x[0-9a-f]+ in main \(\) at cvalues.c:\d+$", out, re.M), out
        g.cmd("tfind none")


@needs_bpf
def test_go_string_args_without_actions():
    """deepgo main.handle: GDB refuses `collect $args` (Go strings); with no
    actions (tracepoint 1) or only `collect $rip` (2) the frames hold the
    registers and what the arguments point to: GDB's info args / print and
    monitor tdump show name, n, *p and tags whole."""
    with attached("deepgo") as (t, stub), gdb_pipe(file=t.path) as g:
        g.cmd(f"source {go_runtime_gdb()}")
        connect(g, stub)
        g.cmd("trace main.handle")
        g.cmd(actions("collect $args"))
        out = g.cmd("tstart")
        assert "Expression pieces exceed word size" in out, out
        g.cmd(actions())  # the user gives up on $args
        g.cmd("trace main.handle")
        g.cmd(actions("collect $rip"))
        tstart(g)
        wait_frames(g, 4)
        g.cmd("tstop")
        for f in range(4):
            out = g.cmd(f"tfind {f}")
            m = re.search(rf"Found trace frame {f}, tracepoint ([12])", out)
            assert m, out
            args = g.cmd("info args")
            m = re.search(r'^name = "(alpha|bravo-charlie)"$', args, re.M)
            assert m, f"frame {f}: info args:\n{args}"
            alpha = m.group(1) == "alpha"
            n = re.search(r"^n = (\d+)$", args, re.M)
            assert n and int(n.group(1)) % 2 == (0 if alpha else 1), args
            assert 'tags = []string = {"a", "bb"}' in args, args
            x, y, label = (3, 4, "origin") if alpha else (-5, 6, "far")
            out = g.cmd("print *p")
            assert f'= {{X = {x}, Y = {y}, Label = "{label}"}}' in out, out
            out = g.cmd("monitor tdump")
            assert f'\nname = "{m.group(1)}"\nn = {n.group(1)}\n' in out, out
            assert re.search(rf"^p = 0x[0-9a-f]+ -> {{X: {x}, Y: {y}, Label: \"{label}\"}}$",
                             out, re.M), out
            assert 'tags = []string len 2 cap 2 ["a", "bb"]' in out, out
        g.cmd("tfind none")


@needs_bpf
def test_always_regs_off_is_strict():
    """monitor set always-regs off: gdbserver's behaviour, the arguments
    <unavailable> and no buffer usage for the tracepoint; `monitor trace`
    tracepoints keep their registers; on again: values."""
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor set always-regs maybe")
        assert "monitor: set always-regs: 'maybe' is not on or off" in out, out
        out = g.cmd("monitor set always-regs off")
        assert out.strip() == "always-regs: off", out
        out = g.cmd("monitor show")
        assert re.search(r"^always-regs: off$", out, re.M), out
        out = g.cmd("trace scale")
        g.cmd(actions("collect $args"))
        out = g.cmd("tstart")
        assert NO_ARGS in out, out
        # Defined during the run (GDB's QTinit at tstart would renumber it).
        out = g.cmd("monitor trace depth")
        assert re.search(r"^tracepoint 2 at 0x[0-9a-f]+ in depth: enabled", out, re.M), out
        wait_frames(g, 60)
        g.cmd("tstop")
        out = g.cmd("tfind tracepoint 1")
        assert re.search(r"^#0  scale \(a=<unavailable>, b=<unavailable>\)", out, re.M), out
        out = g.cmd("info args")
        assert out.strip() == "a = <unavailable>\nb = <unavailable>", out
        out = g.cmd("print $rdi")
        assert re.search(r"^\$\d+ = <unavailable>$", out, re.M), out
        out = g.cmd("monitor tdump")
        assert "(no registers collected: `collect $regs` in the tracepoint's actions, or " \
               "`monitor set always-regs on` before tstart, lets tdump show the parameters)" \
               in out, out
        # A monitor tracepoint always has its registers: depth(3), where
        # `trace depth` lands at -O2, is hit with n = 3 (the recursion is a loop).
        out = g.cmd("tfind tracepoint 2")
        assert re.search(r"^#0  depth \(n=n@entry=3\)", out, re.M), out
        out = g.cmd("monitor tdump")
        assert re.search(r"^n = 3$", out, re.M), out
        g.cmd("tfind none")
        g.cmd("tstatus")
        out = g.cmd("info tracepoints 1")
        assert "trace buffer usage" not in out, out
        out = g.cmd("monitor status")
        assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: nothing deeper: deep collection "
                         r"comes with `collect \$regs`.* or, when the actions collect only "
                         r"registers, with `monitor set always-regs on`$", out, re.M), out
        # On again: the next tstart collects them.
        out = g.cmd("monitor set always-regs on")
        assert out.startswith("always-regs: on: registers in every frame"), out
        g.cmd("delete 2")
        assert NO_ARGS in g.cmd("tstart")
        wait_frames(g, 4)
        g.cmd("tstop")
        check_scale_frames(g)
        g.cmd("tstatus")
        out = g.cmd("info tracepoints 1")
        assert re.search(r"trace buffer usage \d+ bytes", out), out


@needs_bpf
def test_tsave_keeps_registers():
    """tsave then `target tfile` in a new GDB: the R block is in the file,
    so info args shows a and b there too."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "regs.tf")
        with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
            trace_scale(g, stub, setup=["monitor set stack-window off",
                                        "monitor set deep-collect off"])
            live = [scale_args(g, f) for f in (0, 1)]
            g.cmd("tfind none")
            out = g.cmd(f"tsave {path}")
            assert f"Trace data saved to file '{path}'" in out, out
            prog, bias = t.path, load_bias(t.pid, t.path)
        # A trace file does not say where the PIE was loaded: GDB is told.
        r = gdb_batch([f"symbol-file -o {bias:#x} {prog}", f"target tfile {path}", "tfind 0",
                       "info args", "tfind 1", "info args", "print $rsi"])
        text = str(r)
        (a0, b0), (a1, b1) = live
        assert re.search(rf"^a = {a0}\nb = {b0}\n(?:.*\n)*?a = {a1}\nb = {b1}$", text,
                         re.M), text
        assert re.search(rf"^\$1 = {b1}$", text, re.M), text


@needs_bpf
def test_always_regs_audited():
    """`monitor set always-regs` is an audit event, and tstart's settings name it."""
    with tempfile.TemporaryDirectory() as tmp:
        audit = os.path.join(tmp, "audit.jsonl")
        with attached("cvalues-O2", options=["--audit", audit]) as (t, stub), \
                gdb_pipe(file=t.path) as g:
            trace_scale(g, stub, setup=["monitor set always-regs off"], frames=2)
        with open(audit) as f:
            events = [json.loads(line) for line in f]
        sets = [e for e in events if e["event"] == "setting"]
        assert any(e["name"] == "always-regs" and e["value"] == "off" for e in sets), sets
        starts = [e for e in events if e["event"] == "tstart"]
        assert starts and " always-regs=off " in starts[0]["settings"], starts
