"""The audit log (stub/base/audit.c, stub/trace/audit_trace.c): every change to what
is collected is one line to syslog and, with --audit FILE, one JSON object
per line appended to FILE; nothing collected is ever in it.

syslog: glibc's syslog(3) always sends to /dev/log.  This machine has no
syslog daemon, so a test that reads the system log binds its own datagram
socket at /dev/log and reads the bytes bpfstub's syslog(3) really sends.
Tests doing so (here or elsewhere) serialize on the lock file
/tmp/bpfstub-test-devlog.lock (flock), bind only when /dev/log is absent
(or a stale socket nobody listens on) and unlink it after.  When a real
daemon owns /dev/log the syslog checks are skipped: its lines cannot be
read back from here.  Other bpfstubs running meanwhile (other tests) log to
the same socket: lines are told apart by bpfstub[PID].

The target is tests/targets/counter.c: compute(n, m, it, buf) with buf
holding "call <i>", and the global message = "hello from counter": a test
collects both and checks neither is in the audit.
"""

import contextlib
import errno
import fcntl
import json
import os
import re
import socket
import stat
import subprocess
import tempfile
import threading

from harness import (BPFSTUB, Skip, Stub, Target, ThreadStateSampler, actions, attached,
                     gdb_pipe, needs_bpf, require_stub, rsp_client, wait_until)
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_frames

DEVLOG = "/dev/log"
DEVLOG_LOCK = "/tmp/bpfstub-test-devlog.lock"
SECRET = "hello from counter"  # counter.c's message, collected below
COLLECTED_TEXT = re.compile(r"call \d+")  # counter.c's scratch buffer, collected below
LOG_AUTHPRIV_NOTICE = 10 * 8 + 5


class SyslogCatcher:
    """Datagrams sent to /dev/log while it runs: .lines (text, as received)."""

    def __init__(self, sock):
        self.sock = sock
        self.lines = []
        self._stop = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                data = self.sock.recv(1 << 17)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.lines.append(data.decode("utf-8", errors="replace"))

    def of(self, pid):
        """(priority, message) of each line bpfstub[pid] sent, in order."""
        out = []
        rx = re.compile(r"^<(\d+)>.*? bpfstub\[" + str(pid) + r"\]: (.*)$", re.S)
        with self._lock:
            for ln in self.lines:
                m = rx.match(ln)
                if m:
                    out.append((int(m.group(1)), m.group(2).rstrip("\n")))
        return out

    def stop(self):
        self._stop = True
        self._thread.join(2)


def _stale(path):
    """Is path a socket nobody receives on (left by a test that died)?"""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except FileNotFoundError:
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(path)
        return False
    except OSError as e:
        return e.errno == errno.ECONNREFUSED
    finally:
        s.close()


@contextlib.contextmanager
def devlog_socket():
    """A datagram socket bound at /dev/log (one test at a time, by a lock
    file), or None when a real daemon owns /dev/log."""
    with open(DEVLOG_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stale(DEVLOG):
            os.unlink(DEVLOG)
        if os.path.lexists(DEVLOG):
            yield None
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(DEVLOG)
        os.chmod(DEVLOG, 0o666)
        try:
            yield sock
        finally:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(DEVLOG)


@contextlib.contextmanager
def syslog_catcher():
    """A SyslogCatcher on /dev/log, or None when a real daemon owns it."""
    with devlog_socket() as sock:
        if sock is None:
            yield None
            return
        catcher = SyslogCatcher(sock)
        try:
            yield catcher
        finally:
            catcher.stop()


def read_events(path, skip=0):
    """Every line of the audit file after the first skip, each parsed as one
    JSON object."""
    with open(path, "rb") as f:
        raw = f.read()
    assert raw.endswith(b"\n"), f"the audit file does not end with a newline:\n{raw[-200:]!r}"
    events = []
    for n, line in enumerate(raw.decode("utf-8").split("\n")[skip:-1], skip + 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"line {n} of the audit file is not JSON ({e}):\n{line}")
        assert isinstance(ev, dict), line
        for k in ("time", "event", "bpfstub_pid", "target_pid", "session"):
            assert k in ev, f"line {n} has no {k!r}: {line}"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ev["time"]), line
        events.append(ev)
    return events


def in_order(events, wanted):
    """The events matching each of wanted (event name, {key: value or regex}),
    in order (others may come between); fails naming the first one missing."""
    found, i = [], 0
    for name, fields in wanted:
        while i < len(events):
            ev = events[i]
            i += 1
            if ev["event"] == name and all(
                    (re.search(v, str(ev.get(k, ""))) if isinstance(v, re.Pattern)
                     else str(ev.get(k)) == str(v)) for k, v in fields.items()):
                found.append(ev)
                break
        else:
            names = "\n".join(json.dumps(e) for e in events)
            raise AssertionError(f"no {name} {fields} (in order) in the audit:\n{names}")
    return found


def syslog_check(catcher, stub_pid, events):
    """bpfstub's syslog lines: one per JSON event, same names, same order,
    LOG_AUTHPRIV|LOG_NOTICE, no control character."""
    lines = catcher.of(stub_pid)
    names = [msg.split(" ", 1)[0] for _, msg in lines]
    assert names == [e["event"] for e in events], \
        f"syslog has {names}, the file {[e['event'] for e in events]}"
    for (prio, msg), ev in zip(lines, events):
        assert prio == LOG_AUTHPRIV_NOTICE, f"priority {prio}: {msg}"
        assert not re.search(r"[\x00-\x1f\x7f]", msg), f"control character in {msg!r}"
        assert f"target_pid={ev['target_pid']}" in msg, msg
    return [msg for _, msg in lines]


@needs_bpf
def test_audit_gdb_and_monitor_session():
    """A GDB session defines a tracepoint collecting an argument, a string
    and a global, starts, waits for frames, stops and saves (tsave -r); it
    also runs monitor trace, set and tdelete, and monitor tsave-ctf (one
    written, one refused).  The audit file (created 0600)
    has one JSON object per line with those events in order, the location
    and the collect text; syslog got the same events; and none of the
    collected values is anywhere in either."""
    require_stub()
    with tempfile.TemporaryDirectory() as tmp, syslog_catcher() as sl:
        saves = os.path.join(tmp, "saves")
        os.mkdir(saves)
        path = os.path.join(tmp, "audit.jsonl")
        with Target("counter") as t, ThreadStateSampler(t.pid), \
                Stub.attach(t.pid, options=["--audit", path, "--save-dir", saves]) as stub:
            stub_pid = stub.proc.pid
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                out = g.cmd("monitor trace note_tick collect t")
                m = re.search(r"^tracepoint (\d+) at 0x", out, re.M)
                assert m, out
                mon_tp = m.group(1)
                out = g.cmd("monitor set max-hit-rate 50000")
                assert "monitor:" not in out, out
                out = g.cmd(f"monitor tdelete {mon_tp}")
                assert "deleted tracepoint" in out, out
                assert "Tracepoint 1 at" in g.cmd("trace compute")
                g.cmd(actions("collect n, m", "collect *buf@16", "collect message"))
                tstart(g)
                wait_frames(g, 5)
                g.cmd("tstop")
                out = g.cmd("tfind start")
                assert "Found trace frame" in out, out
                # What was collected is really there (so its absence below means something).
                out = g.cmd("print message")
                assert SECRET in out, out
                out = g.cmd("print *buf@16")
                assert COLLECTED_TEXT.search(out), out
                g.cmd("tfind none")
                out = g.cmd("tsave -r out.tf")
                assert "saved" in out.lower(), out
                out = g.cmd("monitor tsave-ctf out.ctf")
                assert "CTF trace written to out.ctf" in out, out
                out = g.cmd("monitor tsave-ctf ../up")
                assert out.startswith("monitor: '..' is not a directory"), out
            wait_until(lambda: any(e["event"] == "disconnect" for e in read_events(path)), 10,
                       what="the disconnect event")
        events = read_events(path)
        in_order(events, [
            ("start", {"mode": "attach", "target_pid": t.pid, "bpfstub_pid": stub_pid}),
            ("tp_define", {"via": "monitor", "tp": mon_tp, "location": "note_tick",
                           "function": "note_tick", "collect": "t",
                           "command": "trace note_tick collect t"}),
            ("setting", {"via": "monitor", "name": "max-hit-rate", "value": "50000"}),
            ("tp_delete", {"via": "monitor", "tp": mon_tp}),
            ("tinit", {"via": "gdb"}),
            ("tp_define", {"via": "gdb", "tp": "1", "enabled": "yes",
                           "addr": re.compile(r"^0x[0-9a-f]+$")}),
            ("tp_actions", {"tp": "1", "actions": re.compile(r".")}),
            ("tp_source", {"tp": "1", "type": "at", "text": re.compile(r"compute")}),
            ("tp_source", {"tp": "1", "type": "cmd", "text": "collect n, m"}),
            ("tp_source", {"tp": "1", "type": "cmd", "text": "collect *buf@16"}),
            ("tp_source", {"tp": "1", "type": "cmd", "text": "collect message"}),
            ("tstart", {"tracepoints": "1", "locations": "1",
                        "settings": re.compile(r"\bmax-hit-rate=50000 ")}),
            ("tstop", {"by": "client", "reason": "stopped by tstop",
                       "frames": re.compile(r"^[1-9]\d*$")}),
            ("tsave", {"via": "gdb", "file": "out.tf", "result": "ok"}),
            ("tsave", {"via": "ctf", "file": "out.ctf", "result": "ok",
                       "frames": re.compile(r"^[1-9]\d*$")}),
            ("tsave", {"via": "ctf", "file": "../up", "result": "error",
                       "why": re.compile(r"no '\.\.' or symlinks")}),
            ("disconnect", {}),
            ("exit", {"status": "ok"}),
        ])
        with open(path, "rb") as f:
            raw = f.read().decode()
        assert SECRET not in raw, "a collected value (message) is in the audit file"
        assert not COLLECTED_TEXT.search(raw), "a collected value (*buf) is in the audit file"
        assert all(e["target_pid"] == t.pid and e["bpfstub_pid"] == stub_pid for e in events)
        if sl is None:
            print("note: a syslog daemon owns /dev/log; its lines were not checked")
            return
        msgs = syslog_check(sl, stub_pid, events)
        text = "\n".join(msgs)
        assert SECRET not in text and not COLLECTED_TEXT.search(text), \
            "a collected value is in the syslog lines"
        assert any(re.match(r"^tp_source .*type=cmd text=\"collect n, m\"$", s) for s in msgs), \
            text
        assert any(re.match(r"^tp_define .*via=monitor command=\"trace note_tick collect t\"", s)
                   for s in msgs), text


@needs_bpf
def test_audit_changes_made_by_bpfstub():
    """Changes bpfstub makes by itself are audited as its own (by=bpfstub,
    no peer): the overhead guard detaching a tracepoint, and a run ending at
    its trace-timeout.  The file is appended to, never truncated."""
    require_stub()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "audit.jsonl")
        with open(path, "w") as f:
            f.write('{"earlier":"line"}\n')
        opts = ["--audit", path, "--trace-timeout", "3s", "--max-hit-rate", "20"]
        with Target("counter") as t, ThreadStateSampler(t.pid), \
                Stub.attach(t.pid, options=opts) as stub:
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                assert "tracepoint" in g.cmd("monitor trace compute")
                assert "trace started" in g.cmd("monitor tstart")

                def has(name):
                    with open(path) as f:
                        return any(json.loads(ln).get("event") == name for ln in f)

                wait_until(lambda: has("tp_detached"), 10, what="the guard's tp_detached")
                wait_until(lambda: has("tstop"), 10, what="the trace-timeout's tstop")
        with open(path) as f:
            assert f.readline() == '{"earlier":"line"}\n', "the audit file was truncated"
        events = read_events(path, skip=1)
        det, stop = in_order(events, [
            ("tp_detached", {"by": "bpfstub", "tp": "1",
                             "why": re.compile(r"detached by the overhead guard")}),
            ("tstop", {"by": "bpfstub", "reason": "stopped: trace-timeout reached"}),
        ])
        assert "peer" not in det and "peer" not in stop, (det, stop)


def run_stub(args, timeout=10):
    return subprocess.run([BPFSTUB, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def test_audit_bad_file_is_an_error_at_start():
    """--audit in a missing directory, on a symlink (even to a file that
    would do), on a directory: a clear error at start, exit status 2, and
    nothing created or written through the link."""
    require_stub()
    with tempfile.TemporaryDirectory() as tmp, Target("counter") as t:
        missing = os.path.join(tmp, "nope", "x.jsonl")
        r = run_stub(["--audit", missing, "127.0.0.1:0", "--attach", str(t.pid)])
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert f"bpfstub: --audit {missing}: No such file or directory" in r.stderr, r.stderr
        assert "Listening" not in r.stdout, r.stdout

        real = os.path.join(tmp, "real.jsonl")
        link = os.path.join(tmp, "link.jsonl")
        os.symlink(real, link)
        r = run_stub(["--audit", link, "127.0.0.1:0", "--attach", str(t.pid)])
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert f"--audit {link}: is a symbolic link" in r.stderr, r.stderr
        assert not os.path.exists(real), "the symlink was followed"
        with open(real, "w") as f:
            f.write("precious\n")
        r = run_stub(["--audit", link, "127.0.0.1:0", "--attach", str(t.pid)])
        assert r.returncode == 2 and "symbolic link" in r.stderr, (r.returncode, r.stderr)
        with open(real) as f:
            assert f.read() == "precious\n"

        r = run_stub(["--audit", tmp, "127.0.0.1:0", "--attach", str(t.pid)])
        assert r.returncode == 2 and f"--audit {tmp}:" in r.stderr, (r.returncode, r.stderr)
        assert t.alive()


def test_audit_never_waits_for_syslog():
    """A syslog daemon that stops reading fills /dev/log's queue: glibc's
    syslog(3) would then block, and the server with it.  bpfstub's own
    sender drops the line instead (said once on stderr), every command is
    still answered, and the --audit file keeps every event.  The socket at
    /dev/log is never read: a stuck daemon."""
    require_stub()
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        n = 2 * int(f.read()) + 50  # well past /dev/log's queue of datagrams
    with tempfile.TemporaryDirectory() as d, devlog_socket() as deaf:
        if deaf is None:
            raise Skip("a real syslog daemon owns /dev/log: it cannot be made deaf here")
        path = os.path.join(d, "audit.jsonl")
        with attached("counter", options=["--audit", path]) as (t, stub), \
                rsp_client(stub.addr) as c:
            c.no_ack()
            for i in range(n):
                cmd = f"set max-hit-rate {1000 + i}".encode().hex()
                out = c.request_all(f"qRcmd,{cmd}", timeout=5)
                assert out and out[-1] == "OK", f"monitor set #{i}: {out}"
            stub.wait_stderr(r"syslog is not reading /dev/log: audit lines are dropped",
                             timeout=5)
        settings = [e for e in read_events(path)
                    if e["event"] == "setting" and e.get("name") == "max-hit-rate"]
        assert len(settings) == n, f"{len(settings)} setting events in the file, want {n}"
