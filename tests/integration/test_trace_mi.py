"""Tracepoints through GDB/MI, the way an IDE (Eclipse CDT) drives them:
gdb --interpreter=mi2 through a pipe, -break-insert -a, -break-commands,
-trace-start/-status/-stop, -trace-find, -trace-frame-collected.

The target (counter) is watched by ThreadStateSampler the whole time.
"""


from harness import GdbMI, attached, needs_bpf, wait_until


def mi_ok(r, cls="done"):
    assert r.cls == cls, f"expected ^{cls}, got:\n{r}"
    return r.results


def mi_session(nonstop):
    with attached("counter") as (t, stub), GdbMI(file=t.path) as mi:
        if nonstop:
            mi_ok(mi.cmd("-gdb-set non-stop on"))
        r = mi.cmd(f"-target-select remote {stub.addr}", timeout=60)
        mi_ok(r, "connected")
        if nonstop:
            assert any(line.startswith("*running") for line in r.oob + mi.lines), \
                f"non-stop: no *running record on connect:\n{mi.log()}"
        else:
            assert any(line.startswith("*stopped") for line in r.oob), \
                f"all-stop: no *stopped record on connect:\n{r}"

        bkpt = mi_ok(mi.cmd("-break-insert -a compute"))["bkpt"]
        assert bkpt["type"] == "tracepoint" and bkpt["number"] == "1", bkpt
        assert bkpt["func"] == "compute", bkpt
        tp = int(bkpt["addr"], 16)
        code = t.addr_of("compute")
        assert code <= tp < code + 32, f"tracepoint at {tp:#x}, compute at {code:#x}"
        mi_ok(mi.cmd('-break-commands 1 "collect calls" "collect $regs"'))

        calls_before = t.read_long("calls")
        mi_ok(mi.cmd("-trace-start"))
        st = mi_ok(mi.cmd("-trace-status"))
        assert st.get("supported") == "1" and st.get("running") == "1", st

        def frames():
            s = mi_ok(mi.cmd("-trace-status"))
            assert s.get("running") == "1", f"trace stopped by itself: {s}"
            return int(s["frames"]) >= 10
        wait_until(frames, 10, interval=0.05, what="10 trace frames")
        mi_ok(mi.cmd("-trace-stop"))
        st = mi_ok(mi.cmd("-trace-status"))
        assert st.get("running") == "0" and st.get("stop-reason") == "request", st
        nframes = int(st["frames"])
        assert nframes >= 10 and st["frames-created"] == st["frames"], st

        # (-break-list's times stays 0: gdb asks for hit counts (qTP) only in
        # the CLI's tstatus, not in -trace-status.)
        body = mi_ok(mi.cmd("-break-list"))["BreakpointTable"]["body"]
        assert body[0]["bkpt"].get("installed") == "y", body
        assert body[0]["bkpt"].get("script") == ["collect calls", "collect $regs"], body

        found = mi_ok(mi.cmd("-trace-find frame-number 0"))
        assert found.get("found") == "1" and found.get("tracepoint") == "1" and \
            found.get("traceframe") == "0", found
        assert int(found["frame"]["addr"], 16) == tp and found["frame"]["func"] == "compute", \
            found

        col = mi_ok(mi.cmd("-trace-frame-collected"))
        exp = {v["name"]: v["value"] for v in col["explicit-variables"]}
        assert "calls" in exp, f"calls not in explicit-variables: {col['explicit-variables']}"
        calls = int(exp["calls"])
        assert calls >= calls_before, (calls, calls_before)
        regs = {int(v["number"]): int(v["value"], 16) for v in col["registers"]}
        assert regs.get(16) == tp, f"rip (16) is not the tracepoint {tp:#x}: {regs.get(16)}"
        assert regs.get(5) is not None and regs[5] & 0xffffffff == calls % 1000, \
            f"rdi (5) should be calls % 1000 = {calls % 1000}: {regs.get(5)}"
        assert regs.get(4) == 3 * calls + 1, f"rsi (4) should be 3*calls+1: {regs.get(4)}"
        mem = [(int(m["address"], 16), int(m["length"])) for m in col["memory"]]
        assert (t.addr_of("calls"), 8) in mem, f"calls' memory not listed: {mem}"
        tvars = {v["name"]: v for v in col.get("tvars", [])}
        assert "$trace_timestamp" in tvars, col.get("tvars")

        v = mi_ok(mi.cmd("-data-evaluate-expression calls"))
        assert int(v["value"]) == calls, v
        v = mi_ok(mi.cmd("-data-evaluate-expression $rsi"))
        assert int(v["value"]) == 3 * calls + 1, v

        found = mi_ok(mi.cmd("-trace-find tracepoint-number 1"))
        assert found.get("found") == "1" and found.get("traceframe") == "1", found
        v = mi_ok(mi.cmd("-data-evaluate-expression calls"))
        assert int(v["value"]) == calls + 1, f"frame 1 should be the next call: {v}"
        found = mi_ok(mi.cmd(f"-trace-find frame-number {nframes}"))
        assert found.get("found") == "0", found

        found = mi_ok(mi.cmd("-trace-find none"))
        assert found.get("found") == "0", found
        r = mi.cmd("-target-detach")
        mi_ok(r)
        assert "detached" in (r.console() + mi.log()).lower(), f"no detach message:\n{r}"
        t.assert_running()


@needs_bpf
def test_mi_trace_session_allstop():
    """The IDE's sequence in all-stop mode, asserted on the MI records."""
    mi_session(nonstop=False)


@needs_bpf
def test_mi_trace_session_nonstop():
    """The same in non-stop mode (threads reported running)."""
    mi_session(nonstop=True)
