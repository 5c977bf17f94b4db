"""Tracepoint actions and conditions that GDB sends as agent expressions
(bytecode `X` actions and `:X` conditions, see
/work/shared/docs/qtdp-reference-O0.txt), which bpfstub compiles into the
tracepoint's BPF program (bpf/ax.c).

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
  any  collect/s buf      tracenz (needs tracenz+ in qSupported); /s3: const8 3
  any  condition $fs_base  reg 58: refused by bpfstub (BPF sees pt_regs only),
                          tstart fails with "Target returns error code
                          '.agent expression: reg 58 at byte 0: ...'"
  Go   collect name       refused by GDB itself ("Expression pieces exceed word
                          size": a Go string argument lives in rax:rbx); the
                          user collects $rax, $rbx and the bytes, in C syntax

Each test asserts what the user sees in tdump/print; all run with the target
watched by ThreadStateSampler.  The facts about counter.c: compute is called
with i = calls: n = i % 1000, m = 3i + 1, it = &items[i % 4] (items[k] =
{k+1, (k+1)*100, "item-<k+1>"}), buf = scratch holding "call <i>"; right
after it main calls walk(&nodes[i % 4], i) on a ring of 4 nodes
(nodes[k].v = (k+1)*10, next = &nodes[(k+1) % 4]); `counter --burst T N FILE`
adds T threads that each call burst(k, j) N times once FILE exists.
goserver's GET /greet?name=S calls main.greet(S).
"""

import os
import re
import struct
import tempfile
import time
import urllib.parse
import urllib.request

from harness import (FRAME_NOT_FOUND, actions, assert_consecutive, attached, found_frame,
                     gdb_pipe, gdb_values_by_frame, needs_bpf, tracepoint_address,
                     wait_until)
from harness import gdb_connect as connect
from harness import gdb_hits as hits
from harness import gdb_print_int as pint
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_trace_stopped as wait_stopped
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
def test_ax_passcount_stops_variables_too():
    """passcount 3 with teval $c = $c + 1: the run stops after 3 hits and $c
    is exactly 3, as with gdbserver: no hit past the pass count runs its
    actions (the BPF program itself enforces the count)."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("tvariable $c = 0")
        tracepoint_address(g.cmd("trace compute"))
        define(g, "teval $c = $c + 1", "collect calls")
        g.cmd("passcount 3 1")
        tstart(g)
        st = wait_stopped(g)
        assert st.stop == "Trace stopped by tracepoint 1.", str(st)
        assert st.frames == 3, str(st)
        time.sleep(0.3)  # hits that would follow have had time to happen
        assert pint(g, "$c") == 3, g.cmd("info tvariables")
        assert hits(g).get(1) == 3, hits(g)
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


# --------------------------------------------------------------------------
# Conditions: exactly the matching calls make frames


def all_frames_tdump(g):
    """[(frame, tracepoint, {name: value}, tdump text)] for every frame, in order."""
    rows = []
    i = 0
    while True:
        out = g.cmd(f"tfind {i}")
        f = found_frame(out)
        if not f:
            assert FRAME_NOT_FOUND.search(out), f"tfind {i}:\n{out}"
            break
        assert f[0] == i, out
        dump = g.cmd("tdump")
        rows.append((i, f[1], tdump_values(dump), dump))
        i += 1
    g.cmd("tfind none")
    return rows


def cond_matches(i):
    """condition 1 n % 7 >= 4 && m % 2 == 1, for compute's call i."""
    n, m = i % 1000, 3 * i + 1
    return n % 7 >= 4 and m % 2 == 1


def condition_exact(build):
    """Only calls whose arguments satisfy the condition become frames: every
    call made while the probe was certainly attached is checked."""
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        out = g.cmd("condition 1 n % 7 >= 4 && m % 2 == 1")
        assert not re.search(r"error|warning", out, re.I), out
        define(g, "collect calls, n")
        # compute(i) starts after `calls = i` is stored and returns before
        # `calls = i + 1`.  So every i > first started after tstart answered
        # (probe attached), every i < last returned before tstop was sent
        # (probe still attached), no i < before ran with the probe and no
        # i > after could have started before tstop was answered.
        before = t.read_long("calls")
        tstart(g)
        first = t.read_long("calls")
        wait_created(g, 12, timeout=20)
        last = t.read_long("calls")
        g.cmd("tstop")
        after = t.read_long("calls")
        st = tstatus(g)
        assert st.frames == st.created, str(st)
        rows = gdb_values_by_frame(g, ["calls", "n"])
        assert len(rows) == st.frames, f"walked {len(rows)} frames, tstatus says {st.frames}"
        got = [c for _, _, (c, _) in rows]
        for _, tp, (c, n) in rows:
            assert tp == 1 and n == c % 1000, f"frame with calls={c} has n={n}"
            assert cond_matches(c), f"call {c} (n={n}, m={3 * c + 1}) does not satisfy " \
                f"the condition, yet made a frame"
        assert got == sorted(set(got)), f"frames out of order or repeated: {got}"
        window = range(first + 1, last)
        want = [i for i in window if cond_matches(i)]
        seen = [c for c in got if c in window]
        assert seen == want, (f"calls {first + 1}..{last - 1}: the frames are {seen}, the "
                              f"matching calls {want}")
        assert len(want) >= 8, f"too few matching calls in {first + 1}..{last - 1}"
        assert all(before <= c <= after for c in got), \
            f"frames outside the run ({before}..{after}): {got}"
        # gdbserver counts a hit only when the condition holds.
        h = hits(g)
        assert h == {1: st.frames}, f"hit counts {h}, frames {st.frames}"
        t.assert_running()


@needs_bpf
def test_ax_condition_exact_O0():
    """-O0 `condition 1 n % 7 >= 4 && m % 2 == 1` (rem, less, log_and jumps):
    the frames are exactly the matching calls, hits == frames."""
    condition_exact("counter")


@needs_bpf
def test_ax_condition_exact_O2():
    """-O2 (n in rdi, m in rsi): the same."""
    condition_exact("counter-O2")


# --------------------------------------------------------------------------
# Collections through pointers, arrays, structs, a chain two deep


def collect_paths(build):
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect calls, *buf@16, it->id, *it, items[2].value, it->name[1]")
        tracepoint_address(g.cmd("trace walk"))
        define(g, "collect i, p->v, p->next->next->v, *p->next")
        tstart(g)
        wait_created(g, 8)
        g.cmd("tstop")
        rows = all_frames_tdump(g)
        by_tp = {1: [], 2: []}
        for frame, tp, vals, out in rows:
            by_tp[tp].append((frame, vals, out))
        assert len(by_tp[1]) >= 3 and len(by_tp[2]) >= 3, \
            f"frames per tracepoint: {[(k, len(v)) for k, v in by_tp.items()]}"
        nodes = t.addr_of("nodes")
        for frame, vals, out in by_tp[1]:
            assert "calls" in vals, f"frame {frame}: no calls:\n{out}"
            c = int(vals["calls"])
            k = c % 4 + 1
            assert re.search(rf'^\*buf@16 = "call {c}(\\000|")', out, re.M), \
                f"frame {frame}: *buf@16 should be \"call {c}\":\n{out}"
            assert vals.get("it->id") == str(k), f"frame {frame}: it->id:\n{out}"
            assert re.match(rf'\{{id = {k}, value = {k * 100}, name = "item-{k}',
                            vals.get("*it", "")), f"frame {frame}: *it:\n{out}"
            assert vals.get("items[2].value") == "300", f"frame {frame}: items[2]:\n{out}"
            assert vals.get("it->name[1]") == "116 't'", f"frame {frame}: it->name[1]:\n{out}"
        for frame, vals, out in by_tp[2]:
            assert "i" in vals, f"frame {frame}: no i:\n{out}"
            i = int(vals["i"])
            assert vals.get("p->v") == str((i % 4 + 1) * 10), f"frame {frame}: p->v:\n{out}"
            assert vals.get("p->next->next->v") == str(((i + 2) % 4 + 1) * 10), \
                f"frame {frame}: p->next->next->v:\n{out}"
            nxt = nodes + 16 * ((i + 2) % 4)
            assert re.match(rf"\{{v = {((i + 1) % 4 + 1) * 10}, next = 0x0*{nxt:x} <nodes",
                            vals.get("*p->next", "")), f"frame {frame}: *p->next:\n{out}"
        # What the user prints in a walk frame: the chain, read from the frame.
        frame = by_tp[2][0][0]
        i = int(by_tp[2][0][1]["i"])
        assert tfind(g, str(frame)) == (frame, 2)
        assert pint(g, "p->next->next->v") == ((i + 2) % 4 + 1) * 10
        assert pint(g, "p->next->v") == ((i + 1) % 4 + 1) * 10
        out = g.cmd("print p->next->next->next->v")
        assert re.search(r"<unavailable>|value is not available", out), \
            f"the third link was not collected:\n{out}"
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_ax_collect_paths_O0():
    """-O0 *buf@16, it->id, *it, items[2].value, it->name[1], and in walk()
    p->v, p->next->next->v, *p->next: the known contents."""
    collect_paths("counter")


@needs_bpf
def test_ax_collect_paths_O2():
    """-O2 (pointers in registers): the same."""
    collect_paths("counter-O2")


# --------------------------------------------------------------------------
# Strings: collect/s (tracenz) and collect/sN


def strings(build):
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect calls", "collect/s buf")
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect calls", "collect/s3 buf")
        tstart(g)
        wait_created(g, 6)
        g.cmd("tstop")
        rows = all_frames_tdump(g)
        for tp in (1, 2):
            assert sum(1 for r in rows if r[1] == tp) >= 3, f"tracepoint {tp}: too few frames"
        cut = None
        for frame, tp, vals, out in rows:
            c = int(vals["calls"])
            if tp == 1:
                assert re.search(rf'^buf = 0x[0-9a-f]+ <scratch> "call {c}"\s*$', out, re.M), \
                    f"frame {frame}: buf should show \"call {c}\":\n{out}"
            else:
                # 3 bytes were collected: gdb shows them, then cannot read more.
                assert re.search(r'^buf = 0x[0-9a-f]+ <scratch> "cal"(<error|<unavailable|\.\.\.)',
                                 out, re.M), f"frame {frame}: buf should be cut at \"cal\":\n{out}"
                cut = frame
        assert tfind(g, str(cut)) == (cut, 2)
        assert '"cal"' in g.cmd("print *buf@3")
        assert "<unavailable>" in g.cmd("print buf[3]")
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_ax_strings_O0():
    """-O0 `collect/s buf` shows "call <calls>"; `collect/s3 buf` stops at "cal"."""
    strings("counter")


@needs_bpf
def test_ax_strings_O2():
    """-O2 (buf in rcx: reg rcx; const16 200; tracenz): the same."""
    strings("counter-O2")


# --------------------------------------------------------------------------
# Go strings


GO_NAMES = ("alice", "bob", "carol smith", "d-0123456789abcdefghijklmnopqrstuvwxyzABCD")


def greet_request(port, name):
    url = f"http://127.0.0.1:{port}/greet?name={urllib.parse.quote(name)}"
    t0 = time.monotonic()
    try:
        body = urllib.request.urlopen(url, timeout=2).read().decode()
    except OSError as e:
        raise AssertionError(f"request name={name!r} failed while tracing: {e!r}")
    took = time.monotonic() - t0
    assert took < 1.0, f"request name={name!r} took {took:.2f}s: the server was held up"
    assert body == f"hello, {name}\n", f"greet({name!r}) answered {body!r}"


@needs_bpf
def test_ax_go_string_argument():
    """goserver main.greet(name string): GDB refuses `collect name` (the string
    header is in rax:rbx, "Expression pieces exceed word size"), so collect the
    header registers and the bytes, in C syntax: `collect $rax, $rbx` with
    `collect/s (char *)$rax` (tp 1) or `collect *(char *)$rax@48` (tp 2).  In
    every frame, in Go, `print name` shows the name sent, in request order."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        # Casts are C syntax, and gdb parses the actions again at tstart and
        # tdump, in the current language.
        g.cmd("set language c")
        tracepoint_address(g.cmd("trace main.greet"))
        define(g, "collect $rax, $rbx", "collect/s (char *)$rax")
        tracepoint_address(g.cmd("trace main.greet"))
        define(g, "collect $rax, $rbx, *(char *)$rax@48")
        tstart(g)
        for name in GO_NAMES:
            greet_request(t.port, name)
        g.cmd("tstop")
        st = tstatus(g)
        n = len(GO_NAMES)
        assert st.frames == 2 * n and st.created == 2 * n, \
            f"expected {2 * n} frames (2 tracepoints x {n} requests):\n{st}"
        g.cmd("set language auto")
        seen = {1: [], 2: []}
        for i in range(2 * n):
            f = tfind(g, str(i))
            out = g.cmd("print name")
            m = re.search(r'^\$\d+ = 0x[0-9a-f]+ "(.*)"\s*$', out, re.M)
            assert m, f"frame {i} (tracepoint {f[1]}): print name:\n{out}"
            seen[f[1]].append(m.group(1))
            assert pint(g, "$rbx") == len(m.group(1)), f"frame {i}: len(name) != $rbx"
        g.cmd("tfind none")
        for tp in (1, 2):
            assert seen[tp] == list(GO_NAMES), \
                f"tracepoint {tp}: names {seen[tp]}, sent {list(GO_NAMES)}"
        greet_request(t.port, "after")
        t.assert_running("main.counter")


# --------------------------------------------------------------------------
# Trace state variables


@needs_bpf
def test_ax_tsv_concurrent_increments():
    """4 threads call burst() 2500 times each, at once: `teval $hits = $hits + 1`
    loses no increment ($hits == 10000 == hits == frames)."""
    nthreads, per = 4, 2500
    total = nthreads * per
    with tempfile.TemporaryDirectory(prefix="bpfstub-burst-") as tmp:
        go = os.path.join(tmp, "go")
        # A tight loop on purpose: the overhead guard (stub/trace/guard.c) is turned off.
        with attached("counter", ["--burst", nthreads, per, go],
                      options=["--max-hit-rate", "off", "--max-overhead", "off"]) as (t, stub), \
                gdb_pipe(file=t.path) as g:
            connect(g, stub)
            out = g.cmd("tvariable $hits = 0")
            assert "error" not in out.lower(), out
            # ~600 bytes per frame: make room for all of them.
            g.cmd("set trace-buffer-size 33554432")
            tracepoint_address(g.cmd("trace burst"))
            define(g, "teval $hits = $hits + 1")
            tstart(g)
            assert t.read_long("burst_done") == 0
            open(go, "w").close()
            wait_until(lambda: t.read_long("burst_done") == nthreads, 30,
                       what="the burst threads to finish")
            done = struct.unpack(f"<{nthreads}q", t.read("burst_calls", 8 * nthreads))
            assert list(done) == [per] * nthreads, f"burst_calls {done}"
            g.cmd("tstop")
            st = tstatus(g)
            assert pint(g, "$hits") == total, f"$hits lost increments:\n{st}"
            h = hits(g)
            assert h == {1: total}, f"hit counts {h}, expected {total}"
            assert st.stop and "tstop" in st.stop, str(st)
            assert st.frames == st.created == total, f"expected {total} frames:\n{st}"
            out = g.cmd("info tvariables")
            assert re.search(rf"^\$hits\s+0\s+{total}\s*$", out, re.M), out
            t.assert_running()


@needs_bpf
def test_ax_tsv_values_and_timestamp():
    """tvariable $c = 100, $d = 7; teval $c = $c + 1 and collect $c, $d: each
    frame shows its own $c (101, 102...), $d = 7; while running `print $c`
    reads the live value (qTV) and it grows; `info tvariables` lists them;
    $trace_timestamp grows by >= 5 ms (compute's period) across frames, within
    the run's wall-clock time; $trace_thread is the main thread."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        for v in ("$c = 100", "$d = 7"):
            out = g.cmd(f"tvariable {v}")
            assert "created" in out, out
        out = g.cmd("info tvariables")
        assert re.search(r"^\$c\s+100\s", out, re.M) and re.search(r"^\$d\s+7\s", out, re.M) \
            and re.search(r"^\$trace_timestamp\s", out, re.M), f"info tvariables:\n{out}"
        tracepoint_address(g.cmd("trace compute"))
        define(g, "teval $c = $c + 1", "collect $c, $d, calls")
        t0 = time.time()
        tstart(g)
        wait_created(g, 3)
        live1 = pint(g, "$c")
        assert live1 >= 103, f"live $c while running: {live1} after 3 frames"
        live2 = wait_until(lambda: (lambda v: v if v > live1 else None)(pint(g, "$c")), 5,
                           what=f"the live $c to grow past {live1}")
        out = g.cmd("info tvariables")
        m = re.search(r"^\$c\s+100\s+(\d+)\s*$", out, re.M)
        assert m and int(m.group(1)) >= live2, f"info tvariables while running:\n{out}"
        g.cmd("tstop")
        t1 = time.time()
        st = tstatus(g)
        final = pint(g, "$c")
        assert final == 100 + st.frames, f"$c = {final} after {st.frames} frames"
        rows = gdb_values_by_frame(g, ["$c", "$d", "calls", "$trace_timestamp",
                                       "$trace_thread"])
        assert len(rows) == st.frames, (len(rows), st.frames)
        assert [r[2][0] for r in rows] == list(range(101, 101 + len(rows))), \
            f"$c per frame: {[r[2][0] for r in rows][:20]}"
        assert all(r[2][1] == 7 for r in rows), f"$d per frame: {[r[2][1] for r in rows]}"
        assert_consecutive([r[2][2] for r in rows], "calls of successive frames")
        ts = [r[2][3] for r in rows]
        assert all(int(t0 * 1e6) - 1_000_000 <= x <= int(t1 * 1e6) + 1_000_000 for x in ts), \
            f"$trace_timestamp {ts[0]}..{ts[-1]} not within the run {t0:.6f}..{t1:.6f}"
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        assert min(gaps) >= 4900, f"$trace_timestamp gaps (us) below compute's 5 ms: {gaps}"
        assert {r[2][4] for r in rows} == {t.pid}, "compute runs in the main thread"
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        assert re.search(r"^\$c = 101\s*$", out, re.M) and re.search(r"^\$d = 7\s*$", out, re.M), \
            f"tdump:\n{out}"
        g.cmd("tfind none")
        assert pint(g, "$c") == final, "outside a frame $c is the live value again"
        t.assert_running()


# --------------------------------------------------------------------------
# Refusals


@needs_bpf
def test_ax_refused_expression():
    """A condition reading a register BPF cannot see ($fs_base, reg 58) is
    refused at tstart with the reason; nothing runs; without the condition the
    same tracepoint then runs.  A teval assigning a builtin variable is refused
    the same way."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        define(g, "collect calls")
        out = g.cmd("condition 1 $fs_base != 0")
        assert not re.search(r"error", out, re.I), out
        out = g.cmd("tstart")
        assert re.search(r"Target returns error code '\..*agent expression.*\breg 58\b", out), \
            f"tstart should name the refused instruction (reg 58):\n{out}"
        st = tstatus(g)
        assert not st.running and not st.frames, f"the run started anyway:\n{st}"
        time.sleep(0.1)
        st = tstatus(g)
        assert not st.running and not st.frames, f"frames appeared:\n{st}"

        g.cmd("condition 1")
        tracepoint_address(g.cmd("trace walk"))
        define(g, "teval $trace_timestamp = 5")
        out = g.cmd("tstart")
        assert re.search(r"Target returns error code '\..*tracepoint 2\b.*agent expression.*"
                         r"\bsetv\b.*builtin", out), f"tstart should refuse the setv:\n{out}"
        assert not tstatus(g).running

        g.cmd("delete 2")
        tstart(g)
        wait_created(g, 3)
        g.cmd("tstop")
        assert_consecutive([r[2][0] for r in gdb_values_by_frame(g, ["calls"])],
                           "calls of successive frames")
        t.assert_running()
