"""Histogram and count tracepoints (issue 20): `monitor trace -hist FUNC`
(latency, entry to return), `trace -hist EXPR at LOC` (a value), `trace
-count LOC [by EXPR]`: each hit counted in a per-CPU BPF map, no frame;
`monitor thist [N] [json FILE]` prints them (bars, count, min, max, mean,
percentiles) or writes JSON beneath --save-dir; `tsave -r F` writes
F.hist.json beside the trace file.

Target (tests/targets/hotlat.c): per SIGUSR1 one batch of 500 iterations:
work(us) with us = 10 (i % 10 < 8) or 100, size_of(len) with len = 0, 1, 7,
100, 4096 in turn, tag_of(name) with "alpha", "beta", "gamma", "alpha";
then it prints "done BATCHES WORK SIZE TAG" (its own call counters).
deepgo (Go): handle(name, ...) with name alternating "alpha",
"bravo-charlie" every 2 ms.  Real BPF, real gdb and lldb; counts exact.
"""

import json
import os
import re
import signal
import tempfile
import time

from harness import (_readline_timeout, attached, gdb_pipe, lldb_batch, needs_bpf, wait_until)
from harness import gdb_connect as connect
from harness import gdb_monitor as monitor

LENS = (0, 1, 7, 100, 4096)
BATCH = 500


def batch(t):
    """Run one batch in the target: its counters (batches, work, size_of, tag_of)."""
    os.kill(t.pid, signal.SIGUSR1)
    line = _readline_timeout(t.proc.stdout, 60)
    m = re.match(rb"done (\d+) (\d+) (\d+) (\d+)", line or b"")
    assert m, f"hotlat: no 'done' line (got {line!r})"
    return tuple(int(x) for x in m.groups())


def thist_json(g, d, num, name):
    out = monitor(g, f"thist {num} json {os.path.join(d, name)}")
    assert "histograms written to" in out, out
    with open(os.path.join(d, name)) as f:
        doc = json.load(f)
    assert oct(os.stat(os.path.join(d, name)).st_mode & 0o777) == "0o600"
    assert len(doc["histograms"]) == 1
    return doc["histograms"][0]


def keycounts(h):
    return {("other" if k["other"] else k["key"]): k["count"] for k in h["keys"]}


def buckets(k):
    return {(b["lo"], b["hi"]): b["count"] for b in k["buckets"]}


def text_counts(out, by):
    """{key: count} of a printed count table: `  by = KEY   COUNT |@@@|`."""
    rows = re.findall(rf"^  {re.escape(by)} = (\S+)\s+(\d+) \|", out, re.M)
    return {k.strip('"'): int(c) for k, c in rows}


@needs_bpf
def test_hist_gdb():
    """Latency, value and count histograms from GDB: exact counts equal to
    the target's own; keys, the key limit, JSON equal to the text; a second
    run counts from zero; no frames at all."""
    with tempfile.TemporaryDirectory() as d, \
            attached("hotlat", options=["--save-dir", d]) as (t, stub), \
            gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -hist work")
        assert re.search(r"tracepoint 1: histogram of latency of work, in the kernel \(no "
                         r"frames\), 4 buckets per power of two", out), out
        assert re.search(r"entry 0x[0-9a-f]+, \d+ return instructions?:", out), out
        monitor(g, "trace -hist len at size_of")
        monitor(g, "trace -count size_of by len")
        out = monitor(g, "trace -count tag_of by name")
        assert "by: name (a C string" in out, out
        monitor(g, "trace -count -keys 2 size_of by len")
        monitor(g, "trace -hist -k 0 work by us")
        monitor(g, "trace -count size_of if len > 50")
        out = g.cmd("monitor trace -hist nosuchfunc")
        assert re.search(r"^monitor: no function 'nosuchfunc'", out, re.M), out
        out = g.cmd("monitor trace -hist -k 9 work")
        assert re.search(r"^monitor: .*-k.*9", out, re.M), out
        out = g.cmd("monitor trace -hist len > 3 at size_of")
        assert re.search(r"^monitor: .*a value, not a condition", out, re.M), out

        monitor(g, "tstart")
        b, n_work, n_size, n_tag = batch(t)
        assert (b, n_work, n_size, n_tag) == (1, BATCH, BATCH, BATCH)
        text = monitor(g, "thist")

        # 1: latency of work: every call, ~80% near 10 us, ~20% at 100 us or more.
        h = thist_json(g, d, 1, "lat.json")
        assert h["kind"] == "latency" and h["unit"] == "ns" and h["k"] == 2
        (row,) = h["keys"]
        assert row["count"] == n_work == h["hits"], h
        assert row["min"] >= 10000 and row["max"] >= 100000, row
        bk = buckets(row)
        fast = sum(c for (lo, hi), c in bk.items() if hi <= 100000)
        slow = sum(c for (lo, hi), c in bk.items() if lo >= 98304)
        assert fast + slow == BATCH and slow >= 100 and fast >= 0.95 * 400, bk
        assert 10000 <= row["p50"] < 100000 and row["p99"] >= 100000, row
        m = re.search(r"^tracepoint 1: histogram of latency of work: (\d+) calls\n"
                      r"  latencies less the probes' own cost, [\d.]+ (?:ns|us) "
                      r"\(\d+ under it counted as 0\)\n"
                      r"  count (\d+)  min [\d.]+ us  max [\d.]+ (?:us|ms)  mean [\d.]+ us\n"
                      r"  p50 [\d.]+ us  p90 .* p99 .* p99\.9 .*bucket-accurate", text, re.M)
        assert m and int(m.group(1)) == int(m.group(2)) == n_work, text
        assert re.search(r"^  \[[\d.]+ us, [\d.]+ us\)\s+\d+ \|@+\s*\|$", text, re.M), text

        # 2: len at size_of: exact buckets, sum, min, max.
        h = thist_json(g, d, 2, "len.json")
        (row,) = h["keys"]
        assert row["count"] == n_size and row["min"] == 0 and row["max"] == 4096
        assert row["sum"] == (BATCH // 5) * sum(LENS)
        assert buckets(row) == {(0, 1): 100, (1, 2): 100, (7, 8): 100, (96, 112): 100,
                                (4096, 5120): 100}, row
        assert row["p50"] == 7.0 and row["p99"] == 4096.0, row
        assert re.search(r"^  \[4K, 5K\)\s+100 \|@+\|$", text, re.M), text

        # 3: count by len: the target's own per-key counts.
        h = thist_json(g, d, 3, "bylen.json")
        assert keycounts(h) == {v: BATCH // 5 for v in LENS}, h
        sec = text.split("tracepoint 3:")[1].split("tracepoint 4:")[0]
        assert text_counts(sec, "len") == {str(v): c for v, c in keycounts(h).items()}, sec

        # 4: count by a C string.
        h = thist_json(g, d, 4, "byname.json")
        assert keycounts(h) == {"alpha": 250, "beta": 125, "gamma": 125}, h
        sec = text.split("tracepoint 4:")[1].split("tracepoint 5:")[0]
        assert text_counts(sec, "name") == keycounts(h), sec

        # 5: the key limit: the first two keys seen, the rest "other".
        h = thist_json(g, d, 5, "keys2.json")
        assert keycounts(h) == {0: 100, 1: 100, "other": 300}, h
        assert h["not_counted"]["other_hits"] == 300
        assert re.search(r"len = other \(keys past the 2 kept\)\s+300 ", text), text

        # 6: latency by an argument (at the entry), k = 0.
        h = thist_json(g, d, 6, "byus.json")
        kc = keycounts(h)
        assert kc == {10: 400, 100: 100}, h
        for k in h["keys"]:
            assert k["min"] >= k["key"] * 1000, k

        # 7: a condition.
        h = thist_json(g, d, 7, "cond.json")
        assert keycounts(h) == {None: 200}, h

        # No frames: the ring stays empty.
        st = monitor(g, "status")
        assert re.search(r"^tracing: running; 0 frames", st, re.M), st
        for budget in re.findall(r"hits/s, ~\d+% of the target's CPU \(budget: ([^,]+),", st):
            assert budget == "no hit-rate limit: no frames", st

        # A second batch adds up; a new run starts from zero.
        batch(t)
        h = thist_json(g, d, 4, "byname2.json")
        assert keycounts(h) == {"alpha": 500, "beta": 250, "gamma": 250}, h
        monitor(g, "tstop")
        monitor(g, "tstart")
        batch(t)
        h = thist_json(g, d, 3, "bylen3.json")
        assert keycounts(h) == {v: BATCH // 5 for v in LENS}, h

        # Files: only beneath --save-dir, never overwritten.
        out = g.cmd(f"monitor thist 3 json {d}/bylen3.json")
        assert re.search(r"^monitor: .*exists", out, re.M), out
        out = g.cmd("monitor thist 3 json /tmp/bpfstub-hist-outside.json")
        assert re.search(r"^monitor: .*outside the save directory", out, re.M), out
        assert not os.path.exists("/tmp/bpfstub-hist-outside.json")
        out = g.cmd("monitor thist 99")
        assert re.search(r"^monitor: tracepoint 99 is not a histogram", out, re.M), out

        # tsave -r: the trace file and its histograms beside it.
        out = g.cmd("tsave -r saved.tf")
        assert "error" not in out.lower(), out
        with open(os.path.join(d, "saved.tf.hist.json")) as f:
            doc = json.load(f)
        assert [h["tracepoint"] for h in doc["histograms"]] == [1, 2, 3, 4, 5, 6, 7]
        assert keycounts(doc["histograms"][3]) == {"alpha": 250, "beta": 125, "gamma": 125}
        assert os.path.exists(os.path.join(d, "saved.tf"))
        monitor(g, "tstop")


@needs_bpf
def test_hist_disconnected():
    """Disconnected tracing: the histograms keep counting with nobody connected."""
    with attached("hotlat") as (t, stub):
        with gdb_pipe(file=t.path) as g:
            connect(g, stub)
            g.cmd("set disconnected-tracing on")
            monitor(g, "trace -count tag_of by name")
            monitor(g, "tstart")
            batch(t)
            out = monitor(g, "thist 1")
            assert text_counts(out, "name") == {"alpha": 250, "beta": 125, "gamma": 125}, out
            g.cmd("detach")
        batch(t)
        with gdb_pipe(file=t.path) as g2:
            out = connect(g2, stub)
            assert "Trace is already running on the target." in out, out
            out = monitor(g2, "thist 1")
            assert text_counts(out, "name") == {"alpha": 500, "beta": 250, "gamma": 250}, out
            monitor(g2, "tstop")


@needs_bpf
def test_hist_tlive_reprints():
    """tlive on and GDB's continue: the histograms are reprinted once a second
    while the target runs, each print with the counts so far; Ctrl-C gives
    the prompt back and the counting goes on."""
    with attached("hotlat") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        monitor(g, "trace -count tag_of by name")
        monitor(g, "tstart")
        assert "tlive: on" in g.cmd("monitor tlive on")
        start = len(g.all_output())
        g.proc.stdin.write(b"continue\n")
        g.proc.stdin.flush()
        head = r"^tracepoint 1: count of hits at tag_of by name: (\d+) hits"

        def printed():
            return [int(n) for n in re.findall(head, g.all_output()[start:], re.M)]

        wait_until(lambda: printed(), 5, what="a first reprint")
        batch(t)
        wait_until(lambda: 500 in printed(), 5, what="a reprint after one batch")
        batch(t)
        wait_until(lambda: 1000 in printed(), 5, what="a reprint after two batches")
        g.proc.send_signal(signal.SIGINT)
        wait_until(lambda: "received signal SIGINT" in g.all_output()[start:], 5,
                   what="the stop after the interrupt")
        text = g.all_output()[start:]
        counts = printed()
        # Never fewer than before; each count a whole batch's (500 hits each).
        assert counts == sorted(counts) and set(counts) <= {0, 500, 1000}, counts
        last = text[text.rindex("by name: 1000 hits"):]
        assert text_counts(last, "name") == {"alpha": 500, "beta": 250, "gamma": 250}, last
        assert "Trace is running" in g.cmd("tstatus")
        assert "tlive: off" in g.cmd("monitor tlive off")
        out = monitor(g, "thist 1")
        assert re.search(head, out, re.M).group(1) == "1000", out


@needs_bpf
def test_hist_lldb():
    """From LLDB: define, run, print (the same text)."""
    with attached("hotlat") as (t, stub):
        pm = "process plugin packet monitor"
        os.kill(t.pid, signal.SIGUSR1)  # a batch while LLDB connects: not counted (no run yet)
        _readline_timeout(t.proc.stdout, 60)
        r = lldb_batch([f"target create {t.path}", f"gdb-remote {stub.addr}",
                        f"{pm} trace -hist len at size_of", f"{pm} trace -count size_of by len",
                        f"{pm} tstart", f"platform shell kill -USR1 {t.pid}",
                        "platform shell sleep 2", f"{pm} thist", f"{pm} tstop",
                        "process detach"])
        assert "tracepoint 1: histogram of len at size_of" in r.out[2], r.text
        out = r.out[7]
        assert re.search(r"tracepoint 1: histogram of len at size_of: 500 hits", out), r.text
        assert re.search(r"count 500  min 0  max 4096  mean 840\.8", out), r.text
        assert text_counts(out, "len") == {str(v): 100 for v in LENS}, r.text


@needs_bpf
def test_hist_go_string_key():
    """A Go string argument as the key: counts per name, every hit counted."""
    with attached("deepgo") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -count main.handle by name")
        assert "by: name (a string, 64 bytes" in out, out
        monitor(g, "trace -hist n at main.handle")
        monitor(g, "tstart")
        time.sleep(1.0)
        monitor(g, "tstop")
        out = monitor(g, "thist 1")
        kc = text_counts(out, "name")
        assert set(kc) == {"alpha", "bravo-charlie"}, out
        assert abs(kc["alpha"] - kc["bravo-charlie"]) <= 1 and sum(kc.values()) >= 50, out
        m = re.search(r"^tracepoint 1: count of hits at main\.handle by name: (\d+) hits", out,
                      re.M)
        assert m and int(m.group(1)) == sum(kc.values()), out
        out = monitor(g, "thist 2")
        m = re.search(r"^tracepoint 2: histogram of n at main\.handle: (\d+) hits", out, re.M)
        assert m and int(m.group(1)) == sum(kc.values()), out
        assert re.search(r"min (\d+)", out) and int(re.search(r"min (\d+)", out).group(1)) >= 100


@needs_bpf
def test_hist_go_handler_latency_by_url_path():
    """The issue's own example: the latency of the Go server's request
    dispatch, one histogram per r.URL.Path (a Go string two pointers deep,
    read at the entry and kept with the entry time); every request counted
    under its path, an unknown path (404) too."""
    import urllib.error
    import urllib.request
    paths = {"/greet?name=h": "/greet", "/e?iterations=10": "/e", "/nothing": "/nothing"}
    with attached("goserver", ["0"]) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        out = monitor(g, "trace -hist net/http.(*ServeMux).ServeHTTP by r.URL.Path")
        assert "histogram of latency of net/http.(*ServeMux).ServeHTTP" in out, out
        assert "by: r.URL.Path (a string, 64 bytes" in out, out
        monitor(g, "tstart")
        for _ in range(12):
            for q in paths:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{t.port}{q}", timeout=5).read()
                except urllib.error.HTTPError as e:
                    assert e.code == 404 and q == "/nothing", (q, e)
        out = monitor(g, "thist 1")
        m = re.search(r"^tracepoint 1: histogram of latency of net/http\.\(\*ServeMux\)"
                      r"\.ServeHTTP by r\.URL\.Path: (\d+) calls", out, re.M)
        assert m and int(m.group(1)) == 36, out
        rows = dict(re.findall(r'^  r\.URL\.Path = "([^"]*)":\n    count (\d+)  min ', out, re.M))
        assert rows == {p: "12" for p in paths.values()}, out
        monitor(g, "tstop")
        g.cmd("detach")


@needs_bpf
def test_hist_guard_no_hit_rate_limit():
    """A histogram's hit makes no frame: max-hit-rate does not detach it (the
    CPU-share budget alone applies: off here), while a frame tracepoint on the
    same hot function is detached for its rate."""
    with attached("hotloop") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        monitor(g, "set max-overhead off")
        monitor(g, "set max-hit-rate 5000")
        monitor(g, "trace -count hot")
        monitor(g, "trace hot")
        monitor(g, "tstart")
        deadline = time.monotonic() + 15
        while True:
            st = monitor(g, "status")
            if "detached by the overhead guard" in st or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        time.sleep(1.0)
        st = monitor(g, "status")
        assert re.search(r"tracepoint 2 at 0x[0-9a-f]+ detached by the overhead guard: \d+ "
                         r"hits/s > max-hit-rate 5000/s", st), st
        assert not re.search(r"tracepoint 1 at 0x[0-9a-f]+ detached", st), st
        m = re.search(r"^  tracepoint 1 at 0x[0-9a-f]+: enabled, installed, (\d+) hits", st, re.M)
        assert m and int(m.group(1)) > 10000, st
        rate = re.search(r"(\d+) hits/s, ~\d+% of the target's CPU \(budget: no hit-rate limit",
                         st)
        assert rate and int(rate.group(1)) > 5000, st
        monitor(g, "tstop")
