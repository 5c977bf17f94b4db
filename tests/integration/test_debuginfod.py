"""Debug info from debuginfod servers (stub/program/debuginfo.c).

The target is a copy of deep_c-O2 with its DWARF moved out
(`objcopy --only-keep-debug`, then `objcopy --strip-debug`: no
.debug_info, no .gnu_debuglink, nothing under /usr/lib/debug): only the
real debuginfod (Debian's /usr/bin/debuginfod), started on a free port
over a directory holding the debug file, has it.  bpfstub asks it through
libdebuginfod (DEBUGINFOD_URLS, a temporary DEBUGINFOD_CACHE_PATH), and
then deep collection and the typed `monitor tdump` show the same exact
values as with a local debug file: process(it, name, n) with
it = &items[i % 2], items[0] = {7, 1.5, "seven", &items[1]},
items[1] = {8, 2.5, "eight", NULL}, name "alpha" / "bravo-charlie".

Servers that are down (a closed port) or silent (accepts, never answers)
give a bounded wait, a clear message and tracing without deep collection;
a server handing out another program's debug file is refused; an unsafe
cache directory is not used; --no-debuginfod and no DEBUGINFOD_URLS ask
nothing.
"""

import contextlib
import http.server
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from harness import (Stub, Target, ThreadStateSampler, actions, elf_symbols, gdb_pipe,
                     lldb_batch, load_bias, needs_bpf, require_stub, target_path)
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_frames

ITEMS = {
    7: (r'it = 0x[0-9a-f]+ -> \{id = 7, weight = 1\.5, label = "seven", '
        r'next = 0x[0-9a-f]+ -> \{\.\.\.\}\}'),
    8: r'it = 0x[0-9a-f]+ -> \{id = 8, weight = 2\.5, label = "eight", next = 0x0\}',
}
NAMES = {7: "alpha", 8: "bravo-charlie"}
GDB_ITEMS = {
    7: r'\{id = 7, weight = 1\.5, label = 0x[0-9a-f]+ "seven", next = 0x[0-9a-f]+ <items\+32>\}',
    8: r'\{id = 8, weight = 2\.5, label = 0x[0-9a-f]+ "eight", next = 0x0\}',
}
MON = "process plugin packet monitor"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True,
                         check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def split_debug(tmp, src="deep_c-O2", name="deep_c"):
    """(stripped program, directory holding only its debug file, build-id)."""
    orig = target_path(src)
    srv = os.path.join(tmp, "srv-" + name)
    os.makedirs(srv, exist_ok=True)
    dbg = os.path.join(srv, name + ".debug")
    prog = os.path.join(tmp, name)
    subprocess.run(["objcopy", "--only-keep-debug", orig, dbg], check=True)
    subprocess.run(["objcopy", "--strip-debug", orig, prog], check=True)
    sections = subprocess.run(["readelf", "-SW", prog], capture_output=True, text=True,
                              check=True).stdout
    assert ".debug_info" not in sections and ".gnu_debuglink" not in sections, sections
    bid = build_id(prog)
    assert bid == build_id(dbg)
    assert not os.path.exists(f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug")
    return prog, srv, bid


@contextlib.contextmanager
def debuginfod(tmp, srv, bid):
    """The real debuginfod on a free port over srv, once it serves bid; yields its URL."""
    if not shutil.which("debuginfod"):
        raise AssertionError("debuginfod is not installed (scripts/install-deps.sh)")
    port = free_port()
    log = open(os.path.join(tmp, f"debuginfod-{port}.log"), "w+")
    p = subprocess.Popen(["debuginfod", "-p", str(port), "-F", srv, "-t", "0",
                          "-d", os.path.join(tmp, f"db-{port}.sqlite")],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            # It answers 404 until its first scan has indexed the file.
            try:
                with urllib.request.urlopen(f"{url}/buildid/{bid}/debuginfo", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert p.poll() is None, f"debuginfod exited: {open(log.name).read()[-2000:]}"
            assert time.monotonic() < deadline, "debuginfod did not index the debug file"
            time.sleep(0.1)
        yield url
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


@contextlib.contextmanager
def silent_server():
    """An HTTP port that accepts connections and never answers; yields its URL."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    s.settimeout(0.2)
    held, stop = [], threading.Event()

    def run():
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(s.accept()[0])

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
    finally:
        stop.set()
        th.join()
        for c in held:
            c.close()
        s.close()


@contextlib.contextmanager
def lying_server(path):
    """An HTTP server answering every request with the file at path; yields its URL."""
    data = open(path, "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def stub_env(urls, cache, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    if urls is not None:
        env["DEBUGINFOD_URLS"] = urls
    env["DEBUGINFOD_CACHE_PATH"] = cache
    env.update(extra)
    return env


@contextlib.contextmanager
def served(prog, env, options=()):
    require_stub()
    with Target(prog) as t, ThreadStateSampler(t.pid), \
            Stub(["--attach", t.pid], env=env, options=options) as stub:
        yield t, stub


def check_tdump(g, frame):
    """`monitor tdump N`: process's arguments typed and whole."""
    d = g.cmd(f"monitor tdump {frame}")
    assert re.search(rf"^frame {frame}: tracepoint \d+, process at 0x[0-9a-f]+", d, re.M), d
    m = re.search(r"^it = 0x[0-9a-f]+ -> \{id = (7|8),", d, re.M)
    assert m, d
    k = int(m.group(1))
    assert re.search("^" + ITEMS[k] + "$", d, re.M), d
    assert re.search(rf'^name = "{NAMES[k]}"$', d, re.M), d
    assert re.search(r"^n = \d+$", d, re.M), d
    return k


def status_line(out, prog):
    m = re.search(rf"^  {re.escape(prog)} \(build-id [0-9a-f]+\): (.*)$", out, re.M)
    assert m, f"no debuginfod line for {prog} in monitor status:\n{out}"
    return m.group(1)


@needs_bpf
def test_debuginfod_deep_collection_and_tdump():
    """Cold cache: `monitor trace process` fetches the debug file; tdump shows
    exact typed values, monitor status names the server.  Warm cache, a new
    bpfstub: GDB's `trace` + `collect $regs` gets deep collection (print *it
    in tfind); LLDB's monitor trace and tdump too."""
    with tempfile.TemporaryDirectory() as tmp:
        prog, srv, bid = split_debug(tmp)
        cache = os.path.join(tmp, "cache")
        with debuginfod(tmp, srv, bid) as url:
            env = stub_env(url, cache)
            with served(prog, env) as (t, stub), gdb_pipe(file=prog) as g:
                connect(g, stub)
                out = g.cmd("monitor trace process")
                assert re.search(r"^tracepoint 1 at 0x[0-9a-f]+ in process", out, re.M), out
                out = g.cmd("monitor tstart")
                assert "trace started: 1 tracepoint" in out, out
                wait_frames(g, 4)
                g.cmd("monitor tstop")
                assert {check_tdump(g, 0), check_tdump(g, 1)} == {7, 8}
                out = g.cmd("monitor status")
                assert re.search(rf"^debuginfod: {re.escape(url)}, at most 10 s per file, "
                                 rf"cache {re.escape(cache)}$", out, re.M), out
                line = status_line(out, prog)
                assert re.match(rf"found at {re.escape(url)}/buildid/{bid}/debuginfo \(\d+ KiB, "
                                rf"\d+ ms\), {re.escape(cache)}/{bid}/debuginfo$", line), line
                assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: deep: \*it \(32 bytes", out,
                                 re.M), out
            # libdebuginfod's cache: bpfstub made it 0700; the file is there.
            assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
            assert os.path.getsize(os.path.join(cache, bid, "debuginfo")) > 0

            # Warm cache, a new bpfstub: GDB's own tracepoint with collect $regs.
            # GDB reads its symbols from its own copy of the debug file (by
            # build-id); bpfstub has only the server's.
            gdbdbg = os.path.join(tmp, "gdb-debug")
            os.makedirs(os.path.join(gdbdbg, ".build-id", bid[:2]))
            os.symlink(os.path.join(srv, "deep_c.debug"),
                       os.path.join(gdbdbg, ".build-id", bid[:2], bid[2:] + ".debug"))
            sym = elf_symbols(prog)["process"]
            with served(prog, env) as (t, stub), gdb_pipe() as g:
                g.cmd(f"set debug-file-directory {gdbdbg}")
                g.cmd(f"file {prog}")
                connect(g, stub)
                out = g.cmd(f"trace *{load_bias(t.pid, prog) + sym:#x}")
                assert re.search(r"Tracepoint \d+ at", out), out
                g.cmd(actions("collect $regs"))
                tstart(g)
                wait_frames(g, 4)
                g.cmd("tstop")
                seen = set()
                for f in (0, 1):
                    out = g.cmd(f"tfind {f}")
                    assert f"Found trace frame {f}" in out, out
                    out = g.cmd("print *it")
                    m = re.search(r"\$\d+ = \{id = (7|8),", out)
                    assert m, out
                    k = int(m.group(1))
                    assert re.search(r"\$\d+ = " + GDB_ITEMS[k], out), out
                    out = g.cmd("print name")
                    assert re.search(rf'= 0x[0-9a-f]+ "{NAMES[k]}"', out), out
                    seen.add(k)
                assert seen == {7, 8}, seen
                g.cmd("tfind none")
                out = g.cmd("monitor status")
                assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: deep: \*it \(32 bytes", out,
                                 re.M), out
                assert status_line(out, prog).startswith(
                    f"found in the cache, fetched before from {url} ("), out

            # LLDB, cold again (a new cache): monitor trace + tdump.
            env = stub_env(url, os.path.join(tmp, "cache-lldb"))
            with served(prog, env) as (t, stub):
                r = lldb_batch([f"gdb-remote {stub.addr}", f"{MON} trace process",
                                f"{MON} tstart", "platform shell sleep 0.4", f"{MON} tstop",
                                f"{MON} tdump 0", f"{MON} status", "process detach"])
                assert "tracepoint 1 at 0x" in r.out[1], r.text
                d = r.out[5]
                m = re.search(r"^it = 0x[0-9a-f]+ -> \{id = (7|8),", d, re.M)
                assert m and re.search("^" + ITEMS[int(m.group(1))] + "$", d, re.M), r.text
                assert f"found at {url}/buildid/{bid}/debuginfo" in r.out[6], r.text


def check_traces_by_address(g, t, prog, why):
    """GDB traces process by address (registers), deep collection says why not."""
    sym = elf_symbols(prog)["process"]
    out = g.cmd(f"trace *{load_bias(t.pid, prog) + sym:#x}")
    assert re.search(r"Tracepoint \d+ at", out), out
    g.cmd(actions("collect $regs"))
    out = tstart(g)
    wait_frames(g, 3)
    g.cmd("tstop")
    assert "Found trace frame 0" in g.cmd("tfind 0")
    rdi = int(re.search(r"0x[0-9a-f]+", g.cmd("print/x $rdi")).group(0), 16)
    items = load_bias(t.pid, prog) + elf_symbols(target_path("deep_c-O2"))["items"]
    assert rdi in (items, items + 32), (hex(rdi), hex(items))
    g.cmd("tfind none")
    st = g.cmd("monitor status")
    assert re.search(r"^  tracepoint \d+ at 0x[0-9a-f]+: nothing deeper: no DWARF for "
                     rf"{re.escape(prog)}: stripped .*; debuginfod: {why}", st, re.M), st
    return out, st


@needs_bpf
def test_debuginfod_down_or_silent_server():
    """A closed port: refused at once.  A server that never answers: one
    progress line, then a timeout at the budget (--debuginfod 3s), or at
    DEBUGINFOD_TIMEOUT; tracing goes on without deep collection."""
    with tempfile.TemporaryDirectory() as tmp:
        prog, _, _ = split_debug(tmp)
        down = f"http://127.0.0.1:{free_port()}"
        with served(prog, stub_env(down, os.path.join(tmp, "c1"))) as (t, stub), \
                gdb_pipe(file=prog) as g:
            connect(g, stub)
            _, st = check_traces_by_address(g, t, prog, r"connection refused: is the server "
                                            r"down\?")
            assert re.search(rf"^debuginfod: {re.escape(down)}, at most 10 s per file", st,
                             re.M), st
            assert "connection refused" in status_line(st, prog), st
            out = g.cmd("monitor trace process")
            assert re.search(r"^tracepoint \d+ at 0x[0-9a-f]+ in process", out, re.M), out

        with silent_server() as url:
            with served(prog, stub_env(url, os.path.join(tmp, "c2")),
                        options=["--debuginfod", "3s"]) as (t, stub), \
                    gdb_pipe(file=prog, timeout=60) as g:
                connect(g, stub)
                out, st = check_traces_by_address(
                    g, t, prog, r"timed out: no debug file within 3 s \(monitor set debuginfod "
                    r"DURATION\)")
                # While it waited, tstart's reply carried progress lines (GDB
                # prints the O packets and keeps waiting).
                assert re.search(rf"^debuginfod: asking {re.escape(url)} for the debug info of "
                                 rf"{re.escape(prog)} \([\d.]+ s, at most 3 s\)$", out, re.M), out
                assert re.search(rf"^debuginfod: no debug info for {re.escape(prog)}: timed out",
                                 out, re.M), out
                line = status_line(st, prog)
                assert re.match(rf"timed out: .* \(asked {re.escape(url)}, \d+ ms\)$", line), line
                # Remembered: asked once, not at every command.
                out = g.cmd("monitor trace process")
                assert "asking" not in out, out
                assert re.search(r"^tracepoint \d+ at 0x[0-9a-f]+ in process", out, re.M), out
            # DEBUGINFOD_TIMEOUT is libdebuginfod's own: respected.
            with served(prog, stub_env(url, os.path.join(tmp, "c3"), DEBUGINFOD_TIMEOUT="1",
                                       DEBUGINFOD_RETRY_LIMIT="0")) as (t, stub), \
                    gdb_pipe(file=prog, timeout=60) as g:
                connect(g, stub)
                check_traces_by_address(g, t, prog, r"timed out: the servers did not answer "
                                        r"within DEBUGINFOD_TIMEOUT=1 s")
            # No negative entry left behind by the cancelled query.
            assert not os.path.exists(os.path.join(tmp, "c2", build_id(prog))), \
                os.listdir(os.path.join(tmp, "c2"))


@needs_bpf
def test_debuginfod_off_unsafe_cache_and_wrong_file():
    """--no-debuginfod, then `monitor set debuginfod on`; no DEBUGINFOD_URLS;
    a cache directory others may write; a server handing out another
    program's debug file."""
    with tempfile.TemporaryDirectory() as tmp:
        prog, srv, bid = split_debug(tmp)
        with debuginfod(tmp, srv, bid) as url:
            cache = os.path.join(tmp, "cache")
            with served(prog, stub_env(url, cache), options=["--no-debuginfod"]) as (t, stub), \
                    gdb_pipe(file=prog) as g:
                connect(g, stub)
                out = g.cmd("monitor status")
                assert f"debuginfod: off (monitor set debuginfod off), servers {url}" in out, out
                assert re.search(r"^debuginfod: off$", out, re.M), out
                out = g.cmd("monitor trace process")
                assert re.search(r"^tracepoint \d+ at 0x[0-9a-f]+ in process", out, re.M), out
                assert not os.path.exists(os.path.join(cache, bid)), "asked while off"
                out = g.cmd("monitor set debuginfod on")
                assert "debuginfod: 10s at most per debug file" in out, out
                out = g.cmd("monitor trace process")
                assert re.search(r"^tracepoint \d+ at 0x[0-9a-f]+ in process", out, re.M), out
                assert status_line(g.cmd("monitor status"), prog).startswith("found at "), out

            with served(prog, stub_env(None, cache)) as (t, stub), gdb_pipe(file=prog) as g:
                connect(g, stub)
                out = g.cmd("monitor status")
                assert "debuginfod: off (DEBUGINFOD_URLS is not set)" in out, out

            # A cache others may write: anyone could plant what root parses.
            shared = os.path.join(tmp, "shared")
            os.mkdir(shared)
            os.chmod(shared, 0o777)
            with served(prog, stub_env(url, shared)) as (t, stub), gdb_pipe(file=prog) as g:
                connect(g, stub)
                out = g.cmd("monitor trace process")
                assert re.search(rf"not used: {re.escape(shared)} \(mode 0777\) is writable by "
                                 r"others", out), out
                assert os.listdir(shared) == [], os.listdir(shared)

        # Another program's debug file for every build-id: refused.
        other, _, _ = split_debug(tmp, src="deep_c-O0", name="other")
        with lying_server(os.path.join(tmp, "srv-other", "other.debug")) as lie, \
                served(prog, stub_env(lie, os.path.join(tmp, "cache-lie"))) as (t, stub), \
                gdb_pipe(file=prog) as g:
            connect(g, stub)
            out = g.cmd("monitor trace process")
            assert re.search(rf"refused: the server's file has build-id {build_id(other)[:40]}, "
                             rf"not {bid[:40]}", out), out
            assert re.search(r"^tracepoint \d+ at 0x[0-9a-f]+ in process", out, re.M), out
