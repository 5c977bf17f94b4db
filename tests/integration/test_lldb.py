"""LLDB 14 against bpfstub: gdb-remote, live globals, monitor, detach.

LLDB caches memory while it thinks the process is stopped, so every session
turns the cache off before reading a global twice.
"""

import re

from harness import attached, lldb_batch


def lldb_int(out, name):
    m = re.search(rf"\b{name} = (-?\d+)", out)
    assert m, f"no value for {name} in lldb output:\n{out}"
    return int(m.group(1))


def lldb_session(t, stub, create_target):
    cmds = []
    if create_target:
        cmds.append(f"target create {t.path}")
    base = len(cmds)
    cmds += ["settings set target.process.disable-memory-cache true",  # +0
             f"gdb-remote {stub.addr}",                                # +1
             "target variable counter",                                # +2
             "platform shell sleep 0.3",                               # +3
             "target variable counter",                                # +4
             "target variable message",                                # +5
             "process plugin packet monitor help",                     # +6
             "process detach"]                                         # +7
    before = t.read_long("counter")
    r = lldb_batch(cmds)
    after = t.read_long("counter")
    out = r.out[base:]
    assert "error:" not in out[1], f"gdb-remote failed:\n{r.text}"
    a, b = lldb_int(out[2], "counter"), lldb_int(out[4], "counter")
    assert b > a, f"counter did not advance: {a} then {b}\n{r.text}"
    assert before <= a <= b <= after, f"{a}, {b} are not live values ({before}..{after})"
    assert '"hello from counter' in out[5], f"message:\n{out[5]}"
    assert "status" in out[6] and "response: OK" in out[6], \
        f"monitor help did not print bpfstub's help:\n{out[6]}"
    assert "command regex bpf 's/(.+)/process plugin packet monitor %1/'" in out[6], \
        f"monitor help did not show LLDB users the alias to define:\n{out[6]}"
    assert re.search(rf"Process {t.pid} detached", out[7]), f"detach:\n{out[7]}"
    t.assert_running()
    return r


def test_lldb_gdb_remote_reads_live_counter():
    """No local file: LLDB finds the executable itself; live counter; detach."""
    with attached("counter") as (t, stub):
        lldb_session(t, stub, create_target=False)


def test_lldb_with_target_create_pie():
    """target create of a PIE then gdb-remote: globals are relocated (auxv)."""
    with attached("counter-pie") as (t, stub):
        lldb_session(t, stub, create_target=True)
