#!/usr/bin/env python3
"""Function lookup by name on a large debug file (make bench).

`monitor trace clock_nanosleep` against tests/targets/build/deep_c-O0, a
process using libc: the first use opens libc.so.6, its separate debug file
(Debian's libc6-dbg, by build-id), reads the ELF symbol tables of both,
walks every DWARF unit for the name (it is __clock_nanosleep in the DWARF:
the symbol gives the alias), the after-prologue pc and the scope there.
Also the second use (everything cached), `monitor trace -return
clock_nanosleep` after it, and the first `monitor trace process` on
deep_c-split (split DWARF: the .dwo read and rebuilt for libdw) and on
deep_c-O0 (DWARF in the file).  A name is looked up in every file the
process maps, so every first use includes libc's symbols and DWARF.  Each
first use gets a fresh bpfstub.  Times are the wall time of the monitor
reply, in ms: median (min-max) of RUNS runs.
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))

from harness import RspClient, Stub, Target  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))


def monitor(c, line):
    t0 = time.monotonic()
    out = c.request_all("qRcmd," + line.encode().hex(), timeout=120)
    dt = time.monotonic() - t0
    text = "".join(bytes.fromhex(p[1:]).decode() for p in out if p.startswith("O") and p != "OK")
    if out[-1] != "OK" or "monitor:" in text:
        raise SystemExit(f"monitor {line}: {text} {out[-1]}")
    return dt * 1000


def session(target, lines):
    with Target(target) as t, Stub(["--attach", t.pid], verbose=False) as s:
        c = RspClient(s.addr, timeout=120)
        c.supported()
        c.no_ack()
        res = [monitor(c, ln) for ln in lines]
        c.request("D")
        c.close()
        return res


def fmt(v):
    return f"{statistics.median(v):7.1f} ({min(v):.1f}-{max(v):.1f})"


def main():
    libc = [session("deep_c-O0", ["trace clock_nanosleep", "trace clock_nanosleep",
                                  "trace -return clock_nanosleep"]) for _ in range(RUNS)]
    split = [session("deep_c-split", ["trace process"]) for _ in range(RUNS)]
    plain = [session("deep_c-O0", ["trace process"]) for _ in range(RUNS)]
    print(f"{'lookup':<50} {'ms: median (min-max)':>24}")
    print(f"{'trace clock_nanosleep, first use (libc + debug file)':<50} "
          f"{fmt([r[0] for r in libc]):>24}")
    print(f"{'trace clock_nanosleep, again':<50} {fmt([r[1] for r in libc]):>24}")
    print(f"{'trace -return clock_nanosleep, after':<50} {fmt([r[2] for r in libc]):>24}")
    print(f"{'trace process, first use (split DWARF .dwo)':<50} "
          f"{fmt([r[0] for r in split]):>24}")
    print(f"{'trace process, first use (DWARF in the file)':<50} "
          f"{fmt([r[0] for r in plain]):>24}")


if __name__ == "__main__":
    main()
