"""The latency bias (issue 20): what a return tracepoint's own entry and
return uprobes add to $latency_ns is measured on this kernel at the first
use (bpf/calib.c, per kind of entry site: emulated or single-stepped) and
subtracted in the kernel, never below 0 (clamped frames counted in
`monitor status`).

Targets (tests/targets): spin.c (C: spin2/20/200 at an emulated `push %rbp`
entry and a single-stepped `sub $8,%rsp` entry) and gospin/main.go (Go:
main.spin2/20/200 behind Go's stack check, single-stepped; main.spin20e
entered by `push %rbp`, emulated).  Each call measures its own duration with
the monotonic clock and logs it in the target (spin_log / main.spinLog,
read through /proc/PID/mem): the medians bpfstub reports are compared with
the medians the target measured over the same window of calls, within 10%
or 1 us, whichever is larger (the issue's accuracy demand: a timing
assertion by design, made robust by medians over hundreds of calls and one
retry on a loaded machine).
"""

import re
import statistics
import struct
import time

from harness import attached, gdb_pipe, needs_bpf
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor

LOG_N = 4096
UNIT = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}

# (function, index in the target's log, entry kind bpfstub must report)
C_FUNCS = [("spin2_emul", 0, "emulated"), ("spin20_emul", 1, "emulated"),
           ("spin200_emul", 2, "emulated"), ("spin2_step", 3, "single-stepped"),
           ("spin20_step", 4, "single-stepped"), ("spin200_step", 5, "single-stepped")]
GO_FUNCS = [("main.spin2", 0, "single-stepped"), ("main.spin20", 1, "single-stepped"),
            ("main.spin200", 2, "single-stepped"), ("main.spin20e", 3, "emulated")]
C_SYMS = ("spin_log", "spin_seq")
GO_SYMS = ("main.spinLog", "main.spinSeq")


def define(g, funcs):
    """{function: tracepoint number}, checking the entry kind bpfstub found."""
    tps = {}
    for name, _, kind in funcs:
        out = monitor(g, f"trace -return {name}")
        m = re.search(r"tracepoint (\d+): return of", out)
        assert m, out
        assert f"less the probes' own cost (entry {kind} + return single-stepped" in out, out
        tps[name] = int(m.group(1))
    return tps


def seqs(t, syms, n):
    return struct.unpack(f"<{n}q", t.read(syms[1], 8 * n))


def target_medians(t, syms, funcs, before, after):
    """{function: median ns the target measured} over calls before..after."""
    out = {}
    for name, f, _ in funcs:
        lo, hi = before[f], after[f]
        lo = max(lo, hi - LOG_N + 64)  # the ring keeps the last LOG_N
        raw = t.read(syms[0], 8 * LOG_N, offset=8 * LOG_N * f)
        vals = struct.unpack(f"<{LOG_N}q", raw)
        durs = [vals[s % LOG_N] for s in range(lo, hi)]
        assert len(durs) >= 30, f"{name}: only {len(durs)} calls measured"
        out[name] = statistics.median(durs)
    return out


def reported(g, tps):
    """{function: (median $latency_ns over its frames, frames)} from monitor tframes."""
    n = int(re.search(r"(\d+) frames in a", monitor(g, "status")).group(1))
    lats = {num: [] for num in tps.values()}
    step = 500
    for start in range(0, n, step):
        for line in monitor(g, f"tframes {start} {step}").splitlines():
            m = re.search(r"\btp (\d+)\b.*\blatency ([\d.]+) (ns|us|ms|s)\b", line)
            if m and int(m.group(1)) in lats:
                lats[int(m.group(1))].append(float(m.group(2)) * UNIT[m.group(3)])
    out = {}
    for name, num in tps.items():
        assert len(lats[num]) >= 30, f"{name}: only {len(lats[num])} frames with a latency"
        out[name] = (statistics.median(lats[num]), len(lats[num]))
    return out


def run(g, t, syms, funcs, tps, seconds=1.2):
    """One trace run: ({function: reported median}, {function: target's median})."""
    before = seqs(t, syms, len(funcs))
    monitor(g, "tstart")
    time.sleep(seconds)
    monitor(g, "tstop")
    after = seqs(t, syms, len(funcs))
    rep = reported(g, tps)
    tgt = target_medians(t, syms, funcs, before, after)
    return {k: v[0] for k, v in rep.items()}, tgt


def close_enough(rep, tgt):
    return abs(rep - tgt) <= max(0.10 * tgt, 1000)


def check_accuracy(target, funcs, syms):
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        # The guard judges hits, not this test: a 2 us function traced is mostly traps.
        monitor(g, "set max-overhead off")
        tps = define(g, funcs)
        for attempt in (1, 2):
            rep, tgt = run(g, t, syms, funcs, tps)
            table = "\n".join(f"  {n}: reported {rep[n]:.0f} ns, target {tgt[n]:.0f} ns"
                              for n, _, _ in funcs)
            print(f"{target} attempt {attempt}:\n{table}")
            bad = [n for n, _, _ in funcs if not close_enough(rep[n], tgt[n])]
            if not bad:
                break
        assert not bad, f"{target}: off by more than 10% / 1 us: {bad}\n{table}"

        status = monitor(g, "status")
        m = re.search(r"latency bias: ([\d.]+) us \(entry single-stepped \+ return "
                      r"single-stepped\), ([\d.]+) us \(entry emulated \+ return "
                      r"single-stepped\), measured at tstart; (\d+) frames? clamped at 0",
                      status)
        assert m, status
        stepped, emulated = float(m.group(1)), float(m.group(2))
        assert stepped > 0 and emulated > 0, status
        assert re.search(r"tracepoint \d+, return of \S+: entry (single-stepped|emulated) "
                         r"\+ return single-stepped: [\d.]+ us subtracted", status), status
        # tstatus notes (and so tsave's file) say what was subtracted.
        ts = g.cmd("tstatus")
        assert "latency bias subtracted from $latency_ns (measured at tstart)" in ts, ts

        # Off: the raw figures, larger by about the bias.
        out = monitor(g, "set latency-bias off")
        assert "latency-bias: off" in out, out
        raw, _ = run(g, t, syms, funcs, tps, seconds=0.8)
        for n, _, _ in funcs:
            assert raw[n] > rep[n], f"{n}: raw {raw[n]:.0f} ns not above net {rep[n]:.0f} ns"
        assert "latency bias: off" in monitor(g, "status")

        # A bias above every call: all clamped at 0, and counted.
        monitor(g, "set latency-bias 1000000")
        run_clamped(g, t, syms, funcs, tps)
        monitor(g, "set latency-bias auto")
        t.assert_running(syms[1])


def run_clamped(g, t, syms, funcs, tps):
    monitor(g, "tstart")
    time.sleep(0.5)
    monitor(g, "tstop")
    status = monitor(g, "status")
    m = re.search(r"latency bias: 1000.0 us, set by monitor set latency-bias; (\d+) frames? "
                  r"clamped at 0", status)
    assert m and int(m.group(1)) > 0, status
    frames = monitor(g, "tframes 0 20")
    lats = re.findall(r"\blatency (\S+ \S+)", frames)
    assert lats and all(x == "0 ns" for x in lats), frames


@needs_bpf
def test_latency_bias_c():
    check_accuracy("spin", C_FUNCS, C_SYMS)


@needs_bpf
def test_latency_bias_go():
    check_accuracy("gospin", GO_FUNCS, GO_SYMS)
