"""USDT (SystemTap SDT) probes: `trace -probe-stap PROVIDER:NAME`, with and
without a semaphore, on a live target that never stops.

The target (tests/targets/usdt.c), in a loop about every 2 ms with
i = 1, 2, 3 ...:
    if (bpfstub_tick_semaphore)  probe bpfstub:tick(i, 3 * i);  tick_fired++
    probe bpfstub:plain(i, 3 * i)            (no semaphore)
`poke` = 7 is a global no one writes.

GDB raises a probe's semaphore at tstart with a memory write (m, then X of
value + 1) and lowers it after tstop (value - 1).  bpfstub writes nothing:
the uprobe carries the semaphore as the kernel's reference counter, so the
kernel raises it while the tracepoint is attached; GDB's write of exactly
that semaphore gets OK, and every other write is still refused
(stub/program/sdt.h).  The checks are what a user sees: no warning from GDB, the
probe arguments in every frame, the semaphore in the live target.
"""

import re
import struct

from harness import (actions, assert_consecutive, attached, gdb_pipe, gdb_values_by_frame,
                     needs_bpf, wait_until)
from harness import gdb_connect as connect
from harness import gdb_tstatus
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_created

SEM = "bpfstub_tick_semaphore"


def semaphore(t):
    return struct.unpack("<H", t.read(SEM, 2))[0]


def int_of(t, symbol):
    return struct.unpack("<i", t.read(symbol, 4))[0]


def check_probe_frames(rows, tp, what):
    """Frames of tracepoint tp: arg1 == 3 * arg0, arg0 = 1, 2, 3 ... with no gap."""
    args = [vals for _, num, vals in rows if num == tp]
    assert len(args) >= 10, f"{what}: only {len(args)} frames: {rows[:10]}"
    bad = [a for a in args if a[1] != 3 * a[0] or a[0] <= 0]
    assert not bad, f"{what}: $_probe_arg1 != 3 * $_probe_arg0 in {bad[:5]}"
    assert_consecutive([a[0] for a in args], f"{what}: $_probe_arg0 values")


def usdt_session(target):
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        assert semaphore(t) == 0 and int_of(t, "tick_fired") == 0

        out = g.cmd("trace -probe-stap bpfstub:tick")
        assert "Tracepoint 1 at" in out, out
        g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))
        out = g.cmd("trace -probe-stap bpfstub:plain")
        assert "Tracepoint 2 at" in out, out
        g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))

        out = tstart(g)  # fails on any warning, "Could not write ... semaphore" included
        # The kernel raised the semaphore; GDB reads it back the same.
        wait_until(lambda: semaphore(t) == 1, 5, what=f"{SEM} raised by the uprobe")
        assert g.cmd(f"print {SEM}").strip().endswith("= 1")
        wait_created(g, 40)

        # Writes stay refused: elsewhere, and the semaphore itself other than +-1.
        for cmd in ("set var poke = 1", f"set var {SEM} = 5"):
            out = g.cmd(cmd)
            assert "Cannot access memory at address" in out, f"{cmd!r} did not fail:\n{out}"
        assert int_of(t, "poke") == 7 and semaphore(t) == 1

        out = g.cmd("tstop")
        assert "Could not" not in out and "warning" not in out.lower(), out
        wait_until(lambda: semaphore(t) == 0, 5, what=f"{SEM} lowered after tstop")
        fired = int_of(t, "tick_fired")
        assert fired > 0, "the guarded probe site never ran"

        rows = gdb_values_by_frame(g, ["$_probe_arg0", "$_probe_arg1"])
        check_probe_frames(rows, 1, f"{target} bpfstub:tick (semaphore)")
        check_probe_frames(rows, 2, f"{target} bpfstub:plain (no semaphore)")

        # Raised again by the next run, lowered when GDB goes (the run stops).
        tstart(g)
        wait_until(lambda: semaphore(t) == 1, 5, what=f"{SEM} raised again")
        out = g.cmd("detach")
        assert "Could not" not in out, out
        wait_until(lambda: semaphore(t) == 0, 5, what=f"{SEM} lowered after detach")
        t.assert_running("iter")


@needs_bpf
def test_usdt_semaphore_and_plain_probes():
    usdt_session("usdt")


@needs_bpf
def test_usdt_semaphore_and_plain_probes_pie():
    usdt_session("usdt-pie")


@needs_bpf
def test_usdt_semaphore_that_cannot_be_raised_fails_tstart():
    """usdt-rosem: bpfstub:tick's semaphore is in .rodata, where no kernel
    can raise it.  Attached anyway, the probe would sit on a site that never
    runs: tstart fails instead, naming the tracepoint, the probe and why."""
    with attached("usdt-rosem") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("trace -probe-stap bpfstub:tick")
        assert "Tracepoint 1 at" in out, out
        g.cmd(actions("collect $_probe_arg0"))
        out = g.cmd("trace -probe-stap bpfstub:plain")
        assert "Tracepoint 2 at" in out, out
        g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))

        out = g.cmd("tstart")
        assert re.search(r"tracepoint 1 at 0x[0-9a-f]+: SDT probe bpfstub:tick cannot be "
                         r"enabled: its semaphore \(0x[0-9a-f]+\) is not in the contents of a "
                         r"writable segment of \S+usdt-rosem, so the kernel cannot raise it",
                         out), f"tstart did not fail naming the probe:\n{out}"
        st = gdb_tstatus(g)
        assert not st.running and not st.frames, st
        t.assert_running("iter")

        # Without it, the run starts and the probe without a semaphore collects.
        g.cmd("delete 1")
        tstart(g)
        wait_created(g, 10)
        g.cmd("tstop")
        rows = gdb_values_by_frame(g, ["$_probe_arg0", "$_probe_arg1"])
        check_probe_frames(rows, 2, "usdt-rosem bpfstub:plain")
        assert semaphore(t) == 0 and int_of(t, "tick_fired") == 0


@needs_bpf
def test_reconnect_with_a_probe_tracepoint():
    """A probe location as the uploaded tracepoint's "at" source made GDB 13
    end the session on reconnect (internal-error: "attempt to decode probe
    location"): the stub gives back the probe's address instead, so the
    tracepoint comes back as `*0xADDR` with its actions and frames."""
    with attached("usdt") as (t, stub):
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set disconnected-tracing on")
            out = g.cmd("trace -probe-stap bpfstub:plain")
            m = re.search(r"Tracepoint 1 at (0x[0-9a-f]+)", out)
            assert m, out
            addr = int(m.group(1), 16)
            g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))
            tstart(g)
            wait_created(g, 10)
            out = g.cmd("disconnect")
            assert "error" not in out.lower(), out
        with gdb_pipe(file=t.path) as g:
            out = connect(g, stub)
            assert "internal-error" not in out and "Trace is already running" in out, out
            assert re.search(rf"Created tracepoint 1 for target's tracepoint 1 at "
                             rf"0x0*{addr:x}", out), out
            info = g.cmd("info tracepoints")
            assert re.search(r"^\s+collect \$_probe_arg0, \$_probe_arg1\s*$", info, re.M), info
            g.cmd("tstop")
            rows = gdb_values_by_frame(g, ["$_probe_arg0", "$_probe_arg1"])
            check_probe_frames(rows, 1, "usdt bpfstub:plain after a reconnect")
        t.assert_running("iter")
