"""Several processes of one executable (issue 19): what a tracepoint costs
with 1 and 16 worker processes, and how long tstart takes with 1, 16 and 64
processes (`make bench`, or `python3 bench/multiproc.py` alone).

tests/targets/prefork is the service: a master and N workers that never
exit (REQS 0).  A request "sK" makes one worker call handle() K times in a
row and reply the nanoseconds per call, so the hit cost is read inside the
process that takes the hits: traced minus untraced, with every other worker
alive (and attached: one uprobe on the file serves them all).  The trace
collects the registers only (stack window and deep collection off) so the
ring keeps up; the overhead guard is off.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, HERE)

from harness import RspClient, Stub, Target, target_path  # noqa: E402
from perfdoc import write_section  # noqa: E402
from prefork_req import exchange  # noqa: E402

CALLS = 20000


def spin(port, calls=CALLS):
    """Request "sK": one worker calls handle() K times; ns a call."""
    return int(exchange(port, f"s{calls}", timeout=120).split()[0])


def monitor(c, line):
    out = ""
    for r in c.request_all("qRcmd," + line.encode().hex(), timeout=120):
        if r.startswith("O") and r != "OK":
            out += bytes.fromhex(r[1:]).decode(errors="replace")
        elif r.startswith("E"):
            raise AssertionError(f"monitor {line}: {r}")
    return out


def session(nworkers, how):
    """(target, stub, client) with `monitor trace handle` defined."""
    t = Target("prefork", [0, nworkers, 0]).start()
    args = ["--attach-exe", target_path("prefork")] if how == "exe" else \
        ["--attach", t.pid, "--children"]
    stub = Stub(args, verbose=False, options=["--max-hit-rate", "off",
                                              "--max-overhead", "off"]).start()
    c = RspClient(stub.addr, timeout=60)
    c.request("?")
    monitor(c, "set stack-window off")
    monitor(c, "set deep-collect off")
    monitor(c, "trace handle")
    return t, stub, c


def close(t, stub, c):
    c.close()
    stub.stop()
    t.kill()


def hit_cost(nworkers):
    t, stub, c = session(nworkers, "exe")
    try:
        base = statistics.median(spin(t.port) for _ in range(5))
        traced = []
        for _ in range(5):
            monitor(c, "tstart")
            traced.append(spin(t.port))
            monitor(c, "tstop")
        return base, statistics.median(traced)
    finally:
        close(t, stub, c)


def attach_ms(nworkers, how):
    t, stub, c = session(nworkers, how)
    try:
        ms = []
        for _ in range(7):
            t0 = time.monotonic()
            monitor(c, "tstart")
            ms.append((time.monotonic() - t0) * 1000)
            monitor(c, "tstop")
        return statistics.median(ms)
    finally:
        close(t, stub, c)


def main():
    rows = []
    for n in (1, 16):
        base, traced = hit_cost(n)
        rows.append((n, base, traced, traced - base))
        print(f"{n} workers: {base} ns/call untraced, {traced} traced: hit {traced - base} ns")
    att = {}
    for how in ("exe", "children"):
        for n in (1, 16, 64):
            att[how, n] = attach_ms(n, how)
            print(f"tstart, {how}, {n} workers: {att[how, n]:.1f} ms")
    lines = ["## Several processes (`make bench`, bench/multiproc.py)", "",
             "One uprobe per site serves every process of the file (a system-wide",
             "uprobe_multi link), so neither the cost of a hit nor the time to attach",
             "grows with the number of processes.  tests/targets/prefork with N workers",
             f"that never exit; one worker calls handle() {CALLS} times in a row and",
             "times it (`monitor trace handle`, registers only, guard off); median of 5.",
             "",
             "| workers | untraced ns/call | traced ns/call | hit cost ns |",
             "|---|---|---|---|"]
    lines += [f"| {n} | {b} | {t} | {h} |" for n, b, t, h in rows]
    lines += ["", "tstart of one tracepoint (load, attach, and for `--children` the process",
              "map filled from /proc and the fork tracker attached), median of 7, ms:", "",
              "| processes (master + workers) | --attach-exe | --attach PID --children |",
              "|---|---|---|"]
    lines += [f"| {n + 1} | {att['exe', n]:.1f} | {att['children', n]:.1f} |"
              for n in (1, 16, 64)]
    lines += ["", "(2-CPU VM, kernel 6.18; a hit here is a single-stepped uprobe: see",
              "\"Tracepoint hit cost\" for what it is on an emulated instruction.)", ""]
    write_section("## Several processes (`make bench`, bench/multiproc.py)", lines)


if __name__ == "__main__":
    main()
