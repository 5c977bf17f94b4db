"""Helpers for bpfstub's integration tests (Python 3.11 stdlib only).

Processes:
  Target(name, args)   start tests/targets/build/<name>, wait for "ready <pid>"
  Stub(...)            start ./bpfstub (port 0 or a unix socket), parse "Listening on"
Clients:
  gdb_batch(cmds)      gdb -nx -batch -ex ...; the output split per command
  GdbPipe / gdb_pipe   interactive gdb fed through a pipe (its event loop runs)
  lldb_batch(cmds)     lldb --no-lldbinit --batch -o ...
  RspClient / rsp_client(addr)   a raw remote-protocol client for hostile input
  GdbMI                gdb --interpreter=mi2 through a pipe; .cmd() -> MiRecord
Checks:
  ThreadStateSampler(pid)   fails if any thread of pid is ever stopped or traced
Tracepoints (GDB CLI):
  actions(...)         the multi-line `actions ... end` command
  TraceStatus(out)     tstatus parsed; tracepoint_hits(info tracepoints output)
  gdb_connect/gdb_tstart/gdb_tstatus/gdb_hits/gdb_wait_frames/gdb_tfind on a GdbPipe
  gdb_values_by_frame(g, exprs)   expressions evaluated in every trace frame

Every helper kills what it started, and every wait has a timeout.
"""

import contextlib
import functools
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "tests", "targets", "build")
BPFSTUB = os.environ.get("BPFSTUB", os.path.join(ROOT, "bpfstub"))
IN_CI = os.environ.get("CI", "").lower() == "true"

# Environment for gdb/lldb: no debuginfod lookups, no user configuration.
CLIENT_ENV = dict(os.environ, DEBUGINFOD_URLS="", LC_ALL="C", TERM="dumb")


class Skip(Exception):
    """Raise to skip a test; the message says why."""


def needs_bpf(fn):
    """Mark a test as needing BPF (uprobes).  It skips when BPF is unavailable;
    under CI=true run.py turns that skip into a failure."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        why = bpf_unavailable_reason()
        if why:
            raise Skip(why)
        return fn(*args, **kwargs)
    wrapper.needs_bpf = True
    return wrapper


def bpf_unavailable_reason():
    """None when this host can load BPF programs and attach uprobes, else why not."""
    cap_eff = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                cap_eff = int(line.split()[1], 16)
    CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 21, 38, 39
    if not (cap_eff >> CAP_SYS_ADMIN & 1 or
            (cap_eff >> CAP_BPF & 1 and cap_eff >> CAP_PERFMON & 1)):
        return "no CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN"
    if not os.path.exists("/sys/bus/event_source/devices/uprobe"):
        return "kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)"
    return None


def require_stub():
    """Skip (fail under CI) when ./bpfstub has not been built."""
    if not os.access(BPFSTUB, os.X_OK):
        msg = f"{BPFSTUB} not built (run make)"
        if IN_CI:
            raise AssertionError(msg)
        raise Skip(msg)


def target_path(name):
    return os.path.join(BUILD, name)


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; return it, or raise after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def src_line(rel, text):
    """The 1-based number of the first line of tests/targets/REL holding text."""
    path = os.path.join(ROOT, "tests", "targets", rel)
    with open(path) as f:
        for i, ln in enumerate(f, 1):
            if text in ln:
                return i
    raise AssertionError(f"no {text!r} in {path}")


def tail(text, n=40):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


# --------------------------------------------------------------------------
# /proc helpers


def proc_state(pid):
    """The state letter of /proc/PID/stat (R, S, T, t, Z...), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return s[s.rindex(")") + 2]


def pid_alive(pid):
    st = proc_state(pid)
    return st is not None and st not in "ZX"


def tracer_pid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


def read_mem(pid, addr, n):
    """Read n bytes of pid's memory through /proc/PID/mem (no ptrace stop)."""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(addr)
        return f.read(n)


def elf_symbols(path):
    """{name: value} of the defined symbols of an ELF file (via nm)."""
    out = subprocess.run(["nm", "--defined-only", path], capture_output=True,
                         text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms.setdefault(parts[2], int(parts[0], 16))
    return syms


def elf_is_pie(path):
    with open(path, "rb") as f:
        hdr = f.read(18)
    return struct.unpack_from("<H", hdr, 16)[0] == 3  # ET_DYN


def load_bias(pid, exe_path):
    """Where a PIE executable is loaded in pid (0 for a non-PIE one)."""
    if not elf_is_pie(exe_path):
        return 0
    real = os.path.realpath(exe_path)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == real and int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16)
    raise AssertionError(f"{real} not mapped in pid {pid}")


# --------------------------------------------------------------------------
# Targets


class Target:
    """A test program from tests/targets/build, started and killed by the test.

    with Target("counter") as t: t.pid, t.addr_of("counter"), t.read_long("counter")
    The program must print "ready <pid>[ <port>]" on stdout.
    """

    def __init__(self, name, args=(), ready_timeout=10, fixed_stack=False, prefix=()):
        self.name = name
        # prefix: a command that execs the program, e.g. setpriv to run it as another user.
        self.prefix = list(prefix)
        # fixed_stack: no ASLR (so no random gap below the stack's end) and a
        # small environment, so the main thread's stack depth is known.
        self.fixed_stack = fixed_stack
        self.path = target_path(name)
        if not os.access(self.path, os.X_OK):
            raise AssertionError(f"{self.path} missing: run make -C tests/targets")
        self.args = [str(a) for a in args]
        self.ready_timeout = ready_timeout
        self.proc = None
        self.pid = None
        self.port = None
        self._syms = None
        self._stderr = tempfile.TemporaryFile()

    def start(self):
        argv, env = [self.path, *self.args], None
        if self.fixed_stack:
            argv = ["setarch", "x86_64", "-R", *argv]
            env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        argv = [*self.prefix, *argv]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        line = _readline_timeout(self.proc.stdout, self.ready_timeout)
        m = re.match(rb"ready (\d+)(?: (\d+))?", line or b"")
        if not m:
            self.kill()
            raise AssertionError(f"{self.name}: no 'ready' line (got {line!r})")
        self.pid = int(m.group(1))
        if m.group(2):
            self.port = int(m.group(2))
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=10)
            self.proc.stdout.close()

    def alive(self):
        return self.proc.poll() is None and pid_alive(self.pid)

    def state(self):
        return proc_state(self.pid)

    def addr_of(self, symbol):
        """The run-time address of a global of the target."""
        if self._syms is None:
            self._syms = elf_symbols(self.path)
        return self._syms[symbol] + load_bias(self.pid, self.path)

    def read(self, symbol, n, offset=0):
        return read_mem(self.pid, self.addr_of(symbol) + offset, n)

    def read_long(self, symbol):
        return struct.unpack("<q", self.read(symbol, 8))[0]

    def assert_running(self, symbol="counter", wait=0.2):
        """The target is alive, not stopped, and `symbol` advances."""
        assert self.alive(), f"{self.name} (pid {self.pid}) is gone"
        a = self.read_long(symbol)
        time.sleep(wait)
        b = self.read_long(symbol)
        st = self.state()
        assert st not in ("T", "t"), f"{self.name} is stopped (state {st})"
        assert b > a, f"{self.name}: {symbol} did not advance ({a} -> {b}): not running"


def _readline_timeout(stream, timeout):
    """One line from a pipe, or None after timeout."""
    result = []
    th = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    th.start()
    th.join(timeout)
    return result[0] if result else None


# --------------------------------------------------------------------------
# Thread state sampler


class ThreadStateSampler:
    """Fails the test if any thread of pid is ever stopped ('t'/'T') or traced.

    A background thread samples /proc/PID/task/*/stat and /proc/PID/status
    about every millisecond for the whole `with` block.  Threads or the
    process vanishing mid-read are tolerated.
    """

    def __init__(self, pid, interval=0.001):
        self.pid = pid
        self.interval = interval
        self.samples = 0
        self.violations = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def finish(self):
        """Stop sampling and check (raises AssertionError on a violation)."""
        self._stop.set()
        self._thread.join(5)
        self.check()

    def __enter__(self):
        return self.start()

    def _sample(self):
        base = f"/proc/{self.pid}"
        try:
            tids = os.listdir(base + "/task")
        except (FileNotFoundError, ProcessLookupError):
            return False
        for tid in tids:
            try:
                with open(f"{base}/task/{tid}/stat") as f:
                    s = f.read()
            except (FileNotFoundError, ProcessLookupError):
                continue
            st = s[s.rindex(")") + 2]
            if st in "tT":
                self.violations.append(f"thread {tid} in state {st}")
        try:
            tp = tracer_pid(self.pid)
        except (FileNotFoundError, ProcessLookupError):
            return False
        if tp:
            self.violations.append(f"TracerPid {tp}")
        self.samples += 1
        return True

    def _run(self):
        while not self._stop.is_set():
            if not self._sample():
                return  # the process is gone: nothing more to watch
            self._stop.wait(self.interval)

    def __exit__(self, exc_type, exc, tb):
        self._stop.set()
        self._thread.join(5)
        if exc_type is None:
            self.check()

    def check(self):
        if self.violations:
            uniq = sorted(set(self.violations))
            raise AssertionError(f"pid {self.pid} was stopped or traced "
                                 f"({len(self.violations)} samples): {', '.join(uniq[:5])}")
        assert self.samples > 0, "the thread state sampler took no samples"


# --------------------------------------------------------------------------
# The stub


class Stub:
    """./bpfstub started for a test:  bpfstub [options] COMM [args...].

    Stub(["--attach", pid])                        listens on 127.0.0.1:0
    Stub(["--attach", pid], comm="unix:/x/sock")
    Stub([prog, ...], options=["--once"])          launch mode
    .port/.addr (what `target remote` takes), .stdout_lines, .stderr_text()
    Packets are logged (-v) so a failure can show the exchange.
    On exit it checks bpfstub did not die early, crash or report a sanitizer error.
    """

    def __init__(self, args=(), comm="127.0.0.1:0", options=(), verbose=True,
                 start_timeout=10, prefix=(), binary=None, env=None):
        require_stub()
        # env: bpfstub's environment; by default the test's without DEBUGINFOD_*
        # (no debuginfod servers asked unless a test starts one).
        self.env = env if env is not None else {
            k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
        # prefix: a command that execs bpfstub, e.g. setpriv to run it as another
        # user; binary: another copy of bpfstub (e.g. one with file capabilities).
        self.argv = [*prefix, binary or BPFSTUB, *(["-v"] if verbose else []),
                     *map(str, options), comm, *map(str, args)]
        self.comm = comm
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.addr = None  # "127.0.0.1:PORT" or a unix socket path
        self.stdout_lines = []
        self._cond = threading.Condition()
        self._stderr = tempfile.TemporaryFile()
        self._stdout_done = False
        self.expect_exit = False

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, env=self.env,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            line = self.wait_stdout(r"^Listening on (\S+)", self.start_timeout)
        except AssertionError:
            self.kill()
            raise AssertionError("bpfstub printed no 'Listening on' line; exit "
                                 f"{self.proc.returncode}; stderr:\n{tail(self.stderr_text())}")
        where = re.match(r"^Listening on (\S+)", line).group(1)
        if where.startswith("unix:"):
            self.addr = where[len("unix:"):]
        else:
            self.addr = where
            self.port = int(where.rsplit(":", 1)[1])
        return self

    def _read_stdout(self):
        for raw in self.proc.stdout:
            with self._cond:
                self.stdout_lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._stdout_done = True
            self._cond.notify_all()

    def wait_stdout(self, pattern, timeout=10):
        """The first stdout line matching pattern (re.search), waiting for it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.stdout_lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader_alive()):
                    raise AssertionError(f"bpfstub stdout has no line matching {pattern!r}: "
                                         f"{self.stdout_lines}")
                self._cond.wait(min(left, 0.1))

    def _reader_alive(self):
        return not self._stdout_done

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def wait_stderr(self, pattern, timeout=10):
        """The first match of pattern (re.search, multi-line) in bpfstub's stderr
        (the -v packet log), waiting for it."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.stderr_text())
            if m:
                return m
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"bpfstub stderr has nothing matching {pattern!r}")
            time.sleep(0.02)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            # SIGTERM first, so bpfstub detaches its uprobes itself: a SIGKILL
            # racing the target's own end can make the kernel leak a uprobe,
            # and a leaked one with a semaphore reference counter makes later
            # probes at that site fail ("ref_ctr_offset mismatch").
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(3)
            self.kill()
            # Attach the packet log to the failure message.
            if isinstance(exc, AssertionError):
                exc.args = (f"{exc.args[0] if exc.args else ''}\n--- bpfstub stderr "
                            f"(tail) ---\n{tail(self.stderr_text(), 60)}",)
            return False
        self.stop()

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout=10):
        """Wait for bpfstub to exit by itself; return its exit code."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"bpfstub did not exit within {timeout}s; stderr:\n"
                                 f"{tail(self.stderr_text())}")
        self.expect_exit = True
        self._check_clean(rc)
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        """End bpfstub (SIGTERM) and check it was still running and ends cleanly."""
        rc = self.proc.poll()
        if rc is not None and not self.expect_exit:
            raise AssertionError(f"bpfstub exited early with status {rc}; stderr:\n"
                                 f"{tail(self.stderr_text())}")
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("bpfstub ignored SIGTERM for 5 s")
        self._check_clean(rc, allow_sigterm=True)

    def _check_clean(self, rc, allow_sigterm=False):
        err = self.stderr_text()
        bad = [s for s in ("AddressSanitizer", "runtime error:", "LeakSanitizer")
               if s in err]
        if bad:
            raise AssertionError(f"bpfstub stderr has a sanitizer report:\n{tail(err, 60)}")
        if rc < 0 and not (allow_sigterm and rc == -signal.SIGTERM):
            raise AssertionError(f"bpfstub died from signal {-rc}; stderr:\n{tail(err)}")

    @classmethod
    def attach(cls, pid, **kw):
        return cls(["--attach", pid], **kw)


# --------------------------------------------------------------------------
# GDB


class GdbResult:
    """Output of a gdb run: .text (all), .out[i] (output of command i), .rc."""

    def __init__(self, text, cmds, rc):
        self.text = text
        self.rc = rc
        self.cmds = cmds
        self.out = _split_marked(text, len(cmds))

    def values(self):
        """The values of every `$N = value` line, in order."""
        return re.findall(r"^\$\d+ = (.*)$", self.text, re.M)

    def ints(self):
        """The integer values printed as `$N = <int>`."""
        return [int(v) for v in re.findall(r"^\$\d+ = (-?\d+)\s*$", self.text, re.M)]

    def __str__(self):
        return self.text


def _marker(i):
    return f"@@CMD{i}@@"


def _split_marked(text, n):
    """Split text at the @@CMDi@@ markers printed before each command."""
    out = []
    for i in range(n):
        start = text.find(_marker(i) + "\n")
        if start < 0:
            out.append("")
            continue
        start += len(_marker(i)) + 1
        end = text.find(_marker(i + 1) + "\n", start)
        out.append(text[start:end if end >= 0 else len(text)])
    return out


GDB_SETUP = ["set pagination off", "set confirm off", "set width 0", "set height 0"]


def gdb_batch(cmds, file=None, timeout=60, check_crash=True):
    """Run gdb -nx -batch with each command as -ex; returns a GdbResult.

    Commands are separated by echo markers so r.out[i] is command i's output
    (errors included: gdb keeps going after a failed -ex command).
    A command with newlines (e.g. actions(...) below) is written to a file
    and run with -x, since -ex takes one line only.
    """
    argv = ["gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off"]
    for c in GDB_SETUP:
        argv += ["-ex", c]
    with tempfile.TemporaryDirectory(prefix="bpfstub-gdb-") as tmp:
        for i, c in enumerate(cmds):
            argv += ["-ex", f"echo {_marker(i)}\\n"]
            if "\n" in c:
                path = os.path.join(tmp, f"cmd{i}.gdb")
                with open(path, "w") as f:
                    f.write(c + "\n")
                argv += ["-x", path]
            else:
                argv += ["-ex", c]
        argv += ["-ex", f"echo {_marker(len(cmds))}\\n"]
        if file:
            argv.append(file)
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout, env=CLIENT_ENV)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            raise AssertionError(f"gdb timed out after {timeout}s; output:\n{tail(out)}")
    text = p.stdout.decode(errors="replace")
    if check_crash and (p.returncode < 0 or "Fatal signal" in text or
                        "internal-error" in text):
        raise AssertionError(f"gdb crashed (status {p.returncode}):\n{tail(text)}")
    return GdbResult(text, cmds, p.returncode)


def _quit_gdb(proc, quit_cmd, output, what):
    """Ask a piped gdb to quit (kill it if it will not), then fail the test if
    it crashed: a negative status, "Fatal signal" or an internal error."""
    if proc.poll() is None:
        try:
            proc.stdin.write(quit_cmd)
            proc.stdin.flush()
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    text = output()
    if proc.returncode < 0 or "Fatal signal" in text or "internal-error" in text:
        raise AssertionError(f"{what} crashed (status {proc.returncode}):\n{tail(text)}")


class GdbPipe:
    """An interactive gdb reading commands from a pipe (not -batch, so its
    event loop runs and processes asynchronous stop notifications).

    with gdb_pipe(file=...) as g: out = g.cmd("print counter")
    """

    def __init__(self, file=None, timeout=30):
        argv = ["gdb", "-nx", "-q", "-iex", "set debuginfod enabled off"]
        if file:
            argv.append(file)
        self.timeout = timeout
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=CLIENT_ENV)
        self.text = ""
        self._buf = b""
        self._cond = threading.Condition()
        self._n = 0
        threading.Thread(target=self._reader, daemon=True).start()
        for c in GDB_SETUP:
            self.cmd(c)

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._buf += chunk
                self._cond.notify_all()

    def cmd(self, command, timeout=None):
        """Send one command, return its output (prompts removed)."""
        timeout = timeout or self.timeout
        mark = f"@@MARK{self._n}@@"
        self._n += 1
        with self._cond:
            start = len(self._buf)
        try:
            self.proc.stdin.write(f"{command}\necho {mark}\\n\n".encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AssertionError(f"gdb exited; output:\n{tail(self.all_output())}")
        deadline = time.monotonic() + timeout
        with self._cond:
            while (mark + "\n").encode() not in self._buf[start:]:
                left = deadline - time.monotonic()
                if left <= 0 or getattr(self, "_eof", False):
                    raise AssertionError(f"gdb: no output marker after {command!r} "
                                         f"(exit {self.proc.poll()}); output:\n"
                                         f"{tail(self.all_output())}")
                self._cond.wait(min(left, 0.1))
            seg = self._buf[start:self._buf.index((mark + "\n").encode(), start)]
        out = seg.decode(errors="replace").replace("(gdb) ", "")
        return out

    def all_output(self):
        with self._cond:
            return self._buf.decode(errors="replace")

    def close(self):
        _quit_gdb(self.proc, b"quit\n", self.all_output, "gdb")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def gdb_pipe(file=None, timeout=30):
    return GdbPipe(file=file, timeout=timeout)


def gdb_int(out):
    """The integer of a `$N = <int>` line in out (one command's output)."""
    m = re.search(r"^\$\d+ = (-?\d+)\s*$", out, re.M)
    assert m, f"no integer value in gdb output:\n{out}"
    return int(m.group(1))


# --------------------------------------------------------------------------
# LLDB


class LldbResult:
    """Output of an lldb run: .text, .out[i] (output of command i), .rc."""

    def __init__(self, text, cmds, rc):
        self.text = text
        self.rc = rc
        self.out = []
        # lldb echoes each -o command as "(lldb) <cmd>" before running it.
        pos, at = [], 0
        for c in cmds:
            p = text.find(f"(lldb) {c}\n", at)
            pos.append(p)
            if p >= 0:
                at = p + 1
        for i, p in enumerate(pos):
            if p < 0:
                self.out.append("")
                continue
            start = p + len(f"(lldb) {cmds[i]}\n")
            nxt = [q for q in pos[i + 1:] if q >= start]
            self.out.append(text[start:nxt[0] if nxt else len(text)])

    def __str__(self):
        return self.text


def lldb_batch(cmds, timeout=60):
    """lldb --no-lldbinit --batch -o c1 -o c2 ...  (stops at the first failing command)."""
    argv = ["lldb", "--no-lldbinit", "--batch"]
    for c in cmds:
        argv += ["-o", c]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, env=CLIENT_ENV)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        raise AssertionError(f"lldb timed out after {timeout}s; output:\n{tail(out)}")
    text = p.stdout.decode(errors="replace")
    if p.returncode < 0 or "PLEASE submit a bug report" in text:
        raise AssertionError(f"lldb crashed (status {p.returncode}):\n{tail(text)}")
    return LldbResult(text, cmds, p.returncode)


# --------------------------------------------------------------------------
# Raw remote-protocol client


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def frame(payload, start=b"$") -> bytes:
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    return start + payload + b"#" + b"%02x" % checksum(payload)


def escape_binary(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in b"$#}*":
            out += bytes([0x7D, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


NAK = "<NAK>"


class RspClient:
    """A tiny GDB remote-protocol client over TCP or a unix socket.

    c.request("m401000,4") -> reply payload (str, latin-1); acks are handled
    in both directions until no_ack() switches them off.
    """

    def __init__(self, addr, timeout=5):
        if addr.startswith("/"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(addr)
        else:
            host, port = addr.rsplit(":", 1)
            self.sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout)
        self.timeout = timeout
        self.ack_mode = True
        self._buf = b""
        self.log = []  # ("->" | "<-", bytes) for failure messages

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.log.append(("->", data[:200]))
        self.sock.sendall(data)

    def send(self, payload):
        self.send_raw(frame(payload))
        if self.ack_mode:
            ack = self._read_byte(self.timeout)
            if ack != b"+":
                raise AssertionError(f"expected '+' ack, got {ack!r}")

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return None
        if not chunk:
            raise EOFError("connection closed by bpfstub")
        self.log.append(("<-", chunk[:200]))
        self._buf += chunk
        return chunk

    def _read_byte(self, timeout):
        deadline = time.monotonic() + timeout
        while not self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self._fill(left) is None:
                return None
        b, self._buf = self._buf[:1], self._buf[1:]
        return b

    def recv_packet(self, timeout=None, allow_nak=False):
        """The next packet's payload (str, latin-1, '}' escapes and RLE undone),
        or None on timeout.  '+' bytes are skipped; '-' gives NAK if allowed."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            i = self._find_start()
            if i is not None:
                kind, pos = i
                if kind == b"-":
                    self._buf = self._buf[pos + 1:]
                    if allow_nak:
                        return NAK
                    raise AssertionError("bpfstub answered '-' (nak)")
                end = self._buf.find(b"#", pos)
                if end >= 0 and len(self._buf) >= end + 3:
                    body = self._buf[pos + 1:end]
                    cs = self._buf[end + 1:end + 3]
                    self._buf = self._buf[end + 3:]
                    if int(cs, 16) != checksum(body):
                        raise AssertionError(f"bad checksum from bpfstub: {body[:80]!r}#{cs!r}")
                    if self.ack_mode:
                        self.send_raw(b"+")
                    return _decode_body(body).decode("latin-1")
            left = deadline - time.monotonic()
            if left <= 0 or self._fill(left) is None:
                return None

    def _find_start(self):
        for pos, b in enumerate(self._buf):
            if b == ord("$") or b == ord("%"):
                return (b"$", pos)
            if b == ord("-"):
                return (b"-", pos)
        # everything before is '+' or noise
        self._buf = b""
        return None

    def request(self, payload, timeout=None):
        """Send a packet, return the reply payload (None on timeout)."""
        self.send(payload)
        return self.recv_packet(timeout)

    def request_all(self, payload, timeout=None):
        """For qRcmd: the O<hex> output packets then the final reply."""
        self.send(payload)
        replies = []
        while True:
            r = self.recv_packet(timeout)
            if r is None:
                raise AssertionError(f"no final reply to {payload!r}; got {replies}")
            replies.append(r)
            if not (r.startswith("O") and r != "OK"):
                return replies

    def no_ack(self):
        r = self.request("QStartNoAckMode")
        assert r == "OK", f"QStartNoAckMode -> {r!r}"
        self.ack_mode = False

    def supported(self):
        """qSupported as GDB sends it; returns {feature: value or True}."""
        r = self.request("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
                         "fork-events+;vfork-events+;exec-events+;vContSupported+;"
                         "QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386")
        feats = {}
        for f in (r or "").split(";"):
            if "=" in f:
                k, v = f.split("=", 1)
                feats[k] = v
            elif f:
                feats[f.rstrip("+-")] = f[-1] == "+"
        return feats

    def assert_closed(self, timeout=3):
        """Read until the peer closes; returns what it sent before closing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self._fill(deadline - time.monotonic()) is None:
                    break
            except EOFError:
                return self._buf
            except ConnectionResetError:
                return self._buf
        raise AssertionError(f"connection still open after {timeout}s; received "
                             f"{self._buf[:200]!r}")

    def exchange(self):
        """The raw exchange so far, for failure messages."""
        return "\n".join(f"{d} {b!r}" for d, b in self.log[-30:])


def _decode_body(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        if b == 0x7D and i + 1 < len(body):
            out.append(body[i + 1] ^ 0x20)
            i += 2
        elif b == 0x2A and out and i + 1 < len(body):
            out += bytes([out[-1]]) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def rsp_client(addr, timeout=5):
    return RspClient(addr, timeout)


def hexstr(s: str) -> str:
    return s.encode().hex()


def free_pid():
    """A pid number no process has."""
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    for pid in range(pid_max - 1, 300, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid
    raise AssertionError("no free pid")


# --------------------------------------------------------------------------
# Common test setups


@contextlib.contextmanager
def attached(target="counter", target_args=(), fixed_stack=False, **stub_kw):
    """Start a target, watch its threads, attach bpfstub: yields (target, stub).

    On the way out: bpfstub is stopped (and checked), then the sampler is
    checked, then the target is killed.
    """
    require_stub()
    with Target(target, target_args, fixed_stack=fixed_stack) as t, \
            ThreadStateSampler(t.pid), \
            Stub.attach(t.pid, **stub_kw) as stub:
        yield t, stub


def connect_when_free(addr, timeout=3):
    """A client for bpfstub once it serves a new connection (it serves one
    client at a time, so right after a disconnect it may still refuse)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        c = RspClient(addr)
        try:
            r = c.request("?", timeout=2)
            if r:
                return c
            last = f"no reply to '?'"
        except (EOFError, ConnectionError, AssertionError) as e:
            last = str(e)
        c.close()
        time.sleep(0.1)
    raise AssertionError(f"bpfstub did not serve a new client within {timeout}s: {last}")


THREAD_LINE = re.compile(r"^\*?\s+\d+\s+Thread\s.*$", re.M)


def thread_lines(info_threads_output):
    """The thread rows of gdb's `info threads`."""
    return THREAD_LINE.findall(info_threads_output)


# --------------------------------------------------------------------------
# Tracepoints (GDB CLI)


def actions(*lines):
    """The multi-line `actions ... end` command for the last tracepoint, e.g.
    actions("collect $regs", "collect calls").  gdb_batch runs it with -x;
    GdbPipe.cmd sends it as is."""
    return "\n".join(["actions", *lines, "end"])


def tracepoint_address(out):
    """The address in gdb's "Tracepoint N at 0x...": output of `trace`."""
    m = re.search(r"^Tracepoint \d+ at (0x[0-9a-f]+)", out, re.M)
    assert m, f"no 'Tracepoint N at 0x...' in:\n{out}"
    return int(m.group(1), 16)


def found_frame(out):
    """(frame, tracepoint) from gdb's "Found trace frame F, tracepoint T", else None."""
    m = re.search(r"Found trace frame (\d+), tracepoint (\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


FRAME_NOT_FOUND = re.compile(r"No trace frame found|Target failed to find requested trace frame")


class TraceStatus:
    """What gdb's `tstatus` printed:
    .running (bool), .stop (the "Trace stopped ..." line or None), .frames,
    .created (frames created in total, = .frames unless the buffer wrapped),
    .free / .size (buffer bytes), .circular, .text."""

    def __init__(self, out):
        self.text = out
        self.running = "Trace is running on the target." in out
        m = re.search(r"^(Trace stopped .*)$", out, re.M)
        self.stop = m.group(1) if m else None
        m = re.search(r"Buffer contains (\d+) trace frames? \(of (\d+) created total\)", out)
        if m:
            self.frames, self.created = int(m.group(1)), int(m.group(2))
        else:
            m = re.search(r"Collected (\d+) trace frames?", out)
            self.frames = self.created = int(m.group(1)) if m else None
        m = re.search(r"Trace buffer has (\d+) bytes of (\d+) bytes free", out)
        self.free, self.size = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        self.circular = "Trace buffer is circular." in out

    def __str__(self):
        return self.text


def tracepoint_hits(info_tracepoints_out):
    """{tracepoint number: hits} from `info tracepoints` (after a tstatus,
    which is when gdb asks the target for the hit counts with qTP)."""
    hits = {}
    num = None
    for line in info_tracepoints_out.splitlines():
        m = re.match(r"^(\d+)\s+tracepoint\s", line)
        if m:
            num = int(m.group(1))
            hits.setdefault(num, 0)
            continue
        m = re.match(r"^\s+tracepoint already hit (\d+) times?", line)
        if m and num is not None:
            hits[num] = int(m.group(1))
    return hits


def go_runtime_gdb():
    """Go's runtime-gdb.py (what GDB auto-loads for a Go program when the safe-path allows)."""
    root = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True,
                          env={**os.environ, "HOME": tempfile.gettempdir()}).stdout.strip()
    path = os.path.join(root, "src/runtime/runtime-gdb.py")
    assert os.path.exists(path), f"no {path}"
    return path


def gdb_connect(g, stub):
    """`target remote` in a GdbPipe; returns its output."""
    out = g.cmd(f"target remote {stub.addr}", timeout=60)
    assert "Remote debugging using" in out and "failed" not in out.lower(), out
    return out


def gdb_monitor(g, line):
    """`monitor LINE` in gdb; fails on bpfstub's "monitor: ..." error reply."""
    out = g.cmd(f"monitor {line}")
    assert not re.search(r"^monitor: ", out, re.M), f"monitor {line}:\n{out}"
    return out


def gdb_tstatus(g):
    return TraceStatus(g.cmd("tstatus"))


def gdb_hits(g):
    """{tp: hits}: tstatus makes gdb fetch the counts (qTP), info tracepoints shows them."""
    g.cmd("tstatus")
    return tracepoint_hits(g.cmd("info tracepoints"))


def gdb_print_int(g, expr):
    return gdb_int(g.cmd(f"print {expr}"))


def gdb_tstart(g):
    """tstart, which must succeed; returns its output."""
    out = g.cmd("tstart")
    assert not re.search(r"error|not support|warning", out, re.I), f"tstart failed:\n{out}"
    return out


def gdb_wait_frames(g, n, timeout=10):
    """Wait until the running trace has created at least n frames; returns the status."""
    def enough():
        st = gdb_tstatus(g)
        assert st.running, f"the trace stopped while waiting for {n} frames:\n{st}"
        return st if (st.created or 0) >= n else None
    return wait_until(enough, timeout, interval=0.05, what=f"{n} trace frames")


def gdb_trace_regs(g, stub, *wheres, frames=4):
    """Connect, `trace W` + `collect $regs` for each W, tstart, wait for
    frames frames, tstop (deep collection adds what the arguments point to)."""
    gdb_connect(g, stub)
    for w in wheres:
        out = g.cmd(f"trace {w}")
        assert re.search(r"Tracepoint \d+ at", out), out
        g.cmd(actions("collect $regs"))
    gdb_tstart(g)
    gdb_wait_frames(g, frames)
    g.cmd("tstop")


def gdb_wait_trace_stopped(g, timeout=10):
    """Wait until the trace is no longer running (it stopped by itself); the status."""
    def stopped():
        st = gdb_tstatus(g)
        return st if not st.running else None
    return wait_until(stopped, timeout, interval=0.05, what="the trace to stop by itself")


def gdb_tfind(g, what):
    """`tfind WHAT`, which must find a frame: (frame, tracepoint)."""
    out = g.cmd(f"tfind {what}")
    f = found_frame(out)
    assert f, f"tfind {what} found no frame:\n{out}"
    return f


def assert_consecutive(values, what):
    bad = [(a, b) for a, b in zip(values, values[1:]) if b != a + 1]
    assert not bad, (f"{what} are not consecutive (frames missing or out of order): "
                     f"{bad[:5]} in {values[:40]}")


def gdb_values_by_frame(g, exprs):
    """Walk every trace frame from the first (gdb's `while` loop, one command)
    and evaluate exprs in each: [(frame, tracepoint, [int values])].
    g is a GdbPipe; the frame selection is `tfind none` afterwards.  Every
    expression must be available in every frame (else gdb's loop stops)."""
    fmt = " ".join(["%ld"] * (2 + len(exprs)))
    args = ", ".join(["$trace_frame", "$tracepoint", *exprs])
    g.cmd("tfind none")  # $trace_frame = -1 even if there is no frame at all
    out = g.cmd("\n".join(["tfind start",
                           "while ($trace_frame != -1)",
                           f'printf "@@F {fmt}\\n", {args}',
                           "tfind",
                           "end"]), timeout=60)
    rows = []
    for line in out.splitlines():
        m = re.search(r"@@F (-?\d+(?: -?\d+)*)\s*$", line)  # after any " >" prompts
        if m:
            vals = [int(v) for v in m.group(1).split()]
            rows.append((vals[0], vals[1], vals[2:]))
    g.cmd("tfind none")
    return rows


def elf_file_bytes(path, vaddr, n):
    """n bytes of an ELF file at link-time virtual address vaddr (via the
    PT_LOAD program headers): what the code looked like before anyone patched it."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= vaddr and vaddr + n <= p_vaddr + p_filesz:
            off = p_offset + vaddr - p_vaddr
            return data[off:off + n]
    raise AssertionError(f"{path}: no PT_LOAD segment holds {vaddr:#x}")


# --------------------------------------------------------------------------
# GDB/MI


def mi_parse_results(text):
    """Parse an MI result list `a="x",b={c="y"},d=[...]` into a dict (lists of
    results become lists of single-key dicts, as they can repeat keys)."""
    return _MiParser(text).results(end="")


class _MiParser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def _peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def _expect(self, ch):
        if self._peek() != ch:
            raise ValueError(f"MI: expected {ch!r} at {self.i} in {self.s[:200]!r}")
        self.i += 1

    def results(self, end):
        d = {}
        while self._peek() not in (end, ""):
            k, v = self.result()
            d[k] = v
            if self._peek() == ",":
                self.i += 1
        return d

    def result(self):
        j = self.s.index("=", self.i)
        k = self.s[self.i:j]
        self.i = j + 1
        return k, self.value()

    def value(self):
        c = self._peek()
        if c == '"':
            return self.cstring()
        if c == "{":
            self.i += 1
            if self._peek() in ('"', "{", "["):
                # gdb's own extension: a tuple of bare values, e.g.
                # script={"collect calls","collect $regs"}: give a list.
                items = []
                while self._peek() not in ("}", ""):
                    items.append(self.value())
                    if self._peek() == ",":
                        self.i += 1
                self._expect("}")
                return items
            d = self.results("}")
            self._expect("}")
            return d
        if c == "[":
            self.i += 1
            items = []
            while self._peek() not in ("]", ""):
                if self._peek() in '"{[':
                    items.append(self.value())
                else:
                    k, v = self.result()
                    items.append({k: v})
                if self._peek() == ",":
                    self.i += 1
            self._expect("]")
            return items
        raise ValueError(f"MI: bad value at {self.i} in {self.s[:200]!r}")

    def cstring(self):
        self._expect('"')
        out = []
        while True:
            c = self.s[self.i]
            self.i += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                e = self.s[self.i]
                self.i += 1
                if e in "01234567":
                    j = self.i - 1
                    while self.i < j + 3 and self.s[self.i] in "01234567":
                        self.i += 1
                    out.append(chr(int(self.s[j:self.i], 8)))
                else:
                    out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(e, e))
            else:
                out.append(c)


class MiRecord:
    """One MI result: .cls ("done", "error", "connected", "running", "exit"),
    .results (dict), .oob (the async/stream records printed before it), .line."""

    def __init__(self, cls, results, oob, line):
        self.cls, self.results, self.oob, self.line = cls, results, oob, line

    def console(self):
        """The console and log stream text (~"..." and &"...") before the result."""
        out = []
        for r in self.oob:
            if r[:1] in ("~", "&", "@"):
                out.append(_MiParser(r[1:]).cstring())
        return "".join(out)

    def __str__(self):
        return "\n".join([*self.oob, self.line])


class GdbMI:
    """gdb --interpreter=mi2 (or interp="mi", MIEngine's) driven through a
    pipe, as an IDE does.

    with GdbMI(file=...) as mi: r = mi.cmd("-trace-status"); r.results["running"]
    Each command gets a numeric token, and cmd() returns the result record with
    that token (oob records before it in .oob).  .log has everything read.
    """

    def __init__(self, file=None, timeout=30, interp="mi2"):
        argv = ["gdb", "-nx", "-q", f"--interpreter={interp}", "-iex",
                "set debuginfod enabled off"]
        if file:
            argv.append(file)
        self.timeout = timeout
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=CLIENT_ENV)
        self.lines = []
        self._cond = threading.Condition()
        self._eof = False
        self._token = 100
        self._pos = 0
        threading.Thread(target=self._reader, daemon=True).start()
        for c in ("-gdb-set confirm off", "-gdb-set pagination off", "-gdb-set width 0",
                  "-gdb-set height 0"):
            self.cmd(c)

    def _reader(self):
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def cmd(self, command, timeout=None):
        timeout = timeout or self.timeout
        self._token += 1
        tok = str(self._token)
        try:
            self.proc.stdin.write(f"{tok}{command}\n".encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AssertionError(f"gdb/mi exited; output:\n{self.log()}")
        rx = re.compile(r"^" + tok + r"\^(done|error|connected|running|exit)(?:,(.*))?$")
        deadline = time.monotonic() + timeout
        oob = []
        with self._cond:
            while True:
                while self._pos < len(self.lines):
                    line = self.lines[self._pos]
                    self._pos += 1
                    m = rx.match(line)
                    if m:
                        return MiRecord(m.group(1), mi_parse_results(m.group(2) or ""), oob,
                                        line)
                    if line.strip() != "(gdb)":
                        oob.append(line)
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(f"gdb/mi: no result for {command!r} (exit "
                                         f"{self.proc.poll()}); output:\n{self.log()}")
                self._cond.wait(min(left, 0.1))

    def log(self, n=60):
        with self._cond:
            return "\n".join(self.lines[-n:])

    def close(self):
        _quit_gdb(self.proc, b"-gdb-exit\n", lambda: self.log(10**6), "gdb/mi")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
