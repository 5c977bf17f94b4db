#!/usr/bin/env python3
"""bench/long_trace.py - bpfstub's memory over a long trace.

    python3 bench/long_trace.py [FRAMES]      (default 1000000; needs root + BPF)

For several trace buffer sizes, one million hits of a
traced function go through a circular buffer: tests/targets/build/counter
with 2 hot threads calling hot() in a tight loop, a tracepoint on hot()
set up by real GDB over the remote protocol.  bpfstub's resident memory is
sampled during the run (VmRSS) and its peak read at the end (VmHWM), and
the table replaces the "## Long trace memory" section of
docs/PERFORMANCE.md (the rest of the file is left alone).

The point: memory is bounded by the buffer size (plus a small index and
the fixed cost of the process), whatever the number of frames.
"""
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from harness import (Stub, Target, actions, gdb_connect, gdb_hits, gdb_pipe,  # noqa: E402
                     gdb_tstart, gdb_tstatus, tracepoint_address)
from perfdoc import write_section  # noqa: E402

FRAMES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
SIZES_MB = (1, 5, 64, 256)
ACTIONS = ("collect $regs", "collect hot_last")
SECTION = "## Long trace memory"


def kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run(size_mb, acts):
    size = size_mb << 20
    with Target("counter", ["0", "2"]) as t, Stub.attach(t.pid, verbose=False,
                    options=("--max-hit-rate", "off", "--max-overhead", "off")) as stub, \
            gdb_pipe(file=t.path) as g:
        gdb_connect(g, stub)
        g.cmd(f"set trace-buffer-size {size}")
        g.cmd("set circular-trace-buffer on")
        tracepoint_address(g.cmd("trace hot"))
        g.cmd(actions(*acts))
        base = kb(stub.proc.pid, "VmRSS")
        gdb_tstart(g)
        t0 = time.monotonic()
        rss = []
        while True:
            rss.append(kb(stub.proc.pid, "VmRSS"))
            st = gdb_tstatus(g)
            if not st.running:
                sys.exit(f"the run stopped:\n{st}")
            if st.created >= FRAMES:
                break
            if time.monotonic() - t0 > 600:
                sys.exit(f"too slow: {st.created} frames in 600 s")
            time.sleep(0.5)
        took = time.monotonic() - t0
        g.cmd("tstop")
        st = gdb_tstatus(g)
        hits = gdb_hits(g).get(1, 0)
        mon = g.cmd("monitor status")
        m = re.search(r"(\d+) dropped", mon)
        drops = int(m.group(1)) if m else -1
        hwm = kb(stub.proc.pid, "VmHWM")
        rss.append(kb(stub.proc.pid, "VmRSS"))
        per = (st.size - st.free) / st.frames if st.frames else 0
        assert st.size == size, f"asked for {size} bytes, got {st.size}"
        return dict(size_mb=size_mb, created=st.created, kept=st.frames, per=per, hits=hits,
                    drops=drops, took=took, base=base, rss=max(rss), hwm=hwm)


def main():
    rows = []
    for mb in SIZES_MB:
        r = run(mb, ACTIONS)
        rows.append(r)
        print(f"{mb:4} MB: {r['created']} frames in {r['took']:.1f}s, kept "
              f"{r['kept']} (~{r['per']:.0f} B each), drops {r['drops']}, VmRSS before "
              f"{r['base']} kB, max {r['rss']} kB, VmHWM {r['hwm']} kB", flush=True)
    nproc = os.cpu_count()
    kernel = os.uname().release
    lines = [SECTION, "",
             f"Measured {time.strftime('%Y-%m-%d')} with `python3 bench/long_trace.py` on this "
             f"machine: {nproc} CPUs, kernel {kernel}.  {FRAMES} hits of `hot()` from 2 threads "
             "calling it in a tight loop (tests/targets/counter.c, `counter 0 2`), one "
             "tracepoint set by GDB with `collect $regs, hot_last` (a frame is about 612 "
             "bytes: registers, 8 bytes of memory, timestamp and thread), circular trace "
             "buffer of the size shown.  VmRSS is "
             "bpfstub's resident memory sampled every 0.5 s, VmHWM its peak as the kernel "
             "counts it; \"before\" is VmRSS after connecting, before tstart.", "",
             "| buffer | frames created | kept at the end | bytes/frame | dropped "
             "| time | frames/s | VmRSS before | VmRSS max | VmHWM | VmHWM - buffer |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['size_mb']} MB | {r['created']} | {r['kept']} | "
            f"{r['per']:.0f} | {r['drops']} | {r['took']:.1f} s | "
            f"{r['created'] / r['took']:.0f} | {r['base'] / 1024:.1f} MB | "
            f"{r['rss'] / 1024:.1f} MB | {r['hwm'] / 1024:.1f} MB | "
            f"{(r['hwm'] - r['size_mb'] * 1024) / 1024:.1f} MB |")
    over = max((r["hwm"] - r["size_mb"] * 1024) / 1024 for r in rows)
    lines += ["",
              f"- Peak memory beyond the buffer itself: at most **{over:.1f} MB** over all runs "
              "(process, libbpf, BPF ring buffer mapping, frame index), whatever the number "
              "of frames; the test `test_persist.test_long_trace_circular` requires less "
              "than 40 MB.",
              "- What grows with the buffer is the frame index (24 bytes per kept frame, "
              "about 4% of the buffer with frames of this size; briefly 1.5 times that while "
              "it doubles), so the overhead of a 1 GB buffer would be larger than these.",
              ""]
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
