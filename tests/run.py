#!/usr/bin/env python3
"""Run bpfstub's integration tests: tests/integration/test_*.py.

    python3 tests/run.py [-j N] [--timeout S] [--no-build] [--list] [FILTER...]

Every top-level function named test_* is a test, named module.function; a
FILTER keeps the tests whose name contains it.  Each test runs in its own
process group with a timeout, and prints one of
    PASS name (1.2s)      FAIL name: reason      SKIP name: why
(a FAIL is followed by indented details), then a final line
    N passed, N failed, N skipped
The exit status is 1 if any test failed.  A test skips by raising
harness.Skip; under CI=true a skipped test marked @needs_bpf counts as a
failure.  The test programs are built once with `make -C tests/targets`.
"""

import argparse
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(HERE, "integration")
sys.path.insert(0, os.path.join(HERE, "lib"))

import harness  # noqa: E402


def load_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(INTEGRATION, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def discover():
    """[(module, function)] in file order, then definition order."""
    tests = []
    for fname in sorted(os.listdir(INTEGRATION)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        mod_name = fname[:-3]
        mod = load_module(mod_name)
        funcs = [(inspect.unwrap(fn).__code__.co_firstlineno, n)
                 for n, fn in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(fn)
                 and fn.__module__ == mod_name]
        for _, n in sorted(funcs):
            tests.append((mod_name, n))
    return tests


class TestTimeout(Exception):
    pass


def run_child(mod_name, func_name, result_path):
    """Inside the per-test process: run one test, write its result as JSON."""
    def on_term(signum, frame):
        raise TestTimeout("timed out")
    signal.signal(signal.SIGTERM, on_term)
    result = {"status": "pass", "reason": "", "detail": "", "needs_bpf": False}
    try:
        fn = getattr(load_module(mod_name), func_name)
        result["needs_bpf"] = bool(getattr(fn, "needs_bpf", False))
        fn()
    except harness.Skip as e:
        result.update(status="skip", reason=str(e))
    except TestTimeout:
        result.update(status="fail", reason="timed out", detail=traceback.format_exc())
    except BaseException as e:  # noqa: BLE001 - report everything as a failure
        msg = str(e).strip() or type(e).__name__
        first = msg.splitlines()[0]
        if not isinstance(e, AssertionError):
            first = f"{type(e).__name__}: {first}"
        result.update(status="fail", reason=first,
                      detail=msg + "\n\n" + "".join(traceback.format_tb(e.__traceback__)))
    with open(result_path, "w") as f:
        json.dump(result, f)


def run_one(mod_name, func_name, timeout):
    """Run one test in a fresh process group; returns (result dict, seconds)."""
    fd, path = tempfile.mkstemp(prefix="bpfstub-test-", suffix=".json")
    os.close(fd)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child",
                             mod_name, func_name, path],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.send_signal(signal.SIGTERM)  # lets the test's `with` blocks clean up
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out = b""
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the test left behind
        except ProcessLookupError:
            pass
        proc.wait()
    secs = time.monotonic() - t0
    try:
        with open(path) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {"status": "fail", "reason": f"test process died (status {proc.returncode})",
                  "detail": (out or b"").decode(errors="replace"), "needs_bpf": False}
    finally:
        os.unlink(path)
    if timed_out:
        result["status"] = "fail"
        result["reason"] = f"timed out after {timeout}s"
    extra = (out or b"").decode(errors="replace").strip()
    if extra and result["status"] == "fail":
        result["detail"] = result.get("detail", "") + "\n--- test output ---\n" + extra
    return result, secs


def build_targets():
    p = subprocess.run(["make", "-s", "-C", os.path.join(HERE, "targets")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        print(p.stdout.decode(errors="replace"))
        print("make -C tests/targets failed")
        sys.exit(1)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        run_child(*sys.argv[2:5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("filters", nargs="*", help="run tests whose name contains one of these")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="tests to run at once")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per test")
    ap.add_argument("--no-build", action="store_true", help="do not make -C tests/targets")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    args = ap.parse_args()

    tests = [t for t in discover()
             if not args.filters or any(f in f"{t[0]}.{t[1]}" for f in args.filters)]
    if args.list:
        for m, f in tests:
            print(f"{m}.{f}")
        return 0
    if not args.no_build:
        build_targets()

    ci = harness.IN_CI
    counts = {"pass": 0, "fail": 0, "skip": 0}
    failed = []

    def report(test, result, secs):
        name = f"{test[0]}.{test[1]}"
        status = result["status"]
        if status == "skip" and ci and result.get("needs_bpf"):
            status = "fail"
            result["reason"] = f"skipped under CI=true but needs BPF: {result['reason']}"
        counts[status] += 1
        if status == "pass":
            print(f"PASS {name} ({secs:.1f}s)")
        elif status == "skip":
            print(f"SKIP {name}: {result['reason']}")
        else:
            failed.append(name)
            print(f"FAIL {name}: {result['reason']}")
            detail = result.get("detail", "").strip()
            if detail:
                print("\n".join("    " + line for line in detail.splitlines()))
        sys.stdout.flush()

    t0 = time.monotonic()
    if args.jobs <= 1:
        for t in tests:
            report(t, *run_one(*t, args.timeout))
    else:
        with ThreadPoolExecutor(args.jobs) as pool:
            futures = [(t, pool.submit(run_one, *t, args.timeout)) for t in tests]
            for t, fut in futures:
                report(t, *fut.result())
    if failed:
        # Repeated at the end: a long log is often read from its tail only.
        print("failed: " + " ".join(failed))
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    sys.stderr.write(f"(total {time.monotonic() - t0:.1f}s)\n")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
