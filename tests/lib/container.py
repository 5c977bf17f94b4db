"""A target in a container, for the tests (test_container, test_deploy).

rootfs() builds a root file system in a temporary directory: the test
programs under APP (a directory the host does not have), a stripped copy
whose debug file is only under the rootfs' /usr/lib/debug/.build-id, a
split-DWARF build with its .dwo beside it, and the shared libraries `ldd`
names with the dynamic loader.  Container(root, name) runs APP/name there
as pid 1 of its own PID and mount namespaces: `unshare --mount --pid
--fork` runs a shell that bind-mounts the root, mounts the namespace's
/proc in it, pivot_root's into it, unmounts the host's root (with the
host's loader, still reachable until then) and execs the program, as a
container runtime does (no runtime needed).  pivot=False uses a plain
chroot instead (its own namespaces, the host's root reachable above it).
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile

from harness import BUILD, _readline_timeout, wait_until

# A directory the host does not have, so that any read of a host path fails.
APP = "/srv/app" if not os.path.lexists("/srv/app") else f"/srv/app-{secrets.token_hex(3)}"

# The shell that makes the container, run by `unshare --mount --pid --fork`
# as pid 1 of the new namespace: $1 the root, the rest the target's argv.
PIVOT = r"""
set -e
R=$1; shift
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
cd "$R"
pivot_root . .old
/.old$LOADER --library-path /.old$LIBDIR /.old$UMOUNT -l /.old
exec "$@"
"""
HOST_LOADER = os.path.realpath("/lib64/ld-linux-x86-64.so.2")
PIVOT_ENV = dict(os.environ, LOADER=HOST_LOADER, LIBDIR=os.path.dirname(HOST_LOADER),
                 UMOUNT=os.path.realpath(shutil.which("umount") or "/usr/bin/umount"))


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    assert m, f"{path} has no build-id"
    return m.group(1)


def copy_libs(root, exe):
    """The shared libraries ldd names for exe, and the loader, at the same paths."""
    out = subprocess.run(["ldd", exe], capture_output=True, text=True, check=True).stdout
    for path in re.findall(r"(/\S+) \(0x", out):
        dst = root + os.path.realpath(path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.realpath(path), dst)
        if os.path.realpath(path) != path:  # /lib64 -> usr/lib64 (merged /usr)
            link = root + path
            if not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(os.path.realpath(path), link)


@contextlib.contextmanager
def rootfs():
    """A root file system: APP/deep_c (deep_c-O0), APP/deep_c-stripped with its
    debug file under /usr/lib/debug/.build-id, APP/deep_c-split with its .dwo
    beside it, APP/usdt, their libraries.  Yields the directory."""
    assert not os.path.lexists(APP), f"{APP} exists on the host"
    d = tempfile.mkdtemp(prefix="bpfsctr-")
    root = os.path.join(d, "root")
    try:
        app = root + APP
        os.makedirs(app)
        for sub in ("proc", ".old", "tmp"):
            os.makedirs(os.path.join(root, sub))
        shutil.copy2(os.path.join(BUILD, "deep_c-O0"), os.path.join(app, "deep_c"))
        shutil.copy2(os.path.join(BUILD, "usdt"), os.path.join(app, "usdt"))
        # A stripped copy; its DWARF only in the container's /usr/lib/debug.
        bid = build_id(os.path.join(BUILD, "deep_c-O0"))
        dbg = os.path.join(root, "usr/lib/debug/.build-id", bid[:2], bid[2:] + ".debug")
        assert not os.path.exists(f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug")
        os.makedirs(os.path.dirname(dbg))
        subprocess.run(["objcopy", "--only-keep-debug", os.path.join(BUILD, "deep_c-O0"), dbg],
                       check=True)
        subprocess.run(["strip", "--strip-debug", "-o", os.path.join(app, "deep_c-stripped"),
                        os.path.join(BUILD, "deep_c-O0")], check=True)
        # Split DWARF: the skeleton names build/split/deep_c.dwo under the host's
        # build directory, which the container does not have; the .dwo is beside it.
        shutil.copy2(os.path.join(BUILD, "deep_c-split"), os.path.join(app, "deep_c-split"))
        shutil.copy2(os.path.join(BUILD, "split", "deep_c.dwo"), os.path.join(app, "deep_c.dwo"))
        assert not os.path.exists(root + os.path.join(BUILD, "split"))
        copy_libs(root, os.path.join(BUILD, "deep_c-O0"))
        copy_libs(root, os.path.join(BUILD, "usdt"))
        yield root
    finally:
        shutil.rmtree(d, ignore_errors=True)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Container:
    """The target `name` (APP/name inside root) in its own mount and PID
    namespaces.  .pid is the host's pid, .ns_pid the container's (1)."""

    def __init__(self, root, name, pivot=True):
        self.root, self.name, self.pivot = root, name, pivot
        self.path = APP + "/" + name
        self.proc = self.pid = self.ns_pid = None

    def __enter__(self):
        if self.pivot:
            argv = ["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
                    "sh", "-c", PIVOT, "sh", self.root, self.path]
        else:
            argv = ["unshare", "--mount", "--pid", "--fork",
                    f"--mount-proc={self.root}/proc", "chroot", self.root, self.path]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=PIVOT_ENV)
        line = _readline_timeout(self.proc.stdout, 10)
        m = re.match(rb"ready (\d+)", line or b"")
        if not m:
            self.proc.kill()
            err = self.proc.communicate(timeout=10)[1].decode(errors="replace")
            raise AssertionError(f"{self.name} in a container: no 'ready' line (got {line!r}); "
                                 f"stderr: {err}")
        self.ns_pid = int(m.group(1))
        kids = wait_until(lambda: children(self.proc.pid), 5, what="the container's pid 1")
        self.pid = kids[0]
        with open(f"/proc/{self.pid}/status") as f:
            nspid = re.search(r"^NSpid:\s+(.*)$", f.read(), re.M).group(1).split()
        assert nspid == [str(self.pid), str(self.ns_pid)], nspid
        return self

    def __exit__(self, *exc):
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
