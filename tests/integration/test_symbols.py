"""Split DWARF and ELF symbol tables (issue 17): functions found, and their
values shown, when the DWARF is in .dwo files or a .dwp package
(gcc -gsplit-dwarf), when there is no DWARF but .symtab (strip
--strip-debug) or only .dynsym (a stripped shared library), and through an
alias (libc's clock_nanosleep, which its DWARF calls __clock_nanosleep).
A skeleton whose DW_AT_dwo_name climbs out of the target's root is refused.

Targets (tests/targets/Makefile): deep_c.c's process(it, name, n) is called
every 2 ms with i = 0, 1, 2, ...: it = &items[i % 2], name = "alpha" (i even,
items[0] {id 7, weight 1.5, label "seven"}) or "bravo-charlie" (i odd,
items[1] {id 8, 2.5, "eight"}), n = i; it returns n + the sum of name's
bytes + it->id.  cppvalues.cc calls shop::Cart::total(k) on a Cart
{items = k % 7, owner = "ann"} (returns items * k) and shop::tax(cart)
(returns items * 2) every 5 ms.  libcaller calls lib_mul(i, i + 1) of a
libdifflib.so stripped to .dynsym every 2 ms (returns i * (i + 1)).
"""

import contextlib
import os
import re
import shutil
import time

from harness import (attached, gdb_int, gdb_pipe, gdb_tfind, gdb_wait_frames, lldb_batch,
                     needs_bpf, target_path)
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor

MON = "process plugin packet monitor"
NAMES = ("alpha", "bravo-charlie")
ITEMS = ({"id": 7, "weight": "1.5", "label": "seven"}, {"id": 8, "weight": "2.5", "label": "eight"})


def process_returns(n):
    """What deep_c's process(&items[n % 2], names[n % 2], n) returns."""
    return n + sum(NAMES[n % 2].encode()) + ITEMS[n % 2]["id"]


def run(g, seconds=0.3):
    monitor(g, "tstart")
    time.sleep(seconds)
    out = monitor(g, "tstop")
    n = int(re.search(r"trace stopped: (\d+) frames", out).group(1))
    assert n >= 4, out
    return n


def frame_lines(g, n=40):
    """{tp: [text after 'tp N  ']} of the first n frames (monitor tframes)."""
    out = monitor(g, f"tframes 0 {n}")
    by_tp = {}
    for ln in out.splitlines():
        m = re.match(r"^\d+  \S+  thread \d+  tp (\d+)  (.*)$", ln)
        if m:
            by_tp.setdefault(int(m.group(1)), []).append(m.group(2))
    return by_tp


def check_process_line(text):
    """'process(it=0x.. -> {...}, name="alpha", n=K)': K, with name and it's
    place matching K's parity."""
    m = re.match(r'^process\(it=0x[0-9a-f]+ -> \{\.\.\.\}, name="([a-z-]+)", n=(\d+)\)$', text)
    assert m, text
    k = int(m.group(2))
    assert m.group(1) == NAMES[k % 2], text
    return k


def check_process_tdump(out):
    """tdump of a process() frame: every parameter typed, exact."""
    m = re.search(r"^n = (\d+)$", out, re.M)
    assert m, out
    k = int(m.group(1))
    it = ITEMS[k % 2]
    assert re.search(rf'^name = "{NAMES[k % 2]}"$', out, re.M), out
    assert re.search(rf'^it = 0x[0-9a-f]+ -> \{{id = {it["id"]}, weight = {it["weight"]}, '
                     rf'label = "{it["label"]}", next = ', out, re.M), out
    return k


def split_c_by_monitor(target):
    """monitor trace process and trace -return process on deep_c built with
    split DWARF: typed frames, tdump, exact return values."""
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace process")
        assert re.search(r"^tracepoint 1 at 0x[0-9a-f]+ in process: enabled", out, re.M), out
        assert "no DWARF" not in out, out
        out = monitor(g, "trace -return process")
        assert "value rax (long int): rax" in out, out
        run(g)
        frames = frame_lines(g)
        ks = [check_process_line(x) for x in frames[1]]
        assert ks == list(range(ks[0], ks[0] + len(ks))), ks
        for text in frames[2]:
            m = re.match(r"^process\(\) -> rax=(\d+)  latency", text)
            assert m, text
            rax = int(m.group(1))
            assert any(process_returns(k) == rax for k in range(ks[0] - 2, ks[-1] + 2)), text
        for i in range(2):
            out = monitor(g, "tdump 0" if i == 0 else "tdump 2")
            if "tracepoint 1" in out.splitlines()[0]:
                check_process_tdump(out)
        g.cmd("detach")


@needs_bpf
def test_split_dwo_c():
    """.dwo files found by DW_AT_comp_dir + DW_AT_dwo_name (DWARF 5)."""
    split_c_by_monitor("deep_c-split")


@needs_bpf
def test_split_dwp_c():
    """The .dwo files gone, a deep_c-dwp.dwp package beside the executable
    (GNU split DWARF 4, binutils' dwp)."""
    assert not os.listdir(os.path.join(os.path.dirname(target_path("deep_c-dwp")), "dwpobj")) \
        or not [f for f in os.listdir(os.path.join(os.path.dirname(target_path("deep_c-dwp")),
                                                   "dwpobj")) if f.endswith(".dwo")]
    split_c_by_monitor("deep_c-dwp")


@needs_bpf
def test_split_dwp_gdb_trace_collect_args():
    """GDB's own `trace process` + `collect $regs, $args` on the .dwp target: GDB
    reads the package itself, bpfstub collects; the frames hold the
    arguments, exactly, and monitor tdump types them from the package."""
    with attached("deep_c-dwp") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("trace process")
        assert re.search(r"Tracepoint 1 at 0x[0-9a-f]+: file .*deep_c\.c", out), out
        # $regs too: with them bpfstub collects what the arguments point to
        # (deep collection, from the package's types).
        g.cmd("actions 1\ncollect $regs, $args\nend")
        g.cmd("tstart")
        gdb_wait_frames(g, 4)
        g.cmd("tstop")
        prev = None
        for i in range(3):
            gdb_tfind(g, str(i))
            n = gdb_int(g.cmd("print n"))
            assert NAMES[n % 2] in g.cmd("print name"), (n, g.cmd("print name"))
            assert gdb_int(g.cmd("print it->id")) == ITEMS[n % 2]["id"]
            assert prev is None or n == prev + 1, (prev, n)
            prev = n
            out = monitor(g, f"tdump {i}")
            assert check_process_tdump(out) == n, out
        g.cmd("tfind none")
        g.cmd("detach")


def split_cpp(target):
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace shop::Cart::total")
        assert re.search(r"^tracepoint 1 at 0x[0-9a-f]+ in total: enabled", out, re.M), out
        out = monitor(g, "trace -return shop::tax")
        assert "value rax (long int): rax" in out, out
        run(g, 0.25)
        frames = frame_lines(g)
        assert frames.get(1) and frames.get(2), frames
        for text in frames[1]:
            assert re.match(r"^total\(this=0x[0-9a-f]+ -> \{\.\.\.\}, price=\d+\)$", text), text
        for text in frames[2]:
            m = re.match(r"^tax\(\) -> rax=(\d+)  latency", text)
            assert m and int(m.group(1)) in range(0, 13, 2), text
        out = monitor(g, "tdump 0")
        m = re.search(r"^price = (\d+)$", out, re.M)
        assert m and re.search(rf'^this = 0x[0-9a-f]+ -> \{{items = {int(m.group(1)) % 7}, '
                               r'owner = "ann"\}$', out, re.M), out
        g.cmd("detach")


@needs_bpf
def test_split_cpp_dwo():
    split_cpp("cppvalues-split")


@needs_bpf
def test_split_cpp_dwp():
    split_cpp("cppvalues-dwp")


@needs_bpf
def test_split_dwp5_from_lldb():
    """A DWARF 5 package (llvm-dwp): LLDB defines and reads the tracepoints."""
    with attached("deep_c-dwp5") as (t, stub):
        r = lldb_batch([f"gdb-remote {stub.addr}", f"{MON} trace process",
                        f"{MON} trace -return process", f"{MON} tstart",
                        "platform shell sleep 0.3", f"{MON} tstop", f"{MON} tframes 0 6",
                        f"{MON} tdump 0", "process detach"])
        assert re.search(r"tracepoint 1 at 0x[0-9a-f]+ in process", r.out[1]), r.text
        assert "value rax (long int): rax" in r.out[2], r.text
        ks = [check_process_line(m.group(1)) for m in
              re.finditer(r"tp 1  (process\(.*\))$", r.out[6], re.M)]
        assert len(ks) >= 2 and ks == list(range(ks[0], ks[0] + len(ks))), r.out[6]
        rets = [int(m.group(1)) for m in re.finditer(r"tp 2  process\(\) -> rax=(\d+)",
                                                     r.out[6])]
        assert rets and all(any(process_returns(k) == x for k in range(ks[0] - 2, ks[-1] + 2))
                            for x in rets), r.out[6]
        if "tracepoint 1" in r.out[7]:
            check_process_tdump(r.out[7])


def untyped_args(text, fn):
    m = re.match(rf"^{re.escape(fn)}\(rdi=(-?\d+), rsi=(-?\d+), rdx=(-?\d+), rcx=-?\d+, "
                 r"r8=-?\d+, r9=-?\d+\)$", text)
    assert m, text
    return [int(x) for x in m.groups()]


@needs_bpf
def test_debuglink_crc_checked():
    """A debug file found by .gnu_debuglink (no build-id) is used only when
    its CRC is the one the link records: dlink-good's own debug file gives
    typed frames; dlink-bad's deep_c.debug, of another build under the same
    name, is refused (its names and locations would be wrong) and the
    function is traced by its ELF symbol instead."""
    with attached("dlink-good/deep_c") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace process")
        assert "no DWARF" not in out, out
        run(g)
        check_process_tdump(monitor(g, "tdump 0"))
        g.cmd("detach")
    with attached("dlink-bad/deep_c") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace process")
        assert re.search(r"no DWARF for process in .*dlink-bad/deep_c: its ELF symbol", out), out
        g.cmd("detach")


@contextlib.contextmanager
def symbol_only_session(target, fn, returns):
    """A session on target, stripped of its DWARF, tracing fn by its ELF
    symbol: `monitor trace FN` and `trace -return FN` (rax untyped), 0.3 s
    of frames.  Each entry's argument registers untyped, the third (n) one
    more than the last; each return's rax is returns(n) for an n about
    those seen.  Yields (g, the reply to trace, to trace -return, the calls'
    [rdi, rsi, rdx]) for the test's own checks, then detaches."""
    with attached(target) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        entry = monitor(g, f"trace {fn}")
        assert re.search(rf"^tracepoint 1 at 0x[0-9a-f]+ in {re.escape(fn)}: enabled", entry,
                         re.M), entry
        ret = monitor(g, f"trace -return {fn}")
        assert "value rax (untyped): rax" in ret, ret
        run(g)
        frames = frame_lines(g)
        calls = [untyped_args(x, fn) for x in frames[1]]
        ns = [n for _, _, n in calls]
        assert ns == list(range(ns[0], ns[0] + len(ns))), ns
        for text in frames[2]:
            m = re.match(rf"^{re.escape(fn)}\(\) -> rax=(\d+)  latency", text)
            assert m and any(returns(n) == int(m.group(1))
                             for n in range(ns[0] - 2, ns[-1] + 2)), text
        yield g, entry, ret, calls
        g.cmd("detach")


@needs_bpf
def test_symtab_only_c():
    """deep_c stripped of its DWARF, .symtab kept: the function by name, its
    argument registers untyped at the entry, its return value in rax."""
    with symbol_only_session("deep_c-symtab", "process", process_returns) as (g, entry, ret, _):
        assert re.search(r"no DWARF for process in .*deep_c-symtab: its ELF symbol; \$args are "
                         r"the argument registers rdi, rsi, rdx, rcx, r8, r9, untyped", entry), \
            entry
        assert "its range is its ELF symbol's" in ret, ret
        out = monitor(g, "tdump 0")
        assert "(no DWARF: ELF symbol, " in out.splitlines()[0], out


@needs_bpf
def test_symtab_only_cpp_demangled():
    """cppvalues stripped of DWARF: C++ functions by their demangled names
    (whole, or the tail GDB accepts), the same address either way."""
    with attached("cppvalues-symtab") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        a = monitor(g, "trace shop::Cart::total")
        b = monitor(g, "trace Cart::total")
        pa = re.search(r"^tracepoint 1 at (0x[0-9a-f]+) in shop::Cart::total: ", a, re.M)
        pb = re.search(r"^tracepoint 2 at (0x[0-9a-f]+) in shop::Cart::total: ", b, re.M)
        assert pa and pb and pa.group(1) == pb.group(1), (a, b)
        monitor(g, "tdelete 2")
        out = monitor(g, "trace -return shop::tax")
        assert "tracepoint 2: return of shop::tax" in out and "value rax (untyped)" in out, out
        run(g, 0.25)
        frames = frame_lines(g)
        ks = [untyped_args(x, "shop::Cart::total")[1] for x in frames[1]]
        assert len(ks) >= 2 and ks == list(range(ks[0], ks[0] + len(ks))), ks
        for text in frames[2]:
            m = re.match(r"^shop::tax\(\) -> rax=(\d+)  latency", text)
            assert m and int(m.group(1)) in range(0, 13, 2), text
        g.cmd("detach")


@needs_bpf
def test_symtab_only_rust_legacy_names():
    """rustvalues stripped of DWARF: Rust's legacy-mangled symbols
    (_ZN10rustvalues5greet17h<hash>E) by the source's path, without the
    hash; greet(name: &str, n) gets the &str as (pointer, length) in rdi and
    rsi and n in rdx, and returns name.len() + n in rax."""
    def name_len(n):
        return 5 if n % 2 == 0 else 13  # "alpha", "bravo-charlie"

    with symbol_only_session("rustvalues-symtab", "rustvalues::greet",
                             lambda n: n + name_len(n)) as (_, entry, _, calls):
        assert "its ELF symbol; $args are the argument registers" in entry, entry
        assert len(calls) >= 2, calls
        for _, ln, n in calls:
            assert ln == name_len(n), calls


@needs_bpf
def test_dynsym_only_shared_library():
    """lib_mul in a libdifflib.so stripped to .dynsym: by name, arguments
    i and i + 1 in rdi and rsi, i * (i + 1) returned."""
    with attached("dynsym/libcaller") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace lib_mul")
        assert re.search(r"no DWARF for lib_mul in .*dynsym/libdifflib\.so", out), out
        out = monitor(g, "trace -return lib_mul")
        assert "value rax (untyped): rax" in out, out
        run(g)
        frames = frame_lines(g)
        ins = []
        for text in frames[1]:
            rdi, rsi, _ = untyped_args(text, "lib_mul")
            assert rsi == rdi + 1, text
            ins.append(rdi)
        assert ins == list(range(ins[0], ins[0] + len(ins))), ins
        outs = [int(re.match(r"^lib_mul\(\) -> rax=(\d+)", x).group(1)) for x in frames[2]]
        assert all(any(i * (i + 1) == r for i in range(ins[0] - 1, ins[-1] + 2)) for r in outs), \
            (ins, outs)
        g.cmd("detach")


@needs_bpf
def test_libc_alias_clock_nanosleep():
    """libc's clock_nanosleep is __clock_nanosleep in its DWARF (libc6-dbg):
    both names give the one function, typed by the DWARF; the return too."""
    with attached("deep_c-O0") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        a = monitor(g, "trace clock_nanosleep")
        b = monitor(g, "trace __clock_nanosleep")
        pa = re.search(r"^tracepoint 1 at (0x[0-9a-f]+) in __clock_nanosleep: ", a, re.M)
        pb = re.search(r"^tracepoint 2 at (0x[0-9a-f]+) in __clock_nanosleep: ", b, re.M)
        assert pa and pb and pa.group(1) == pb.group(1), (a, b)
        monitor(g, "tdelete 2")
        out = monitor(g, "trace -return clock_nanosleep")
        assert "tracepoint 2: return of clock_nanosleep" in out and "value rax (int)" in out, out
        run(g)
        frames = frame_lines(g)
        for text in frames[1]:
            assert re.match(r"^__clock_nanosleep\(clock_id=[01], flags=0, req=0x[0-9a-f]+ -> "
                            r"\{\.\.\.\}, rem=0x0\)$", text), text
        for text in frames[2]:
            assert re.match(r"^__clock_nanosleep\(\) -> rax=0  latency", text), text
        for i in range(3):
            out = monitor(g, f"tdump {i}")
            if "tracepoint 1" in out.splitlines()[0]:
                assert re.search(r"^req = 0x[0-9a-f]+ -> \{tv_sec = 0, tv_nsec = 2000000\}$",
                                 out, re.M), out
                break
        else:
            raise AssertionError("no clock_nanosleep frame in the first three")
        g.cmd("detach")


@needs_bpf
def test_hostile_dwo_name_refused():
    """deep_c-evildwo's skeleton names ../../(...)/tmp/bpfstub-evil.dwo from
    its comp_dir: past "/", so refused with a message, although a genuine
    .dwo of that unit is there: the function is found by its ELF symbol
    only, its values untyped, nothing of the .dwo shown."""
    evil = "/tmp/bpfstub-evil.dwo"
    objdir = os.path.join(os.path.dirname(target_path("deep_c-evildwo")), "evil")
    dwo = [f for f in os.listdir(objdir) if f.endswith(".dwo")]
    assert len(dwo) == 1, dwo
    shutil.copy(os.path.join(objdir, dwo[0]), evil)
    try:
        with attached("deep_c-evildwo") as (t, stub), gdb_pipe() as g:
            connect(g, stub)
            out = monitor(g, "trace process")
            assert re.search(r"split DWARF: /\S*/\.\./\.\./\S*/tmp/bpfstub-evil\.dwo leads "
                             r"outside the target's root: refused", out), out
            assert "its ELF symbol" in out, out
            run(g)
            out = monitor(g, "tdump 0")
            assert re.search(r"^rdx = \d+$", out, re.M) and "name = " not in out, out
            g.cmd("detach")
    finally:
        os.unlink(evil)
