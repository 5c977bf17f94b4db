#!/usr/bin/env python3
"""Many tracepoints: how long define, tstart and tstop take (make bench).

For 10, 100 and 1,000 tracepoints (argv overrides) on the functions of
tests/targets/build/manyfn (fn000..fn999, each called 20 times a second),
a raw remote-protocol client times bpfstub's replies to what GDB sends:
the QTDP packets of every tracepoint (`trace fnNNN` + `collect $regs`),
QTStart, QTStop after 0.5 s, QTStart again at once (while the first
run's uprobes may still be on their way out), QTDisable of one location
and `monitor tdelete 1` during that run (the first tracepoint: every later
location is attached again in its new slot), QTStop, and the detach (D).  Each line: the wall time of the replies, in ms; define
is the sum over all QTDP packets.  GDB's remote timeout is 2 s; the goal
is every reply under 0.5 s.
"""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))

from harness import RspClient, Stub, Target, elf_symbols  # noqa: E402


def timed(c, payload, timeout=600):
    t0 = time.monotonic()
    r = c.request(payload, timeout=timeout)
    dt = time.monotonic() - t0
    if r is None:
        raise SystemExit(f"no reply to {payload[:40]!r} in {timeout} s")
    return r, dt


def run(n, syms):
    with Target("manyfn") as t, Stub(["--attach", t.pid], verbose=False) as s:
        c = RspClient(s.addr, timeout=600)
        c.supported()
        c.no_ack()
        r, _ = timed(c, "QTinit")
        define = 0.0
        worst = 0.0
        for i in range(n):
            addr = syms[f"fn{i:03d}"]
            num = i + 1
            for p in (f"QTDP:{num:x}:{addr:x}:E:0:0-", f"QTDP:-{num:x}:{addr:x}:R1ffff"):
                r, dt = timed(c, p)
                if r != "OK":
                    raise SystemExit(f"{p}: {r}")
                define += dt
                worst = max(worst, dt)
        res = {"define": define, "define_worst": worst}
        for rnd in ("", "2"):
            r, res["start" + rnd] = timed(c, "QTStart")
            if r != "OK":
                raise SystemExit(f"QTStart: {r}")
            time.sleep(0.5)
            if rnd:
                # during the second run: disable one location, and delete the
                # first tracepoint (every later location moves to a new slot)
                r, res["disable"] = timed(c, f"QTDisable:1:{syms['fn000']:x}")
                if r != "OK":
                    raise SystemExit(f"QTDisable: {r}")
                t0 = time.monotonic()
                out = c.request_all("qRcmd," + b"tdelete 1".hex(), timeout=600)
                res["tdelete"] = time.monotonic() - t0
                if out[-1] != "OK":
                    raise SystemExit(f"monitor tdelete 1: {out}")
            r, res["stop" + rnd] = timed(c, "QTStop")
            if r != "OK":
                raise SystemExit(f"QTStop: {r}")
        r, _ = timed(c, "qTStatus")
        res["status"] = r
        r, res["detach"] = timed(c, "D")
        c.close()
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        s.proc.wait(600)
        res["exit"] = time.monotonic() - t0
        s.expect_exit = True
        return res


def main():
    counts = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    path = os.path.join(HERE, "..", "tests", "targets", "build", "manyfn")
    syms = elf_symbols(path)
    print(f"{'tracepoints':>11} {'define':>9} {'(worst)':>8} {'tstart':>9} {'tstop':>9} "
          f"{'tstart2':>9} {'disable':>8} {'tdelete':>8} {'tstop2':>9} {'detach':>8} {'exit':>8}"
          "   (ms)")
    for n in counts:
        r = run(n, syms)
        ms = {k: v * 1000 for k, v in r.items() if k != "status"}
        print(f"{n:>11} {ms['define']:>9.1f} {ms['define_worst']:>8.2f} {ms['start']:>9.1f} "
              f"{ms['stop']:>9.1f} {ms['start2']:>9.1f} {ms['disable']:>8.1f} {ms['tdelete']:>8.1f} "
              f"{ms['stop2']:>9.1f} "
              f"{ms['detach']:>8.1f} {ms['exit']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
