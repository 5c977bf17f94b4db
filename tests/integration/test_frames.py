"""Trace frames as a user reads them: `bt` in tfind through the stack window,
string literals from read-only memory, and the `monitor` commands that set
them (help, set, show, status; from GDB, GDB/MI and LLDB).

Facts used (tests/targets): counter-O2's main calls compute() in a loop and
worker-2 calls note_tick(); goserver answers GET /e?iterations=N through
main.handleE -> main.computeE in net/http's connection goroutine;
diffprog-O2-pie calls dstep(i, 3i + 1, &recs[i % 3], names[i % 3]) with
names = {"alpha", "beta", "gamma"}, string literals of a PIE.
"""

import os
import re
import tempfile
import urllib.request

from diffsession import DiffTarget
from harness import (GdbMI, Stub, ThreadStateSampler, actions, attached, gdb_batch, gdb_pipe,
                     lldb_batch, needs_bpf, require_stub, tracepoint_address, wait_until)
from harness import gdb_connect as connect
from harness import gdb_hits as hits
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_created

# What `bt` shows, frame by frame: the function names in order.
C_MAIN_CALLERS = ["compute", "main", "__libc_start_call_main", "__libc_start_main_impl",
                  "_start"]
C_THREAD_CALLERS = ["note_tick", "worker", "start_thread", "clone3"]
GO_CALLERS = ["main.computeE", "main.handleE", "net/http.HandlerFunc.ServeHTTP",
              "net/http.(*ServeMux).ServeHTTP", "net/http.serverHandler.ServeHTTP",
              "net/http.(*conn).serve", "net/http.(*Server).Serve.func3", "runtime.goexit"]

BT_FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(", re.M)


def bt_names(out):
    """The function of each `#N` line of a backtrace, checking N counts up."""
    frames = BT_FRAME.findall(out)
    assert [int(n) for n, _ in frames] == list(range(len(frames))), f"bt:\n{out}"
    return [name for _, name in frames]


def run_once(g, n=2, timeout=10):
    tstart(g)
    wait_created(g, n, timeout)
    g.cmd("tstop")


# --------------------------------------------------------------------------
# bt in tfind


@needs_bpf
def test_bt_in_tfind_c_O2():
    """counter-O2, collect $regs: with the default stack window `bt` in tfind
    names every caller up to _start (main thread) and clone3 (worker thread),
    with main's arguments; tsave + target tfile keeps it.  An 8 KiB window
    runs off the top of the main thread's stack and keeps what lies below
    it.  `monitor set stack-window off`: bt stops at frame #0 again."""
    # fixed_stack: without ASLR's random gap (up to 8 KiB) below the end of
    # [stack], compute's rsp is within 8 KiB of it, for the clamp below.
    with attached("counter-O2", fixed_stack=True) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("set backtrace past-main on")
        tp = tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $regs"))
        g.cmd("trace note_tick")
        g.cmd(actions("collect $regs"))
        # Both tracepoints need frames (note_tick's thread hits twice as often).
        tstart(g)
        wait_until(lambda: all(hits(g).get(n, 0) >= 2 for n in (1, 2)), 10,
                   what="two hits on each tracepoint")
        g.cmd("tstop")
        assert tfind(g, "tracepoint 1")[1] == 1
        out = g.cmd("bt")
        assert bt_names(out) == C_MAIN_CALLERS, f"bt in compute's frame:\n{out}"
        assert re.search(r"^#1 .* in main \(.*argc@entry=1,", out, re.M), \
            f"main's argc is not shown from the window:\n{out}"
        assert "Backtrace stopped" not in out, out
        live = out
        out = g.cmd("tfind tracepoint 2")
        out = g.cmd("bt")
        assert bt_names(out) == C_THREAD_CALLERS, f"bt in note_tick's frame:\n{out}"
        assert re.search(r"^#1 .* in worker \(arg=0x2\)", out, re.M), out

        # The window is ordinary M blocks: tsave + target tfile keeps it
        # (GDB loads no shared libraries for a trace file: past main, the
        # return address into libc shows as an address, the same one).
        with tempfile.TemporaryDirectory(prefix="bpfstub-frames-") as tmp:
            path = os.path.join(tmp, "t.tf")
            tfind(g, "tracepoint 1")
            frame = int(g.cmd("output $trace_frame").strip())
            g.cmd("tfind none")
            assert "saved" in g.cmd(f"tsave {path}")
            r = gdb_batch([f"target tfile {path}", "set backtrace past-main on",
                           f"tfind {frame}", "bt"], file=t.path)
            assert f"at {tp:#x}" in r.out[0] or f"at 0x{tp:x}" in r.out[0], r.text
            pcs = re.findall(r"^#\d+\s+(0x[0-9a-f]+) in", r.out[3], re.M)
            live_pcs = re.findall(r"^#\d+\s+(0x[0-9a-f]+) in", live, re.M)
            assert bt_names(r.out[3])[:2] == C_MAIN_CALLERS[:2] and len(pcs) >= 2 and \
                pcs[:2] == live_pcs[:2], f"bt from the trace file:\n{r.text}\nlive:\n{live}"

        # 8 KiB from compute's rsp crosses the end of [stack]: clamped there.
        g.cmd("monitor set stack-window 8k")
        g.cmd("delete 2")
        run_once(g)
        tfind(g, "0")
        rsp = int(g.cmd("output/x $rsp").strip(), 16)
        with open(f"/proc/{t.pid}/maps") as f:
            end = [int(line.split()[0].split("-")[1], 16) for line in f if "[stack]" in line][0]
        assert rsp + 8192 > end, f"rsp {rsp:#x} is more than 8 KiB below the stack's end"
        out = g.cmd(f"x/1xg {end - 8}")
        assert "unavailable" not in out, f"the window below the stack's end was lost:\n{out}"
        assert "unavailable" in g.cmd(f"x/1xg {end}")
        assert bt_names(g.cmd("bt")) == C_MAIN_CALLERS

        # Off: frame #0 only, as before the window existed.
        out = g.cmd("monitor set stack-window off")
        assert out.strip() == "stack-window: off", out
        run_once(g)
        tfind(g, "0")
        out = g.cmd("bt")
        assert bt_names(out) == ["compute"] and "Backtrace stopped" in out, f"bt:\n{out}"
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_bt_in_tfind_go():
    """goserver, trace main.computeE / collect $regs, a 2 KiB window (net/http's
    conn.serve alone has a frame of over 1 KiB): bt in tfind names every
    caller through the goroutine's start, runtime.goexit, with the
    arguments the window holds."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor set stack-window 2k")
        assert out.strip().startswith("stack-window: 2048 bytes"), out
        g.cmd("trace main.computeE")
        g.cmd(actions("collect $regs"))
        tstart(g)
        body = urllib.request.urlopen(f"http://127.0.0.1:{t.port}/e?iterations=7",
                                      timeout=2).read()
        assert body.startswith(b"2.71"), body
        g.cmd("tstop")
        tfind(g, "0")
        out = g.cmd("bt")
        names = bt_names(out)
        assert names[:len(GO_CALLERS)] == GO_CALLERS, f"bt:\n{out}"
        assert re.search(r"^#0 .*main\.computeE \(iterations=7,", out, re.M), out
        assert re.search(r"^#5 .*\(\*conn\)\.serve \(c=0x[0-9a-f]+,", out, re.M), \
            f"conn.serve's receiver is not shown from the window:\n{out}"
        g.cmd("tfind none")
        t.assert_running("main.counter")


# --------------------------------------------------------------------------
# read-only memory


@needs_bpf
def test_string_literal_from_readonly_memory():
    """diffprog-O2-pie (a PIE: GDB's QTro ranges are unrelocated), trace dstep /
    collect $regs and collect $args: in tfind the string literal s points to
    shows in info args, print and tdump (read live from .rodata, which
    cannot change); memory neither collected nor read-only (*r, in .data)
    stays <unavailable> (deep collection, which would collect it, is off)."""
    require_stub()
    with DiffTarget("diffprog-O2-pie") as t, ThreadStateSampler(t.pid), \
            Stub.attach(t.pid) as stub, gdb_pipe(file=t.path) as g:
        connect(g, stub)
        # What GDB named, and read-only memory: deep collection would bring *r.
        g.cmd("monitor set deep-collect off")
        g.cmd("trace dstep")
        g.cmd(actions("collect $regs", "collect $args"))
        tstart(g)
        t.release()
        t.wait_done()
        g.cmd("tstop")
        for i, name in enumerate(["alpha", "beta", "gamma"]):
            assert tfind(g, str(i)) == (i, 1)
            out = g.cmd("info args")
            assert re.search(rf'^s = 0x[0-9a-f]+ "{name}"$', out, re.M), f"info args:\n{out}"
            assert re.search(rf'^\$\d+ = 0x[0-9a-f]+ "{name}"$', g.cmd("print s"), re.M)
            out = g.cmd("tdump")
            assert re.search(rf'^s = 0x[0-9a-f]+ "{name}"$', out, re.M), f"tdump:\n{out}"
        out = g.cmd("print r->value")
        assert "<unavailable>" in out, f"*r was not collected:\n{out}"
        g.cmd("tfind none")


# --------------------------------------------------------------------------
# monitor


MONITOR_COMMANDS = ["help", "status", "show", "set deep-collect", "set stack-window",
                    "set always-regs", "set max-hit-rate", "set max-overhead", "set hit-cost",
                    "set latency-bias", "set trace-timeout", "set debuginfod", "trace",
                    "trace -return", "trace -hist", "trace -count", "thist", "tstart", "tstop",
                    "tstatus", "tdelete", "tframes", "tdump", "tsave-ctf", "tlive"]


def test_monitor_help_set_errors():
    """`monitor help` lists every command; `monitor set` takes sizes and names
    what is wrong in one line; show and status show both settings; GDB/MI's
    -interpreter-exec console reaches the same commands."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor help")
        listed = re.findall(r"^  (set [\w-]+|trace -\w+|\S+)", out, re.M)
        assert listed == MONITOR_COMMANDS, f"monitor help:\n{out}"
        assert re.search(r"^  set stack-window off\|fp\|BYTES +\S", out, re.M), out
        out = g.cmd("monitor help set")
        assert re.findall(r"^  (set \S+)", out, re.M) == [c for c in MONITOR_COMMANDS if c.startswith("set ")], out
        assert "bpfstub monitor commands" not in out, out

        errors = {
            "set stack-window 9000": "monitor: set stack-window: 9000 is out of bounds (0..8192)",
            "set stack-window 12x": "monitor: set stack-window: '12x' is not a size "
                                    "(off, fp or BYTES, e.g. 512 or 4k)",
            "set deep-collect 17k": "monitor: set deep-collect: 17408 is out of bounds "
                                    "(0..16384)",
            "set stack-window": "monitor: usage: monitor set stack-window off|fp|BYTES",
            "set stack-window 1 2": "monitor: usage: monitor set stack-window off|fp|BYTES",
            "set": "monitor: 'set' needs more words; try 'monitor help set'",
            "set nothing 1": "monitor: unknown: 'set nothing'; try 'monitor help set'",
            "frobnicate": "monitor: unknown monitor command 'frobnicate'; try 'monitor help'",
            "help frob": "monitor: no monitor command starts with 'frob'",
            'set stack-window "4k': "monitor: unterminated \" quote",
        }
        for cmd, want in errors.items():
            out = g.cmd(f"monitor {cmd}")
            assert out.strip() == want, f"monitor {cmd}:\n{out}"
        out = g.cmd("monitor show")
        assert re.findall(r"^(deep-collect|stack-window): (\d+|off|fp)", out, re.M) == \
            [("deep-collect", "2048"), ("stack-window", "fp")], \
            f"a refused set changed a setting:\n{out}"

        assert g.cmd("monitor set stack-window 0x100").strip().startswith(
            "stack-window: 256 bytes"), "hex"
        assert g.cmd("monitor set deep-collect off").strip() == "deep-collect: off"
        out = g.cmd("monitor status")
        assert re.search(r"^tracing: not run", out, re.M), out
        assert re.search(r"^deep-collect: off$", out, re.M), out
        assert re.search(r"^stack-window: 256 bytes", out, re.M), out

    with attached("counter") as (t, stub), GdbMI(file=t.path) as mi:
        r = mi.cmd(f"-target-select remote {stub.addr}", timeout=60)
        assert r.cls == "connected", r.line
        r = mi.cmd('-interpreter-exec console "monitor set stack-window 4k"')
        assert r.cls == "done", r.line
        assert "stack-window: 4096 bytes" in r.console(), str(r)
        r = mi.cmd('-interpreter-exec console "monitor show"')
        assert r.cls == "done" and "stack-window: 4096 bytes" in r.console(), str(r)


def test_lldb_monitor_set():
    """LLDB: process plugin packet monitor set stack-window 256 sets it (its
    output, then response OK); monitor show and a refused value."""
    with attached("counter") as (t, stub):
        r = lldb_batch([f"target create {t.path}",
                        f"gdb-remote {stub.addr}",
                        "process plugin packet monitor set stack-window 256",
                        "process plugin packet monitor show",
                        "process plugin packet monitor set stack-window lots",
                        "process detach"])
        set_out, show_out, bad_out = r.out[2], r.out[3], r.out[4]
        assert "stack-window: 256 bytes" in set_out and "response: OK" in set_out, r.text
        assert "stack-window: 256 bytes" in show_out and "deep-collect: 2048" in show_out, \
            r.text
        assert "set stack-window: 'lots' is not a size" in bad_out, r.text
        t.assert_running()
