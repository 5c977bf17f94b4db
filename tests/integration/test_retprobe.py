"""Return tracepoints (issue 10): `monitor trace -return FUNC` puts a uprobe
on every return instruction of FUNC (found with Capstone) and one at its
entry, never a uretprobe; each frame has the registers at the return, the
latency since the same thread's (Go: goroutine's) entry as $latency_ns, and
for Go the goroutine id at $r14 + offsetof(runtime.g, goid).

Targets (tests/targets): cvalues.c (process() returns
n + id + x + y + strlen(name) + strlen(label); depth(3) recurses 4 deep)
and govalues/main.go (main.pair(k) returns (3k, "even") or (3k+1, "odd");
a goroutine loops on main.wait(c), blocked about 5 ms per call).
Nothing stops: attached() samples every thread's state throughout.
"""

import os
import re
import time

from harness import (attached, elf_file_bytes, gdb_int, gdb_pipe, lldb_batch, load_bias,
                     needs_bpf)
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor
from harness import gdb_tfind as tfind

# cvalues' process(): rax - (1000 + k) by k % 3 (id + x + y + strlen(name) + strlen(label))
C_EXTRA = (1 + 10 + 20 + 5 + 5, 2 + 30 + 40 + 4 + 6, 3 + 50 + 60 + 5 + 10)


def run_trace(g, seconds=0.4, min_frames=8, during=None):
    """monitor tstart, let the target run (calling during()), monitor tstop:
    the frame count."""
    monitor(g, "tstart")
    if during:
        during()
    deadline = time.monotonic() + 10
    time.sleep(seconds)
    while True:
        out = monitor(g, "status")
        n = int(re.search(r"(\d+) frames in a", out).group(1))
        if n >= min_frames or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    out = monitor(g, "tstop")
    n = int(re.search(r"trace stopped: (\d+) frames", out).group(1))
    assert n >= min_frames, f"only {n} frames:\n{out}"
    return n


def frame_values(g, n, exprs):
    """[{expr: int or None (void: unknown)}] for trace frames 0..n-1."""
    rows = []
    for i in range(n):
        tfind(g, str(i))
        row = {}
        for e in exprs:
            out = g.cmd(f"print {e}")
            row[e] = None if re.search(r"^\$\d+ = void", out, re.M) else gdb_int(out)
        rows.append(row)
    g.cmd("tfind none")
    return rows


@needs_bpf
def test_return_c_value_and_latency():
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -return process")
        m = re.search(r"tracepoint (\d+): return of process \(entry (0x[0-9a-f]+)\), (\d+) "
                      r"return instructions?:((?: 0x[0-9a-f]+)+)", out)
        assert m, out
        assert "value rax (long int): rax" in out, out
        rets = [int(a, 16) for a in m.group(4).split()]
        # One tracepoint location per ret in the upload (no actions); the entry
        # probe is not a tracepoint.  $latency_ns is a builtin GDB uploads.
        up = g.cmd("maint packet qTfP")
        assert f'received: "T{m.group(1)}:{rets[0]:x}:E:0:0"' in up, up
        assert re.search(r"^\$latency_ns\s", g.cmd("info tvariables"), re.M)
        entry = int(m.group(2), 16)
        bias = load_bias(t.pid, t.path)
        code = elf_file_bytes(t.path, entry - bias, 1)[0]

        def live_code():
            # Live reads show the code, not the entry probe's (or a ret's) int3.
            for a in (entry, rets[0]):
                want = elf_file_bytes(t.path, a - bias, 1)[0]
                assert gdb_int(g.cmd(f"print (int)*(unsigned char *){a}")) == want, hex(a)
            assert code != 0xcc

        run_trace(g, during=live_code)
        rows = frame_values(g, 7, ("$rax", "$latency_ns", "(long)$pc"))
        g.cmd("detach")
    assert all(r["(long)$pc"] in rets for r in rows), rows
    # Consecutive calls k, k+1: the returned values step as cvalues computes them.
    steps = {C_EXTRA[(i + 1) % 3] + 1 - C_EXTRA[i] for i in range(3)}
    for a, b in zip(rows, rows[1:]):
        assert b["$rax"] - a["$rax"] in steps, f"not consecutive results of process: {rows}"
    # Every call but perhaps the first began after tstart: latency known and plausible.
    for r in rows[1:]:
        assert r["$latency_ns"] is not None and 0 < r["$latency_ns"] < 50_000_000, rows


@needs_bpf
def test_return_c_recursion_one_frame_per_level():
    with attached("cvalues-O0") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -return depth")
        assert re.search(r"return of depth .*1 return instruction:", out), out
        run_trace(g, min_frames=12)
        rows = frame_values(g, 12, ("$rax", "$latency_ns"))
        g.cmd("detach")
    vals = [r["$rax"] for r in rows]
    start = vals.index(0)
    groups = [rows[i:i + 4] for i in range(start, len(rows) - 3, 4)]
    assert groups, vals
    for grp in groups:
        # depth(3): the innermost call returns first: 0, 1, 2, 3, each with
        # its own entry (keyed by thread and rsp), so nested latencies grow.
        assert [r["$rax"] for r in grp] == [0, 1, 2, 3], vals
        lat = [r["$latency_ns"] for r in grp]
        assert None not in lat and lat == sorted(lat) and lat[0] > 0, lat


@needs_bpf
def test_return_go_results_goid_and_blocked_goroutine():
    with attached("govalues") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -return main.pair")
        assert re.search(r"return of main\.pair .*2 return instructions:", out), out
        assert "value ~r0 (int64): rax" in out and "value ~r1 (string): rbx:rcx" in out, out
        goid = int(re.search(r"at \$r14 \+ (\d+) \(runtime\.g\.goid\)", out).group(1))
        out = monitor(g, "trace -return main.wait")
        assert "value ~r0 (int64): rax" in out, out
        run_trace(g, seconds=0.3, min_frames=20)
        g.cmd("set trust-readonly-sections on")
        g.cmd("set language c")
        pair, wait = [], []
        for i in range(20):
            tfind(g, str(i))
            fn = g.cmd("info symbol $pc")
            lat_out = g.cmd("print $latency_ns")
            lat = None if re.search(r"= void", lat_out) else gdb_int(lat_out)
            row = {"rax": gdb_int(g.cmd("print $rax")), "lat": lat,
                   "goid": gdb_int(g.cmd(f"print *(long *)($r14 + {goid})"))}
            # `info symbol` names it main.pair, or main[pair] in language c
            if re.search(r"main\W+pair", fn):
                row["len"] = gdb_int(g.cmd("print $rcx"))
                # Go strings are not NUL-terminated: read 4 bytes, keep len of them
                s = g.cmd("print *(char (*)[4])$rbx")
                m = re.search(r'= "(.*)"', s)
                assert m, s
                row["str"] = m.group(1)[:row["len"]]
                pair.append(row)
            else:
                assert re.search(r"main\W+wait", fn), fn
                wait.append(row)
        g.cmd("tfind none")
        g.cmd("detach")
    assert pair and wait, (pair, wait)
    for r in pair:
        # (3k, "even") for an even k, (3k + 1, "odd") for an odd one
        k, rem = divmod(r["rax"], 3)
        assert (rem, k % 2, r["str"], r["len"]) in ((0, 0, "even", 4), (1, 1, "odd", 3)), r
        assert r["goid"] == 1, r  # main.main's goroutine
    for a, b in zip(pair, pair[1:]):
        assert b["rax"] // 3 == a["rax"] // 3 + 1, pair
    # main.wait blocks about 5 ms on a channel between entry and return (its
    # goroutine may wake on another thread): the latency is keyed by goroutine.
    known = [r["lat"] for r in wait if r["lat"] is not None]
    assert known and all(1_000_000 < v < 1_000_000_000 for v in known), wait
    assert len({r["goid"] for r in wait}) == 1 and wait[0]["goid"] != 1, wait


@needs_bpf
def test_return_bad_input_defines_nothing():
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor trace -return no_such_function")
        assert re.search(r"^monitor: no function 'no_such_function' in the DWARF or ELF symbols "
                         r"of the files "
                         rf"pid {t.pid} maps$", out, re.M), out
        out = g.cmd("monitor trace -return process if rax >")
        assert re.search(r"^monitor: condition rax >: ", out, re.M), out
        out = g.cmd("monitor trace -return process if it > 3")
        assert "monitor: no variable 'it' in scope in process" in out, out
        out = g.cmd("monitor trace -return process when rax > 3")
        assert "monitor: usage: monitor trace -return FUNC [if COND]" in out, out
        out = g.cmd("monitor trace -return")
        assert "monitor: usage: monitor trace -return FUNC" in out, out
        st = monitor(g, "status")
        assert not re.search(r"^ *tracepoint \d", st, re.M), st
        g.cmd("detach")
    with attached("cvalues-stripped") as (t, stub), gdb_pipe(file=t.path) as g:
        # No DWARF: the ELF symbol gives the range, rax is returned untyped
        # (tests/integration/test_symbols.py has the values).
        connect(g, stub)
        out = monitor(g, "trace -return process")
        assert re.search(rf"no DWARF for process in {re.escape(os.path.realpath(t.path))}: "
                         r"its range is its ELF symbol's", out), out
        assert "value rax (untyped): rax" in out, out
        g.cmd("detach")


@needs_bpf
def test_return_from_lldb():
    with attached("cvalues-O2") as (t, stub):
        pm = "process plugin packet monitor"
        r = lldb_batch([f"target create {t.path}", f"gdb-remote {stub.addr}",
                        f"{pm} trace -return process", f"{pm} tstart",
                        "platform shell sleep 0.3", f"{pm} status",
                        f"{pm} tstop", f"{pm} status", "process detach"])
        assert "return of process" in r.out[2] and "value rax (long int): rax" in r.out[2], \
            r.text
        n = int(re.search(r"trace stopped: (\d+) frames", r.out[6]).group(1))
        assert n > 0, r.text
        m = re.search(r"tracepoint 1 at 0x[0-9a-f]+: enabled, (\d+) hits, (\d+) frames", r.out[7])
        assert m and int(m.group(2)) > 0, r.text


@needs_bpf
def test_return_with_gdb_tracepoints_and_gdb_tstart():
    """GDB's own tracepoint and tstart (QTinit, then GDB's definitions):
    the return tracepoint stays, moves off the number GDB gives its own,
    and after a reconnect GDB uploads it and sends it back, still a return
    location (frames with $latency_ns)."""
    with attached("cvalues-O0") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("trace process")
        out = monitor(g, "trace -return depth")
        ret = re.search(r"tracepoint 1: return of depth .*instruction: (0x[0-9a-f]+)", out)
        assert ret, out
        ret = int(ret.group(1), 16)
        for session in range(2):
            if session:
                g.cmd("disconnect")
                connect(g, stub)
                info = g.cmd("info tracepoints")
                assert re.search(rf"^2\s+tracepoint\s+keep y\s+{ret:#018x} in depth", info,
                                 re.M), info
            out = g.cmd("tstart")
            assert not re.search(r"error|warning", out, re.I), out
            time.sleep(0.3)
            g.cmd("tstop")
            st = monitor(g, "status")
            m = re.search(rf"tracepoint 2 at {ret:#x}: enabled, (\d+) hits", st)
            assert m and int(m.group(1)) > 0, st
            seen = 0
            for i in range(30):
                if seen == 3:
                    break
                if tfind(g, str(i))[1] != 2:
                    continue
                lat = g.cmd("print $latency_ns")
                if "void" not in lat:
                    assert gdb_int(lat) > 0 and 0 <= gdb_int(g.cmd("print $rax")) <= 3
                    seen += 1
            g.cmd("tfind none")
            assert seen, f"no return frame with a latency in session {session}"
        g.cmd("detach")


@needs_bpf
def test_return_condition_over_return_values():
    """`trace -return FUNC if COND`: COND is over the return values (the
    same compiler as `trace ... if`), run in the kernel at the ret: depth(3)
    returns 3, 2, 1, 0 each round, so `if rax >= 2` keeps exactly the 3s and
    2s; a name that is not a return value is one line and defines nothing."""
    with attached("cvalues-O0") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor trace -return depth if nosuch > 1")
        assert "monitor: no variable 'nosuch' in scope in depth" in out, out
        assert "no tracepoints" in g.cmd("monitor tstatus").lower(), "a half-made tracepoint"
        out = monitor(g, "trace -return depth if rax >= 2 && !(rax > 3)")
        assert "only when: rax >= 2 && !(rax > 3)" in out, out
        monitor(g, "tstart")
        g.cmd("shell sleep 0.3")
        n = int(re.search(r"trace stopped: (\d+) frames", monitor(g, "tstop")).group(1))
        assert n >= 4, n
        out = monitor(g, f"tframes 0 {n}")
        vals = [int(v) for v in re.findall(r"depth\(\) -> rax=(-?\d+)  latency", out)]
        assert len(vals) == n and set(vals) == {2, 3}, out
        assert abs(vals.count(2) - vals.count(3)) <= 1, out
        g.cmd("detach")
