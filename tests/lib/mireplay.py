"""Replay an IDE's GDB/MI command flow (shared/docs/ide-flows.md §6.1).

    with MiReplay(interp="mi2") as mi:
        mi.step("-gdb-set mi-async on")                       # expects ^done
        mi.step("-target-select remote ADDR", "connected")
        mi.expect_async("*stopped")                           # since that command
        mi.step("-exec-continue", "error", r"Command aborted")
    mi.check()   # after the with: every mismatch at once, with the transcript

A step whose class (or message regex) differs is recorded and the replay goes
on, so one transcript shows every failure.  check() also fails unless GDB
exited by -gdb-exit with status 0 (a crash such as tsave's segfault shows).
Invariants on the target and stub: ThreadStateSampler (harness) around the
session, refused_writes(stub) here.
"""

import re
import time

from harness import GdbMI, mi_parse_results, tail


class MiReplay(GdbMI):
    def __init__(self, file=None, interp="mi2", timeout=15):
        super().__init__(file=file, timeout=timeout, interp=interp)
        self.failures = []
        self.transcript = []
        self._since = 0

    def step(self, command, cls="done", msg=None, timeout=None):
        """Send command; expect ^cls (and msg, a regex on the error message)."""
        with self._cond:
            self._since = len(self.lines)
        try:
            r = self.cmd(command, timeout)
        except AssertionError:
            self.failures.append(f"{command!r}: no result within {timeout or self.timeout}s")
            return None
        self.transcript.append(f"{command}  ->  {r.line[:300]}")
        got = r.results.get("msg", "") if isinstance(r.results, dict) else ""
        if r.cls != cls or (msg and not re.search(msg, got)):
            self.failures.append(f"{command!r}: expected ^{cls}" +
                                 (f" /{msg}/" if msg else "") + f", got {r.line[:300]}")
        return r

    def expect_async(self, prefix, timeout=2.0, where=None):
        """The first record starting with prefix since the last step's command
        was sent (it may come before or after the result), waiting up to
        timeout; its results as a dict, or None (recorded as a failure).
        where: an optional predicate on the parsed results."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[self._since:]:
                    if line.startswith(prefix):
                        body = line[len(prefix):].lstrip(",")
                        try:
                            res = mi_parse_results(body)
                        except ValueError:
                            res = {}
                        if where is None or where(res):
                            return res
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    self.failures.append(f"no {prefix} record within {timeout}s after "
                                         f"{self.transcript[-1] if self.transcript else '?'}")
                    return None
                self._cond.wait(min(left, 0.05))

    def no_async(self, prefix, wait=0.5):
        """No record starting with prefix arrives within wait seconds."""
        time.sleep(wait)
        with self._cond:
            for line in self.lines[self._since:]:
                if line.startswith(prefix):
                    self.failures.append(f"unexpected {line[:200]} after "
                                         f"{self.transcript[-1] if self.transcript else '?'}")
                    return

    def check_that(self, cond, what):
        if not cond:
            self.failures.append(what)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return super().__exit__(exc_type, exc, tb)
        self.close()  # -gdb-exit; fails on a crash
        if self.proc.returncode != 0:
            self.failures.append(f"gdb exited with status {self.proc.returncode}")
        return False

    def check(self):
        if self.failures:
            raise AssertionError("MI replay mismatches:\n  " + "\n  ".join(self.failures) +
                                 "\n--- transcript ---\n" + "\n".join(self.transcript) +
                                 "\n--- gdb output (tail) ---\n" + tail(self.log(10**6), 50))


_PKT = re.compile(r"^bpfstub: (<-|->) (.*)$", re.M)


def refused_writes(stub):
    """Every memory write (M, X with data) in the stub's packet log, with its
    reply: a list of (packet, reply) whose reply was not an error."""
    accepted = []
    pkts = _PKT.findall(stub.stderr_text())
    for i, (d, p) in enumerate(pkts):
        if d != "<-":
            continue
        m = re.match(r"^([MX])[0-9a-f]+,([0-9a-f]+)[:,]", p)
        if not m or int(m.group(2), 16) == 0:
            continue
        reply = next((q for dd, q in pkts[i + 1:] if dd == "->"), "")
        if not reply.startswith("E"):
            accepted.append((p, reply))
    return accepted


def stub_saw(stub, rx):
    """The packets the stub received that match regex rx, with their replies."""
    out = []
    pkts = _PKT.findall(stub.stderr_text())
    for i, (d, p) in enumerate(pkts):
        if d == "<-" and re.search(rx, p):
            out.append((p, next((q for dd, q in pkts[i + 1:] if dd == "->"), None)))
    return out
