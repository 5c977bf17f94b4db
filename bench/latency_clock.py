#!/usr/bin/env python3
"""How close a return tracepoint's latency is to the target's own clock
(issue 20's goal: within 10% or 1 us of functions that spin a known 2, 20
and 200 us, in C and Go, at both kinds of entry site), with the probes' own
cost subtracted and without it (`make bench`, or `python3 bench/latency_clock.py`).

The measurement is tests/lib/latbias.py's (the test asserts only that the
bias is subtracted and roughly right): each round traces every spin function
for 1.2 s and compares the median $latency_ns bpfstub reports with the
median the target measured itself over the same calls; ROUNDS rounds per
target, one bpfstub session each (one calibration, as a user gets), and the
median of the rounds per function.  A round with `monitor set latency-bias
off` gives the raw figure.
"""

import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, HERE)

from harness import attached, gdb_connect, gdb_monitor, gdb_pipe  # noqa: E402
from latbias import (C_FUNCS, C_SYMS, GO_FUNCS, GO_SYMS, GOAL, close_enough,  # noqa: E402
                     define, run, subtracted_kinds)
from perfdoc import write_section  # noqa: E402

ROUNDS = 5
TITLE = "## Latency against the target's own clock (`make bench`, bench/latency_clock.py)"


def measure(target, funcs, syms):
    """[(function, kind, target us, reported us, raw us)], bias line."""
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_connect(g, stub)
        gdb_monitor(g, "set max-overhead off")
        tps = define(g, funcs)
        reps, tgts = {n: [] for n, _, _ in funcs}, {n: [] for n, _, _ in funcs}
        for i in range(ROUNDS):
            rep, tgt = run(g, t, syms, funcs, tps)
            for n, _, _ in funcs:
                reps[n].append(rep[n])
                tgts[n].append(tgt[n])
            print(f"{target} round {i + 1}: " +
                  ", ".join(f"{n} {rep[n] / 1e3:.2f}/{tgt[n] / 1e3:.2f} us" for n, _, _ in funcs))
        stepped, emulated = subtracted_kinds(gdb_monitor(g, "status"))
        gdb_monitor(g, "set latency-bias off")
        raw, _ = run(g, t, syms, funcs, tps)
        gdb_monitor(g, "set latency-bias auto")
        g.cmd("detach")
    rows = [(n, kind, statistics.median(tgts[n]) / 1e3, statistics.median(reps[n]) / 1e3,
             raw[n] / 1e3, [(r - g) / 1e3 for r, g in zip(reps[n], tgts[n])])
            for n, _, kind in funcs]
    return rows, (stepped, emulated)


def main():
    lines = [TITLE, "",
             f"Measured by bench/latency_clock.py ({ROUNDS} rounds of 1.2 s per target, medians of "
             "each round's ~400 calls per function, then the median of the rounds). "
             "Goal (issue 20): bpfstub's `$latency_ns` within 10% or 1 us (whichever is "
             "larger) of what the target measured itself. The test "
             "(tests/integration/test_latency_bias.py) asserts 10% or 4 us: the bias is "
             "subtracted and about right, whatever the machine's load.", ""]
    met = total = 0
    for target, funcs, syms, lang in (("spin", C_FUNCS, C_SYMS, "C"),
                                      ("gospin", GO_FUNCS, GO_SYMS, "Go")):
        rows, (stepped, emulated) = measure(target, funcs, syms)
        lines += [f"{lang} (tests/targets/{target}): bias measured at tstart "
                  f"{stepped} us (single-stepped entry), {emulated} us (emulated entry)", "",
                  "| function | entry | target | bpfstub | difference | goal | "
                  "difference, each round | without the subtraction |",
                  "|---|---|---:|---:|---:|---|---|---:|"]
        for n, kind, tgt, rep, raw, diffs in rows:
            ok = close_enough(rep * 1e3, tgt * 1e3, GOAL)
            met += ok
            total += 1
            lines.append(f"| {n} | {kind} | {tgt:.2f} us | {rep:.2f} us | {rep - tgt:+.2f} us | "
                         f"{'met' if ok else 'NOT met'} | "
                         f"{', '.join(f'{d:+.2f}' for d in diffs)} | {raw:.2f} us |")
        lines.append("")
    lines += [f"Goal met for {met} of {total} functions in this run (medians of the rounds).",
              "", "A single-stepped entry's trap costs ~17 us here and that cost itself wanders "
              "by 1-2 us from one round to the next (the hypervisor's exit for the debug "
              "exception): the bias is measured once, at the first return tracepoint, so "
              "a round later in the session can read 1-1.5 us high or low at such a site "
              "(see 'difference, each round'); an emulated entry (~0.6 us) holds within "
              "0.4 us. docs/RETPROBE.md, 'How far to trust it'.", ""]
    write_section(TITLE, lines, after="## Tracepoint hit cost")


main()
