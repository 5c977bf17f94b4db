"""docs/DEPLOY.md's stdio recipe end to end, without a cluster:

    (gdb) target remote | kubectl exec -i POD -- bpfstub - --attach PID

kubectl is stood in for by tests/lib/kubectl-exec-standin, which runs the
command as a privileged debug pod with hostPID would (a mount namespace of
its own, the host's PID namespace, its own environment and session) and
passes only stdin and stdout to GDB.  The target runs in a container of its
own (tests/lib/container.py: its own PID and mount namespaces and root file
system, pid 1 inside), so bpfstub is given the host's pid, as on a node.
GDB traces, tdump shows exact values, `tsave -r` writes the node's frames
(read back with `target tfile`: $trace_timestamp, $trace_thread and the
values in every frame), detach leaves the target running.

The --attach-exe variants (the executable named by the host's path, or by
the /proc/PID/root/... form: DEPLOY.md's convention) run once bpfstub's
--help lists --attach-exe (issue 19's core); until then they skip, saying so.
"""

import os
import re
import subprocess
import tempfile
import time

from container import APP, Container, rootfs
from harness import (BPFSTUB, BUILD, IN_CI, ROOT, Skip, ThreadStateSampler, actions,
                     bpf_unavailable_reason, gdb_batch, gdb_monitor, gdb_pipe, gdb_tfind, gdb_tstart,
                     gdb_wait_frames, needs_bpf, require_stub)

STANDIN = os.path.join(ROOT, "tests", "lib", "kubectl-exec-standin")


def stdio_session(c, attach, log, save_dir):
    """GDB through the stand-in: connect, trace process with $regs and n,
    frames, tstop, tdump exact, monitor status, detach."""
    with ThreadStateSampler(c.pid), gdb_pipe(file=os.path.join(BUILD, "deep_c-O0")) as g:
        g.cmd("set remotetimeout 30")  # the first tstart measures the probe cost
        out = g.cmd(f"target remote | STANDIN_LOG={log} {STANDIN} {BPFSTUB} "
                    f"--save-dir {save_dir} - {attach}", timeout=60)
        assert "Remote debugging using" in out and "failed" not in out.lower(), \
            f"{out}\n--- stderr (the stand-in's log) ---\n{open(log).read()}"
        status = g.cmd("monitor status")
        assert "not supported" not in status, f"{status}\n--- stderr ---\n{open(log).read()}"
        assert re.search(rf"^target: pid {c.pid} \(ns {c.ns_pid}\) \({re.escape(c.path)}\)",
                         status, re.M), status
        g.cmd("trace process")
        g.cmd(actions("collect $regs", "collect n"))
        gdb_tstart(g)
        gdb_wait_frames(g, 3)
        g.cmd("tstop")
        assert gdb_tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        m = re.search(r"^n = (\d+)\s*$", out, re.M)
        assert m, f"tdump: no n:\n{out}"
        n = int(m.group(1))
        assert re.search(rf"^rdx\s+0x{n:x}\s+{n}\s*$", out, re.M), f"rdx is not n:\n{out}"
        args = g.cmd("info args")
        name = "alpha" if n % 2 == 0 else "bravo-charlie"
        assert f'"{name}"' in args and f"n = {n}" in args, args
        assert gdb_tfind(g, "1") == (1, 1)
        m = re.search(r"^n = (\d+)\s*$", g.cmd("tdump"), re.M)
        assert m and int(m.group(1)) == n + 1, "frame 1 is not the next call"
        g.cmd("tfind none")
        # The node's frames as a file (DEPLOY.md, "A fleet"), written by bpfstub.
        out = g.cmd("tsave -r node-a.tf")
        assert "Trace data saved" in out and "rror" not in out, out
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
    # Read back by GDB alone: each frame keeps when it was hit and by which thread
    # (a PIE is not relocated in a tfile: the registers, not the symbols).
    tf = os.path.join(save_dir, "node-a.tf")
    r = gdb_batch(["target tfile " + tf, "tfind 1", "print $trace_timestamp",
                   "print $trace_thread", "print $rdx"], file=os.path.join(BUILD, "deep_c-O0"))
    assert len(r.ints()) == 3, str(r)
    ts, thread, n1 = r.ints()
    assert thread == c.pid and n1 == n + 1 and abs(ts / 1e6 - time.time()) < 600, str(r)
    with open(log) as f:
        text = f.read()
    assert f"serving pid {c.pid} on stdin/stdout" in text, text
    assert not re.search(r"Sanitizer|runtime error:", text), text
    assert os.path.exists(f"/proc/{c.pid}") and not os.path.lexists(APP)


@needs_bpf
def test_stdio_through_a_kubectl_exec_standin():
    """target remote | STANDIN bpfstub - --attach HOSTPID: a traced session."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c") as c, \
            tempfile.NamedTemporaryFile(prefix="bpfsdep-", suffix=".log") as log, \
            tempfile.TemporaryDirectory(prefix="bpfsdep-") as d:
        stdio_session(c, f"--attach {c.pid}", log.name, d)


def has_attach_exe():
    out = subprocess.run([BPFSTUB, "--help"], capture_output=True, text=True)
    return "--attach-exe" in out.stdout + out.stderr


def attach_exe_variant(path_of):
    require_stub()
    if not has_attach_exe():
        raise Skip("bpfstub has no --attach-exe yet (issue 19's core, another branch)")
    why = bpf_unavailable_reason()
    if why:
        if IN_CI:
            raise AssertionError(f"needs BPF under CI: {why}")
        raise Skip(why)
    with rootfs() as root, Container(root, "deep_c") as c, \
            tempfile.NamedTemporaryFile(prefix="bpfsdep-", suffix=".log") as log, \
            tempfile.TemporaryDirectory(prefix="bpfsdep-") as d:
        stdio_session(c, f"--attach-exe {path_of(root, c)}", log.name, d)


def test_stdio_attach_exe_by_proc_root_path():
    """--attach-exe /proc/HOSTPID/root/APP/deep_c: the container's file named
    from the host without knowing where its root file system is."""
    attach_exe_variant(lambda root, c: f"/proc/{c.pid}/root{c.path}")


def test_stdio_attach_exe_by_host_path():
    """--attach-exe ROOTFS/APP/deep_c: the same file by the host's path."""
    attach_exe_variant(lambda root, c: root + c.path)
