"""A target in a container: its own mount namespace, root file system and
PID namespace, as a container runtime makes it; bpfstub on the host is given
the host's pid.

No runtime is needed: `unshare --mount --pid --fork` starts a shell that
bind-mounts a root file system the test builds (the target, copied to
APP, a directory the host does NOT have, the shared libraries `ldd` names
and the dynamic loader), mounts the new namespace's /proc there,
`pivot_root`s into it, unmounts the host's root (with the host's own
loader, still reachable until then) and execs the target, which is pid 1
of its namespace.  So every file of the target exists only inside
/proc/PID/root: a read of a host path fails, and /proc/PID/maps names the
files by the container's paths, as for a Docker or Kubernetes container.
One test uses a plain chroot instead (its own namespaces, no pivot_root),
where maps names the files by the host's path of the root directory: the
paths the client sees must be the target's own all the same.

What the user sees is checked: GDB's `trace` + `collect $regs` with exact
values in tdump, GDB reading the executable and libc from the container
(qXfer:exec-file, vFile), `monitor trace` with typed `monitor tdump` (the
DWARF read through /proc/PID/root: in the file, in a debug file by build-id
under the container's /usr/lib/debug, in a split-DWARF .dwo beside the
executable in the container), a USDT probe (its SDT notes read there), and
both pids (the host's, and the container's from NSpid) in `monitor status`
and the frame lines.
"""

import os
import re

from container import APP, Container, rootfs
from harness import (BUILD, Stub, ThreadStateSampler, actions, gdb_connect, gdb_monitor,
                     gdb_pipe, gdb_tfind, gdb_tstart, gdb_values_by_frame, gdb_wait_frames,
                     needs_bpf, require_stub, wait_until)


def check_status(g, c):
    out = gdb_monitor(g, "status")
    assert re.search(rf"^target: pid {c.pid} \(ns {c.ns_pid}\) \({re.escape(c.path)}\), attached",
                     out, re.M), f"monitor status: no target line with both pids:\n{out}"
    assert re.search(rf"^container: pid {c.ns_pid} in its own pid namespace; its own mount "
                     rf"namespace, files read through /proc/{c.pid}/root", out, re.M), out
    return out


def monitor_trace_typed(g, c, frames=6):
    """`monitor trace process` with deep collection; the typed tdump's values
    agree with each other (n even: items[0], "alpha"; odd: items[1])."""
    out = gdb_monitor(g, "trace process collect it->label, name, n, it")
    assert "it->label (C string" in out, out
    tp = int(re.search(r"tracepoint (\d+) at", out).group(1))
    gdb_monitor(g, "tstart")
    wait_until(lambda: int(re.search(r"(\d+) frames", gdb_monitor(g, "status")).group(1))
               >= frames, 10, what=f"{frames} frames")
    gdb_monitor(g, "tstop")
    lines = gdb_monitor(g, "tframes 0 8")
    mine = [int(k) for k in re.findall(rf"^(\d+) +\S+ +thread {c.pid} \(ns {c.ns_pid}\) +"
                                       rf"tp {tp} +process:", lines, re.M)]
    assert len(mine) >= 3, f"tframes: no lines of tracepoint {tp} with both pids:\n{lines}"
    for k in mine[:3]:
        out = gdb_monitor(g, f"tdump {k}")
        m = re.search(r"^n = (\d+)$", out, re.M)
        assert m, f"monitor tdump {k}: no n:\n{out}"
        n = int(m.group(1))
        label, name, ident = ("seven", "alpha", 7) if n % 2 == 0 else \
            ("eight", "bravo-charlie", 8)
        assert f'it->label = "{label}"' in out, out
        assert f'name = "{name}"' in out, out
        assert re.search(rf"^it = 0x[0-9a-f]+ -> {{id = {ident}, weight = {ident - 5.5}, "
                         rf'label = "{label}"', out, re.M), out
        assert re.search(rf"thread {c.pid} \(ns {c.ns_pid}\)", out), out
    gdb_monitor(g, "tdelete all")


@needs_bpf
def test_container_gdb_trace_and_monitor_trace():
    """deep_c in a container: GDB (`file` of the host's copy) traces process
    with `collect $regs`: tdump's registers and info args exact; libc is read
    from the container; monitor trace with typed tdump; both pids shown."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c") as c, ThreadStateSampler(c.pid), \
            Stub.attach(c.pid) as stub, gdb_pipe(file=os.path.join(BUILD, "deep_c-O0")) as g:
        gdb_connect(g, stub)
        check_status(g, c)
        out = g.cmd("info sharedlibrary")
        assert re.search(r"Yes\s+target:/lib/x86_64-linux-gnu/libc\.so\.6", out) or \
            re.search(r"Yes\s+target:/usr/lib/x86_64-linux-gnu/libc\.so\.6", out), out

        g.cmd("trace process")
        g.cmd(actions("collect $regs"))
        gdb_tstart(g)
        gdb_wait_frames(g, 4)
        g.cmd("tstop")
        assert gdb_tfind(g, "0") == (0, 1)
        out = g.cmd("tdump")
        args = g.cmd("info args")
        m = re.search(r"^n = (\d+)$", args, re.M)
        assert m, f"info args:\n{args}"
        n = int(m.group(1))
        assert re.search(rf"^rdx\s+0x{n:x}\s+{n}$", out, re.M), f"rdx is not n = {n}:\n{out}"
        name = "alpha" if n % 2 == 0 else "bravo-charlie"
        assert re.search(rf'^name = 0x[0-9a-f]+ "{name}"$', args, re.M), args
        items = int(g.cmd("print/x (long)&items").split("=")[1], 16) + 32 * (n % 2)
        assert re.search(rf"^rdi\s+0x{items:x}\s", out, re.M), f"rdi is not &items[{n % 2}]:\n{out}"
        out = g.cmd("print *it")
        assert f"id = {7 + n % 2}" in out and ('"seven"' if n % 2 == 0 else '"eight"') in out, out
        g.cmd("tfind none")
        g.cmd("delete")
        monitor_trace_typed(g, c)
        out = g.cmd("detach")
        assert "detached" in out.lower(), out
    assert not os.path.lexists(APP)


@needs_bpf
def test_container_gdb_reads_the_executable_from_the_container():
    """GDB without `file`: the executable comes from the container through
    qXfer:exec-file (APP/deep_c, the container's path) and vFile, its DWARF
    with it: globals typed, and a tracepoint by name collects."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c") as c, Stub.attach(c.pid) as stub, \
            gdb_pipe() as g:
        out = gdb_connect(g, stub)
        assert f"Reading {APP}/deep_c from remote target" in out, out
        out = g.cmd("print items[1].label")
        assert '"eight"' in out, out
        g.cmd("trace process")
        g.cmd(actions("collect n"))
        gdb_tstart(g)
        gdb_wait_frames(g, 3)
        g.cmd("tstop")
        rows = gdb_values_by_frame(g, ["n"])
        ns = [v[0] for _, _, v in rows]
        assert len(ns) >= 3 and all(b == a + 1 for a, b in zip(ns, ns[1:])), rows


@needs_bpf
def test_container_debug_file_by_build_id_in_the_container():
    """A stripped executable whose debug file is only in the container's
    /usr/lib/debug/.build-id: monitor trace by name, typed tdump."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c-stripped") as c, \
            Stub.attach(c.pid) as stub, gdb_pipe() as g:
        gdb_connect(g, stub)
        monitor_trace_typed(g, c)


@needs_bpf
def test_container_split_dwarf_dwo_in_the_container():
    """A split-DWARF executable whose .dwo is beside it in the container
    (the host's build directory it names is not there): monitor trace by
    name, typed tdump."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c-split") as c, \
            Stub.attach(c.pid) as stub, gdb_pipe() as g:
        gdb_connect(g, stub)
        monitor_trace_typed(g, c)


@needs_bpf
def test_chroot_paths_are_the_targets_own():
    """A plain chroot in its own namespaces: /proc/PID/maps names the files
    by the host's path (the root directory in front).  The client sees the
    target's own paths all the same (monitor status, exec-file), and the
    split .dwo beside the executable is found there."""
    require_stub()
    with rootfs() as root, Container(root, "deep_c-split", pivot=False) as c, \
            Stub.attach(c.pid) as stub, gdb_pipe() as g:
        with open(f"/proc/{c.pid}/maps") as f:
            assert root + APP in f.read()
        out = gdb_connect(g, stub)
        assert f"Reading {APP}/deep_c-split from remote target" in out, out
        out = gdb_monitor(g, "status")
        assert re.search(rf"^target: pid {c.pid} \(ns {c.ns_pid}\) \({re.escape(c.path)}\)",
                         out, re.M), out
        assert f"files read through /proc/{c.pid}/root = {root}" in out, out
        monitor_trace_typed(g, c)


@needs_bpf
def test_container_usdt_probe():
    """USDT probes of a target in a container (SDT notes read through
    /proc/PID/root): both probes' arguments in every frame, the semaphore
    raised by the kernel."""
    require_stub()
    with rootfs() as root, Container(root, "usdt") as c, ThreadStateSampler(c.pid), \
            Stub.attach(c.pid) as stub, gdb_pipe(file=os.path.join(BUILD, "usdt")) as g:
        gdb_connect(g, stub)
        assert "Tracepoint 1 at" in g.cmd("trace -probe-stap bpfstub:tick")
        g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))
        assert "Tracepoint 2 at" in g.cmd("trace -probe-stap bpfstub:plain")
        g.cmd(actions("collect $_probe_arg0, $_probe_arg1"))
        gdb_tstart(g)
        gdb_wait_frames(g, 20)
        assert g.cmd("print bpfstub_tick_semaphore").strip().endswith("= 1")
        g.cmd("tstop")
        rows = gdb_values_by_frame(g, ["$_probe_arg0", "$_probe_arg1"])
        for tp in (1, 2):
            args = [v for _, num, v in rows if num == tp]
            assert len(args) >= 5, f"tracepoint {tp}: {rows[:10]}"
            assert all(a[1] == 3 * a[0] and a[0] > 0 for a in args), args[:5]
            assert all(b[0] == a[0] + 1 for a, b in zip(args, args[1:])), args[:20]
