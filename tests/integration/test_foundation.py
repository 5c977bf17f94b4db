"""Foundation: GDB reads a live process through bpfstub and never stops it.

All-stop and non-stop GDB, with and without a local executable, PIE and
non-PIE, the TCP / unix socket / stdio transports, launch mode, and the
refusal of every kind of write.  Every test watches the target's threads
with ThreadStateSampler: one sample in state t/T, or a tracer, fails it.
"""

import os
import re
import tempfile
import time

from harness import (BPFSTUB, Stub, Target, ThreadStateSampler, attached, connect_when_free,
                     gdb_batch, gdb_int, gdb_pipe, pid_alive, read_mem, require_stub, rsp_client, target_path,
                     thread_lines, wait_until)


def assert_counter_advances(r, first, second, before, after):
    """r.out[first] and r.out[second] print counter: live and advancing.

    before/after: the counter read from /proc/PID/mem around the session, so
    values read from the ELF file (0) or stale caches are caught.
    """
    a, b = gdb_int(r.out[first]), gdb_int(r.out[second])
    assert b > a, f"counter did not advance: {a} then {b}\n{r.text}"
    assert before <= a <= b <= after, (f"gdb's values {a}, {b} are not the live counter "
                                       f"(between {before} and {after})\n{r.text}")


def assert_detached_and_running(r, detach_index, t):
    assert "detached" in r.out[detach_index].lower(), \
        f"detach did not report detaching:\n{r.out[detach_index]}"
    t.assert_running()


def allstop_session(t, stub, file):
    """The standard all-stop session; returns the GdbResult."""
    before = t.read_long("counter")
    r = gdb_batch([f"target remote {stub.addr}",  # 0
                   "print counter",               # 1
                   "shell sleep 0.3",             # 2
                   "print counter",               # 3
                   "info threads",                # 4
                   "print message",               # 5
                   "print &counter",              # 6
                   "info sharedlibrary",          # 7
                   "detach"],                     # 8
                  file=file)
    after = t.read_long("counter")
    assert "PC register is not available" not in r.text, r.text
    assert_counter_advances(r, 1, 3, before, after)
    threads = thread_lines(r.out[4])
    assert len(threads) == 3, f"expected 3 threads, got {len(threads)}:\n{r.out[4]}"
    for name in ("worker-1", "worker-2"):
        assert name in r.out[4], f"thread name {name} missing:\n{r.out[4]}"
    assert '"hello from counter"' in r.out[5], f"message:\n{r.out[5]}"
    m = re.search(r"0x([0-9a-f]+)", r.out[6])
    assert m and int(m.group(1), 16) == t.addr_of("counter"), \
        f"&counter should be {t.addr_of('counter'):#x}:\n{r.out[6]}"
    assert re.search(r"^0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes.*/libc\.so\.6$", r.out[7], re.M), \
        f"libc is not loaded with symbols:\n{r.out[7]}"
    assert_detached_and_running(r, 8, t)
    return r


def test_gdb_allstop_local_file():
    """target remote with `file counter`: live counter, 3 named threads, message, detach."""
    with attached("counter") as (t, stub):
        allstop_session(t, stub, file=t.path)


def test_gdb_allstop_symbols_from_target():
    """No local file: GDB fetches the executable through qXfer:exec-file + vFile."""
    with attached("counter") as (t, stub):
        r = allstop_session(t, stub, file=None)
        assert "Reading symbols from target:" in r.out[0], r.out[0]


def test_gdb_allstop_symbols_from_target_pie():
    """No local file, PIE: symbols from the target and relocated (auxv)."""
    with attached("counter-pie") as (t, stub):
        r = allstop_session(t, stub, file=None)
        assert "Reading symbols from target:" in r.out[0], r.out[0]


def test_gdb_allstop_local_file_pie():
    """Local PIE file: GDB relocates it to where the live process has it."""
    with attached("counter-pie") as (t, stub):
        allstop_session(t, stub, file=t.path)


def test_gdb_allstop_O2():
    """An optimised build reads the same live globals."""
    with attached("counter-O2") as (t, stub):
        allstop_session(t, stub, file=t.path)


def nonstop_batch(build):
    """A gdb -batch script in non-stop mode reads globals and shared-library
    symbols at once: '?' reports the main thread stopped at its real PC, which
    GDB handles before `target remote` returns (PIE relocated, libc loaded).
    GDB shows that one thread stopped where it really is (or at the entry
    point, which stands in for a PC bpfstub cannot read) and the others
    running; `continue -a &` shows all running, `interrupt -a` is accepted,
    and no thread of the target ever stops (the sampler)."""
    with attached(build) as (t, stub):
        before = t.read_long("counter")
        r = gdb_batch(["set non-stop on",              # 0
                       f"target remote {stub.addr}",   # 1
                       "print counter",                # 2
                       "shell sleep 0.3",              # 3
                       "print counter",                # 4
                       "info threads",                 # 5
                       "print message",                # 6
                       "print &counter",               # 7
                       "info sharedlibrary",           # 8
                       "continue -a &",                # 9
                       "info threads",                 # 10
                       "interrupt -a",                 # 11
                       "print counter",                # 12
                       # a script must let GDB take the stop that `interrupt`
                       # brings before `detach` (with gdbserver too)
                       "info threads",                 # 13
                       "detach"],                      # 14
                      file=t.path)
        after = t.read_long("counter")
        assert "does not support non-stop" not in r.text, r.text
        assert_counter_advances(r, 2, 4, before, after)
        threads = thread_lines(r.out[5])
        assert len(threads) == 3, f"expected 3 threads:\n{r.out[5]}"
        main = [line for line in threads if f"Thread {t.pid}.{t.pid} " in line]
        assert len(main) == 1 and "(running)" not in main[0] and \
            re.search(r"in (\S*clock_nanosleep|_start) ", main[0]), \
            f"the main thread should show its PC (asleep in clock_nanosleep, or the entry "\
            f"point that stands in while it runs user code):\n{r.out[5]}"
        others = [line for line in threads if line not in main]
        assert all("(running)" in line for line in others), f"workers not running:\n{r.out[5]}"
        assert '"hello from counter"' in r.out[6], r.out[6]
        m = re.search(r"0x([0-9a-f]+) <counter>", r.out[7])
        assert m and int(m.group(1), 16) == t.addr_of("counter"), \
            f"&counter should be {t.addr_of('counter'):#x}:\n{r.out[7]}"
        assert "libc.so.6" in r.out[8], f"libc not loaded:\n{r.out[8]}"
        threads = thread_lines(r.out[10])
        assert len(threads) == 3 and all("(running)" in line for line in threads), \
            f"after continue -a every thread should be running:\n{r.out[10]}"
        assert "error" not in r.out[11].lower(), r.out[11]
        assert gdb_int(r.out[12]) >= gdb_int(r.out[4]), r.out[12]
        assert len(thread_lines(r.out[13])) == 3, r.out[13]
        assert "detached" in r.out[14].lower(), r.out[14]
        t.assert_running()


def test_gdb_nonstop_batch():
    """set non-stop on (batch, non-PIE)."""
    nonstop_batch("counter")


def test_gdb_nonstop_batch_pie():
    """set non-stop on (batch, PIE): relocated at once, no event loop needed."""
    nonstop_batch("counter-pie")


def test_gdb_nonstop_pie_interactive():
    """Non-stop PIE through an interactive gdb: relocated globals, libc loaded."""
    with attached("counter-pie") as (t, stub), gdb_pipe(file=t.path) as g:
        g.cmd("set non-stop on")
        out = g.cmd(f"target remote {stub.addr}")
        assert "does not support non-stop" not in out, out

        # GDB relocates once it has processed the stop notification in its
        # event loop; give it a moment.
        def relocated():
            o = g.cmd("print &counter")
            m = re.search(r"0x([0-9a-f]+)", o)
            return m and int(m.group(1), 16) == t.addr_of("counter")
        try:
            wait_until(relocated, 10, interval=0.2, what="GDB to relocate the PIE")
        except AssertionError:
            raise AssertionError(f"&counter never became {t.addr_of('counter'):#x}:\n"
                                 f"{g.all_output()}")
        a = gdb_int(g.cmd("print counter"))
        time.sleep(0.3)
        b = gdb_int(g.cmd("print counter"))
        assert b > a, f"counter did not advance: {a} then {b}"
        libs = g.cmd("info sharedlibrary")
        assert "libc.so.6" in libs, f"libc not listed:\n{libs}"
        threads = thread_lines(g.cmd("info threads"))
        assert len(threads) == 3, f"expected 3 threads: {threads}"
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
        t.assert_running()


def test_launch_mode():
    """bpfstub --once ADDR PROG launches PROG (no ptrace); gdb reads its counter."""
    with Stub([target_path("counter")], options=["--once"]) as stub:
        def child_counter():
            try:
                kids = open(f"/proc/{stub.proc.pid}/task/{stub.proc.pid}/children").read()
            except FileNotFoundError:
                return None
            for k in kids.split():
                if open(f"/proc/{k}/comm").read().strip() == "counter":
                    return int(k)
            return None
        pid = wait_until(child_counter, 5, what="bpfstub to launch counter")
        try:
            # Ready once both workers exist and are named.
            wait_until(lambda: len(os.listdir(f"/proc/{pid}/task")) == 3, 5,
                       what="counter's threads")
            with ThreadStateSampler(pid):
                r = gdb_batch([f"target remote {stub.addr}", "print counter",
                               "shell sleep 0.3", "print counter", "info threads"],
                              file=target_path("counter"))
                a, b = gdb_int(r.out[1]), gdb_int(r.out[3])
                assert b > a, f"counter did not advance: {a} then {b}\n{r.text}"
                assert len(thread_lines(r.out[4])) == 3, r.out[4]
            rc = stub.wait(10)
            assert rc == 0, f"bpfstub --once exited {rc} after the client left"
        finally:
            if pid_alive(pid) and open(f"/proc/{pid}/comm").read().strip() == "counter":
                os.kill(pid, 9)


def test_stdio_mode():
    """target remote | bpfstub - --attach PID; the stub goes away with gdb."""
    require_stub()
    with Target("counter") as t, ThreadStateSampler(t.pid):
        before = t.read_long("counter")
        r = gdb_batch([f"target remote | {BPFSTUB} - --attach {t.pid}", "print counter",
                       "shell sleep 0.3", "print counter", "print message"], file=t.path)
        after = t.read_long("counter")
        assert_counter_advances(r, 1, 3, before, after)
        assert '"hello from counter"' in r.out[4], r.out[4]

        def stub_gone():
            for p in os.listdir("/proc"):
                if not p.isdigit():
                    continue
                try:
                    argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
                except OSError:
                    continue
                if argv[0].endswith(b"bpfstub") and str(t.pid).encode() in argv:
                    return False
            return True
        wait_until(stub_gone, 5, what="the stdio bpfstub to exit after gdb")
        t.assert_running()


def test_unix_socket_mode():
    """bpfstub unix:PATH --attach PID; gdb: target remote PATH."""
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "stub.sock")
        with attached("counter", comm=f"unix:{sock}") as (t, stub):
            assert stub.addr == sock, f"Listening line names {stub.addr}, not {sock}"
            before = t.read_long("counter")
            r = gdb_batch([f"target remote {sock}", "print counter", "shell sleep 0.3",
                           "print counter", "detach"], file=t.path)
            after = t.read_long("counter")
            assert_counter_advances(r, 1, 3, before, after)
            assert_detached_and_running(r, 4, t)


def test_gdb_writes_refused():
    """set var fails with an error and the process memory is unchanged."""
    with attached("counter") as (t, stub):
        before = t.read_long("counter")
        r = gdb_batch([f"target remote {stub.addr}",       # 0
                       "set var counter = 5",              # 1
                       "set var config.id = 7",            # 2
                       "set var message[0] = 'J'",         # 3
                       "print config.id",                  # 4
                       "print message",                    # 5
                       "detach"], file=t.path)
        for i in (1, 2, 3):
            assert "Cannot access memory at address" in r.out[i], \
                f"{r.cmds[i]!r} did not fail:\n{r.out[i]}"
        assert gdb_int(r.out[4]) == 42, f"config.id after a refused write: {r.out[4]}"
        assert '"hello from counter"' in r.out[5], r.out[5]
        assert t.read("config", 4) == (42).to_bytes(4, "little"), "config.id changed"
        assert t.read("message", 19) == b"hello from counter\0", "message changed"
        assert t.read_long("counter") >= before, "counter went back: it was written"
        t.assert_running()


def test_breakpoints_accepted_never_written():
    """GDB's Z0-Z4 get OK (a refused breakpoint would abort every later
    resume) and nothing is written; LLDB's are refused."""
    with attached("counter") as (t, stub):
        code = t.addr_of("compute")
        orig = read_mem(t.pid, code, 16)
        pkts = (f"Z0,{code:x},1", f"Z1,{code:x},1", f"Z2,{t.addr_of('counter'):x},8",
                f"Z4,{t.addr_of('counter'):x},8", f"z0,{code:x},1")
        with rsp_client(stub.addr) as c:
            c.supported()
            c.no_ack()
            for pkt in pkts:
                r = c.request(pkt)
                assert r == "OK", f"{pkt} -> {r!r}\n{c.exchange()}"
            assert c.request("Z0,zz").startswith("E."), "malformed Z0 accepted"
        with connect_when_free(stub.addr) as c:
            c.no_ack()
            c.request("QThreadSuffixSupported")
            for pkt in pkts:
                r = c.request(pkt)
                assert r and r.startswith("E"), f"LLDB: {pkt} -> {r!r}"
        assert read_mem(t.pid, code, 16) == orig, "code at compute() was modified"
        t.assert_running()


def test_allstop_continue_and_interrupt():
    """GDB's vCont;c / c: a console line saying why, then a T02 stop at once
    (GDB never believes the target runs).  LLDB's: no reply while "running";
    ^C then answers a T02 stop."""
    with attached("counter") as (t, stub):
        with rsp_client(stub.addr) as c:
            c.supported()
            c.no_ack()
            r = c.request("?")
            assert r and r[0] == "T", f"? -> {r!r}"
            for resume in ("vCont;c", "c", "C02"):
                c.send(resume)
                r = c.recv_packet(timeout=3)
                assert r and r.startswith("O") and "never stops" in \
                    bytes.fromhex(r[1:]).decode(), f"{resume} -> {r!r}"
                r = c.recv_packet(timeout=3)
                assert r and r.startswith("T02"), f"{resume} -> {r!r}\n{c.exchange()}"
                t.assert_running()
            # A stray ^C while stopped gets nothing.
            c.send_raw(b"\x03")
            assert c.recv_packet(timeout=0.3) is None
        with connect_when_free(stub.addr) as c:
            c.no_ack()
            c.request("QThreadSuffixSupported")
            for resume in ("vCont;c", "c"):
                c.send(resume)
                r = c.recv_packet(timeout=0.5)
                assert r is None, f"LLDB: {resume} answered {r!r} at once: it must wait for ^C"
                t.assert_running()
                c.send_raw(b"\x03")
                r = c.recv_packet(timeout=3)
                assert r and r.startswith("T02"), f"^C after {resume} -> {r!r}\n{c.exchange()}"
                v = c.request(f"m{t.addr_of('counter'):x},8")
                assert v and re.fullmatch(r"[0-9a-f]{16}", v), f"m after ^C -> {v!r}"
        t.assert_running()


def test_gdb_go_server():
    """A Go program: gdb reads main.counter live while the server keeps answering."""
    import urllib.request
    with attached("goserver", ["0"]) as (t, stub):
        url = f"http://127.0.0.1:{t.port}/e?iterations=20"
        assert urllib.request.urlopen(url, timeout=5).read().startswith(b"2.718281828"), url
        before = t.read_long("main.counter")
        # Quoted: the selected frame is in C (libc), where main.counter would
        # parse as a struct member access.
        r = gdb_batch([f"target remote {stub.addr}", "print 'main.counter'", "shell sleep 0.3",
                       "print 'main.counter'", "detach"], file=t.path)
        after = t.read_long("main.counter")
        assert_counter_advances(r, 1, 3, before, after)
        assert "detached" in r.out[4].lower(), r.out[4]
        assert urllib.request.urlopen(url, timeout=5).read().startswith(b"2.718281828"), url
        t.assert_running("main.counter")


def test_gdb_continue_and_interrupt():
    """All-stop GDB: `continue` returns at once (SIGINT, with bpfstub's line
    saying why) even with a breakpoint set, commands work, `interrupt` too."""
    with attached("counter") as (t, stub), gdb_pipe(file=t.path) as g:
        g.cmd(f"target remote {stub.addr}")
        a = gdb_int(g.cmd("print counter"))
        out = g.cmd("break compute")
        assert re.search(r"Breakpoint 1 at 0x", out), out
        out = g.cmd("continue")
        assert "Continuing." in out and "never stops" in out and "SIGINT" in out and \
            "Cannot insert" not in out and "Breakpoint 1," not in out, out
        t.assert_running()
        b = gdb_int(g.cmd("print counter"))
        assert b > a, f"counter did not advance across continue: {a} then {b}"
        out = g.cmd("continue &")
        assert "Continuing." in out, out
        g.cmd("interrupt")
        # `interrupt` returns before GDB has taken the stop (it arrives as an
        # asynchronous SIGINT stop); until then GDB refuses commands itself.
        def printed():
            out = g.cmd("print counter")
            return None if "while the target is running" in out else out

        out = wait_until(printed, 10, what="GDB to take the stop after interrupt")
        assert gdb_int(out) >= b
        assert len(thread_lines(g.cmd("info threads"))) == 3
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
        t.assert_running()


def test_info_os_processes():
    """`info os processes` (qXfer:osdata:read:processes) lists the target with
    its user and command line; `info os` lists the types."""
    with attached("counter") as (t, stub):
        r = gdb_batch([f"target remote {stub.addr}", "info os", "info os processes"],
                      file=t.path)
        assert re.search(r"^processes\s+Listing of all processes", r.out[1], re.M), r.out[1]
        rows = [line for line in r.out[2].splitlines() if line.split()[:1] == [str(t.pid)]]
        assert len(rows) == 1 and "root" in rows[0] and t.path in rows[0], \
            f"pid {t.pid} with user and command not listed:\n{r.out[2]}"
        t.assert_running()
