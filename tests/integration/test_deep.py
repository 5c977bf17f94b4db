"""Deep collection (stub/trace/deep.c): with only `collect $regs`, GDB's own
`info args`, `print *it`, `print name`, `print tags` show whole values in
tfind, because bpfstub's program also collects what the parameters point to
(read from the target's DWARF, stub/program/dwarf.c).

Targets (tests/targets): deep_c.c at -O2 and -O0, PIE: process(it, name, n)
with it = &items[i % 2], name = "alpha" / "bravo-charlie", n = i;
items[0] = {7, 1.5, "seven", &items[1]}, items[1] = {8, 2.5, "eight", NULL}.
deepgo: handle(name, n, p, tags) with name = "alpha" / "bravo-charlie",
n = i + 100, p = {3, 4, "origin"} / {-5, 6, "far"}, tags = {"a", "bb"}.

tdump shows what GDB's own actions named (here the registers): GDB prints
the collected blocks it asked for, never the extra ones.
"""

import os
import re
import subprocess
import tempfile

from harness import (Target, ThreadStateSampler, Stub, actions, attached, elf_symbols, gdb_batch,
                     gdb_pipe, go_runtime_gdb, load_bias, needs_bpf, require_stub, target_path)
from harness import gdb_connect as connect
from harness import gdb_trace_regs
from harness import gdb_tstart as tstart
from harness import gdb_wait_frames as wait_created

C_ITEMS = {
    7: ('{id = 7, weight = 1.5, label = 0x[0-9a-f]+ "seven", next = 0x[0-9a-f]+ <items\\+32>}'),
    8: '{id = 8, weight = 2.5, label = 0x[0-9a-f]+ "eight", next = 0x0}',
}
C_NAMES = {7: "alpha", 8: "bravo-charlie"}


def check_c_frames(g):
    """Frames 0 and 1 are consecutive calls: one has items[0], one items[1]."""
    seen = set()
    for f in (0, 1):
        out = g.cmd(f"tfind {f}")
        assert f"Found trace frame {f}" in out, out
        args = g.cmd("info args")
        m = re.search(r"^it = 0x[0-9a-f]+ <items(\+32)?>$", args, re.M)
        assert m, f"info args:\n{args}"
        item_id = 8 if m.group(1) else 7
        seen.add(item_id)
        name = C_NAMES[item_id]
        assert re.search(rf'^name = 0x[0-9a-f]+ "{name}"$', args, re.M), args
        assert re.search(r"^n = \d+$", args, re.M), args
        out = g.cmd("print *it")
        assert re.search(r"\$\d+ = " + C_ITEMS[item_id], out), out
        out = g.cmd("print name")
        assert re.search(rf'= 0x[0-9a-f]+ "{name}"', out), out
        out = g.cmd("print it->label")
        assert '"seven"' in out or '"eight"' in out, out
        if item_id == 7:
            # depth 2: the struct's pointer to a struct, one level further
            out = g.cmd("print *it->next")
            assert re.search(r'= {id = 8, weight = 2.5, label = 0x[0-9a-f]+', out), out
        out = g.cmd("tdump")
        assert re.search(r"^rdi\s+0x[0-9a-f]+", out, re.M), out
    assert seen == {7, 8}, seen
    g.cmd("tfind none")


@needs_bpf
def test_deep_c_o2_args_whole():
    """C -O2 PIE, `collect $regs` only: info args, print *it, print name, tdump."""
    with attached("deep_c-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "process")
        check_c_frames(g)
        out = g.cmd("monitor status")
        assert re.search(r"^deep collection: \d+ bytes per hit, depth 2$", out, re.M), out
        assert re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: deep: \*it \(32 bytes \(it\.label, "
                         r"it\.next\)\), name \(C string, 255\)$", out, re.M), out


@needs_bpf
def test_deep_c_o0_args_whole():
    """C -O0 PIE: the parameters live in the frame (rbp slots): collected too."""
    with attached("deep_c-O0") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "process")
        check_c_frames(g)


@needs_bpf
def test_deep_go_args_whole():
    """Go (register ABI): print name, print *p, print p.Label, print tags."""
    with attached("deepgo") as (t, stub), gdb_pipe(file=t.path) as g:
        # What GDB auto-loads from .debug_gdb_scripts when the safe-path allows it.
        g.cmd(f"source {go_runtime_gdb()}")
        gdb_trace_regs(g, stub, "main.handle")
        for f in (0, 1):
            out = g.cmd(f"tfind {f}")
            assert f"Found trace frame {f}" in out, out
            name = g.cmd("print name")
            m = re.search(r'= "(alpha|bravo-charlie)"', name)
            assert m, name
            label, x, y = ("origin", 3, 4) if m.group(1) == "alpha" else ("far", -5, 6)
            out = g.cmd("print *p")
            assert f'= {{X = {x}, Y = {y}, Label = "{label}"}}' in out, out
            out = g.cmd("print p.Label")
            assert f'= "{label}"' in out, out
            out = g.cmd("print tags")
            assert '= []string = {"a", "bb"}' in out, out
            args = g.cmd("info args")
            assert f'name = "{m.group(1)}"' in args and 'tags = []string = {"a", "bb"}' in args, \
                args
            assert re.search(r"^n = \d+$", args, re.M), args
        g.cmd("tfind none")


@needs_bpf
def test_deep_without_dwarf_traces_as_before():
    """A stripped copy and one with corrupt .debug_info: tracing goes on as
    today (registers collected, right values), deep collection adds nothing
    and monitor status says why."""
    require_stub()
    src = target_path("deep_c-O2")
    sym = elf_symbols(src)["process"]
    with tempfile.TemporaryDirectory() as tmp:
        stripped = os.path.join(tmp, "deep_c-stripped")
        subprocess.run(["strip", "-o", stripped, src], check=True)
        corrupt = os.path.join(tmp, "deep_c-corrupt")
        subprocess.run(["cp", src, corrupt], check=True)
        info = subprocess.run(["readelf", "-SW", corrupt], capture_output=True, text=True,
                              check=True).stdout
        m = re.search(r"\.debug_info\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)", info)
        assert m, info
        with open(corrupt, "r+b") as f:
            f.seek(int(m.group(1), 16))
            f.write(b"\x7f\x7f\x7f\x7f\x09\x00" + b"\x7f" * 10)
        for path in (stripped, corrupt):
            with Target(path) as t, ThreadStateSampler(t.pid), Stub.attach(t.pid) as stub, \
                    gdb_pipe(file=path) as g:
                addr = load_bias(t.pid, path) + sym
                connect(g, stub)
                out = g.cmd(f"trace *{addr:#x}")
                assert re.search(r"Tracepoint \d+ at", out), out
                g.cmd(actions("collect $regs"))
                tstart(g)
                wait_created(g, 3)
                g.cmd("tstop")
                out = g.cmd("tfind 0")
                assert "Found trace frame 0" in out, out
                why = "stripped" if path == stripped else "corrupt DWARF in .* refused"
                out = g.cmd("monitor status")
                assert re.search(rf"^  tracepoint 1 at 0x[0-9a-f]+: nothing deeper: .*{why}", out,
                                 re.M), out
                rdi = int(re.search(r"0x[0-9a-f]+", g.cmd("print/x $rdi")).group(0), 16)
                items = load_bias(t.pid, path) + elf_symbols(src)["items"]
                assert rdi in (items, items + 32), (hex(rdi), hex(items))
                g.cmd("tfind none")


@needs_bpf
def test_deep_blocks_survive_tsave_tfile():
    """The blocks are ordinary: after tsave, a new GDB on `target tfile`
    prints the same whole values."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "deep.tf")
        with attached("deep_c-O2") as (t, stub), gdb_pipe(file=t.path) as g:
            gdb_trace_regs(g, stub, "process")
            out = g.cmd(f"tsave {path}")
            assert f"Trace data saved to file '{path}'" in out, out
            prog, bias = t.path, load_bias(t.pid, t.path)
        # A trace file does not say where the PIE was loaded: GDB is told.
        r = gdb_batch([f"symbol-file -o {bias:#x} {prog}", f"target tfile {path}", "tfind 0",
                       "print *it", "print name", "tfind 1", "print *it", "print name"])
        text = str(r)
        for item_id, name in C_NAMES.items():
            assert re.search(r"\$\d+ = " + C_ITEMS[item_id], text), text
            assert re.search(rf'\$\d+ = 0x[0-9a-f]+ "{name}"', text), text
