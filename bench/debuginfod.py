#!/usr/bin/env python3
"""First use of a stripped file's DWARF through debuginfod (make bench).

What `monitor trace FUNC` costs the first time bpfstub needs a file's
DWARF: the reply's wall time, measured by a raw remote-protocol client,
for a program whose DWARF is

  local   in the file itself (the baseline: open + index),
  cold    only on a debuginfod server (Debian's /usr/bin/debuginfod on
          127.0.0.1, a fresh DEBUGINFOD_CACHE_PATH: the download),
  warm    in libdebuginfod's cache from an earlier bpfstub (no server
          contacted).

Programs: tests/targets/build/deep_c-O2 (process, a 9 KiB debug file),
manyfn (fn500; 1,000 functions) and the Go test server built again with a
GNU build-id (`go build -ldflags=-B=0x<40 hex digits>`: Go writes none by
default, and debuginfod finds files by it; main.handleGreet, a 2 MB debug
file).  Each figure is the median of N runs
(argv[1], default 5), a new bpfstub each time.  Prints a Markdown table.
"""
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from harness import RspClient, Stub, Target, hexstr, target_path  # noqa: E402
from test_debuginfod import debuginfod, split_debug, stub_env  # noqa: E402


def monitor(c, line):
    replies = c.request_all("qRcmd," + hexstr(line), timeout=120)
    return "".join(bytes.fromhex(r[1:]).decode() for r in replies
                   if r.startswith("O") and r != "OK")


def trace_ms(prog, func, env):
    """With a new bpfstub: the wall time of `monitor trace FUNC`'s reply and
    of the debuginfod query in it (bpfstub's own figure in monitor status,
    0 without one), in ms."""
    with Target(prog) as t, Stub(["--attach", t.pid], env=env, verbose=False) as s:
        c = RspClient(s.addr, timeout=120)
        c.supported()
        c.no_ack()
        t0 = time.monotonic()
        text = monitor(c, f"trace {func}")
        dt = (time.monotonic() - t0) * 1000
        if "tracepoint 1 at" not in text:
            raise SystemExit(f"monitor trace {func} on {prog}: {text!r}")
        m = re.search(rf"^  {re.escape(prog)} \(build-id [0-9a-f]+\): found .*\(\d+ KiB, "
                      r"(\d+) ms\)", monitor(c, "status"), re.M)
        c.close()
        return dt, int(m.group(1)) if m else 0


def go_with_build_id(tmp):
    """tests/targets/goserver built into tmp with a GNU build-id."""
    b = os.path.realpath(os.path.join(HERE, "..", "tests", "targets", "build"))
    os.makedirs(os.path.join(tmp, "go"))
    out = os.path.join(tmp, "go", "goserver-bid")
    env = dict(os.environ, HOME=b, GOPATH=f"{b}/gopath", GOCACHE=f"{b}/gocache",
               GO111MODULE="off", GOFLAGS="")
    subprocess.run(["go", "build", f"-ldflags=-B=0x{os.urandom(20).hex()}", "-o", out, "."],
                   cwd=os.path.join(HERE, "..", "tests", "targets", "goserver"), env=env,
                   check=True)
    return out


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not shutil.which("debuginfod"):
        raise SystemExit("debuginfod is not installed (scripts/install-deps.sh)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for src, func in (("deep_c-O2", "process"), ("manyfn", "fn500"),
                          (go_with_build_id(tmp), "main.handleGreet")):
            name = os.path.basename(src)
            prog, srv, bid = split_debug(tmp, src=src, name=name)
            size = os.path.getsize(os.path.join(srv, name + ".debug"))
            local_env = stub_env(None, os.path.join(tmp, "unused"))
            local = [trace_ms(target_path(src), func, local_env)[0] for _ in range(runs)]
            with debuginfod(tmp, srv, bid) as url:
                cold, warm = [], []
                for i in range(runs):
                    cache = os.path.join(tmp, f"cache-{name}-{i}")
                    env = stub_env(url, cache)
                    cold.append(trace_ms(prog, func, env))
                    warm.append(trace_ms(prog, func, env))
            med = statistics.median
            rows.append((name, func, size, med(local), med(c[0] for c in cold),
                         med(c[1] for c in cold), med(w[0] for w in warm),
                         med(w[1] for w in warm)))
    print("| program | `monitor trace` | debug file | DWARF in the file: reply | "
          "cold cache: reply (query) | warm cache: reply (query) |")
    print("|---|---|---:|---:|---:|---:|")
    for src, func, size, lo, co, coq, wa, waq in rows:
        print(f"| {src} | {func} | {size / 1024:.0f} KiB | {lo:.0f} ms | {co:.0f} ms "
              f"({coq:.0f} ms) | {wa:.0f} ms ({waq:.0f} ms) |")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
