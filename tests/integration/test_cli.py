"""bpfstub's command line: help, version, exit codes, argument orders, banner,
--once and -v.

Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 cannot listen.
"""

import os
import re
import socket
import subprocess

from harness import (BPFSTUB, ROOT, Stub, Target, ThreadStateSampler, attached, free_pid,
                     require_stub, rsp_client)


def run_stub(args, timeout=10):
    require_stub()
    try:
        return subprocess.run([BPFSTUB, *map(str, args)], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"bpfstub {' '.join(map(str, args))} still running after "
                             f"{timeout}s (expected it to exit)")


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M).group(1)


def test_help():
    p = run_stub(["--help"])
    assert p.returncode == 0, f"--help exited {p.returncode}"
    assert "--attach" in p.stdout, f"--help output does not mention --attach:\n{p.stdout}"
    assert "--once" in p.stdout, f"--help output does not mention --once:\n{p.stdout}"


def test_version():
    p = run_stub(["--version"])
    assert p.returncode == 0, f"--version exited {p.returncode}"
    assert version() in p.stdout, f"--version does not print {version()}:\n{p.stdout}"


def test_missing_pid_exits_1():
    pid = free_pid()
    p = run_stub(["127.0.0.1:0", "--attach", pid])
    assert p.returncode == 1, f"exit {p.returncode}, expected 1\n{p.stderr}"
    assert f"no process with pid {pid}" in p.stderr, f"stderr:\n{p.stderr}"


def test_busy_port_exits_3():
    with Target("counter") as t, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = run_stub([f"127.0.0.1:{port}", "--attach", t.pid])
        assert p.returncode == 3, f"exit {p.returncode}, expected 3\n{p.stderr}"
        assert "in use" in p.stderr.lower(), f"stderr does not say in use:\n{p.stderr}"
        t.assert_running()


def test_usage_errors_exit_2():
    with Target("counter") as t:
        cases = [[],
                 ["--no-such-option", "127.0.0.1:0", "--attach", t.pid],
                 ["127.0.0.1:0", "--attach"],
                 ["127.0.0.1:0", "--attach", "not-a-pid"],
                 ["127.0.0.1:0", "--attach", "-5"],
                 ["127.0.0.1:0"],
                 ["127.0.0.1:99999", "--attach", t.pid]]
        for args in cases:
            p = run_stub(args)
            assert p.returncode == 2, f"bpfstub {args}: exit {p.returncode}, expected 2\n{p.stderr}"
            assert p.stderr.strip(), f"bpfstub {args}: exit 2 without a message"


def test_listening_banner():
    """The three banner lines name the real port."""
    with attached() as (t, stub):
        assert stub.port and stub.port != 0, stub.stdout_lines
        # The Listening line may carry a note after the address, e.g. "(pid N)".
        want = [re.escape(f"Listening on 127.0.0.1:{stub.port}") + r"(?: .*)?",
                re.escape(f"  gdb -ex 'target remote 127.0.0.1:{stub.port}'"),
                re.escape(f"  lldb -o 'gdb-remote 127.0.0.1:{stub.port}'")]
        for rx in want:
            stub.wait_stdout(f"^{rx}$", timeout=2)
        with rsp_client(stub.addr) as c:
            assert (c.request("?") or "")[:1] == "T"


def test_attach_option_before_comm():
    """bpfstub --attach COMM PID is the same as COMM --attach PID."""
    require_stub()
    with Target("counter") as t, ThreadStateSampler(t.pid), \
            Stub(["127.0.0.1:0", t.pid], comm="--attach") as stub:
        with rsp_client(stub.addr) as c:
            c.supported()
            c.no_ack()
            r = c.request(f"m{t.addr_of('message'):x},c")
            assert r == b"hello from c".hex(), f"m message -> {r!r}"


def test_once_exits_after_first_client():
    with attached(options=["--once"]) as (t, stub):
        with rsp_client(stub.addr) as c:
            c.supported()
            c.no_ack()
            assert (c.request("?") or "")[:1] == "T"
        rc = stub.wait(5)
        assert rc == 0, f"--once: exit {rc} after the client left"
        t.assert_running()


def test_verbose_logs_packets():
    """-v logs every packet to stderr; without it the packets are not logged."""
    marker = "qThreadExtraInfo,"
    for verbose in (True, False):
        with attached(verbose=verbose) as (t, stub):
            with rsp_client(stub.addr) as c:
                c.supported()
                c.request(f"{marker}{t.pid:x}")
            logged = marker in stub.stderr_text()
            assert logged == verbose, (f"-v={verbose}: packet {'not ' if verbose else ''}"
                                       f"logged:\n{stub.stderr_text()[-2000:]}")
