"""The whole issue-10 flow from real LLDB (which has no tracepoint commands):
`monitor trace` by name with expressions and a condition, `trace -return`
with return values and latency, tstart/tstop, then `tframes` and `tdump`
typed by DWARF, exactly as the user reads them; and the same for a C
service from GDB.  Thread states are sampled throughout (attached())."""

import re
import time

from harness import GdbMI, attached, gdb_pipe, lldb_batch, needs_bpf
from harness import gdb_connect as connect

MON = "process plugin packet monitor"
ALIAS = "command regex bpf 's/(.+)/process plugin packet monitor %1/'"


def lines(out):
    return [x for x in out.splitlines() if not x.startswith(("  packet:", "response:"))]


@needs_bpf
def test_lldb_go_by_name_and_return_typed():
    """govalues: handle(name, n, p, tags) for k = 0, 1, ... with name "req-k",
    n 100+k, p &Point{k, 2k, "pt-k"}, tags ["a","bb"(,"ccc" for odd k)];
    pair(k) returns (3k, "even") or (3k+1, "odd")."""
    with attached("govalues") as (t, stub):
        r = lldb_batch([ALIAS, f"gdb-remote {stub.addr}",
                        "bpf trace main.handle if tags.len == 3 && n > 100 collect p.Label, tags[2], p",
                        "bpf trace -return main.pair",
                        "bpf tstart", "platform shell sleep 0.4", "bpf tstop",
                        "bpf tframes 0 6", "bpf tdump 0", "bpf tdump 1",
                        "process detach"])
        out = r.out
        assert "tracepoint 1 at 0x" in out[2] and "in main.handle" in out[2], r.text
        assert "tracepoint 2: return of main.pair" in out[3], r.text
        assert "trace started: 2 tracepoints" in out[4], r.text
        frames = lines(out[7])
        ks = {}
        for ln in frames:
            m = re.match(r"^(\d+)  \d\d:\d\d:\d\d\.\d{6}  thread \d+  goroutine 1  tp (\d)  (.*)$",
                         ln)
            if not m:
                continue
            ks.setdefault(int(m.group(2)), []).append((int(m.group(1)), m.group(3)))
        assert ks.get(1) and ks.get(2), f"frames of both tracepoints expected:\n{out[7]}"
        for _, text in ks[1]:
            # The tracepoint's own expressions, on one line.
            m = re.match(r'^main\.handle: p\.Label="pt-(\d+)", tags\[2\]="ccc", '
                         r'p=0x[0-9a-f]+ -> \{X: (\d+), Y: (\d+), Label: "pt-(\d+)"\}$', text)
            assert m and len(set(m.group(1, 2, 4))) == 1, text
            k = int(m.group(1))
            assert int(m.group(3)) == 2 * k, text
            assert k % 2 == 1, f"the condition tags.len == 3 let k={k} through:\n{out[7]}"
        for _, text in ks[2]:
            m = re.match(r'^main\.pair\(\) -> ~r0=(\d+), ~r1="(even|odd)"  '
                         r'latency (unknown|[\d.]+ (ns|us|ms))$', text)
            assert m, f"return line:\n{text}"
            r0, parity = int(m.group(1)), m.group(2)
            assert (r0 % 3 == 0 and parity == "even") or (r0 % 3 == 1 and parity == "odd"), text
        # tdump of frames 0 and 1: whichever tracepoint each belongs to.
        for dump in (out[8], out[9]):
            d = "\n".join(lines(dump))
            head = re.match(r"^frame (\d+): tracepoint (\d), main\.(handle|pair) at 0x[0-9a-f]+, "
                            r"thread \d+  goroutine 1, \d\d:\d\d:\d\d\.\d{6}$", d, re.M)
            assert head, d
            if head.group(2) == "1":
                k = int(re.search(r'^p = 0x[0-9a-f]+ -> \{X: (\d+), ', d, re.M).group(1))
                assert k % 2 == 1, d
                assert re.search(rf'^p\.Label = "pt-{k}"$', d, re.M), d
                assert re.search(r'^tags\[2\] = "ccc"$', d, re.M), d
                assert re.search(rf'^p = 0x[0-9a-f]+ -> \{{X: {k}, Y: {2 * k}, '
                                 rf'Label: "pt-{k}"\}}$', d, re.M), d
            else:
                m = re.search(r"^~r0 = (\d+)\n~r1 = \"(even|odd)\"\nlatency = "
                              r"(unknown \(the call began before the trace\)|[\d.]+ (ns|us|ms))$",
                              d, re.M)
                assert m, d
        assert "latency" in out[7] and re.search(r"latency [\d.]+ (ns|us|ms)", out[7]), out[7]


@needs_bpf
def test_gdb_c_return_and_expressions_typed():
    """cvalues-O2: process(it, name, n) returns a long; items[k%3] labels
    "first"/"second"/heap "heap-third", names alpha/beta/gamma."""
    with attached("cvalues-O2") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = g.cmd("monitor trace process if n > 0 collect it->label, name, *it")
        assert "tracepoint 1 at 0x" in out, out
        out = g.cmd("monitor trace -return process")
        assert "tracepoint 2: return of process" in out and "value rax (long int): rax" in out, out
        g.cmd("monitor tstart")
        g.cmd("shell sleep 0.3")
        out = g.cmd("monitor tstop")
        n = int(re.search(r"trace stopped: (\d+) frames", out).group(1))
        assert n >= 4, out
        out = g.cmd(f"monitor tframes 0 {n}")
        names = {"alpha": "first", "beta": "second", "gamma": "heap-third"}
        entries = rets = 0
        for ln in out.splitlines():
            m = re.match(r"^(\d+)  \S+  thread \d+  tp (\d)  (.*)$", ln)
            if not m:
                continue
            if m.group(2) == "1":
                entries += 1
                mm = re.match(r'^process: it->label="(first|second|heap-third)", '
                              r'name="(alpha|beta|gamma)", \*it=\{id = (\d), ', m.group(3))
                assert mm and names[mm.group(2)] == mm.group(1), ln
            else:
                rets += 1
                assert re.match(r"^process\(\) -> rax=-?\d+  latency (unknown|[\d.]+ (ns|us|ms))$",
                                m.group(3)), ln
        assert entries and rets, out
        for i in range(2):
            d = g.cmd(f"monitor tdump {i}")
            if "tracepoint 1," in d:
                nm = re.search(r'^name = "(alpha|beta|gamma)"$', d, re.M).group(1)
                assert re.search(rf'^it->label = "{names[nm]}"$', d, re.M), d
                assert re.search(rf'^\*it = \{{id = \d, label = "{names[nm]}", ', d, re.M), d
            else:
                assert re.search(r"^rax = -?\d+$", d, re.M), d
                assert re.search(r"^latency = ", d, re.M), d
        g.cmd("detach")


@needs_bpf
def test_lldb_go_server_return_string_and_handler_path():
    """The Go HTTP server: `trace -return main.greet` shows the string it
    built on the heap (deep-collected from rax:rbx at the ret), and a
    handler's r.URL.Path by name; one request, one frame each."""
    import urllib.request
    with attached("goserver", ["0"]) as (t, stub):
        url = f"http://127.0.0.1:{t.port}/greet?name=lldb"
        r = lldb_batch([ALIAS, f"gdb-remote {stub.addr}",
                        "bpf trace -return main.greet",
                        "bpf trace net/http.(*ServeMux).ServeHTTP collect r.URL.Path, r.Method",
                        "bpf tstart",
                        f"platform shell curl -s -m 5 '{url}'",
                        "bpf tstop", "bpf tframes", "bpf tdump 0", "bpf tdump 1",
                        "process detach"])
        out = r.out
        assert "hello, lldb" in out[5], r.text
        assert "trace stopped: 2 frames" in out[6], r.text
        frames = "\n".join(lines(out[7]))
        assert re.search(r'tp 1  main\.greet\(\) -> ~r0="hello, lldb"  latency [\d.]+ (ns|us|ms)$',
                         frames, re.M), frames
        dumps = "\n".join(lines(out[8]) + lines(out[9]))
        assert re.search(r'^~r0 = "hello, lldb"$', dumps, re.M), dumps
        assert re.search(r'^r\.URL\.Path = "/greet"$', dumps, re.M), dumps
        assert re.search(r'^r\.Method = "GET"$', dumps, re.M), dumps
        assert urllib.request.urlopen(url, timeout=2).read() == b"hello, lldb\n"


@needs_bpf
def test_mi_monitor_trace_as_an_ide_sends_it():
    """GDB/MI, as an IDE's debug console sends it (`-exec monitor ...` in
    cppdbg becomes -interpreter-exec console): a tracepoint by name with a
    condition, a return tracepoint, tstart/tstop, tframes and tdump; every
    command ^done, the text in the console stream."""
    with attached("cvalues-O2") as (t, stub), GdbMI(file=t.path) as mi:
        r = mi.cmd(f"-target-select remote {stub.addr}", timeout=60)
        assert r.cls == "connected", r.line

        def mon(line):
            r = mi.cmd(f'-interpreter-exec console "monitor {line}"')
            assert r.cls == "done", str(r)
            return r.console()

        assert "tracepoint 1 at 0x" in mon("trace process if n > 0 collect name, it->label")
        assert "tracepoint 2: return of process" in mon("trace -return process")
        assert "trace started: 2 tracepoints" in mon("tstart")
        time.sleep(0.3)
        n = int(re.search(r"trace stopped: (\d+) frames", mon("tstop")).group(1))
        assert n >= 4, n
        lines_ = [x for x in mon(f"tframes 0 {n}").splitlines() if "  tp " in x]
        assert len(lines_) == n, lines_
        names = {"alpha": "first", "beta": "second", "gamma": "heap-third"}
        for x in lines_:
            m = re.search(r'tp 1  process: name="(alpha|beta|gamma)", '
                          r'it->label="(first|second|heap-third)"$', x)
            assert m is None or names[m.group(1)] == m.group(2), x
            assert m or re.search(r"tp 2  process\(\) -> rax=\d+  latency ", x), x
        d = mon("tdump 0") + mon("tdump 1")
        assert re.search(r'^name = "(alpha|beta|gamma)"$', d, re.M), d
        assert re.search(r"^rax = \d+$", d, re.M) and "latency = " in d, d
