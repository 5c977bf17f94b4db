"""Tracepoints: GDB's trace/actions/tstart/tfind/tdump on live processes,
collected by BPF uprobes, while the target never stops.

Every test watches the target's threads with ThreadStateSampler (through
attached()): one thread in state t/T, or a tracer, fails it.  The checks are
what the user sees: values printed by tdump/print in trace frames, frame
counts from tstatus, hit counts from info tracepoints.

The C target's facts used here (tests/targets/counter.c): compute(n, m, it,
buf) is called by main with i = calls: n = i % 1000, m = 3i + 1,
it = &items[i % 4], buf = scratch; note_tick(t) is called by worker-2 with
t = ticks; main write()s 5 bytes to devnull_fd when calls % 10 == 0.

Actions that need agent expressions (bytecode) are in test_trace_ax.py;
GDB/MI is in test_trace_mi.py.
"""

import math
import os
import re
import signal
import tempfile
import threading
import time
import urllib.request

from harness import (FRAME_NOT_FOUND, Stub, Target, ThreadStateSampler, TraceStatus, actions,
                     assert_consecutive, attached, elf_file_bytes, found_frame, gdb_batch,
                     gdb_pipe, gdb_values_by_frame, load_bias, needs_bpf, read_mem,
                     rsp_client, tail, tracepoint_address, wait_until)
from harness import gdb_connect as connect
from harness import gdb_hits as hits
from harness import gdb_print_int as pint
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_frames as wait_created
from harness import gdb_wait_trace_stopped as wait_stopped


# --------------------------------------------------------------------------
# helpers


def sharedlib_range(info_sharedlibrary_out, name):
    m = re.search(r"^(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+\S+\s+.*" + re.escape(name) + r"\s*$",
                  info_sharedlibrary_out, re.M)
    assert m, f"{name} not in info sharedlibrary:\n{info_sharedlibrary_out}"
    return int(m.group(1), 16), int(m.group(2), 16)


def exec_mapping_of(pid, addr):
    """The path of the executable mapping of pid holding addr, or None."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi and "x" in parts[1]:
                return parts[5] if len(parts) > 5 else ""
    return None


# --------------------------------------------------------------------------
# 1. Go: the headline scenario


GO_ITERATIONS = (5, 10, 15, 20, 25)


def go_compute_e(n):
    """main.computeE in Python: the same float operations, so the same result."""
    res, fact = 2.0, 1.0
    for i in range(2, n):
        fact *= i
        res += 1 / fact
    return res


def go_request(port, n):
    """GET /e?iterations=n: the answer must come within 1 s and be right."""
    t0 = time.monotonic()
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/e?iterations={n}",
                                      timeout=1).read()
    except OSError as e:
        raise AssertionError(f"request iterations={n} failed while tracing: {e!r}")
    took = time.monotonic() - t0
    assert took < 1.0, f"request iterations={n} took {took:.2f}s: the server was held up"
    v = float(body)
    assert math.isclose(v, go_compute_e(n), rel_tol=1e-12), f"computeE({n}) = {v}, " \
        f"expected {go_compute_e(n)}"
    assert abs(v - math.e) < 0.02, f"computeE({n}) = {v} is not about e"
    return v


def assert_go_frames(tdumps, tfind_outs, after_last):
    for i, n in enumerate(GO_ITERATIONS):
        f = found_frame(tfind_outs[i])
        assert f == (i, 1), f"tfind {i}: expected frame {i} of tracepoint 1:\n{tfind_outs[i]}"
        vals = re.findall(r"^iterations = (-?\d+)\s*$", tdumps[i], re.M)
        assert vals == [str(n)], f"tdump of frame {i}: expected iterations = {n}:\n{tdumps[i]}"
    assert FRAME_NOT_FOUND.search(after_last), \
        f"tfind {len(GO_ITERATIONS)} should find no frame:\n{after_last}"


@needs_bpf
def test_go_http_requests_traced():
    """goserver: trace main.computeE / collect iterations; 5 HTTP requests are
    answered at once and give exactly 5 frames, iterations 5..25 in order."""
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("trace main.computeE")
        tp = tracepoint_address(out)
        assert t.addr_of("main.computeE") <= tp < t.addr_of("main.computeE") + 64, out
        g.cmd(actions("collect iterations"))
        tstart(g)
        for n in GO_ITERATIONS:
            go_request(t.port, n)
        st = tstatus(g)
        assert st.running, f"trace not running after the requests:\n{st}"
        g.cmd("tstop")
        st = tstatus(g)
        assert st.frames == 5 and st.created == 5, f"expected exactly 5 frames:\n{st}"
        outs, dumps = [], []
        for i in range(len(GO_ITERATIONS)):
            outs.append(g.cmd(f"tfind {i}"))
            dumps.append(g.cmd("tdump"))
            if i == 0:
                tid = pint(g, "$trace_thread")
                assert str(tid) in os.listdir(f"/proc/{t.pid}/task"), \
                    f"$trace_thread {tid} is not a thread of goserver {t.pid}"
        last = g.cmd(f"tfind {len(GO_ITERATIONS)}")
        assert_go_frames(dumps, outs, last)
        g.cmd("tfind none")
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
        go_request(t.port, 20)
        t.assert_running("main.counter")


@needs_bpf
def test_go_http_requests_traced_nonstop_batch():
    """The same in non-stop mode, with gdb -batch: the requests are sent while
    gdb waits in a shell command, once bpfstub has answered QTStart."""
    with attached("goserver", ["0"]) as (t, stub), \
            tempfile.TemporaryDirectory() as tmp:
        flag = os.path.join(tmp, "requests-done")
        n = len(GO_ITERATIONS)
        cmds = ["set non-stop on",                                    # 0
                f"target remote {stub.addr}",                         # 1
                "trace main.computeE",                                # 2
                actions("collect iterations"),                        # 3
                "tstart",                                             # 4
                # wait (at most 20 s) for the test to send the requests
                f"shell for i in $(seq 400); do [ -e {flag} ] && break; sleep 0.05; done",
                "tstatus",                                            # 6
                "tstop",                                              # 7
                "tstatus"]                                            # 8
        for i in range(n):
            cmds += [f"tfind {i}", "tdump"]                           # 9.. 9+2n-1
        cmds += [f"tfind {n}", "tfind none", "info threads", "detach"]
        result = {}

        def run():
            try:
                result["r"] = gdb_batch(cmds, file=t.path, timeout=60)
            except BaseException as e:  # noqa: BLE001 - reported below
                result["e"] = e
        th = threading.Thread(target=run, daemon=True)
        th.start()
        try:
            m = stub.wait_stderr(r"<- QTStart\n(?:bpfstub: (?!->).*\n)*bpfstub: -> (\S*)", 30)
            assert m.group(1) == "OK", f"QTStart answered {m.group(1)!r}"
            for it in GO_ITERATIONS:
                go_request(t.port, it)
        finally:
            open(flag, "w").close()
            th.join(70)
        if "e" in result:
            raise result["e"]
        r = result["r"]
        assert "does not support non-stop" not in r.text, r.text
        assert "Trace is running on the target." in r.out[6], r.out[6]
        st = TraceStatus(r.out[8])
        assert st.frames == 5 and st.created == 5, f"expected exactly 5 frames:\n{st}"
        outs = [r.out[9 + 2 * i] for i in range(n)]
        dumps = [r.out[10 + 2 * i] for i in range(n)]
        assert_go_frames(dumps, outs, r.out[9 + 2 * n])
        assert "No trace frame found" in r.out[9 + 2 * n], r.out[9 + 2 * n]
        threads = r.out[9 + 2 * n + 2]
        assert "(running)" in threads, f"non-stop threads should be running:\n{threads}"
        go_request(t.port, 20)
        t.assert_running("main.counter")


# --------------------------------------------------------------------------
# 2. C: registers and globals, -O0 / -O2 / PIE


def regs_and_globals(build):
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("trace compute")
        tp = tracepoint_address(out)
        code = t.addr_of("compute")
        assert code <= tp < code + 32, f"tracepoint at {tp:#x}, compute at {code:#x}:\n{out}"
        g.cmd(actions("collect $regs", "collect calls, items, message"))
        calls_before = t.read_long("calls")
        tstart(g)
        st = wait_created(g, 10)
        assert st.running and st.stop is None, str(st)
        g.cmd("tstop")
        calls_after = t.read_long("calls")
        st = tstatus(g)
        assert st.stop and "tstop command" in st.stop, str(st)
        assert st.frames >= 10 and st.frames == st.created, str(st)

        # Every frame: pc, arguments and globals consistent with the formula.
        rows = gdb_values_by_frame(g, ["calls", "$rdi", "$rsi", "(long)$rdx", "(long)$rcx",
                                       "(long)$pc"])
        assert len(rows) == st.frames, f"walked {len(rows)} frames, tstatus says {st.frames}"
        items, scratch = t.addr_of("items"), t.addr_of("scratch")
        for frame, tpn, (calls, rdi, rsi, rdx, rcx, pc) in rows:
            where = f"frame {frame}: calls={calls} rdi={rdi} rsi={rsi} rdx={rdx:#x} pc={pc:#x}"
            assert tpn == 1, where
            assert pc == tp, f"{where}: $pc is not the tracepoint address {tp:#x}"
            assert rdi & 0xffffffff == calls % 1000, f"{where}: n != calls % 1000"
            assert rsi == calls * 3 + 1, f"{where}: m != 3 * calls + 1"
            assert rdx == items + 32 * (calls % 4), f"{where}: it != &items[calls % 4]"
            assert rcx == scratch, f"{where}: buf != scratch ({scratch:#x})"
        calls = [r[2][0] for r in rows]
        assert_consecutive(calls, "calls of successive frames")
        assert calls_before <= calls[0] and calls[-1] <= calls_after, \
            f"frames' calls {calls[0]}..{calls[-1]} not within the run ({calls_before}.." \
            f"{calls_after})"

        # One frame as the user looks at it.
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("print $rip")
        assert re.search(rf"0x0*{tp:x} <compute(?:\+\d+)?>", out), f"print $rip:\n{out}"
        out = g.cmd("x/2i $pc")
        assert re.search(rf"=> 0x0*{tp:x} <compute(?:\+\d+)?>:\s+\w+", out), f"x/2i $pc:\n{out}"
        assert pint(g, "calls") == calls[0]
        out = g.cmd("print items[2]")
        assert re.search(r'id = 3, value = 300, name = "item-3', out), f"items[2]:\n{out}"
        out = g.cmd("print message")
        assert '"hello from counter"' in out, f"message:\n{out}"
        out = g.cmd("print config")
        assert "<unavailable>" in out, f"config was not collected:\n{out}"
        assert pint(g, "$trace_thread") == t.pid, "compute runs in the main thread"
        ts0 = pint(g, "$trace_timestamp")
        out = g.cmd("tdump")
        assert re.search(rf"^rip\s+0x0*{tp:x}\s", out, re.M), f"tdump: no rip:\n{out}"
        assert re.search(rf"^rdi\s+0x[0-9a-f]+\s+{calls[0] % 1000}\s*$", out, re.M), \
            f"tdump: rdi is not {calls[0] % 1000}:\n{out}"
        assert re.search(rf"^calls = {calls[0]}\s*$", out, re.M), f"tdump: calls:\n{out}"
        assert re.search(r'^items = \{\{id = 1, value = 100, name = "item-1', out, re.M), \
            f"tdump: items:\n{out}"
        assert tfind(g, "1") == (1, 1)
        assert pint(g, "$trace_timestamp") > ts0, "$trace_timestamp did not increase"
        g.cmd("tfind none")
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
        t.assert_running()


@needs_bpf
def test_regs_and_globals_O0():
    """-O0: collect $regs + calls, items, message; every frame's $pc is the
    tracepoint and $rdi/$rsi/$rdx/$rcx follow the argument formula."""
    regs_and_globals("counter")


@needs_bpf
def test_regs_and_globals_O2():
    """The same on the -O2 build."""
    regs_and_globals("counter-O2")


@needs_bpf
def test_regs_and_globals_pie():
    """The same on the PIE build: the tracepoint and the globals are relocated."""
    regs_and_globals("counter-pie")


@needs_bpf
def test_args_O2_without_bytecode():
    """-O2: `collect $args` is R3c + empty X actions; tdump shows n, m, it
    consistent with the formula and the collected `calls`."""
    with attached("counter-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $args", "collect calls"))
        tstart(g)
        log = stub.stderr_text()
        assert re.search(r"<- QTDP:-1:[0-9a-f]+:R3c", log) and "X00000001,27" in log, \
            "expected gdb to send $args at -O2 as R3c + empty X00000001,27"
        wait_created(g, 3)
        g.cmd("tstop")
        items = t.addr_of("items")
        for i in range(3):
            assert tfind(g, str(i)) == (i, 1)
            out = g.cmd("tdump")
            vals = dict(re.findall(r"^(\w+) = (.*)$", out, re.M))
            assert set(vals) >= {"n", "m", "it", "buf", "calls"}, f"tdump:\n{out}"
            c = int(vals["calls"])
            assert int(vals["n"]) == c % 1000, f"n != calls % 1000:\n{out}"
            assert int(vals["m"]) == 3 * c + 1, f"m != 3 * calls + 1:\n{out}"
            it = int(vals["it"].split()[0], 16)
            assert it == items + 32 * (c % 4), f"it != &items[calls % 4]:\n{out}"
            want = f"<items+{32 * (c % 4)}>" if c % 4 else "<items>"
            assert want in vals["it"], f"it should print as {want}:\n{out}"
            assert "<scratch>" in vals["buf"], f"buf should point to scratch:\n{out}"
            args = g.cmd("info args")
            assert re.search(rf"^n = {c % 1000}\s*$", args, re.M), f"info args:\n{args}"
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_announced_actions_never_sent_still_collect():
    """-O2, `trace beat` + `collect $args` where beat has no arguments: GDB
    warns "No args found in scope", sends QTDP:1:ADDR:E:0:0- (actions
    announced) and no action packet.  As with gdbserver the tracepoint still
    records a frame per hit (it used to be skipped without a word)."""
    with attached("counter-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tp = tracepoint_address(g.cmd("trace beat"))
        g.cmd(actions("collect $args"))
        out = g.cmd("tstart")
        assert "No args found in scope" in out, f"gdb should warn at tstart:\n{out}"
        log = stub.stderr_text()
        hdr = re.search(rf"<- QTDP:1:0*{tp:x}:E:0:0-$", log, re.M)
        assert hdr, f"expected the header to announce actions:\n{tail(log)}"
        assert "<- QTDP:-1:" not in log, "gdb was expected to send no action packet"
        wait_created(g, 3)
        g.cmd("tstop")
        st = tstatus(g)
        assert st.frames >= 3 and st.frames == st.created, str(st)
        assert hits(g).get(1, 0) >= st.frames, "hits should cover the frames"
        assert tfind(g, "0") == (0, 1)
        assert pint(g, "(long)$pc") == tp, "frame 0 is not at beat"
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_pending_definition_installed_by_its_source_during_a_run():
    """During a run (InstallInTrace), a header that announces actions and is
    followed only by its source text (QTDPsrc) is installed then: hits are
    counted.  And a definition that cannot be installed at QTStart makes
    QTStart fail with a message naming it."""
    with attached("counter-O2") as (t, stub), rsp_client(stub.addr) as c:
        c.no_ack()
        beat, compute = t.addr_of("beat"), t.addr_of("compute")
        assert c.request("QTinit") == "OK"
        assert c.request(f"QTDP:1:{compute:x}:E:0:0") == "OK"
        assert c.request("QTStart") == "OK"
        assert c.request(f"QTDP:2:{beat:x}:E:0:0-") == "OK"
        assert c.request(f"QTDPsrc:2:{beat:x}:at:0:4:{b'beat'.hex()}") == "OK"

        def beat_hits():
            r = c.request(f"qTP:2:{beat:x}")
            assert r and r.startswith("V"), f"qTP:2 -> {r!r}"
            return int(r[1:].split(":")[0], 16) >= 3
        wait_until(beat_hits, 10, what="hits on tracepoint 2 (settled by its source)")
        assert c.request("QTStop") == "OK"

        # A lock-prefixed instruction is in executable code, so the definition
        # is accepted, but the kernel refuses to probe it: QTStart says which.
        worker = t.addr_of("worker")
        lock = worker + elf_file_bytes(t.path, worker, 128).index(b"\xf0")
        assert c.request("QTinit") == "OK"
        assert c.request(f"QTDP:1:{beat:x}:E:0:0-") == "OK"
        assert c.request(f"QTDP:7:{lock:x}:E:0:0") == "OK"
        r = c.request("QTStart")
        assert r.startswith("E.") and re.search(rf"tracepoint 7 at 0x0*{lock:x}", r), \
            f"QTStart should fail naming tracepoint 7: {r!r}"
        assert c.request("qTStatus").startswith("T0"), "a failed QTStart leaves no run"
        t.assert_running()


@needs_bpf
def test_fast_tracepoint_is_an_ordinary_one():
    """`ftrace compute` (qTMinFTPILen is 1, so GDB accepts any instruction)
    collects like `trace`: exact argument values in every frame."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("ftrace compute")
        assert re.search(r"^Fast tracepoint 1 at 0x", out, re.M), out
        g.cmd(actions("collect $regs", "collect calls"))
        tstart(g)
        assert "downloading 1 as regular" not in g.all_output(), g.all_output()
        assert re.search(r"<- QTDP:1:[0-9a-f]+:E:0:0:F", stub.stderr_text()), \
            "GDB should have sent a fast tracepoint (:F<len>)"
        wait_created(g, 3)
        g.cmd("tstop")
        rows = gdb_values_by_frame(g, ["calls", "$rdi", "$rsi"])
        assert len(rows) >= 3, rows
        for frame, tpn, (calls, rdi, rsi) in rows:
            assert tpn == 1 and rdi & 0xffffffff == calls % 1000 and rsi == 3 * calls + 1, \
                f"frame {frame}: calls={calls} rdi={rdi} rsi={rsi}"
        g.cmd("tfind none")
        t.assert_running()


# --------------------------------------------------------------------------
# 3. A tracepoint inside libc


@needs_bpf
def test_libc_write():
    """trace write (libc): frames whose $pc is in libc's text, $rdi is the fd
    counter writes to, $rdx is 5 and $rsi points to "tick\\n"."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("trace write")
        tp = tracepoint_address(out)
        lo, hi = sharedlib_range(g.cmd("info sharedlibrary"), "libc.so.6")
        assert lo <= tp < hi, f"write's tracepoint {tp:#x} is not in libc [{lo:#x}, {hi:#x})"
        path = exec_mapping_of(t.pid, tp)
        assert path and "libc.so.6" in path, f"{tp:#x} is mapped from {path!r}, not libc"
        fd = int.from_bytes(t.read("devnull_fd", 4), "little", signed=True)
        assert fd > 2, f"counter's devnull_fd is {fd}"
        g.cmd(actions("collect $regs", "collect calls, writes, devnull_fd"))
        tstart(g)
        wait_created(g, 4)
        g.cmd("tstop")
        st = tstatus(g)
        assert st.frames >= 4, str(st)
        rows = gdb_values_by_frame(g, ["(long)$pc", "$rdi", "$rdx", "calls", "writes",
                                       "devnull_fd"])
        assert len(rows) == st.frames, f"walked {len(rows)} frames, tstatus says {st.frames}"
        for frame, tpn, (pc, rdi, rdx, calls, writes, dfd) in rows:
            where = f"frame {frame}: pc={pc:#x} rdi={rdi} rdx={rdx} calls={calls}"
            assert tpn == 1 and pc == tp, f"{where}: not at the tracepoint {tp:#x}"
            assert rdi == fd and dfd == fd, f"{where}: fd is not devnull_fd {fd}"
            assert rdx == 5, f"{where}: write of {rdx} bytes, counter writes 5"
            assert calls % 10 == 0, f"{where}: counter writes when calls % 10 == 0"
        assert_consecutive([r[2][4] for r in rows], "`writes` of successive write() frames")
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("info symbol $pc")
        assert "libc.so.6" in out and "write" in out, f"info symbol $pc:\n{out}"
        out = g.cmd("x/s $rsi")
        assert '"tick\\n"' in out, f"x/s $rsi (the buffer written):\n{out}"
        g.cmd("tfind none")
        t.assert_running()


# --------------------------------------------------------------------------
# 4. Several tracepoints at once


@needs_bpf
def test_several_tracepoints():
    """compute (main thread), note_tick (worker-2) and libc write at once: each
    gets frames under its own number, and hit counts add up to the frames."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        addr = {1: tracepoint_address(g.cmd("trace compute"))}
        g.cmd(actions("collect calls"))
        addr[2] = tracepoint_address(g.cmd("trace note_tick"))
        g.cmd(actions("collect $regs", "collect ticks"))
        addr[3] = tracepoint_address(g.cmd("trace write"))
        g.cmd(actions("collect $regs", "collect writes"))
        tstart(g)
        wait_until(lambda: all(hits(g).get(n, 0) >= 3 for n in (1, 2, 3)), 10,
                   interval=0.1, what="3 hits on each tracepoint")
        g.cmd("tstop")
        h = hits(g)
        st = tstatus(g)
        assert all(h.get(n, 0) > 0 for n in (1, 2, 3)), f"hits {h}"
        assert st.frames == sum(h.values()), f"frames {st.frames} != total hits {h}:\n{st}"
        rows = gdb_values_by_frame(g, ["(long)$pc"])
        assert len(rows) == st.frames
        per_tp = {}
        for frame, tpn, (pc,) in rows:
            assert tpn in addr and pc == addr[tpn], \
                f"frame {frame} of tracepoint {tpn} has pc {pc:#x}, expected {addr.get(tpn)}"
            per_tp[tpn] = per_tp.get(tpn, 0) + 1
        assert per_tp == h, f"frames per tracepoint {per_tp} != hits {h}"
        # tfind tracepoint N: frames of N only, with N's data.
        g.cmd("tfind none")
        seen = set()
        for _ in range(3):
            frame, tpn = tfind(g, "tracepoint 2")
            assert tpn == 2 and frame not in seen, (frame, tpn)
            seen.add(frame)
            rdi, ticks = pint(g, "$rdi"), pint(g, "ticks")
            assert rdi == ticks, f"note_tick(t) is called with t = ticks: {rdi} != {ticks}"
            assert pint(g, "$trace_thread") != t.pid, "note_tick runs in worker-2, not main"
        g.cmd("tfind none")
        frame, tpn = tfind(g, "tracepoint 3")
        assert tpn == 3
        assert "libc.so.6" in g.cmd("info symbol $pc")
        g.cmd("tfind none")
        frame, tpn = tfind(g, "tracepoint 1")
        assert tpn == 1
        out = g.cmd("print ticks")
        assert "<unavailable>" in out, f"tracepoint 1 did not collect ticks:\n{out}"
        g.cmd("tfind none")
        t.assert_running()


# --------------------------------------------------------------------------
# 5. passcount


@needs_bpf
def test_passcount_stops_the_run():
    """passcount 3 1: the run stops by itself after 3 frames (the target does not)."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls"))
        out = g.cmd("passcount 3 1")
        assert "passcount to 3" in out, out
        tstart(g)
        st = wait_stopped(g)
        assert st.stop == "Trace stopped by tracepoint 1.", f"stop reason:\n{st}"
        assert st.frames == 3, f"expected exactly 3 frames:\n{st}"
        rows = gdb_values_by_frame(g, ["calls"])
        assert [r[0] for r in rows] == [0, 1, 2], rows
        assert_consecutive([r[2][0] for r in rows], "calls of the 3 frames")
        out = g.cmd("tfind 3")
        assert FRAME_NOT_FOUND.search(out), f"a 4th frame:\n{out}"
        g.cmd("tfind none")
        # As gdbserver: the hits past the pass count are not hits of the run
        # (the BPF program itself stops at the pass count).
        h = hits(g)
        assert h.get(1, 0) == 3, f"hits {h}"
        t.assert_running()


# --------------------------------------------------------------------------
# 6. A small trace buffer: circular, and linear


@needs_bpf
def test_circular_buffer_wraps():
    """8 KiB circular buffer, $regs (~600 bytes a frame): the run goes on while
    old frames are dropped; the oldest kept frame is a recent one."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("set trace-buffer-size 8192")
        g.cmd("set circular-trace-buffer on")
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $regs", "collect calls"))
        calls_before = t.read_long("calls")
        tstart(g)
        calls_at_start = t.read_long("calls")
        st = wait_created(g, 60)
        assert st.running, f"a circular run must not stop by itself:\n{st}"
        assert st.circular and st.size == 8192, f"not an 8192-byte circular buffer:\n{st}"
        assert st.frames < st.created, f"the buffer should have wrapped:\n{st}"
        g.cmd("tstop")
        calls_at_stop = t.read_long("calls")
        st = tstatus(g)
        assert st.stop and "tstop command" in st.stop, str(st)
        assert 0 < st.frames < st.created and st.created > 50, f"frames kept/created:\n{st}"
        assert st.frames * 500 <= 8192, f"{st.frames} frames of $regs cannot fit in 8 KiB"
        rows = gdb_values_by_frame(g, ["calls"])
        assert len(rows) == st.frames
        calls = [r[2][0] for r in rows]
        assert_consecutive(calls, "calls of the kept frames")
        # One frame per call, so the first frame created had calls[-1] -
        # created + 1: the run began between the reads around tstart.  The
        # kept ones are the newest of them: the old ones were dropped.
        first = calls[-1] - st.created + 1
        assert calls_before <= first <= calls_at_start, \
            f"kept {calls} are not the newest of {st.created} frames created from calls " \
            f"{calls_before}..{calls_at_start} on (stop at {calls_at_stop}):\n{st}"
        assert calls[-1] <= calls_at_stop, (calls[-1], calls_at_stop)
        assert tfind(g, "0") == (0, 1)
        assert pint(g, "calls") == calls[0]
        g.cmd("tfind none")
        t.assert_running()


@needs_bpf
def test_linear_buffer_fills_and_stops():
    """8 KiB linear buffer: the run stops by itself, "buffer was full", and the
    kept frames are the first ones."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        g.cmd("set trace-buffer-size 8192")
        g.cmd("set circular-trace-buffer off")
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $regs", "collect calls"))
        calls_before = t.read_long("calls")
        tstart(g)
        calls_after = t.read_long("calls")
        st = wait_stopped(g)
        assert st.stop == "Trace stopped because the buffer was full.", str(st)
        assert not st.circular and st.size == 8192, str(st)
        assert 0 < st.frames and st.frames * 500 <= 8192, str(st)
        rows = gdb_values_by_frame(g, ["calls"])
        assert len(rows) == st.frames
        calls = [r[2][0] for r in rows]
        assert_consecutive(calls, "calls of the kept frames")
        assert calls_before <= calls[0] <= calls_after + 1, \
            f"the first frame (calls={calls[0]}) is not the run's first hit " \
            f"({calls_before}..{calls_after})"
        t.assert_running()


# --------------------------------------------------------------------------
# 7. disable / enable while running


@needs_bpf
def test_disable_enable_while_running():
    """disable 1 during the run: hits stop growing; enable 1: they grow again,
    and the calls made while it was disabled have no frames."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls"))
        tstart(g)
        wait_until(lambda: hits(g).get(1, 0) >= 10, 10, interval=0.05, what="10 hits")
        out = g.cmd("disable 1")
        assert "error" not in out.lower(), out
        assert re.search(r"^1\s+tracepoint\s+keep\s+n\s", g.cmd("info tracepoints"), re.M)
        time.sleep(0.1)
        h1 = hits(g)[1]
        f1 = tstatus(g).frames
        time.sleep(0.5)  # ~100 calls of compute
        h2 = hits(g)[1]
        f2 = tstatus(g).frames
        assert h2 == h1, f"hits grew while disabled: {h1} -> {h2}"
        assert f2 == f1, f"frames grew while disabled: {f1} -> {f2}"
        out = g.cmd("enable 1")
        assert "error" not in out.lower(), out
        wait_until(lambda: hits(g)[1] >= h2 + 10, 10, interval=0.05,
                   what="hits to grow again after enable")
        st = tstatus(g)
        assert st.running and st.frames >= f2 + 10, str(st)
        g.cmd("tstop")
        calls = [r[2][0] for r in gdb_values_by_frame(g, ["calls"])]
        gaps = [b - a for a, b in zip(calls, calls[1:]) if b != a + 1]
        assert len(gaps) == 1 and gaps[0] > 50, \
            f"expected one gap of ~100 calls (the disabled window) in {calls}"
        t.assert_running()


# --------------------------------------------------------------------------
# 8. A tracepoint added during the run (InstallInTrace)


@needs_bpf
def test_tracepoint_added_while_running():
    """trace note_tick during a running trace: it gets frames without a new tstart."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls"))
        tstart(g)
        wait_created(g, 5)
        out = g.cmd("trace note_tick")
        tp2 = tracepoint_address(out)
        assert "error" not in out.lower(), out
        info = g.cmd("info tracepoints")
        assert "not installed on target" not in info, f"not installed during the run:\n{info}"
        wait_until(lambda: hits(g).get(2, 0) >= 5, 10, interval=0.05,
                   what="hits on the tracepoint added while running")
        st = tstatus(g)
        assert st.running, str(st)
        g.cmd("tstop")
        h = hits(g)
        assert h.get(1, 0) > 0 and h.get(2, 0) >= 5, f"hits {h}"
        frame, tpn = tfind(g, "tracepoint 2")
        assert tpn == 2
        assert pint(g, "(long)$pc") == tp2, "frame of tracepoint 2 not at its address"
        g.cmd("tfind none")
        t.assert_running()


# --------------------------------------------------------------------------
# 9. The target exits during the run


@needs_bpf
def test_target_exits_mid_trace():
    """counter exits by itself during the run: tstatus says the trace stopped by
    an error naming the exit, and the frames collected before are still there."""
    with attached("counter", ["2.5"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect $regs", "collect calls"))
        tstart(g)
        assert tstatus(g).running, "trace not running"
        rc = t.proc.wait(10)
        assert rc == 0, f"counter exited with {rc}"
        st = wait_stopped(g)
        assert st.stop and st.stop.startswith("Trace stopped by an error (") and \
            "exited" in st.stop, f"stop reason:\n{st}"
        assert str(t.pid) in st.stop, f"the reason should name pid {t.pid}:\n{st}"
        assert st.frames and st.frames > 5, str(st)
        assert tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        m = re.search(r"^calls = (\d+)\s*$", out, re.M)
        assert m, f"tdump after the exit:\n{out}"
        c0 = int(m.group(1))
        assert re.search(rf"^rdi\s+0x[0-9a-f]+\s+{c0 % 1000}\s*$", out, re.M), out
        assert tfind(g, str(st.frames - 1)) == (st.frames - 1, 1)
        assert pint(g, "calls") == c0 + st.frames - 1, "frames are not one per call"
        g.cmd("tfind none")


@needs_bpf
def test_target_execs_mid_trace():
    """execer exec()s /bin/sleep during the run: the uprobes are gone with the
    old program, so tstatus says the trace stopped by an error naming the
    exec, and the frames collected before it are all there, in order."""
    with attached("execer") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tracepoint_address(g.cmd("trace tick"))
        g.cmd(actions("collect ticked, i"))
        tstart(g)
        st = wait_stopped(g)
        assert st.stop and st.stop.startswith("Trace stopped by an error (") and \
            "exec()d" in st.stop and str(t.pid) in st.stop, f"stop reason:\n{st}"
        assert st.frames and st.frames > 10, str(st)
        first = last = None
        for n in (0, st.frames - 1):
            assert tfind(g, str(n)) == (n, 1)
            v = pint(g, "i")
            first = v if n == 0 else first
            last = v if n else last
        assert last - first == st.frames - 1, f"frames are not one per call: {first}..{last}"
        assert last <= 149, last
        g.cmd("tfind none")
        with open(f"/proc/{t.pid}/comm") as f:
            assert f.read().strip() == "sleep", "the target did not exec"


# --------------------------------------------------------------------------
# 10. Refusals


@needs_bpf
def test_refusals_while_stepping_and_bad_address():
    """while-stepping is refused at tstart with a message saying why; so is a
    tracepoint outside any executable mapping, naming the address and the pid.
    A good tracepoint works afterwards, and the code was never modified."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        code = t.addr_of("compute")
        orig = elf_file_bytes(t.path, code, 32)
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls", "while-stepping 3", "collect $regs", "end"))
        out = g.cmd("tstart")
        assert "while-stepping" in out, f"tstart with while-stepping:\n{out}"
        assert not tstatus(g).running
        g.cmd("delete 1")
        out = g.cmd("trace *0x10")
        assert re.search(r"Tracepoint \d+ at 0x10", out), out
        out = g.cmd("tstart")
        assert "0x10" in out and str(t.pid) in out, \
            f"tstart with a tracepoint at 0x10 should name it and pid {t.pid}:\n{out}"
        assert not tstatus(g).running
        assert read_mem(t.pid, code, 32) == orig, "compute's code changed"
        g.cmd("delete")
        tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls"))
        tstart(g)
        wait_created(g, 3)
        g.cmd("tstop")
        t.assert_running()


# --------------------------------------------------------------------------
# 11. Nothing left behind


@needs_bpf
def test_nothing_left_after_sigkill():
    """While a trace runs gdb's x shows compute's original bytes; after bpfstub
    is SIGKILLed the target runs on, unstopped, with its original code bytes."""
    with Target("counter") as t, ThreadStateSampler(t.pid):
        stub = Stub.attach(t.pid).start()
        try:
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                tp = tracepoint_address(g.cmd("trace compute"))
                orig_file = elf_file_bytes(t.path, tp - load_bias(t.pid, t.path), 4)
                orig_mem = read_mem(t.pid, tp, 4)
                assert orig_mem == orig_file, "code differs from the file before tstart"
                g.cmd(actions("collect calls"))
                tstart(g)
                wait_created(g, 3)
                assert read_mem(t.pid, tp, 1) == b"\xcc", \
                    "no int3 at the tracepoint during the run: is the uprobe there?"
                g.cmd("tfind none")
                out = g.cmd(f"x/4xb {tp:#x}")
                shown = bytes(int(b, 16) for b in re.findall(r"\t0x([0-9a-f]{2})", out))
                assert shown == orig_file, \
                    f"x/4xb at the tracepoint shows {shown.hex()}, original {orig_file.hex()}"
                stub.proc.send_signal(signal.SIGKILL)
                stub.proc.wait(10)
                g.cmd("print 1")  # let gdb notice; it may complain, it must not crash
        finally:
            stub.kill()
        wait_until(lambda: read_mem(t.pid, tp, 4) == orig_file, 5, interval=0.05,
                   what=f"the code at {tp:#x} to be the original {orig_file.hex()} "
                        f"(now {read_mem(t.pid, tp, 4).hex()})")
        t.assert_running()
        calls = t.read_long("calls")
        time.sleep(0.2)
        assert t.read_long("calls") > calls, "compute() is no longer called"


# --------------------------------------------------------------------------
# 13. monitor status


@needs_bpf
def test_monitor_status_during_run():
    """monitor status while tracing: the tracepoint, its hits and stored frames."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        tp = tracepoint_address(g.cmd("trace compute"))
        g.cmd(actions("collect calls"))
        tstart(g)
        wait_created(g, 5)
        out = g.cmd("monitor status")
        assert re.search(r"tracing: running", out), f"monitor status:\n{out}"
        m = re.search(rf"tracepoint 1 at 0x0*{tp:x}: enabled, installed, (\d+) hits, "
                      r"(\d+) frames collected", out)
        assert m, f"no line for tracepoint 1 at {tp:#x}:\n{out}"
        assert int(m.group(1)) >= 5 and int(m.group(2)) >= 5, out
        assert "never stopped" in out, out
        g.cmd("tstop")
        t.assert_running()
