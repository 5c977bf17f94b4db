#!/usr/bin/env python3
"""bench/run.py - what a tracepoint hit costs the traced program.

`make bench` runs this.  One C function called in a tight loop
(bench/loop.c) is timed, interleaved round by round, under:

  none       no probe at all
  uprobe     an empty BPF program on a uprobe at the same instruction
             (bench/empty_probe.c): the floor any uprobe-based tool pays
  bpfstub    a bpfstub tracepoint with `collect $regs, a, b, bench_buf`
             (all registers, two arguments, 64 bytes of memory), set up by
             real GDB over the remote protocol, circular trace buffer, with
             what bpfstub adds beyond GDB's actions turned off (`monitor set
             stack-window off`, `monitor set deep-collect off`, `monitor set
             always-regs off`)
  bpfstub+window  the same with a 2 KiB stack window (the stack above rsp
             each frame holds, for bt in tfind: the default until issue 20)
  gdbserver  gdbserver's trap tracepoint with the same actions

and writes the table to docs/PERFORMANCE.md.  Goal: bpfstub costs at most
1.15x the empty uprobe per hit, and at least 8x less than gdbserver.

Deep collection (issue 9: what the arguments point to, from the DWARF) is
measured on bench_deep(struct bench_item *it, const char *name) (first
instruction a load: single-stepped) and bench_deep_push (the same with a
frame pointer: `push %rbp` first, emulated), with `collect $regs` only,
under:

  bpfstub          GDB's actions alone (stack window and deep collection off)
  bpfstub+deep     deep collection on (its default budget), stack window off
  bpfstub+all      bpfstub's defaults: deep collection and stack window on

Goal (issue 9): deep collection on costs at most 1.15x the empty uprobe at
the single-stepped site; the figure at the emulated site is stated.
A return tracepoint (issue 10: `monitor trace -return bench_fn`: a uprobe
on bench_fn's ret, with the registers and $latency_ns, and one at its entry
storing the time) is measured at bench_fn under:

  uprobe           an empty BPF uprobe at the ret instruction
  uprobe x2        empty BPF uprobes at the entry and at the ret (the traps
                   a return probe needs, with nothing in them)
  bpfstub-return   the return tracepoint (entry + ret)

Goal (issue 10): the return probe at most 1.15x empty uprobes at the same
instructions; its cost against the one empty uprobe at the ret is stated.
Registers in every frame (issue 17: `monitor set always-regs`, default on)
are measured at bench_fn and bench_push with `collect bench_buf` (64 bytes,
no registers) under:

  bpfstub          GDB's action alone (always-regs off: gdbserver's behaviour)
  bpfstub+regs     always-regs on: the same plus the registers (an R block);
                   stack window and deep collection off in both

and the difference is stated (no goal).
The stack collections (issue 20) are measured at bench_push called under
8 frames with frame pointers (loop.c's `stack` mode), `collect $regs`:

  bpfstub          no stack collected (stack window and deep collection off)
  bpfstub+window   a 2 KiB stack window
  bpfstub+fp       `monitor set stack-window fp` (the default): the
                   frame-pointer chain walked in the kernel, 512 bytes at rsp

with the bytes a frame takes in the frame store (no goal; stated).
BENCH_SITES=return (a word of the site names) measures only the matching
sites and prints, without rewriting docs/PERFORMANCE.md; BENCH_SITES=stack
writes its own section of docs/PERFORMANCE.md.
Costs are per hit, added over `none`, medians over the rounds; ratios come
from the same run, so machine noise hits every configuration alike.
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.join(ROOT, "build", "bench")
LOOP = os.path.join(B, "loop")
EMPTY = os.path.join(B, "empty_probe")
STUB = os.path.join(ROOT, "bpfstub")
# The overhead guard would detach a tracepoint hit this fast (that is its
# job); the bench measures what a hit costs, so it is off here.
GUARD_OFF = ("--max-hit-rate", "off", "--max-overhead", "off")
CALLS = int(os.environ.get("BENCH_CALLS", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CLASSIC = ("none", "uprobe", "bpfstub", "bpfstub+window", "gdbserver")
RETURN = ("none", "uprobe", "uprobe x2", "bpfstub-return")
DEEP = ("none", "uprobe", "bpfstub", "bpfstub+deep", "bpfstub+all")
REGS = ("none", "uprobe", "bpfstub", "bpfstub+regs")
STACK = ("none", "uprobe", "bpfstub", "bpfstub+window", "bpfstub+fp")
# Each site: (name, GDB location, actions, loop's extra argument,
# configurations measured, the instruction the probe must land on or None).
SITES = [
    ("single-stepped", "bench_fn", "collect $regs, a, b, bench_buf", [], CLASSIC, None),
    ("emulated", "*bench_push", "collect $regs, bench_buf", ["push"], CLASSIC, None),
    ("deep collection, single-stepped", "bench_deep", "collect $regs", ["deep"], DEEP,
     r"mov\s+\(%rdi\)"),
    ("deep collection, emulated", "bench_deep_push", "collect $regs", ["deep-push"], DEEP,
     r"push\s+%rbp"),
    ("return", "bench_fn", "monitor trace -return bench_fn", [], RETURN, r"ret"),
    ("registers in every frame, single-stepped", "bench_fn", "collect bench_buf", [], REGS,
     None),
    ("registers in every frame, emulated", "*bench_push", "collect bench_buf", ["push"], REGS,
     None),
    ("stack collection, emulated", "*bench_push", "collect $regs", ["stack"], STACK, None),
]
LABELS = {
    "none": "no probe",
    "uprobe": "empty BPF uprobe (1)",
    "bpfstub": "bpfstub tracepoint (2)",
    "gdbserver": "gdbserver trap tracepoint (3)",
    "bpfstub+window": "bpfstub tracepoint + 2 KiB stack window (4)",
    "bpfstub+fp": "bpfstub tracepoint + frame-pointer chain, `stack-window fp` (10)",
    "bpfstub+deep": "bpfstub tracepoint + deep collection (5)",
    "bpfstub+all": "bpfstub's defaults: deep collection + stack window (6)",
    "uprobe x2": "empty BPF uprobes at the entry and the ret (7)",
    "bpfstub-return": "bpfstub return tracepoint, entry + ret (8)",
    "bpfstub+regs": "bpfstub tracepoint + registers in every frame (9)",
}
# What monitor commands each bpfstub configuration sends before `trace`.
MONITOR = {
    "bpfstub": ["monitor set stack-window off", "monitor set deep-collect off",
                "monitor set always-regs off"],
    "bpfstub+window": ["monitor set stack-window 2048", "monitor set deep-collect off"],
    "bpfstub+fp": ["monitor set stack-window fp", "monitor set deep-collect off"],
    "bpfstub+deep": ["monitor set stack-window off"],
    "bpfstub+all": [],
    "bpfstub+regs": ["monitor set stack-window off", "monitor set deep-collect off"],
}


# Bytes a frame takes in the frame store, per bpfstub configuration (tstatus).
FRAME_BYTES = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ret_address(where):
    """The address of the one ret of function where (the return site)."""
    dis = subprocess.run(["gdb", "-nx", "-batch", "-ex", f"disassemble {where}", LOOP],
                         capture_output=True, text=True).stdout
    rets = re.findall(r"^\s+(0x[0-9a-f]+) <\+\d+>:\s+ret", dis, re.M)
    if len(rets) != 1:
        sys.exit(f"bench: {where} has not one ret:\n{dis}")
    return rets[0]


def probe_address(site):
    where, insn = site[1], site[5]
    if site[0] == "return":
        return ret_address(where)
    out = subprocess.run(["gdb", "-nx", "-batch", "-ex", "trace " + where, LOOP],
                         capture_output=True, text=True).stdout
    m = re.search(r"Tracepoint 1 at (0x[0-9a-f]+)", out)
    if not m:
        sys.exit(f"bench: cannot find {where}'s tracepoint address:\n" + out)
    if insn:
        dis = subprocess.run(["gdb", "-nx", "-batch", "-ex", f"x/i {m.group(1)}", LOOP],
                             capture_output=True, text=True).stdout
        if not re.search(insn, dis):
            sys.exit(f"bench: {where}'s tracepoint is not on /{insn}/:\n{dis}")
    return m.group(1)


class Run:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bpfstub-bench-")
        self.trigger = os.path.join(self.dir, "go")
        self.out = os.path.join(self.dir, "out")

    def result(self):
        with open(self.out) as f:
            return float(f.read())

    def gdb_script(self, lines):
        path = os.path.join(self.dir, "s.gdb")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_file(path, timeout=600):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.01)
    raise RuntimeError("timed out waiting for " + path)


def loop_cmd(r, site):
    return [LOOP, str(CALLS), r.trigger, r.out] + site[3]


def run_none(r, site):
    p = subprocess.Popen(loop_cmd(r, site))
    open(r.trigger, "w").close()
    p.wait()
    return r.result()


def run_uprobe(r, site, *addrs):
    p = subprocess.Popen(loop_cmd(r, site))
    es = [subprocess.Popen([EMPTY, str(p.pid), a], stdout=subprocess.PIPE, text=True)
          for a in addrs]
    for e in es:
        if e.stdout.readline().strip() != "attached":
            raise RuntimeError("empty_probe did not attach")
    open(r.trigger, "w").close()
    p.wait()
    for e in es:
        e.terminate()
        e.wait()
    return r.result()


def run_return(r, site):
    """monitor trace -return, monitor tstart/tstop (GDB knows no tracepoint)."""
    p = subprocess.Popen(loop_cmd(r, site))
    port = free_port()
    s = subprocess.Popen([STUB, *GUARD_OFF, "--once", f"127.0.0.1:{port}", "--attach", str(p.pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s.stdout.readline()
    script = r.gdb_script([
        "set pagination off",
        f"target remote 127.0.0.1:{port}",
        "set circular-trace-buffer on",
        site[2],
        "monitor tstart",
        f"shell touch {r.trigger}",
        f"shell while [ ! -s {r.out} ]; do sleep 0.02; done",
        "monitor tstop",
        "detach",
    ])
    g = subprocess.run(["gdb", "-nx", "-batch", "-x", script], capture_output=True, text=True)
    p.wait()
    s.wait(timeout=10)
    out = g.stdout + g.stderr
    m = re.search(r"trace stopped: (\d+) frames", out)
    if "monitor:" in out or not m or int(m.group(1)) == 0:
        raise RuntimeError("bpfstub's return tracepoint collected nothing:\n" + out)
    return r.result(), int(m.group(1))


def trace_lines(target, site, monitor=()):
    return [
        "set pagination off",
        "set circular-trace-buffer on",
        target,
        *monitor,
        "trace " + site[1],
        "actions",
        site[2],
        "end",
        "tstart",
    ]


def release_fifo(path, timeout=60):
    """Let a `shell cat FIFO` in GDB's script return (once it has started)."""
    end = time.time() + timeout
    while True:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError:  # ENXIO: GDB is not waiting on it yet
            if time.time() > end:
                raise
            time.sleep(0.005)


def run_bpfstub(r, site, config="bpfstub"):
    p = subprocess.Popen(loop_cmd(r, site))
    port = free_port()
    s = subprocess.Popen([STUB, *GUARD_OFF, "--once", f"127.0.0.1:{port}", "--attach", str(p.pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s.stdout.readline()
    # GDB waits on a FIFO (cat blocks in open) rather than polling in its
    # shell, which would fork `sleep` beside the timed loop.
    fifo = os.path.join(r.dir, "done")
    os.mkfifo(fifo)
    script = r.gdb_script(trace_lines(f"target remote 127.0.0.1:{port}", site,
                                      [*MONITOR[config], "monitor show"]) + [
        f"shell touch {r.trigger}",
        f"shell cat {fifo} > /dev/null",
        "tstop",
        "tstatus",
        "detach",
    ])
    g = subprocess.Popen(["gdb", "-nx", "-batch", "-x", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.wait()
    release_fifo(fifo)
    gout, gerr = g.communicate()
    s.wait(timeout=10)
    m = (re.search(r"of (\d+) created total", gout)
         or re.search(r"Collected (\d+) trace frames", gout))
    if not m or int(m.group(1)) == 0:
        raise RuntimeError("bpfstub collected nothing:\n" + gout + gerr)
    held = re.search(r"Buffer contains (\d+) trace frames?", gout) or m
    free = re.search(r"Trace buffer has (\d+) bytes of (\d+) bytes free", gout)
    if free and int(held.group(1)):
        FRAME_BYTES.setdefault(config, []).append(
            (int(free.group(2)) - int(free.group(1))) / int(held.group(1)))
    out = gout + gerr
    if "monitor:" in out or "unknown monitor command" in out or \
            not re.search(r"^stack-window: (\d+|off|fp)", out, re.M):
        raise RuntimeError(f"bpfstub's settings for {config}:\n" + out)
    return r.result(), int(m.group(1))


def run_gdbserver(r, site):
    port = free_port()
    gs = subprocess.Popen(["gdbserver", "--once", f"127.0.0.1:{port}"] + loop_cmd(r, site),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    while "Listening" not in gs.stdout.readline():
        pass
    # Keep draining what gdbserver prints (on some kernels a warning per hit:
    # "ptrace(regsets_store_inferior_registers): Bad address"), or it blocks
    # on a full pipe with the target stopped.
    threading.Thread(target=gs.stdout.read, daemon=True).start()
    # Run to main first: GDB re-sends tracepoints when shared libraries
    # load during a run, which gdbserver refuses.
    script = r.gdb_script(trace_lines(f"target remote 127.0.0.1:{port}\nbreak main\n"
                                      "continue\ndelete", site) + [
        f"shell touch {r.trigger}",
        "continue",
    ])
    g = subprocess.run(["gdb", "-nx", "-batch", "-x", script], capture_output=True, text=True)
    gs.wait(timeout=30)
    if "exited normally" not in g.stdout + g.stderr:
        raise RuntimeError("gdbserver run failed:\n" + g.stdout + g.stderr)
    return r.result()


def probe_entry(site):
    return probe_address(("entry", site[1], "", [], (), None))


def measure(site):
    addr = probe_address(site)
    res = {k: [] for k in site[4]}
    frames = {}
    order = list(res)
    for rnd in range(ROUNDS):
        for name in order[rnd % len(order):] + order[:rnd % len(order)]:
            r = Run()
            try:
                if name == "none":
                    v = run_none(r, site)
                elif name == "uprobe":
                    v = run_uprobe(r, site, addr)
                elif name == "uprobe x2":
                    v = run_uprobe(r, site, probe_entry(site), addr)
                elif name == "bpfstub-return":
                    v, n = run_return(r, site)
                    frames.setdefault(name, []).append(n)
                elif name.startswith("bpfstub"):
                    v, n = run_bpfstub(r, site, name)
                    frames.setdefault(name, []).append(n)
                else:
                    v = run_gdbserver(r, site)
            finally:
                r.close()
            res[name].append(v)
            print(f"{site[0]:31s} round {rnd + 1}/{ROUNDS} {name:14s} {v:10.1f} ns/call",
                  flush=True)
    return res, frames


def table(title, site, med, add, vs="vs empty uprobe"):
    lines = [
        title,
        "",
        f"| configuration | ns per call (median) | added per hit | {vs} |",
        "|---|---:|---:|---:|",
    ]
    for k in site[4]:
        ratio = "" if k == "none" else f"{add[k] / add['uprobe']:.2f}x"
        lines.append(f"| {LABELS[k]} | {med[k]:.0f} | {add[k]:.0f} ns | {ratio} |")
    return lines


def report_return(site, med, add, res, frames):
    lines = table(f"### {site[0]} site: `{site[2]}` (entry and ret uprobes)", site, med, add,
                  "vs empty uprobe at the ret")
    r = add["bpfstub-return"] / add["uprobe x2"]
    lines += [
        "",
        f"- (8)/(7) = **{r:.2f}x** (goal: at most 1.15x, each of its two probes against an "
        "empty uprobe at the same instruction): " + ("met" if r <= 1.15 else "NOT met"),
        f"- (8)/(1) = {add['bpfstub-return'] / add['uprobe']:.2f}x: against one empty uprobe at "
        "the ret alone; the latency needs the entry's time, so a return tracepoint is two "
        "uprobes (entry and ret), never a uretprobe",
        f"- frames bpfstub collected per run: {frames.get('bpfstub-return', [])}",
        "- raw ns/call per round: " + "; ".join(
            f"{k}: {', '.join(f'{x:.0f}' for x in v)}" for k, v in res.items()),
        "",
    ]
    return lines


def report(site, res, frames):
    med = {k: statistics.median(v) for k, v in res.items()}
    add = {k: med[k] - med["none"] for k in med}
    if site[0] == "return":
        return report_return(site, med, add, res, frames)
    r_stub = add["bpfstub"] / add["uprobe"]
    lines = table(f"### {site[0]} site: `trace {site[1]}`, `{site[2]}`", site, med, add)
    goal = "goal: at most 1.15x" if "single" in site[0] else "stated, no goal"
    lines += [
        "",
        f"- (2)/(1) = **{r_stub:.2f}x** ({goal})"
        + ((": met" if r_stub <= 1.15 else ": NOT met") if "single" in site[0] else ""),
    ]
    if "gdbserver" in add:
        r_gdbs = add["gdbserver"] / add["bpfstub"]
        lines.append(f"- (3)/(2) = **{r_gdbs:.1f}x** (goal: at least 8x): "
                     + ("met" if r_gdbs >= 8 else "NOT met"))
    if "bpfstub+window" in add:
        lines.append(f"- (4)-(2) = **{add['bpfstub+window'] - add['bpfstub']:.0f} ns** per hit "
                     "for the stack window (`bt` in tfind); (4)/(1) = "
                     f"{add['bpfstub+window'] / add['uprobe']:.2f}x")
    if "bpfstub+fp" in add:
        lines.append(f"- (10)-(2) = **{add['bpfstub+fp'] - add['bpfstub']:.0f} ns** per hit "
                     "for the frame-pointer chain and its 512-byte window; (10)-(4) = "
                     f"{add['bpfstub+fp'] - add['bpfstub+window']:.0f} ns against the 2 KiB "
                     f"window; (10)/(1) = {add['bpfstub+fp'] / add['uprobe']:.2f}x")
    if "bpfstub+regs" in add:
        lines.append(f"- (9)-(2) = **{add['bpfstub+regs'] - add['bpfstub']:.0f} ns** per hit "
                     "for the registers always-regs adds (169 bytes per record in the ring, "
                     "an R block of 561 in the frame store); (9)/(1) = "
                     f"{add['bpfstub+regs'] / add['uprobe']:.2f}x")
    for k, n in (("bpfstub+deep", 5), ("bpfstub+all", 6)):
        if k in add:
            r = add[k] / add["uprobe"]
            lines.append(f"- ({n})/(1) = **{r:.2f}x** ({goal})"
                         + ((": met" if r <= 1.15 else ": NOT met") if "single" in site[0]
                            else "")
                         + f"; ({n})-(2) = {add[k] - add['bpfstub']:.0f} ns per hit")
    if "bpfstub+fp" in add:
        lines.append("- bytes a frame takes in the frame store (tstatus, median): " + "; ".join(
            f"{k}: {statistics.median(FRAME_BYTES[k]):.0f}" for k in site[4]
            if FRAME_BYTES.get(k)))
    lines += [
        "- frames created per run (of " + str(CALLS) + " hits; fewer: the rest dropped, the "
        "8 MiB ring full before the first drain): "
        + "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in frames.items()),
        "- raw ns/call per round: " + "; ".join(
            f"{k}: {', '.join(f'{x:.0f}' for x in v)}" for k, v in res.items()),
        "",
    ]
    return lines


STACK_TITLE = ("## Call stacks: frame pointers against a window "
               "(`BENCH_SITES=stack python3 bench/run.py`)")


def main():
    body = []
    only = os.environ.get("BENCH_SITES")
    for site in SITES:
        if only and only not in site[0].split(", ")[0].split():
            continue
        res, frames = measure(site)
        body += report(site, res, frames)
    if only == "stack":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from perfdoc import write_section
        write_section(STACK_TITLE, [
            STACK_TITLE,
            "",
            f"Measured {time.strftime('%Y-%m-%d')} on this machine: {os.cpu_count()} CPUs, "
            f"kernel {os.uname().release}; {CALLS} calls per run, {ROUNDS} rounds, as the "
            "tables above. bench/loop.c's `stack` mode calls `bench_push` (first instruction "
            "`push %rbp`: one trap, where the program's own cost shows most) under 8 frames "
            "of `bench_down` (frame pointers, a 100-byte array each: ~1.3 KiB of stack); "
            "`collect $regs`, deep collection off; (2) no stack, (4) a plain 2 KiB window, "
            "(10) `stack-window fp` (bpfstub's default: the chain, 9 records here, and 512 "
            "bytes above rsp).",
            "",
        ] + body[1:])
        return
    if only:
        print("\n".join(body))
        return
    section = "\n".join([
        "## Tracepoint hit cost (`make bench`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: {os.cpu_count()} CPUs, kernel "
        f"{os.uname().release}. {CALLS} calls per run, {ROUNDS} rounds, configurations "
        "interleaved and rotated each round; medians; costs are per hit, added over "
        "`no probe`. bench/loop.c calls `f(long a, long b, char *buf)` in a tight loop; "
        "the actions collect every register (so both arguments) and the 64-byte "
        "global `bench_buf` per hit. Two sites: where `trace bench_fn` lands at -O2 (an "
        "instruction the kernel single-steps after the trap: the common case) and a "
        "function whose first instruction is `push %rbp` (emulated by the kernel: one "
        "trap, the worst case for the ratio, since the BPF program's own cost is no "
        "longer hidden by the traps). (2) is GDB's actions alone (bpfstub's stack window, "
        "deep collection and always-regs off). The deep-collection sites call "
        "`f(struct bench_item *it, const char *name)` (a struct with a `char *` field, a "
        "string literal) with `collect $regs` only.",
        "",
        *body,
    ])
    print()
    print(section)
    path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
    text = open(path).read() if os.path.exists(path) else "# Performance\n\n"
    start = text.find("## Tracepoint hit cost")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
