"""Whole argument values in trace frames (issue 9): with nothing but
`collect $regs`, bpfstub's deep collection (what the arguments point to,
from the program's DWARF), its stack window and read-only memory make GDB's
own `info args`, `print`, `tdump` and `bt` in `tfind` show what they show on
a stopped process.

The expected strings are what GDB 13 prints on the same program stopped at a
breakpoint (the oracle: `gdb -batch -ex 'break process' -ex run -ex 'info
args' ...`), with addresses matched by pattern.  The *_explicit_control tests
get the same strings today through explicit actions (`collect *it`,
`collect/s name`...), which proves the expectations and the machinery.

Targets (tests/targets): cvalues.c (process(it, name, n), PIE -O0/-O2, a
stripped and a corrupt-DWARF copy) and govalues/main.go (main.handle(name,
n, p, tags), main.describe(v any), main.stats(m, c)); their comments give
the values as a function of the call index k, which each frame's `n` (or
another argument) tells.
"""

import contextlib
import os
import re
import tempfile

from harness import (ROOT, actions, attached, gdb_pipe, load_bias, needs_bpf,
                     tracepoint_address)
from harness import gdb_connect as connect
from harness import gdb_int
from harness import gdb_tfind as tfind
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus
from harness import gdb_wait_frames as wait_created

TARGETS = os.path.join(ROOT, "tests", "targets")
ADDR = r"0x[0-9a-f]+"
FRAMES = 6  # frames to collect: two rounds of cvalues' three calls


def source_line(path, marker):
    """The 1-based line of the first line of path containing marker."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if marker in line:
                return i
    raise AssertionError(f"{marker!r} not in {path}")


def value(out):
    """The value of the one `$N = value` line of a print's output."""
    m = re.search(r"^\$\d+ = (.*)$", out, re.M)
    assert m, f"no value printed:\n{out}"
    return m.group(1)


def trace_frames(g, location, *action_lines, frames=FRAMES, monitor=()):
    """`monitor CMD` for each of monitor, then trace LOCATION with actions
    (default `collect $regs`), tstart, wait for frames, tstop.  Returns the
    tracepoint's address."""
    for cmd in monitor:
        out = g.cmd(f"monitor {cmd}")
        assert not re.search(r"unknown|usage|error", out, re.I), f"monitor {cmd}:\n{out}"
    out = g.cmd(f"trace {location}")
    addr = tracepoint_address(out)
    g.cmd(actions(*(action_lines or ("collect $regs",))))
    tstart(g)
    wait_created(g, frames, timeout=20)
    g.cmd("tstop")
    st = tstatus(g)
    assert st.frames >= frames, f"expected at least {frames} frames:\n{st}"
    return addr


def monitor_status(g):
    out = g.cmd("monitor status")
    assert "tracing:" in out, f"monitor status:\n{out}"
    return out


@contextlib.contextmanager
def c_traced(build, *action_lines, monitor=()):
    """attached(build) with a gdb on it that has traced process (see
    trace_frames): yields (t, g); leaves with tfind none and detach."""
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        trace_frames(g, "process", *action_lines, monitor=monitor)
        yield t, g
        g.cmd("tfind none")
        g.cmd("detach")


# --------------------------------------------------------------------------
# C: cvalues (process(struct item *it, const char *name, long n))

C_SRC = os.path.join(TARGETS, "cvalues.c")
# k % 3 -> (items index or None for heap_item, name, id, label, x, y, tag)
C_CALLS = {
    0: (0, "alpha", 1, "first", 10, 20, "one"),
    1: (1, "beta", 2, "second", 30, 40, "two"),
    2: (None, "gamma", 3, "heap-third", 50, 60, "three"),
}


def c_tag(tag):
    """How GDB prints a char[8] holding tag: the NULs after it, but the last."""
    return '"' + tag + "\\000" * (8 - len(tag) - 1) + '"'


def c_expect(t, k):
    """What GDB prints for cvalues' call k: a dict of patterns."""
    idx, name, ident, label, x, y, tag = C_CALLS[k % 3]
    it = t.addr_of("items") + 40 * idx if idx is not None else t.read_long("heap_item")
    # GDB names the data symbol a pointer points into: 0x... <items+40>
    sym = {0: " <items>", 1: " <items+40>", None: ""}[idx]
    label_re = fr'{ADDR} "{label}"'
    return {
        "it": re.escape(f"(struct item *) {it:#x}{sym}"),
        "it_arg": re.escape(f"{it:#x}{sym}"),
        "name": fr'{ADDR} "{name}"',
        "n": str(1000 + k),
        "*it": (r"\{id = " + str(ident) + ", label = " + label_re + r", pos = \{x = "
                + f"{x}, y = {y}" + r"\}, tag = " + re.escape(c_tag(tag)) + r"\}"),
        "it->label": label_re,
        "it->pos": r"\{x = " + f"{x}, y = {y}" + r"\}",
    }


def c_frame_k(g):
    """The call index k of the selected trace frame: n = 1000 + k is still
    in rdx where `trace process` lands, at -O2 (the entry) and at -O0
    (after the prologue stored it in the frame)."""
    return gdb_int(g.cmd("print $rdx")) - 1000


def assert_c_values(g, t, frame, what="", check=("info args", "*it", "name", "it->label",
                                                 "it->pos")):
    """In trace frame `frame`: info args and the prints of cvalues' process
    show the whole values of its call."""
    tfind(g, str(frame))
    k = c_frame_k(g)
    e = c_expect(t, k)
    ctx = f"{what}frame {frame} (k = {k})"
    if "info args" in check:
        out = g.cmd("info args")
        want = fr"^it = {e['it_arg']}\nname = {e['name']}\nn = {e['n']}\n"
        assert re.search(want, out, re.M), f"{ctx}: info args:\n{out}\nexpected /{want}/"
    for expr in ("*it", "name", "it->label", "it->pos"):
        if expr not in check:
            continue
        out = g.cmd(f"print {expr}")
        assert re.fullmatch(e[expr], value(out)), \
            f"{ctx}: print {expr}:\n{out}\nexpected /{e[expr]}/"
    return k


C_ALL = ("info args", "*it", "name", "it->label", "it->pos")


def run_c_values(build, *action_lines, monitor=(), check=C_ALL):
    with c_traced(build, *action_lines, monitor=monitor) as (t, g):
        ks = [assert_c_values(g, t, i, check=check) for i in range(3)]
        assert sorted(k % 3 for k in ks) == [0, 1, 2], f"frames 0-2 are not 3 calls: {ks}"


@needs_bpf
def test_values_c_O2_explicit_control():
    """Control (passes without deep collection): at -O2 `collect $regs, *it,
    it->pos, collect/s name, collect/s it->label` gives exactly the strings
    the deep-collection tests expect."""
    run_c_values("cvalues-O2", "collect $regs, *it", "collect/s name", "collect/s it->label")


@needs_bpf
def test_values_c_O2():
    """PIE -O2, `collect $regs` only: info args, print *it (a struct with a
    char * field and a nested struct), print name (a string literal),
    it->label (a literal for items[], a heap string for heap_item)."""
    run_c_values("cvalues-O2")


@needs_bpf
def test_values_c_O0_explicit_control():
    """Control: at -O0 the arguments are in the stack frame; with the
    window and the pointed-to values spelled out, the expected strings."""
    run_c_values("cvalues-O0", "collect $regs, *(unsigned char (*)[512]) $rsp, *it",
                 "collect/s name", "collect/s it->label")


@needs_bpf
def test_values_c_O0():
    """PIE -O0, `collect $regs` only: the tracepoint lands after the
    prologue, where the arguments are in the stack frame (stack window) and
    point to the same things (deep collection)."""
    run_c_values("cvalues-O0")


@needs_bpf
def test_values_c_tdump_args():
    """-O2, `collect $regs, $args`: tdump shows name with its string (a
    literal: read-only memory) and n; print *it is whole (deep collection)."""
    with c_traced("cvalues-O2", "collect $regs, $args") as (t, g):
        for i in range(3):
            tfind(g, str(i))
            k = c_frame_k(g)
            e = c_expect(t, k)
            out = g.cmd("tdump")
            assert re.search(r"^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <process(\+0)?>", out, re.M), \
                f"frame {i}: tdump has no rip at process:\n{out}"
            want = fr"^it = {e['it_arg']}\nname = {e['name']}\nn = {e['n']}$"
            assert re.search(want, out, re.M), f"frame {i} (k = {k}): tdump:\n{out}\n" \
                f"expected /{want}/"
            out = g.cmd("print *it")
            assert re.fullmatch(e["*it"], value(out)), f"frame {i} (k = {k}): print *it:\n{out}"


def c_walk_all(g, t, frames, what):
    ks = [assert_c_values(g, t, i, what) for i in range(frames)]
    g.cmd("tfind none")
    return ks


def run_c_tsave_tfile(*action_lines):
    with tempfile.TemporaryDirectory(prefix="bpfstub-values-") as tmp:
        path = os.path.join(tmp, "c.tf")
        with attached("cvalues-O2") as (t, stub):
            with gdb_pipe(file=t.path) as g:
                connect(g, stub)
                trace_frames(g, "process", *action_lines)
                live = c_walk_all(g, t, 3, "live ")
                out = g.cmd(f"tsave {path}")
                assert f"Trace data saved to file '{path}'" in out, f"tsave:\n{out}"
                g.cmd("detach")
            # A trace file has no process to say where the PIE was loaded:
            # load its symbols where it was.
            bias = load_bias(t.pid, t.path)
            with gdb_pipe() as g:
                out = g.cmd(f"symbol-file -o {bias:#x} {t.path}")
                assert "Reading symbols" in out, out
                out = g.cmd(f"target tfile {path}")
                assert "Tracepoint 1 at" in out, f"target tfile:\n{out}"
                saved = c_walk_all(g, t, 3, "tfile ")
        assert saved == live, f"tfile frames are calls {saved}, live ones {live}"


@needs_bpf
def test_values_c_tsave_tfile_explicit_control():
    """Control: with the pointed-to values collected explicitly, the same
    strings after tsave + target tfile (a new GDB, no process)."""
    run_c_tsave_tfile("collect $regs, *it", "collect/s name", "collect/s it->label")


@needs_bpf
def test_values_c_tsave_tfile():
    """-O2, `collect $regs`: after tsave FILE and `target tfile FILE` (a new
    GDB, no process), the same values in every frame: the deep blocks are
    ordinary blocks of the frames."""
    run_c_tsave_tfile()


def c_call_lines():
    """main's lines calling process (the source's, not its header comment's)."""
    return {source_line(C_SRC, f'process({it}, "{name}", 1000 + k);')
            for it, name in (("&items[0]", "alpha"), ("&items[1]", "beta"),
                             ("heap_item", "gamma"))}


def assert_c_bt(g, t, frame):
    tfind(g, str(frame))
    k = c_frame_k(g)
    e = c_expect(t, k)
    out = g.cmd("bt")
    m = re.search(r"^#1  0x[0-9a-f]+ in main \(\) at \S*cvalues\.c:(\d+)$", out, re.M)
    assert m, f"frame {frame} (k = {k}): bt shows no caller main:\n{out}"
    assert int(m.group(1)) in c_call_lines(), f"bt #1 at the wrong line:\n{out}"
    f0 = (fr"^#0  process \(it=(it@entry=)?{e['it_arg']}, name=(name@entry=)?{e['name']}, "
          fr"n=(n@entry=)?{e['n']}\) at \S*cvalues\.c:\d+$")
    assert re.search(f0, out, re.M), f"frame {frame} (k = {k}): bt #0:\n{out}\nexpected /{f0}/"


@needs_bpf
def test_values_c_bt_explicit_control():
    """Control: with `collect $regs, *(unsigned char (*)[512]) $rsp` (the
    window spelled out) and `collect/s name`, bt in tfind at -O2 shows
    process <- main, and the arguments through their entry values."""
    with c_traced("cvalues-O2", "collect $regs, *(unsigned char (*)[512]) $rsp",
                  "collect/s name") as (t, g):
        for i in range(3):
            assert_c_bt(g, t, i)


@needs_bpf
def test_values_c_bt():
    """-O2, `collect $regs` only: bt in tfind shows process <- main, with
    process's arguments (the stack window holds the return address)."""
    with c_traced("cvalues-O2") as (t, g):
        for i in range(3):
            assert_c_bt(g, t, i)


@needs_bpf
def test_values_c_deep_off():
    """`monitor set deep-collect off` before tstart: the string literal
    name still shows (read-only memory, answered live), *it is
    <unavailable> again (items[] is writable data), and so is heap_item's
    label; the live string literals it->label of items[] are behind *it."""
    with c_traced("cvalues-O2", monitor=["set deep-collect off"]) as (t, g):
        assert re.search(r"deep[- ]collect\w*:?\s*(off|0 bytes)", monitor_status(g), re.I), \
            f"monitor status does not say deep collection is off:\n{monitor_status(g)}"
        for i in range(3):
            tfind(g, str(i))
            k = c_frame_k(g)
            e = c_expect(t, k)
            out = g.cmd("info args")
            want = fr"^it = {e['it_arg']}\nname = {e['name']}\nn = {e['n']}\n"
            assert re.search(want, out, re.M), f"frame {i} (k = {k}): info args:\n{out}"
            out = g.cmd("print name")
            assert re.fullmatch(e["name"], value(out)), f"frame {i}: print name:\n{out}"
            out = g.cmd("print *it")
            assert value(out) == "<unavailable>", f"frame {i}: print *it:\n{out}"


def run_c_nodwarf(build, status_re):
    """A binary deep collection cannot use: tracing goes on as today
    (frames, registers: n in rdx, rip at process), and monitor status says
    why nothing deeper is collected (status_re, with the file's name)."""
    with attached(build) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        addr = trace_frames(g, "process")
        entry = t.addr_of("process")
        for i in range(3):
            tfind(g, str(i))
            assert gdb_int(g.cmd("print (long) $rip")) == entry, f"frame {i}: rip is not process"
            k = c_frame_k(g)
            assert k >= 0, f"frame {i}: rdx = {k + 1000} is not process's n"
            idx = C_CALLS[k % 3][0]
            it = t.addr_of("items") + 40 * idx if idx is not None else t.read_long("heap_item")
            assert gdb_int(g.cmd("print $rdi")) == it, f"frame {i} (k = {k}): rdi is not it"
        g.cmd("tfind none")
        assert addr == entry, f"tracepoint at {addr:#x}, process at {entry:#x}"
        out = monitor_status(g)
        assert re.search(status_re, out, re.I | re.M) and build in out, \
            f"monitor status does not say why nothing deeper is collected from {build}:\n{out}"
        g.cmd("detach")


@needs_bpf
def test_values_c_stripped():
    """cvalues-stripped (no DWARF): frames and registers as today; monitor
    status says no DWARF for it."""
    run_c_nodwarf("cvalues-stripped", r"no DWARF")


@needs_bpf
def test_values_c_corrupt_dwarf():
    """cvalues-baddwarf (.debug_info overwritten, the ELF valid): refused for
    deep collection with a message in monitor status, tracing goes on."""
    run_c_nodwarf("cvalues-baddwarf", r"DWARF.*(corrupt|invalid|bad|error|cannot|unreadable)")


# --------------------------------------------------------------------------
# Go: govalues (main.handle(name string, n int64, p *Point, tags []string))


@contextlib.contextmanager
def go_traced(location, *action_lines, frames=4, language=None):
    """attached(govalues) with a gdb (Go runtime support loaded) that has
    traced location, the actions parsed in language if given: yields
    (t, g); leaves with tfind none and detach."""
    with attached("govalues") as (t, stub), gdb_pipe() as g:
        go_runtime_gdb_setup(g, t.path)
        connect(g, stub)
        if language:
            g.cmd(f"set language {language}")
        trace_frames(g, location, *action_lines, frames=frames)
        g.cmd("set language auto")
        yield t, g
        g.cmd("tfind none")
        g.cmd("detach")


GO_SRC = os.path.join(TARGETS, "govalues", "main.go")


def go_runtime_gdb_setup(g, path):
    """Load the Go runtime's GDB support (runtime-gdb.py: the printers of
    []string, maps, interfaces, and $len) as a Go user has it, then the
    program.  Without it GDB 13 prints tags as {array = 0x..., len = 2, cap = 2}."""
    g.cmd("set auto-load safe-path /")
    out = g.cmd(f"file {path}")
    assert "Loading Go Runtime support" in out, f"runtime-gdb.py not loaded:\n{out}"


def go_tags(k):
    return ["a", "bb"] if k % 2 == 0 else ["a", "bb", "ccc"]


def go_expect(k):
    tags = "[]string = {" + ", ".join(f'"{s}"' for s in go_tags(k)) + "}"
    return {
        "name": f'"req-{k}"',
        "n": str(100 + k),
        "*p": f'{{X = {k}, Y = {2 * k}, Label = "pt-{k}"}}',
        "p.Label": f'"pt-{k}"',
        "p.X": str(k),
        "tags": tags,
    }


def go_frame_k(g):
    """handle's k in the selected frame, at its entry: n = 100 + k (in rcx)."""
    return gdb_int(g.cmd("print n")) - 100


def assert_go_handle(g, frame, what=""):
    tfind(g, str(frame))
    k = go_frame_k(g)
    e = go_expect(k)
    ctx = f"{what}frame {frame} (k = {k})"
    out = g.cmd("info args")
    want = (f"name = {e['name']}\nn = {e['n']}\np = {ADDR}\ntags = {re.escape(e['tags'])}\n"
            r"~r0 = <optimized out>")
    assert re.search("^" + want, out, re.M), f"{ctx}: info args:\n{out}\nexpected /{want}/"
    for expr in ("name", "*p", "p.Label", "tags"):
        out = g.cmd(f"print {expr}")
        assert value(out) == e[expr], f"{ctx}: print {expr}:\n{out}\nexpected {e[expr]}"
    return k


# handle's arguments spelled out in C syntax (name in rax/rbx, n in rcx, p in
# rdi, tags in rsi/r8/r9: Go's register ABI).
GO_EXPLICIT = (
    "collect $regs",
    "collect *(char (*)[16]) $rax",            # name's bytes (name.str)
    "collect *(long (*)[5]) $rdi",             # *p
    "collect **(char (**)[16]) ($rdi + 16)",   # p.Label's bytes
    "collect *(long (*)[6]) $rsi",             # tags' 3 string headers
    "collect **(char (**)[8]) $rsi",           # "a"
    "collect **(char (**)[8]) ($rsi + 16)",    # "bb"
    "collect **(char (**)[8]) ($rsi + 32)",    # "ccc" (when k is odd)
)


def go_session_values(*action_lines, language=None):
    with go_traced("main.handle", *action_lines, frames=4, language=language) as (t, g):
        ks = [assert_go_handle(g, i) for i in range(2)]
        assert ks[1] == ks[0] + 1, f"frames 0, 1 are not consecutive calls: {ks}"


@needs_bpf
def test_values_go_explicit_control():
    """Control: the bytes spelled out (in C syntax, as GDB's Go bytecode
    compiler fails on Go strings: `collect name` gives "Expression pieces
    exceed word size") give exactly the strings the Go tests expect."""
    go_session_values(*GO_EXPLICIT, language="c")


@needs_bpf
def test_values_go_entry():
    """main.handle at its entry, `collect $regs` only: info args and print
    of a register-ABI string, an int, a pointer to a struct with a string
    field, a []string."""
    go_session_values()


@needs_bpf
def test_values_go_tdump():
    """main.handle, `collect $regs`: tdump shows the registers of the
    register ABI (name in rax/rbx, n in rcx, p in rdi, tags in rsi/r8/r9)."""
    with go_traced("main.handle", frames=2) as (t, g):
        tfind(g, "0")
        k = go_frame_k(g)
        out = g.cmd("tdump")
        for reg, v in (("rbx", len(f"req-{k}")), ("rcx", 100 + k), ("r8", len(go_tags(k))),
                       ("r9", len(go_tags(k)))):
            assert re.search(fr"^{reg}\s+{v:#x}\s+{v}$", out, re.M), \
                f"tdump (k = {k}): {reg} is not {v}:\n{out}"
        assert re.search(r"^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <main\.handle(\+\d+)?>", out, re.M), \
            f"tdump: rip is not in main.handle:\n{out}"


def run_go_tsave_tfile(*action_lines, language=None):
    with tempfile.TemporaryDirectory(prefix="bpfstub-values-") as tmp:
        path = os.path.join(tmp, "go.tf")
        with attached("govalues") as (t, stub):
            with gdb_pipe() as g:
                go_runtime_gdb_setup(g, t.path)
                connect(g, stub)
                if language:
                    g.cmd(f"set language {language}")
                trace_frames(g, "main.handle", *action_lines, frames=4)
                if language:
                    g.cmd("set language auto")
                live = [assert_go_handle(g, i, "live ") for i in range(2)]
                g.cmd("tfind none")
                out = g.cmd(f"tsave {path}")
                assert f"Trace data saved to file '{path}'" in out, f"tsave:\n{out}"
                g.cmd("detach")
            with gdb_pipe() as g:
                go_runtime_gdb_setup(g, t.path)
                if language:  # the actions the file holds are in that language
                    g.cmd(f"set language {language}")
                out = g.cmd(f"target tfile {path}")
                assert "Tracepoint 1 at" in out, f"target tfile:\n{out}"
                g.cmd("set language auto")
                saved = [assert_go_handle(g, i, "tfile ") for i in range(2)]
        assert saved == live, f"tfile frames are calls {saved}, live ones {live}"


@needs_bpf
def test_values_go_tsave_tfile_explicit_control():
    """Control: the Go values collected explicitly survive tsave + tfile."""
    run_go_tsave_tfile(*GO_EXPLICIT, language="c")


@needs_bpf
def test_values_go_tsave_tfile():
    """main.handle, `collect $regs`: the same values after tsave + target
    tfile in a new GDB."""
    run_go_tsave_tfile()


def go_handle_total(k):
    return 100 + k + k + 2 * k + len(f"req-{k}") + sum(len(s) for s in go_tags(k))


@needs_bpf
def test_values_go_body():
    """A tracepoint in handle's body (the line marked BODY), `collect $regs`:
    p and what it points to are whole; name, n and tags are dead there (Go's
    DWARF says <optimized out>, as on a stopped process); total is right."""
    body = source_line(GO_SRC, "// BODY")
    with go_traced(f"main.go:{body}", frames=3) as (t, g):
        for i in range(2):
            tfind(g, str(i))
            total = gdb_int(g.cmd("print total"))
            ks = [k for k in range(0, 1 << 20) if go_handle_total(k) == total]
            assert ks, f"frame {i}: total = {total} is no call's"
            k = ks[0]
            e = go_expect(k)
            out = g.cmd("print n")
            assert value(out) == "<optimized out>", f"frame {i}: print n:\n{out}"
            for expr in ("*p", "p.Label"):
                out = g.cmd(f"print {expr}")
                assert value(out) == e[expr], f"frame {i} (k = {k}): print {expr}:\n{out}\n" \
                    f"expected {e[expr]}"


def run_go_bt(*action_lines, language=None):
    call = source_line(GO_SRC, 'handle("req-"')
    with go_traced("main.handle", *action_lines, frames=2, language=language) as (t, g):
        tfind(g, "0")
        k = go_frame_k(g)
        out = g.cmd("bt")
        f1 = fr"^#1  0x[0-9a-f]+ in main\.main \(\) at \S*govalues/main\.go:{call}$"
        assert re.search(f1, out, re.M), f"bt shows no caller main.main at line {call}:\n{out}"
        f0 = re.search(r"^#0  (0x[0-9a-f]+ in )?main\.handle \((.*)\) at \S*govalues/main\.go:\d+$",
                       out, re.M)
        assert f0, f"bt #0 is not main.handle:\n{out}"
        for arg in (f'name="req-{k}"', f"n={100 + k}", "tags=[]string = {...}",
                    "~r0=<optimized out>"):
            assert arg in f0.group(2), f"bt #0 (k = {k}) has no {arg}:\n{out}"
        assert re.search(fr"\bp={ADDR}", f0.group(2)), f"bt #0 (k = {k}) has no p:\n{out}"


@needs_bpf
def test_values_go_bt_explicit_control():
    """Control: with the window and name's bytes spelled out (in C syntax),
    bt in tfind shows main.handle <- main.main."""
    run_go_bt("collect $regs, *(unsigned char (*)[512]) $rsp",
              "collect *(char (*)[16]) $rax", language="c")


@needs_bpf
def test_values_go_bt():
    """main.handle, `collect $regs`: bt in tfind shows main.handle <- main.main
    (the stack window holds the return address), with handle's arguments."""
    run_go_bt()


@needs_bpf
def test_values_go_interface():
    """main.describe(v any), `collect $regs`: the type word (rax) names a
    type in .rodata, whose size GDB reads (read-only memory); the data word
    (rbx) points to the *Point's Point (k even) or to the boxed int64 n
    (k odd), which deep collection brings.  (GDB 13 cannot print v itself:
    Go 1.19 describes it as three register pieces for two words, "access
    outside bounds of object referenced via synthetic pointer", live too.)"""
    with go_traced("main.describe", frames=3) as (t, g):
        point_type = t.read_long("main.pointType")
        g.cmd("set language c")
        seen = set()
        for i in range(2):
            tfind(g, str(i))
            out = g.cmd("info symbol $rax")
            assert re.match(r"type\.\* \+ \d+ in section \.rodata", out), \
                f"frame {i}: the type word is not a type:\n{out}"
            out = g.cmd("print (*('runtime._type' *)$rax).size")
            assert value(out) == "8", f"frame {i}: the dynamic type's size:\n{out}"
            is_point = gdb_int(g.cmd("print $rax")) == point_type
            seen.add(is_point)
            if is_point:
                out = g.cmd("print *('main.Point' *)$rbx")
                v = value(out)
                m = re.fullmatch(r'\{X = (\d+), Y = (\d+), Label = (?:' + ADDR + r' )?"pt-(\d+)"\}', v)
                assert m and int(m.group(2)) == 2 * int(m.group(1)) and \
                    m.group(3) == m.group(1), f"frame {i}: v's *Point:\n{out}"
            else:
                out = g.cmd("print *(long *)$rbx")
                n = value(out)
                assert n.isdigit() and int(n) >= 100 and (int(n) - 100) % 2 == 1, \
                    f"frame {i}: v's boxed int64 (an odd call's n):\n{out}"
        assert seen == {True, False}, "two consecutive calls did not pass a *Point and an int64"
        g.cmd("set language auto")


@needs_bpf
def test_values_go_map_chan():
    """main.stats(m map[string]int64, c chan int64), `collect $regs`: the
    map's header (its length: m.count) and the channel's (qcount, dataqsiz,
    elemsize) are collected, as pointers to structs."""
    with go_traced("main.stats", frames=3) as (t, g):
        for i in range(2):
            tfind(g, str(i))
            vals = {}
            for expr in ("m.count", "c.qcount", "c.dataqsiz", "c.elemsize"):
                out = g.cmd(f"print {expr}")
                vals[expr] = value(out)
                assert vals[expr].isdigit(), f"frame {i}: print {expr}:\n{out}"
            count, qcount = int(vals["m.count"]), int(vals["c.qcount"])
            assert count in (3, 4) and qcount % 2 == count - 3, \
                f"frame {i}: len(m) = {count}, len(c) = {qcount} are no call's"
            assert vals["c.dataqsiz"] == "4", f"frame {i}: cap(c) is not 4: {vals}"
            assert vals["c.elemsize"] == "8", f"frame {i}: c's elemsize is not 8: {vals}"
