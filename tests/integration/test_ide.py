"""IDE flows as tests: the GDB/MI (and DAP) command sequences that Eclipse CDT,
VS Code's cppdbg (MIEngine) and lldb-dap send, replayed command by command
from shared/docs/ide-flows.md (§1.7 CDT-A/B/C, §2.1c VS-A/B, §2.2c LL-A),
with the result class every command must get from bpfstub.

The scripts' prog.c names map onto tests/targets/counter.c:
  func(a, b)      -> compute(n, m, it, buf)     (main thread, every 5 ms)
  leaf(long x)    -> note_tick(long t)          (worker-2, every 2 ms)
  global_counter  -> counter
Where the doc's experimental stub failed (Resume, breakpoints, Step, attach),
the expectations are bpfstub's documented answers (docs/PROTOCOL.md):
GDB's resume gets an immediate SIGINT stop, breakpoints are accepted and never
fire, a step is an error, vKill never kills, vAttach to the served pid stops.

Every session: ThreadStateSampler (no thread ever t/T), the target alive at
the end, gdb exits 0 by -gdb-exit, no memory write accepted, code unchanged.
"""

import json
import os
import re
import select
import subprocess
import tempfile
import time

from harness import (ROOT, Skip, Stub, Target, ThreadStateSampler, elf_file_bytes,
                     needs_bpf, read_mem)
from mireplay import MiReplay, refused_writes, stub_saw

SRC = os.path.join(ROOT, "tests", "targets", "counter.c")


def line_of(text):
    with open(SRC) as f:
        for i, line in enumerate(f, 1):
            if text in line:
                return i
    raise AssertionError(f"{text!r} not in {SRC}")


L_LEAF = line_of("last_tick = t;")


class Session:
    """Target + sampler + stub + MI replay, checked on the way out."""

    def __init__(self, interp="mi2", file=True):
        self.interp = interp
        self.file = file

    def __enter__(self):
        self.t = Target("counter").start()
        self.sampler = ThreadStateSampler(self.t.pid).start()
        self.stub = Stub.attach(self.t.pid).start()
        self.code = {f: elf_file_bytes(self.t.path, self.t.addr_of(f), 32)
                     for f in ("main", "compute", "note_tick")}
        self.mi = MiReplay(interp=self.interp)
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.mi.__exit__(None, None, None)
                t = self.t
                self.mi.check_that(t.alive(), f"target pid {t.pid} is gone")
                if t.alive():
                    t.assert_running()
                for f, b in self.code.items():
                    self.mi.check_that(read_mem(t.pid, t.addr_of(f), 32) == b,
                                       f"the code of {f}() was modified")
                w = refused_writes(self.stub)
                self.mi.check_that(not w, f"the stub accepted memory writes: {w}")
                self.mi.check()
                self.sampler.finish()
            else:
                self.mi.__exit__(exc_type, exc, tb)
        finally:
            self.stub.__exit__(exc_type, exc, tb)
            self.t.kill()
        return False


def value_of(res, key):
    return res.get(key) if isinstance(res, dict) else None


def sigint_stop(res):
    return res.get("reason") == "signal-received" and res.get("signal-name") == "SIGINT"


# --------------------------------------------------------------------------
# Eclipse CDT


@needs_bpf
def test_ide_cdt_attach_allstop():
    """CDT-A: remote attach, all-stop; tracepoints with actions, a condition,
    a pass count and a trace variable; Trace Control polling; visualization on
    thread 1; save. Then the user presses Resume: tracing keeps working."""
    with Session() as s:
        mi, t = s.mi, s.t
        for c in ("-list-features", "-gdb-version", "-gdb-set breakpoint pending on",
                  "-gdb-set print object on", "-gdb-set print sevenbit-strings on",
                  "-gdb-set dprintf-style call", "-gdb-set mi-async on",
                  "-gdb-set auto-solib-add on"):
            mi.step(c)
        mi.step(f"-target-select extended-remote {s.stub.addr}", "connected", timeout=60)
        mi.expect_async("=thread-group-started", where=lambda r: r.get("pid") == str(t.pid))
        mi.expect_async("*stopped")
        mi.step(f"-file-exec-and-symbols {t.path}")
        r = mi.step('-data-evaluate-expression "sizeof (void*)"')
        mi.check_that(r and r.results.get("value") == "8", f"sizeof (void*): {r}")
        mi.step("p/x (char)-1")
        mi.step("show endian")
        r = mi.step("-list-thread-groups")
        groups = r.results.get("groups", []) if r else []
        mi.check_that(groups and groups[0].get("pid") == str(t.pid), f"groups: {groups}")
        r = mi.step("-list-thread-groups i1")
        threads = r.results.get("threads", []) if r else []
        mi.check_that(threads and threads[0].get("id") == "1" and
                      threads[0].get("target-id") == f"Thread {t.pid}.{t.pid}",
                      f"thread 1 is not the main thread: {threads[:1]}")
        # CDT's connect dialog (qXfer:osdata:read:processes).
        r = mi.step("-list-thread-groups --available")
        avail = [g.get("id") for g in (r.results.get("groups", []) if r else [])]
        mi.check_that(str(t.pid) in avail, f"--available lacks pid {t.pid}: {avail[:20]}")
        mi.step("-stack-info-depth --thread 1 11")
        mi.step("-stack-list-frames --thread 1 0 10")
        r = mi.step("-break-insert -a -f counter.c:compute")
        bk = r.results.get("bkpt", {}) if r else {}
        mi.check_that(bk.get("type") == "tracepoint" and bk.get("number") == "1", bk)
        tp1 = int(bk.get("addr", "0"), 16)
        mi.step('-break-commands 1 "collect $regs" "collect n, m, counter"')
        mi.step("-trace-define-variable $c 0")
        r = mi.step(f'-break-insert -c "t % 128 == 0" -a -f counter.c:{L_LEAF}')
        bk = r.results.get("bkpt", {}) if r else {}
        mi.check_that(bk.get("number") == "2" and bk.get("cond") == "t % 128 == 0", bk)
        mi.step('-break-commands 2 "collect t" "teval $c = $c + 1"')
        mi.step("passcount 5 2")
        mi.expect_async("=breakpoint-modified", where=lambda r: r["bkpt"].get("pass") == "5")
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("supported") == "1" and
                      r.results.get("running") == "0", f"-trace-status: {r}")
        mi.step("-gdb-set trace-user eclipse")
        mi.step("-trace-start")
        frames = []
        for _ in range(3):
            time.sleep(0.3)
            r = mi.step("-trace-status")
            if r:
                mi.check_that(r.results.get("running") == "1", f"not running: {r.line}")
                frames.append(int(r.results.get("frames", "0")))
        mi.check_that(frames == sorted(frames) and frames and frames[-1] > 0,
                      f"frames per poll: {frames}")
        # The user presses Resume: answered at once, tracing stays usable.
        mi.step("-exec-continue", "running")
        mi.expect_async("*stopped", where=sigint_stop)
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("running") == "1", f"after Resume: {r}")
        r = mi.step("-trace-stop")
        nframes = int(r.results.get("frames", "0")) if r else 0
        mi.check_that(r and r.results.get("stop-reason") == "request" and nframes > 0,
                      f"-trace-stop: {r}")
        r = mi.step("-trace-list-variables")
        tv = {v["variable"]["name"]: v["variable"]
              for v in (r.results.get("trace-variables", {}).get("body", []) if r else [])}
        mi.check_that("$c" in tv and tv["$c"].get("initial") == "0" and
                      int(tv["$c"].get("current", "0")) >= 1, f"$c: {tv.get('$c')}")
        r = mi.step("-trace-find frame-number 0")
        mi.check_that(r and r.results.get("found") == "1" and
                      r.results.get("traceframe") == "0", f"-trace-find 0: {r}")
        first_tp = r.results.get("tracepoint") if r else None
        mi.step("-stack-info-depth --thread 1 11")
        r = mi.step("-stack-list-frames --thread 1 0 10")
        mi.step("-stack-list-locals --thread 1 --frame 0 0")
        if first_tp == "1":
            stack = r.results.get("stack", []) if r else []
            mi.check_that(stack and stack[0]["frame"].get("func") == "compute", stack[:1])
            r = mi.step("-stack-list-arguments --thread 1 1")
            args = {}
            for fr in (r.results.get("stack-args", []) if r else [])[:1]:
                args = {a["name"]: a["value"] for a in fr["frame"]["args"]}
            mi.check_that(args.get("n", "<unavailable>") != "<unavailable>" and
                          args.get("m", "<unavailable>") != "<unavailable>",
                          f"collected arguments n, m: {args}")
            r = mi.step("-var-create --thread 1 --frame 0 - * m")
            mv = r.results.get("value") if r else None
            mi.check_that(mv and mv.isdigit() and int(mv) % 3 == 1, f"m = {mv}")
            mi.step("-data-list-register-names")
            r = mi.step("-data-list-register-values --thread 1 --frame 0 x 0 7 16")
            regs = {v["number"]: v["value"]
                    for v in (r.results.get("register-values", []) if r else [])}
            mi.check_that(regs.get("16") and int(regs["16"], 16) == tp1,
                          f"rip {regs.get('16')} != tracepoint 1 at {tp1:#x}")
            r = mi.step("tdump")
            mi.check_that(r and "n = " in r.console(), f"tdump: {r and r.console()}")
        mi.step("-trace-find frame-number 1")
        mi.step("tdump")
        r = mi.step("-trace-find none")
        mi.check_that(r and r.results.get("found") == "0", f"-trace-find none: {r}")
        with tempfile.TemporaryDirectory() as work:
            tf = os.path.join(work, "cdt.tf")
            mi.step(f"-trace-save {tf}")
            with open(tf, "rb") as f:
                mi.check_that(f.read(8) == b"\x7fTRACE0\n", "trace file header")
        mi.step("-target-detach")
    det = stub_saw(s.stub, r"^D;")
    assert det and det[0][1] == "OK", f"detach: {det}"


@needs_bpf
def test_ide_cdt_nonstop():
    """CDT-B: manual remote, non-stop; CDT's interrupt -> edit -> continue
    wrapping (twice, the second while tracing: InstallInTrace)."""
    with Session() as s:
        mi, t = s.mi, s.t
        mi.step("-gdb-set mi-async on")
        mi.step("-gdb-set non-stop on")
        mi.step(f"-file-exec-and-symbols {t.path}")
        mi.step(f"-target-select remote {s.stub.addr}", "connected", timeout=60)
        mi.expect_async("*running")
        # '?' reported the main thread stopped (so GDB relocates a PIE and
        # loads shared libraries before -target-select returns); the others run.
        mi.expect_async("*stopped", where=lambda r: r.get("thread-id") == "1")
        r = mi.step("-thread-info")
        states = [th.get("state") for th in (r.results.get("threads", []) if r else [])]
        mi.check_that(states and states[0] == "stopped" and
                      all(st == "running" for st in states[1:]), f"states {states}")
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("supported") == "1", f"-trace-status: {r}")

        def edit(cmds):
            mi.step("-exec-interrupt --thread 1")
            mi.expect_async("*stopped", where=lambda r: r.get("thread-id") == "1")
            for c in cmds:
                mi.step(c)
            mi.step("-exec-continue --thread 1", "running")
            mi.expect_async("*running", where=lambda r: r.get("thread-id") in ("1", "all"))

        edit(["-break-insert -a -f counter.c:compute",
              '-break-commands 1 "collect $regs" "collect n, m, counter"', "passcount 0 1"])
        mi.step("-gdb-set trace-user eclipse")
        mi.step("-trace-start")
        for _ in range(2):
            time.sleep(0.3)
            r = mi.step("-trace-status")
            mi.check_that(r and r.results.get("running") == "1", f"-trace-status: {r}")
        edit([f"-break-insert -a -f counter.c:{L_LEAF}"])
        # An ordinary breakpoint clicked in the IDE does not poison the session.
        edit(["-break-insert -f main"])
        time.sleep(0.3)
        r = mi.step("-trace-stop")
        mi.check_that(r and int(r.results.get("frames", "0")) > 0, f"-trace-stop: {r}")
        r = mi.step("-trace-find frame-number 0")
        mi.check_that(r and r.results.get("found") == "1", f"-trace-find 0: {r}")
        mi.step("-stack-list-frames --thread 1 0 10")
        mi.step("-stack-list-arguments --thread 1 1")
        mi.step("tdump")
        r = mi.step("-trace-find none")
        mi.check_that(r and r.results.get("found") == "0", f"-trace-find none: {r}")
        r = mi.step("-thread-info")
        states = [th.get("state") for th in (r.results.get("threads", []) if r else [])]
        mi.check_that(states and all(st == "running" for st in states), f"states {states}")
        mi.step("-target-detach")


@needs_bpf
def test_ide_cdt_manual_remote_allstop():
    """CDT-C: manual remote, all-stop, "stop at main" on (the default): the
    launch's continue works; Resume never leaves GDB "running"; a fast
    tracepoint works; a while-stepping action is refused with its reason."""
    with Session() as s:
        mi, t = s.mi, s.t
        mi.step("-gdb-set mi-async on")
        mi.step(f"-file-exec-and-symbols {t.path}")
        mi.step(f"-target-select remote {s.stub.addr}", "connected", timeout=60)
        mi.expect_async("*stopped")
        mi.step("-break-insert -t -f main")
        mi.step("-exec-continue", "running", timeout=5)
        mi.expect_async("*stopped", where=sigint_stop)
        mi.step("-break-delete 1")
        mi.step("-exec-continue", "running")
        mi.expect_async("*stopped", where=sigint_stop)
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("supported") == "1", f"-trace-status: {r}")
        mi.step("-exec-interrupt")
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("supported") == "1", f"-trace-status: {r}")
        r = mi.step("-break-insert -h -a -f counter.c:compute")
        bk = r.results.get("bkpt", {}) if r else {}
        mi.check_that(bk.get("type") == "fast tracepoint", f"-break-insert -h: {bk}")
        mi.step(f'-break-commands {bk.get("number", "2")} "collect n"')
        mi.step("-trace-start")
        time.sleep(0.3)
        r = mi.step("-trace-stop")
        mi.check_that(r and int(r.results.get("frames", "0")) > 0, f"fast tracepoint: {r}")
        r = mi.step("-break-insert -a -f counter.c:walk")
        num = (r.results.get("bkpt", {}) if r else {}).get("number", "3")
        # CDT's While-Stepping action is one line; GDB accepts it, bpfstub
        # refuses the QTDP at tstart, naming the reason.
        mi.step(f'-break-commands {num} "collect p" "while-stepping 5 collect $regs"')
        mi.step("-trace-start", "error", r"while-stepping.*stops the target")
        r = mi.step("-trace-status")
        mi.check_that(r and r.results.get("running") == "0", f"after refusal: {r}")
        mi.step("-target-detach")
    w = stub_saw(s.stub, r"^QTDP:[0-9a-f]+:[0-9a-f]+:E:5:")
    assert w and w[0][1].startswith("E.") and "while-stepping" in w[0][1], w
    assert any(p.endswith(":F5") or re.search(r":F[0-9a-f]+", p)
               for p, _ in stub_saw(s.stub, r"^QTDP:")), "no :F in a fast tracepoint's QTDP"


# --------------------------------------------------------------------------
# VS Code cppdbg (MIEngine)


@needs_bpf
def test_ide_vscode_cppdbg_launch():
    """VS-A: cppdbg launch + miDebuggerServerAddress (gdb -i=mi): the main
    breakpoint and continue-after-connect, tracing through the Debug Console,
    live reads, Pause, Step Over."""
    with Session(interp="mi") as s:
        mi, t = s.mi, s.t
        mi.step("-gdb-set mi-async on")
        mi.step('-interpreter-exec console "set pagination off"')
        mi.step('-interpreter-exec console "set debuginfod enabled off"')
        mi.step("-gdb-set auto-solib-add on")
        mi.step(f"-file-exec-and-symbols {t.path}")
        mi.step('-interpreter-exec console "show architecture"')
        r = mi.step("-break-insert -f main")
        mi.check_that(r and r.results.get("bkpt", {}).get("number") == "1", f"main bp: {r}")
        mi.step(f"-target-select remote {s.stub.addr}", "connected", timeout=60)
        mi.expect_async("*stopped", where=lambda r: "reason" not in r)
        mi.step("-thread-info")
        mi.step("-stack-list-frames --thread 1 0 1000")
        # MIEngine's continue-after-connect, with the main breakpoint set.
        mi.step("-exec-continue", "running", timeout=5)
        mi.expect_async("*stopped", where=sigint_stop)
        mi.step("-break-delete 1")
        mi.step("-break-insert -a -f counter.c:compute")
        mi.step('-break-commands 2 "collect n" "collect counter"')
        mi.step('-interpreter-exec console "tstart"')
        r = mi.step('-interpreter-exec console "tstatus"')
        mi.check_that(r and "Trace is running" in r.console(), f"tstatus: {r}")
        vals = []
        for _ in range(2):
            r = mi.step("-data-evaluate-expression counter")
            vals.append(int(r.results["value"]) if r and "value" in r.results else None)
            time.sleep(0.3)
        mi.check_that(None not in vals and vals[1] > vals[0], f"live reads {vals}")
        mi.step('-interpreter-exec console "tstop"')
        mi.step('-interpreter-exec console "tfind 0"')
        mi.expect_async("=traceframe-changed",
                        where=lambda r: r.get("num") == "0" and r.get("tracepoint") == "2")
        r = mi.step('-interpreter-exec console "tdump"')
        mi.check_that(r and "n = " in r.console(), f"tdump: {r and r.console()}")
        mi.step('-interpreter-exec console "tfind none"')
        mi.expect_async("=traceframe-changed,end")
        # Resume, then Pause: GDB is never left "running".
        mi.step("-exec-continue", "running")
        mi.expect_async("*stopped", where=sigint_stop)
        mi.step("-exec-interrupt")
        r = mi.step("-data-evaluate-expression counter")
        mi.check_that(r and "value" in r.results, f"evaluate after pause: {r}")
        # Step Over: an error from the stub, a harmless stop, no hang.
        mi.step("-exec-next", "running")
        mi.expect_async("*stopped")
        mi.check_that("single-stepping would stop the target" in mi.log(40),
                      "the step refusal's reason is not shown")
        mi.step("-target-detach")
    assert not stub_saw(s.stub, r"^[cCsS]$|^vCont;[sS]") or all(
        rep and rep.startswith(("E", "T")) for _, rep in stub_saw(s.stub, r"^vCont;[sS]"))


@needs_bpf
def test_ide_vscode_cppdbg_attach_extended():
    """VS-B: cppdbg attach with useExtendedRemote: -target-attach PID makes
    GDB send vKill (answered OK, nothing killed) and then vAttach (a stop)."""
    with Session(interp="mi") as s:
        mi, t = s.mi, s.t
        mi.step("-gdb-set mi-async on")
        mi.step(f"-file-exec-and-symbols {t.path}")
        mi.step('-interpreter-exec console "show architecture"')
        mi.step(f"-target-select extended-remote {s.stub.addr}", "connected", timeout=60)
        # Another pid: GDB kills (vKill, not done) then vAttach is refused.
        mi.step(f"-target-attach {t.pid + 1000000}", "error", r"Attaching to process \d+ failed")
        mi.step(f"-target-attach {t.pid}", timeout=30)
        mi.expect_async("*stopped", timeout=5)
        r = mi.step("-thread-info")
        ths = r.results.get("threads", []) if r else []
        mi.check_that(ths and ths[0].get("target-id") == f"Thread {t.pid}.{t.pid}", ths[:1])
        r = mi.step("-data-evaluate-expression counter")
        mi.check_that(r and "value" in r.results, f"evaluate after attach: {r}")
        mi.step("-target-detach")
    kills = stub_saw(s.stub, r"^vKill;")
    assert kills and all(rep == "OK" for _, rep in kills), f"vKill: {kills}"
    att = stub_saw(s.stub, rf"^vAttach;{t.pid:x}$")
    assert att and att[0][1].startswith("T05"), f"vAttach: {att}"
    bad = stub_saw(s.stub, rf"^vAttach;{t.pid + 1000000:x}$")
    assert bad and bad[0][1].startswith("E.") and f"serves pid {t.pid}" in bad[0][1], bad


# --------------------------------------------------------------------------
# lldb-dap (lldb-vscode-14)


LLDB_DAP = next((p for p in ("/usr/bin/lldb-dap", "/usr/bin/lldb-vscode-14",
                             "/usr/bin/lldb-vscode") if os.access(p, os.X_OK)), None)


class Dap:
    """A minimal DAP client over a child's stdio."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.seq = 0
        self.buf = b""
        self.events = []

    def _read_msg(self, timeout):
        while True:
            if b"\r\n\r\n" in self.buf:
                head, rest = self.buf.split(b"\r\n\r\n", 1)
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return json.loads(rest[:n])
            r, _, _ = select.select([self.p.stdout], [], [], timeout)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk

    def request(self, command, args=None, timeout=15):
        self.seq += 1
        msg = json.dumps({"seq": self.seq, "type": "request", "command": command,
                          "arguments": args or {}}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(msg) + msg)
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read_msg(max(0.01, deadline - time.monotonic()))
            if m is None:
                continue
            if m.get("type") == "event":
                self.events.append(m)
            elif m.get("type") == "response" and m.get("request_seq") == self.seq:
                return m
        raise AssertionError(f"DAP: no response to {command}")

    def wait_event(self, name, timeout=3, after=0):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events[after:]:
                if e.get("event") == name:
                    return e
            if time.monotonic() > deadline:
                return None
            m = self._read_msg(0.1)
            if m and m.get("type") == "event":
                self.events.append(m)

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)


def test_ide_lldb_dap_attach():
    """LL-A: lldb-dap attach via gdb-remote: a logpoint stays unverified (LLDB
    gets a refusal), configurationDone continues, pause stops within 2 s (0x03
    answered T02), live evaluate, raw packets through the REPL, disconnect
    leaves the target running."""
    if not LLDB_DAP:
        raise Skip("no lldb-dap / lldb-vscode")
    with Target("counter") as t, ThreadStateSampler(t.pid), Stub.attach(t.pid) as stub:
        d = Dap([LLDB_DAP])
        try:
            r = d.request("initialize", {"adapterID": "lldb-dap", "linesStartAt1": True,
                                         "columnsStartAt1": True, "pathFormat": "path"})
            assert r["success"], r
            r = d.request("attach", {
                "program": t.path,
                "initCommands": ["settings set target.process.disable-memory-cache true"],
                "attachCommands": [f"target create {t.path}",
                                   f"gdb-remote {stub.addr}"]}, timeout=60)
            assert r["success"], r
            r = d.request("setBreakpoints", {
                "source": {"path": SRC},
                "breakpoints": [{"line": L_LEAF, "logMessage": "t={t}"}]})
            assert r["success"] and r["body"]["breakpoints"][0]["verified"] is False, r
            r = d.request("configurationDone")
            assert r["success"], r
            stub.wait_stderr(r"<- (c|vCont;c)", timeout=5)
            r = d.request("threads")
            assert r["success"] and r["body"]["threads"][0]["id"] == t.pid, r
            n = len(d.events)
            r = d.request("pause", {"threadId": t.pid})
            assert r["success"], r
            assert d.wait_event("stopped", timeout=2, after=n), \
                f"no stopped event within 2 s after pause: {d.events[n:]}"
            r = d.request("stackTrace", {"threadId": t.pid})
            assert r["success"] and r["body"]["stackFrames"], r
            frame = r["body"]["stackFrames"][0]["id"]
            vals = []
            for _ in range(2):
                r = d.request("evaluate", {"expression": "counter", "context": "watch",
                                           "frameId": frame})
                assert r["success"], r
                vals.append(int(re.search(r"(\d+)\s*$", r["body"]["result"]).group(1)))
                time.sleep(0.3)
            assert vals[1] > vals[0], f"live reads {vals}"
            r = d.request("evaluate", {
                "expression": "`process plugin packet send qTStatus", "context": "repl"})
            assert r["success"] and "response: T" in r["body"]["result"], r
            r = d.request("disconnect", {"terminateDebuggee": False})
            assert r["success"], r
        finally:
            d.close()
        stub.wait_stderr(r"<- D", timeout=5)
        assert not any(rep == "OK" for _, rep in stub_saw(stub, r"^[Zz][0-4],")), \
            "LLDB's breakpoint was accepted"
        assert not refused_writes(stub), refused_writes(stub)
        t.assert_running()
