"""Tracepoint actions and conditions that GDB sends as agent expressions
(bytecode `X` actions and `:X` conditions, see
/work/shared/docs/qtdp-reference-O0.txt): part of the spec, judged
separately from test_trace.py because bpfstub does not run bytecode yet.

What GDB sends for each (counter.c's compute(n, m, it, buf)):
  -O0  collect $args      R40 + 4x X (rbp-relative stack slots)
  -O0  collect it->id     R40 + X (load the pointer from the stack, trace 4 bytes)
  -O0  collect *buf@16    R40 + X (trace_quick 8 the pointer, ref64, trace 16)
  -O2  collect *buf@16    R04 + X (reg rcx; trace 16)
  -O2  collect *it        R08 + X (reg rdx; trace 32)
  any  collect config     X (const32 &config; trace 32): gdb collects a struct
                          global through bytecode, not as an M range
  any  condition 1 EXPR   QTDP:...:X<len>,<bytecode> (ConditionalTracepoints+)
  any  teval / collect $c getv/setv/tracev bytecode
  any  collect/s buf      tracenz (needs tracenz+ in qSupported)

Each test asserts what the user sees in tdump/print; all run with the target
watched by ThreadStateSampler.  The facts about counter.c: compute is called
with i = calls: n = i % 1000, m = 3i + 1, it = &items[i % 4] (items[k] =
{k+1, (k+1)*100, "item-<k+1>"}), buf = scratch holding "call <i>".
"""

import re

from harness import (actions, assert_consecutive, attached, gdb_pipe, gdb_values_by_frame,
                     needs_bpf, tracepoint_address)
from harness import gdb_connect as connect
from harness import gdb_print_int as pint
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_frames as wait_created


def define(g, *lines):
    """actions for the last tracepoint; gdb must accept them."""
    out = g.cmd(actions(*lines))
    assert not re.search(r"error|not support|warning", out, re.I), \
        f"gdb refused the actions {lines}:\n{out}"


def run_and_stop(g, frames=3):
    tstart(g)
    wait_created(g, frames)
    g.cmd("tstop")
    st = tstatus(g)
    assert st.frames >= frames, str(st)
    return st


def tdump_values(out):
    """{name: value text} of tdump's `name = value` lines."""
    return dict(re.findall(r"^(\S+) = (.*)$", out, re.M))


def frames_tdump(g, n):
    """[(calls, {name: value})] for frames 0..n-1 (calls must be collected)."""
    rows = []
    for i in range(n):
        assert tfind(g, str(i)) == (i, 1)
        out = g.cmd("tdump")
        vals = tdump_values(out)
        assert "calls" in vals, f"tdump of frame {i} has no calls:\n{out}"
        rows.append((int(vals["calls"]), vals, out))
    g.cmd("tfind none")
    return rows


@needs_bpf
def test_ax_args_O0():
    """-O0 `collect $args` (stack slots via bytecode): tdump shows n, m, it, buf
    following the formula."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect $args", "collect calls")
        run_and_stop(g)
        items = t.addr_of("items")
        for calls, vals, out in frames_tdump(g, 3):
            assert vals.get("n") == str(calls % 1000), f"n:\n{out}"
            assert vals.get("m") == str(3 * calls + 1), f"m:\n{out}"
            assert "it" in vals and int(vals["it"].split()[0], 16) == items + 32 * (calls % 4), \
                f"it:\n{out}"
            assert "buf" in vals and "<scratch>" in vals["buf"], f"buf:\n{out}"
        t.assert_running()


def deref_buf(build):
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect *buf@16", "collect calls")
        run_and_stop(g)
        for calls, vals, out in frames_tdump(g, 3):
            assert re.search(rf'^\*buf@16 = "call {calls}(\\000|")', out, re.M), \
                f"*buf@16 should be \"call {calls}\":\n{out}"
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("print *buf@16")
        assert '"call ' in out, out
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_ax_deref_pointer_O0():
    """-O0 `collect *buf@16`: the 16 bytes buf points to ("call <calls>")."""
    deref_buf("counter")


@needs_bpf
def test_ax_deref_pointer_O2():
    """-O2 `collect *buf@16` (from register rcx)."""
    deref_buf("counter-O2")


@needs_bpf
def test_ax_struct_member_O0():
    """-O0 `collect it->id`: it->id == calls % 4 + 1."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect it->id", "collect calls")
        run_and_stop(g)
        for calls, vals, out in frames_tdump(g, 3):
            assert vals.get("it->id") == str(calls % 4 + 1), f"it->id:\n{out}"
        t.assert_running()


@needs_bpf
def test_ax_deref_struct_O2():
    """-O2 `collect *it`: the whole item it points to."""
    with attached("counter-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect *it", "collect calls")
        run_and_stop(g)
        for calls, vals, out in frames_tdump(g, 3):
            k = calls % 4 + 1
            assert re.match(rf'\{{id = {k}, value = {k * 100}, name = "item-{k}',
                            vals.get("*it", "")), f"*it should be items[{k - 1}]:\n{out}"
        t.assert_running()


@needs_bpf
def test_ax_struct_global():
    """`collect config` (gdb sends a struct global as bytecode): 42, 1234, "first"."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect config", "collect calls")
        run_and_stop(g)
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        assert re.search(r'^config = \{id = 42, value = 1234, name = "first', out, re.M), \
            f"tdump:\n{out}"
        assert pint(g, "config.id") == 42
        assert pint(g, "config.value") == 1234
        assert '"first' in g.cmd("print config.name")
        g.cmd("tfind none")
        t.assert_running()


def condition(build):
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect calls")
        out = g.cmd("condition 1 (n & 3) == 2")
        assert "error" not in out.lower(), out
        run_and_stop(g, frames=4)
        calls = [r[2][0] for r in gdb_values_by_frame(g, ["calls"])]
        assert calls and all(c % 4 == 2 for c in calls), \
            f"the condition n % 4 == 2 was not applied: calls {calls[:20]}"
        assert all(b - a == 4 for a, b in zip(calls, calls[1:])), \
            f"frames missing: calls {calls[:20]}"
        t.assert_running()


@needs_bpf
def test_ax_condition_O0():
    """-O0 `condition 1 (n & 3) == 2`: only every 4th call makes a frame."""
    condition("counter")


@needs_bpf
def test_ax_condition_O2():
    """-O2 (n in rdi) the same condition."""
    condition("counter-O2")


@needs_bpf
def test_ax_trace_state_variable():
    """tvariable $c = 0; actions teval $c = $c + 1, collect $c: frame k has $c = k+1."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("tvariable $c = 0")
        assert "error" not in out.lower(), out
        tracepoint_address(g.cmd("trace compute"))
        define(g, "teval $c = $c + 1", "collect $c", "collect calls")
        st = run_and_stop(g, frames=5)
        rows = gdb_values_by_frame(g, ["$c", "calls"])
        assert len(rows) == st.frames, (len(rows), st.frames)
        assert [r[2][0] for r in rows] == list(range(1, len(rows) + 1)), \
            f"$c per frame: {[r[2][0] for r in rows][:20]}"
        assert_consecutive([r[2][1] for r in rows], "calls of successive frames")
        out = g.cmd("info tvariables")
        assert re.search(r"\$c\s+0\s+" + str(st.frames), out), \
            f"$c should be {st.frames} (one increment per hit):\n{out}"
        t.assert_running()


@needs_bpf
def test_ax_string_collection():
    """-O0 `collect/s buf` (tracenz): the string buf points to, "call <calls>"."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect/s buf", "collect calls")
        run_and_stop(g)
        for calls, vals, out in frames_tdump(g, 3):
            assert re.search(rf'^buf = 0x[0-9a-f]+ <scratch> "call {calls}"\s*$', out, re.M), \
                f"buf should show the string \"call {calls}\":\n{out}"
        t.assert_running()
