"""Addresses right for every layout (issue 17): the same checks on one C
program linked three ways and on a Rust program, whose text does not sit at
its file offset (lld starts text a page above it and maps a read-only
segment at offset 0 below it; gold and rustc's own lld differ again), so a
mix-up of file offsets and link-time addresses shows as missing DWARF,
unavailable arguments or a failing `bt`.

Targets (tests/targets): deep_c.c -O0 PIE as deep_c-O0 (gcc + GNU ld),
deep_c-gold (gcc -fuse-ld=gold) and deep_c-lld (clang -fuse-ld=lld):
process(it, name, n) every 2 ms with it = &items[i % 2], name = "alpha" /
"bravo-charlie", n = i; items[0] = {7, 1.5, "seven", &items[1]}, items[1] =
{8, 2.5, "eight", NULL}; it returns n + the bytes of name + it->id.
rustvalues.rs (rustc -C debuginfo=2, and -O): greet(&str, i64), own(String),
total(&Vec<i64>), maybe(Option<i32>), nick(Option<&str>), area(&Point,
&Shape) with the values its header lists.
"""

import re

from harness import attached, gdb_pipe, gdb_trace_regs, lldb_batch, needs_bpf
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor
from harness import gdb_wait_frames as wait_frames

C_BUILDS = {"ld": "deep_c-O0", "gold": "deep_c-gold", "lld": "deep_c-lld"}
MON = "process plugin packet monitor"

C_ITEM = {
    7: r'\{id = 7, weight = 1.5, label = "seven", next = 0x[0-9a-f]+ -> \{\.\.\.\}\}',
    8: r'\{id = 8, weight = 2.5, label = "eight", next = 0x0\}',
}
C_NAME = {7: "alpha", 8: "bravo-charlie"}


def mon_run(g, frames=12):
    """monitor tstart, wait for frames, monitor tstop; the frame count."""
    monitor(g, "tstart")
    wait_frames(g, frames)
    out = monitor(g, "tstop")
    return int(re.search(r"trace stopped: (\d+) frames", out).group(1))


def tdump(g, n):
    """{"tp": N, "func": name, "lines": [value lines]} of monitor tdump n (the
    values: its `stack:` section, test_fpstack.py's, is left out)."""
    out = monitor(g, f"tdump {n}")
    m = re.search(rf"^frame {n}: tracepoint (\d+), (\S*) at 0x[0-9a-f]+, thread \d+[^\n]*", out,
                  re.M)
    assert m, out
    rest = [x.rstrip() for x in out[m.end():].split("\nstack:\n")[0].strip().splitlines()
            if x.strip()]
    return {"tp": int(m.group(1)), "func": m.group(2), "lines": rest, "text": out}


def check_c_entry(f):
    """A process() entry frame's values, exactly: (n, name, id)."""
    text = "\n".join(f["lines"])
    m = re.search(r"^it = 0x[0-9a-f]+ -> \{id = (7|8),", text, re.M)
    assert m, f["text"]
    item = int(m.group(1))
    assert re.search(rf"^it = 0x[0-9a-f]+ -> {C_ITEM[item]}$", text, re.M), f["text"]
    assert f'name = "{C_NAME[item]}"' in f["lines"], f["text"]
    n = re.search(r"^n = (\d+)$", text, re.M)
    assert n, f["text"]
    assert int(n.group(1)) % 2 == (item - 7), f["text"]  # items[i % 2]
    return int(n.group(1)), C_NAME[item], item


def c_monitor(build):
    """monitor trace process + trace -return process from GDB: entry frames
    with the arguments whole, return frames with process()'s value and a
    latency, for the build's layout."""
    with attached(C_BUILDS[build]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace process")
        assert re.search(r"tracepoint 1 at 0x[0-9a-f]+ in process: enabled", out), out
        out = monitor(g, "trace -return process")
        m = re.search(r"tracepoint 2: return of process \(entry (0x[0-9a-f]+)\), \d+ return "
                      r"instructions?:", out)
        assert m, out
        assert "value rax (long" in out, out
        nframes = mon_run(g)
        out = monitor(g, "status")
        assert "nothing deeper" not in out and "no DWARF" not in out, out
        assert re.search(r"tracepoint 1 at 0x[0-9a-f]+: deep: \*it \(32 bytes \(it\.label, "
                         r"it\.next\)\), name \(C string, 255\)", out), out
        frames = [tdump(g, i) for i in range(min(nframes, 12))]
        g.cmd("detach")
    pairs = 0
    for a, b in zip(frames, frames[1:]):
        if a["tp"] != 1 or b["tp"] != 2:
            continue
        assert a["func"] == "process" and b["func"] == "process", (a, b)
        n, name, item = check_c_entry(a)
        rax = re.search(r"^rax = (-?\d+)$", "\n".join(b["lines"]), re.M)
        assert rax and int(rax.group(1)) == n + sum(name.encode()) + item, b["text"]
        assert re.search(r"^latency = [\d.]+ us$", "\n".join(b["lines"]), re.M), b["text"]
        pairs += 1
    assert pairs >= 3, frames


def c_gdb(build):
    """GDB's own trace/collect $regs/tstart/tfind: info args and print show
    whole values (deep collection found the DWARF), bt reaches main."""
    with attached(C_BUILDS[build]) as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "process")
        seen = set()
        for f in (0, 1):
            out = g.cmd(f"tfind {f}")
            assert f"Found trace frame {f}" in out, out
            args = g.cmd("info args")
            m = re.search(r"^it = 0x[0-9a-f]+ <items(\+32)?>$", args, re.M)
            assert m, args
            item = 8 if m.group(1) else 7
            seen.add(item)
            assert re.search(rf'^name = 0x[0-9a-f]+ "{C_NAME[item]}"$', args, re.M), args
            assert re.search(r"^n = \d+$", args, re.M), args
            out = g.cmd("print *it")
            want = (r'\{id = 7, weight = 1.5, label = 0x[0-9a-f]+ "seven", next = '
                    r'0x[0-9a-f]+ <items\+32>\}' if item == 7 else
                    r'\{id = 8, weight = 2.5, label = 0x[0-9a-f]+ "eight", next = 0x0\}')
            assert re.search(r"\$\d+ = " + want, out), out
            bt = g.cmd("bt")
            assert re.search(r"^#0  process \(it=0x[0-9a-f]+ <items(\+32)?>, name=0x[0-9a-f]+ "
                             rf'"{C_NAME[item]}", n=\d+\) at .*deep_c\.c:\d+$', bt, re.M), bt
            assert re.search(r"^#1  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at "
                             r".*deep_c\.c:\d+$", bt, re.M), bt
            out = g.cmd("tdump")
            assert re.search(r"^rdi\s+0x[0-9a-f]+", out, re.M), out
        assert seen == {7, 8}, seen
        g.cmd("tfind none")
        g.cmd("detach")


def c_lldb(build):
    """From LLDB: monitor trace and trace -return by name, tdump typed."""
    with attached(C_BUILDS[build]) as (t, stub):
        r = lldb_batch([f"gdb-remote {stub.addr}",
                        f"{MON} trace process", f"{MON} trace -return process",
                        f"{MON} tstart", "platform shell sleep 0.3", f"{MON} tstop",
                        f"{MON} tdump 0", f"{MON} tdump 1", f"{MON} tdump 2",
                        "process detach"])
        out = r.out
        assert "tracepoint 1 at 0x" in out[1] and "in process" in out[1], r.text
        assert "tracepoint 2: return of process" in out[2], r.text
        dumps = out[6:9]
    entry = [d for d in dumps if re.search(r"^frame \d+: tracepoint 1, process", d, re.M)]
    ret = [d for d in dumps if re.search(r"^frame \d+: tracepoint 2, process", d, re.M)]
    assert entry and ret, r.text
    for d in entry:
        lines = [x for x in d.splitlines() if x.startswith(("it = ", "name = ", "n = "))]
        check_c_entry({"lines": lines, "text": d})
    for d in ret:
        assert re.search(r"^rax = \d+$", d, re.M), d


def _make(fn, build):
    def test():
        fn(build)
    test.__name__ = f"test_{fn.__name__}_{build}"
    test.__doc__ = f"{fn.__doc__} ({build})"
    return needs_bpf(test)


for _b in C_BUILDS:
    for _fn in (c_monitor, c_gdb, c_lldb):
        globals()[f"test_{_fn.__name__}_{_b}"] = _make(_fn, _b)

# ---- Rust -----------------------------------------------------------------

RS_FUNCS = ("greet", "own", "total", "maybe", "nick", "area")
RS_POINT = {"3": 'Point {x: 3, y: 4, label: "origin"}', "-5": 'Point {x: -5, y: 6, label: "far"}'}
RS_SHAPES = ("Circle(5)", "Rect{w: 3, h: 4}", "Empty")


def rust_values(frames):
    """Check every entry frame's values exactly, by function: the count of
    frames seen per function."""
    seen = {}
    for f in frames:
        fn, text = f["func"], "\n".join(f["lines"])
        if fn not in RS_FUNCS or f["tp"] > len(RS_FUNCS):  # tp 7: greet's returns
            continue
        seen[fn] = seen.get(fn, 0) + 1
        if fn == "greet":
            m = re.fullmatch(r'name = "(alpha|bravo-charlie)"\nn = (\d+)', text)
            assert m, f["text"]
            assert int(m.group(2)) % 2 == (m.group(1) != "alpha"), f["text"]
        elif fn == "own":
            assert re.fullmatch(r's = "owned-[01]"', text), f["text"]
        elif fn == "total":
            assert re.fullmatch(r"v = 0x[0-9a-f]+ -> Vec\(size=(3\) = \{1, 2, 3\}|"
                                r"4\) = \{10, 20, 30, 40\})", text), f["text"]
        elif fn == "maybe":
            assert text in ("o = Some(42)", "o = None"), f["text"]
        elif fn == "nick":
            assert text in ('o = Some("bravo-charlie")', "o = None"), f["text"]
        elif fn == "area":
            m = re.fullmatch(r"p = 0x[0-9a-f]+ -> (Point \{x: (-?\d+).*\})\n"
                             r"s = 0x[0-9a-f]+ -> (.*)", text)
            assert m and m.group(1) == RS_POINT[m.group(2)], f["text"]
            assert m.group(3) in RS_SHAPES, f["text"]
    return seen


@needs_bpf
def test_rust_monitor_values_whole():
    """monitor trace of each function: &str, String, &Vec<i64>, Option<i32>,
    Option<&str> (a niche), &Point and &Shape (an enum) whole in tdump; trace
    -return greet: its value, name's length + n."""
    with attached("rustvalues") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        for i, fn in enumerate(RS_FUNCS, 1):
            out = monitor(g, f"trace rustvalues::{fn}")
            assert re.search(rf"tracepoint {i} at 0x[0-9a-f]+ in {fn}: enabled", out), out
        out = monitor(g, "trace -return rustvalues::greet")
        assert "tracepoint 7: return of rustvalues::greet" in out, out
        assert "value rax (i64): rax" in out, out
        nframes = mon_run(g, 40)
        out = monitor(g, "status")
        assert "nothing deeper" not in out and "no DWARF" not in out, out
        assert "deep: name (Rust string, 255)" in out, out
        assert "deep: o (its 16 bytes (o.Some.__0))" in out, out
        frames = [tdump(g, i) for i in range(min(nframes, 40))]
        g.cmd("detach")
    seen = rust_values(frames)
    assert set(seen) == set(RS_FUNCS), seen
    rets = 0
    for a, b in zip(frames, frames[1:]):
        if a["func"] == "greet" and b["tp"] == 7:
            m = re.fullmatch(r'name = "(alpha|bravo-charlie)"\nn = (\d+)', "\n".join(a["lines"]))
            rax = re.search(r"^rax = (\d+)$", "\n".join(b["lines"]), re.M)
            assert rax and int(rax.group(1)) == len(m.group(1)) + int(m.group(2)), b["text"]
            rets += 1
    assert rets >= 2, frames


@needs_bpf
def test_rust_gdb_collect_regs_prints_and_bt():
    """GDB: trace FUNC + collect $regs; in tfind GDB's Rust printing shows
    the values deep collection brought, and bt reaches rustvalues::main."""
    with attached("rustvalues") as (t, stub), gdb_pipe(file=t.path) as g:
        gdb_trace_regs(g, stub, "rustvalues::greet", "rustvalues::area", "rustvalues::maybe",
                       "rustvalues::nick", frames=16)
        out = g.cmd("tfind tracepoint 1")
        assert "Found trace frame" in out, out
        out = g.cmd("print name")
        assert re.search(r'= "(alpha|bravo-charlie)"$', out, re.M), out
        bt = g.cmd("bt")
        assert re.search(r'^#0  rustvalues::greet \(name=.*, n=\d+\) at .*rustvalues\.rs:\d+$',
                         bt, re.M), bt
        assert re.search(r"^#1  0x[0-9a-f]+ in rustvalues::main \(\) at .*rustvalues\.rs:\d+$",
                         bt, re.M), bt
        out = g.cmd("tfind tracepoint 2")
        assert "Found trace frame" in out, out
        out = g.cmd("print *p")
        assert re.search(r'= rustvalues::Point \{x: (3, y: 4, label: "origin"|'
                         r'-5, y: 6, label: "far")\}$', out, re.M), out
        out = g.cmd("print *s")
        assert re.search(r"= rustvalues::Shape::(Circle\(5\)|Rect\{w: 3, h: 4\}|Empty)$", out,
                         re.M), out
        assert "rustvalues::main" in g.cmd("bt")
        out = g.cmd("tfind tracepoint 3")
        assert "Found trace frame" in out, out
        out = g.cmd("print o")
        assert re.search(r"= core::option::Option<i32>::(Some\(42\)|None)$", out, re.M), out
        out = g.cmd("tfind tracepoint 4")
        out = g.cmd("print o")
        assert re.search(r'= core::option::Option<&str>::(Some\("bravo-charlie"\)|None)$', out,
                         re.M), out
        out = g.cmd("tdump")
        assert re.search(r"^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <rustvalues::nick\+\d+>", out,
                         re.M), out
        g.cmd("tfind none")
        g.cmd("detach")


@needs_bpf
def test_rust_lldb_string_and_vec():
    """LLDB: monitor trace of own(String) and total(&Vec<i64>): tdump whole."""
    with attached("rustvalues") as (t, stub):
        r = lldb_batch([f"gdb-remote {stub.addr}",
                        f"{MON} trace rustvalues::own", f"{MON} trace rustvalues::total",
                        f"{MON} tstart", "platform shell sleep 0.3", f"{MON} tstop",
                        f"{MON} tdump 0", f"{MON} tdump 1", f"{MON} tdump 2",
                        "process detach"])
        dumps = "\n".join(r.out[6:9])
    assert re.search(r'^s = "owned-[01]"$', dumps, re.M), r.text
    assert re.search(r"^v = 0x[0-9a-f]+ -> Vec\(size=(3|4)\) = \{(1, 2, 3|10, 20, 30, 40)\}$",
                     dumps, re.M), r.text


@needs_bpf
def test_rust_optimized_build():
    """rustc -O: the String and the enum still whole where the code keeps them."""
    with attached("rustvalues-O") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        monitor(g, "trace rustvalues::own")
        monitor(g, "trace rustvalues::area")
        nframes = mon_run(g, 12)
        frames = [tdump(g, i) for i in range(min(nframes, 12))]
        g.cmd("detach")
    own = [f for f in frames if f["tp"] == 1]
    area = [f for f in frames if f["tp"] == 2]
    assert own and area, frames
    for f in own:
        assert len(f["lines"]) == 1 and re.fullmatch(r's = "owned-[01]"', f["lines"][0]), \
            f["text"]
    for f in area:
        m = re.search(r"^s = 0x[0-9a-f]+ -> (.*)$", "\n".join(f["lines"]), re.M)
        assert m and m.group(1) in RS_SHAPES, f["text"]
