"""The differential suite's machinery: one GDB session run twice, against
gdbserver (the reference) and against bpfstub, each attached to its own copy
of a deterministic target started with ASLR off; the outputs are normalised
and compared.

    s = Session("name", target="diffprog", before=[...], after=[...])
    compare(s, normalisations)   # raises AssertionError with a unified diff
    compare(s, normalisations, bpfstub_setup=["monitor set ..."])
    compare(s, normalisations, more=MORE)   # where bpfstub may show more (below)

A session has three phases, run identically against both servers:
  before   commands after `target remote` (trace, actions, tstart...): compared
  run      not compared: `continue &`, the target is released (a line on its
           stdin, or s.release(target) for a server target), the harness waits
           until it says "done" (or release returns), then `interrupt` and the
           wait for GDB to see the stop
  after    commands on the collected frames (tstop, tstatus, tfind...): compared
Each command's output is printed under a "(gdb) command" header.  Only the
bpfstub run is watched with ThreadStateSampler (gdbserver stops by design).
bpfstub_setup: commands run against bpfstub alone, right after `target
remote`, and not compared (its settings: `monitor set ...`).

more: where bpfstub may show more than gdbserver, by design (a relation, not
a rewrite: it is asymmetric, so it cannot be a normalisation applied to both
transcripts).  Rows (name, kind, pattern, reason), kinds:
  "value"  a bpfstub line may differ from gdbserver's only where gdbserver's
           has the pattern (e.g. <unavailable>): each match is a wildcard,
           every other character of the line must be the same
  "line"   a bpfstub line matching the pattern may stand where gdbserver
           printed nothing
Never the other way round: gdbserver showing something bpfstub does not is
a difference, and so is any other text.
"""

import difflib
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import (BUILD, IN_CI, GdbPipe, Skip, Stub, ThreadStateSampler, _readline_timeout,
                     require_stub, tail, wait_until)

# The same environment for both copies of a target, so stacks match.
TARGET_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


class DiffTarget:
    """tests/targets/build/<name> under `setarch -R` with a fixed environment
    and cwd; it prints "ready <pid>[ <port>]" then waits for a line on stdin."""

    def __init__(self, name, args=()):
        self.name = name
        self.path = os.path.join(BUILD, name)
        if not os.access(self.path, os.X_OK):
            raise AssertionError(f"{self.path} missing: run make -C tests/targets")
        self.args = [str(a) for a in args]
        self.proc = self.pid = self.port = None
        self._stderr = tempfile.TemporaryFile()

    def __enter__(self):
        self.proc = subprocess.Popen(["setarch", "x86_64", "-R", self.path, *self.args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=TARGET_ENV, cwd=BUILD,
                                     process_group=0)
        line = _readline_timeout(self.proc.stdout, 10)
        m = re.match(rb"ready (\d+)(?: (\d+))?", line or b"")
        if not m:
            self.kill()
            raise AssertionError(f"{self.name}: no 'ready' line (got {line!r})")
        self.pid = int(m.group(1))
        self.port = int(m.group(2)) if m.group(2) else None
        return self

    def __exit__(self, *exc):
        self.kill()

    def release(self):
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def wait_done(self, timeout=10):
        line = _readline_timeout(self.proc.stdout, timeout)
        if not line or not line.startswith(b"done"):
            raise AssertionError(f"{self.name}: no 'done' line within {timeout}s "
                                 f"(got {line!r})")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(10)


class GdbServer:
    """gdbserver --once --attach 127.0.0.1:0 PID (the reference)."""

    def __init__(self, pid):
        self.pid = pid
        self.out = tempfile.TemporaryFile()
        self.proc = None
        self.addr = None

    def __enter__(self):
        self.proc = subprocess.Popen(["gdbserver", "--once", "--attach", "127.0.0.1:0",
                                      str(self.pid)], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT)

        def port():
            self.out.seek(0)
            m = re.search(rb"Listening on port (\d+)", self.out.read())
            if self.proc.poll() is not None:
                raise AssertionError("gdbserver exited at start")
            return m and int(m.group(1))
        self.addr = f"127.0.0.1:{wait_until(port, 10, what='gdbserver to listen')}"
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class Session:
    """One differential session (see the module docstring).

    release: None for a stdin-released target that prints "done" when its
    calls are over; else a function(DiffTarget) that drives the target and
    returns once every hit has happened (e.g. HTTP requests).
    """

    def __init__(self, name, target="diffprog", args=(), before=(), after=(), release=None):
        self.name = name
        self.target = target
        self.args = args
        self.before = list(before)
        self.after = list(after)
        self.release = release


STOPPED_RX = re.compile(r"received signal|Program stopped|stopped\.")


def _wait_stopped(g, since, timeout=10):
    wait_until(lambda: STOPPED_RX.search(g.all_output()[since:]), timeout,
               what="gdb to report the interrupted target stopped")


def _run_cmds(g, cmds, log):
    for c in cmds:
        out = g.cmd(c, timeout=60)
        log.append(f"(gdb) {c}\n{out.rstrip()}")


def require_gdbserver():
    """Skip (fail under CI) when gdbserver, the reference, is not installed."""
    if not shutil.which("gdbserver"):
        if IN_CI:
            raise AssertionError("gdbserver not installed (scripts/install-deps)")
        raise Skip("gdbserver not installed: the differential suite needs it")


def run_one(session, kind, setup=()):
    """Run session against kind ("gdbserver" or "bpfstub"): the raw transcript.

    The recipe that works for both: `continue &` in an interactive GDB (its
    event loop runs), the release, `interrupt` (gdbserver sends SIGINT to the
    target's process group, hence process_group=0 in DiffTarget; bpfstub
    already answered the resume with a stop and stops nothing), then the
    session."""
    log = []
    with DiffTarget(session.target, session.args) as t:
        if kind == "gdbserver":
            server = GdbServer(t.pid)
            sampler = None
        else:
            require_stub()
            server = Stub.attach(t.pid)
            sampler = ThreadStateSampler(t.pid)
        with server:
            if sampler:
                sampler.start()
            try:
                with GdbPipe(file=t.path) as g:
                    out = g.cmd(f"target remote {server.addr}", timeout=60)
                    assert "Remote debugging using" in out, f"{kind}: connect failed:\n{out}"
                    for c in setup:
                        out = g.cmd(c)
                        assert "monitor:" not in out, f"{kind}: {c}:\n{out}"
                    _run_cmds(g, session.before, log)
                    since = len(g.all_output())
                    out = g.cmd("continue &")
                    assert "Continuing." in out, f"{kind}: continue & failed:\n{out}"
                    if session.release:
                        session.release(t)
                    else:
                        t.release()
                        t.wait_done()
                    time.sleep(0.15)  # bpfstub drains its ring every 50 ms
                    # bpfstub answers an all-stop resume at once with a SIGINT
                    # stop (docs/PROTOCOL.md, "IDEs"): nothing left to interrupt.
                    if not STOPPED_RX.search(g.all_output()[since:]):
                        since = len(g.all_output())
                        g.cmd("interrupt")
                    _wait_stopped(g, since)
                    g.cmd("echo")  # the rest of the stop report lands here
                    _run_cmds(g, session.after, log)
                    g.cmd("detach")
            except AssertionError as e:
                if kind == "bpfstub":
                    e.args = (f"{e.args[0]}\n--- bpfstub stderr (tail) ---\n"
                              f"{tail(server.stderr_text(), 40)}",)
                raise
            finally:
                if sampler:
                    sampler.finish()
    return "\n".join(log) + "\n"


def normalise(text, table):
    """Apply the table's (name, pattern, replacement, reason) rows in order."""
    for _name, pattern, repl, _reason in table:
        text = re.sub(pattern, repl, text, flags=re.M)
    return text


def _value_rx(ref_line, rows):
    """ref_line as a regex in which each match of a "value" row's pattern is a
    wildcard (some text) and the rest is literal; None if there is none."""
    pats = [pat for _n, kind, pat, _r in rows if kind == "value"]
    if not pats:
        return None
    any_pat = re.compile("|".join(f"(?:{p})" for p in pats))
    parts, last, n = [], 0, 0
    for m in any_pat.finditer(ref_line):
        parts += [re.escape(ref_line[last:m.start()]), r"(.+?)"]
        last = m.end()
        n += 1
    if not n:
        return None
    return re.compile("".join(parts) + re.escape(ref_line[last:]) + r"\Z")


def accept_more(ref, got, rows):
    """got with every line where bpfstub shows more than gdbserver, as rows
    allow (see the module docstring), put back as gdbserver printed it (or
    dropped, for a "line" row).  What rows do not allow is left as it is,
    so the comparison after it fails with the difference."""
    if not rows:
        return got
    extra = [re.compile(pat) for _n, kind, pat, _r in rows if kind == "line"]
    ref_l, got_l = ref.splitlines(True), got.splitlines(True)
    out = []

    def is_extra(line):
        return any(x.search(line.rstrip("\n")) for x in extra)

    def relates(r, g):
        if r == g:
            return True
        rx = _value_rx(r.rstrip("\n"), rows)
        return bool(rx and rx.match(g.rstrip("\n")))

    sm = difflib.SequenceMatcher(None, ref_l, got_l, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal" or op == "delete":
            out += got_l[j1:j2]
            continue
        # insert or replace: walk both sides, taking what the rows allow.
        i, j, block = i1, j1, []
        while j < j2:
            if i < i2 and relates(ref_l[i], got_l[j]):
                block.append(ref_l[i])
                i, j = i + 1, j + 1
            elif is_extra(got_l[j]):
                j += 1
            else:
                break
        # Accepted only whole: every line on both sides accounted for.
        out += block if (i, j) == (i2, j2) else got_l[j1:j2]
    return "".join(out)


def compare(session, table, check=None, bpfstub_setup=(), more=()):
    """Run session against gdbserver and bpfstub; their normalised transcripts
    must be equal (else AssertionError with a unified diff), but for where
    bpfstub shows more as the rows of more allow (accept_more).  check(text),
    if given, asserts facts on the normalised transcript (the same for both),
    so a session that prints nothing useful on both sides still fails.
    Returns the normalised transcript."""
    require_gdbserver()
    ref = normalise(run_one(session, "gdbserver"), table)
    got = accept_more(ref, normalise(run_one(session, "bpfstub", bpfstub_setup), table), more)
    if ref != got:
        diff = "".join(difflib.unified_diff(ref.splitlines(True), got.splitlines(True),
                                            "gdbserver", "bpfstub", n=3))
        raise AssertionError(f"session {session.name}: bpfstub differs from gdbserver "
                             f"(after normalisation):\n{diff}")
    if check:
        check(ref)
    return ref
