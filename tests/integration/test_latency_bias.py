"""The latency bias (issue 20): what a return tracepoint's own entry and
return uprobes add to $latency_ns is measured on this kernel at the first
use (bpf/calib.c, per kind of entry site: emulated or single-stepped) and
subtracted in the kernel, never below 0 (clamped frames counted in
`monitor status`).

The targets and the measurement are tests/lib/latbias.py's: bpfstub's
medians against the medians the target measured itself over the same
calls.  This test asserts what the user relies on: the probes' cost is
subtracted (without it a single-stepped site reads ~16 us more) and what is
left is within 4 us (a quarter of that) or 10% of the target's own figure;
how close it really is (the issue's goal: 10% or 1 us) is a figure of
bench/latency_clock.py in docs/PERFORMANCE.md, since a microsecond on this noisy
VM is a benchmark's to state, not a test's to assert.
"""

import re
import time

from harness import attached, gdb_pipe, needs_bpf
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor
from latbias import (C_FUNCS, C_SYMS, GO_FUNCS, GO_SYMS, close_enough, define, run,
                     subtracted_kinds)

# Well inside the bias (~16 us single-stepped): subtracted or not is never in doubt.
TEST_TOL = (0.10, 4000)


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
            bad = [n for n, _, _ in funcs if not close_enough(rep[n], tgt[n], TEST_TOL)]
            if not bad:
                break
        assert not bad, f"{target}: off by more than 10% / 4 us: {bad}\n{table}"

        status = monitor(g, "status")
        stepped, emulated = subtracted_kinds(status)
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
        for n, _, kind in funcs:
            # An emulated entry's bias (~0.6 us) is within two runs' noise: only
            # the single-stepped ones are compared.
            if kind == "single-stepped":
                assert raw[n] - rep[n] > stepped * 1000 / 2, \
                    f"{n}: raw {raw[n]:.0f} ns, net {rep[n]:.0f} ns, bias {stepped} us"
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
