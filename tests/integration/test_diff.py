"""The differential suite: the same GDB tracepoint session against gdbserver
(the reference) and against bpfstub, each attached to its own copy of a
deterministic target started with ASLR off; the transcripts must be equal
after the normalisations below (tests/lib/diffsession.py runs them).

Targets: tests/targets/diffprog.c (diffprog -O0 non-PIE, diffprog-pie,
diffprog-O2, diffprog-O2-pie; libdifflib.so; USDT probes diff:plain and
diff:guarded with a semaphore) and the Go server tests/targets/goserver.
diffprog blocks on stdin until the session has started tracing, then makes
exactly N (5) iterations of the same calls, so both servers see the same hits
in the same order:  dstep(i, 3i + 1, &recs[i % 3], names[i % 3]),
dchain(&recs[i % 3]), dnoargs(), lib_mul(i, i + 1), diff:plain(i, 10i),
guarded(i) -> diff:guarded(i, i * i).

NORMALISATIONS and MORE are the only places where a difference is allowed.
Rows marked INTENDED are bpfstub's deliberate differences from gdbserver,
listed in docs/PROTOCOL.md ("Intended differences from gdbserver"); the
others are what differs by nature between any two runs.  NORMALISATIONS
rewrite both transcripts alike; MORE is a one-way relation (tests/lib/
diffsession.py, accept_more): where bpfstub shows more than gdbserver, and
only there.  Any other difference fails the session with a unified diff of
the two transcripts.
"""

import os
import re
import urllib.request

from diffsession import Session, compare
from harness import ROOT, actions, needs_bpf

# (name, pattern, replacement, reason): applied to both transcripts, in order.
NORMALISATIONS = [
    ("clock", r"Trace started at [-\d.]+ secs(, stopped [-\d.]+ secs later)?\.",
     "Trace started at <T> secs<STOPPED>.",
     "tstatus prints the server's clock: gdbserver's and bpfstub's differ, and "
     "every run differs"),
    ("buffer use", r"Trace buffer has \d+ bytes of \d+ bytes free \(\d+% full\)\.",
     "Trace buffer has <FREE> bytes of <SIZE> bytes free.",
     "frames are encoded differently (gdbserver stores every register block in "
     "full; bpfstub's records differ in size): the number of frames is compared, "
     "not their bytes"),
    ("buffer use per tracepoint", r"trace buffer usage \d+ bytes",
     "trace buffer usage <N> bytes", "same as 'buffer use'"),
    ("timestamps", r"^(\$trace_timestamp\s+\d+\s+)\d+ *$|(\$trace_timestamp = )\d+",
     lambda m: (m.group(1) or m.group(2)) + "<T>", "clocks"),
    ("live frame", r"^(No longer looking at any trace frame\n)(?:#0 .*\n)?(?:\d+\t.*\n)?",
     r"\1<live frame>\n",
     "where the live target is when the trace frames are left: where gdbserver "
     "stopped it (for Go, whichever thread the interrupt hit), where bpfstub "
     "found its thread (blocked in a system call): not what this suite compares"),
    ("thread handles", r"Thread 0x[0-9a-f]+", "Thread <TID>",
     "each server is attached to its own copy of the target"),
    ("pids", r"(process |LWP |Thread )\d+", r"\1<PID>",
     "each server is attached to its own copy of the target"),
    # --- intended differences (docs/PROTOCOL.md) -------------------------
    ("registers BPF cannot see",
     r"^(ds|es|fs|gs|fs_base|gs_base|st[0-7]|fctrl|fstat|ftag|fiseg|fioff|foseg|fooff|fop"
     r"|mxcsr|[xyz]mm\d+|k[0-7]|[xyz]mm\d+[hl]?|pkru)\s.*\n", "",
     "INTENDED: a uprobe's BPF program sees struct pt_regs only: the general "
     "registers, rip, eflags, cs and ss.  Segment selectors, fs_base/gs_base, "
     "x87, SSE/AVX/AVX-512 registers are <unavailable> in bpfstub's frames (and "
     "bpfstub's target description has SSE only, where gdbserver describes the "
     "host's AVX-512)"),
    ("unreadable memory",
     r"^((?:\(gdb\) print )?\*\([\w ]+\*\) ?\d{1,3}(?:@\d+)?(?: = |\n\$\d+ = ))"
     r"(?:0|\"(?:\\000)*\"|<unavailable>)$", r"\1<unreadable>",
     "INTENDED: memory whose read fails at the hit (the sessions use addresses "
     "below 4096) is recorded by gdbserver as zeros and shown as 0; bpfstub "
     "marks the block not collected, so GDB shows <unavailable>, which is true"),
    ("read-only memory (PIE)",
     r'(0x555555556[0-9a-f]{3}) (?:"[^"\n]*"|<error: Cannot access memory at address \1>)',
     r"\1 <string in the PIE's .rodata>",
     "INTENDED: in a trace frame, memory not collected but in a read-only mapping of a "
     "file (text, .rodata) is read live by bpfstub, since it cannot have changed, so a "
     "PIE's string literals show; GDB declares its QTro ranges with the file's "
     "unrelocated addresses, so gdbserver cannot read them (the sessions' PIEs map "
     ".rodata at 0x555555556000, ASLR off)"),
    ("builtin $trace_thread", r"^\$trace_thread\s.*\n", "",
     "INTENDED: bpfstub has a second builtin trace state variable, $trace_thread "
     "(the thread of each hit: any thread may hit, nothing stops), which GDB "
     "uploads and lists in info tvariables; gdbserver has only $trace_timestamp"),
    ("builtin $latency_ns", r"^\$latency_ns\s.*\n", "",
     "INTENDED: a third builtin, $latency_ns, holds the latency in the frames of "
     "return tracepoints (monitor trace -return); GDB uploads and lists it too"),
]

# Where bpfstub may show more than gdbserver (diffsession.accept_more): rows
# (name, kind, pattern, reason).  Checked one way only: the line gdbserver
# printed, with each match of a "value" pattern standing for any text, must
# be bpfstub's line; a "line" row's line may stand in bpfstub's transcript
# where gdbserver printed nothing.  Never the reverse.
MORE = [
    ("registers in every frame: values", "value", r"<unavailable>",
     "INTENDED: bpfstub collects the registers in every frame of a tracepoint "
     "(monitor set always-regs, default on), also where GDB's actions collect "
     "none (no actions, `collect $args` GDB found nothing for); gdbserver records "
     "none there.  So where gdbserver prints <unavailable> (an argument in a "
     "register, $rdi, `info registers`), bpfstub may print the value, or GDB's "
     "attempt at an entry value it could only make with the registers "
     "(`i=<unavailable>, i@entry=<error reading variable: PC not available>`); "
     "everything else on the line is compared.  tests/integration/"
     "test_always_regs.py checks the values themselves"),
    ("registers in every frame: buffer usage", "line", r"^\ttrace buffer usage <N> bytes$",
     "INTENDED: the same registers are bytes the tracepoint stored, so `info "
     "tracepoints` shows a usage line (GDB prints it for a non-zero count) for "
     "a tracepoint whose actions collect nothing, where gdbserver stored nothing"),
]

# INTENDED, and not a pattern: what bpfstub adds to a frame beyond what
# GDB's actions collect (the stack window, so that bt in tfind unwinds, and
# deep collection) changes nearly every frame line GDB prints (callers'
# arguments, entry values, spilled locals).  The sessions compare what GDB
# asked for, so bpfstub runs them with both off; tests/integration/
# test_frames.py tests the window.  docs/PROTOCOL.md, "Intended differences".
BPFSTUB_SETUP = ["monitor set stack-window off", "monitor set deep-collect off"]

N = 5  # diffprog's iterations

# The line of dstep() marked DIFF-LINE-MID.
with open(os.path.join(ROOT, "tests", "targets", "diffprog.c")) as _f:
    LINE_MID = next(i for i, line in enumerate(_f, 1) if "/* DIFF-LINE-MID */" in line)


def expect(*needles):
    """A check: every needle (a regex) is in the normalised transcript, so a
    session that prints the same nothing on both sides still fails."""
    def check(text):
        for n in needles:
            assert re.search(n, text, re.M), f"expected /{n}/ in the transcript:\n{text}"
    return check


def run(name, before, after, *needles, target="diffprog", args=(), release=None):
    compare(Session(name, target=target, args=args, before=before, after=after,
                    release=release), NORMALISATIONS, check=expect(*needles),
            bpfstub_setup=BPFSTUB_SETUP, more=MORE)


def frames(*forms):
    """tfind FORM + tdump for each form."""
    out = []
    for f in forms:
        out += [f"tfind {f}", "tdump"]
    return out


STOP = ["tstop", "tstatus"]
COLLECTED = rf"Collected {N} trace frames"


# --------------------------------------------------------------------------
# collect: every kind


@needs_bpf
def test_diff_collect_regs():
    run("collect $regs", ["trace dstep", actions("collect $regs"), "tstart"],
        STOP + frames("start", "2") + ["info registers rip", "tfind none"],
        COLLECTED, r"^rdi\s+0x2\s", r"^rsi\s+0x7\s", r"rip\s+0x[0-9a-f]+ .*<dstep")


@needs_bpf
def test_diff_collect_single_registers():
    run("collect $rdi, $rsi, $rsp", ["trace dstep", actions("collect $rdi, $rsi, $rsp"),
                                     "tstart"],
        STOP + frames("start", "4") + ["print $rdi", "print $rax", "tfind none"],
        COLLECTED, r"^\$rdi = 4$", r"^\$rsi = 13$")


@needs_bpf
def test_diff_collect_args_locals_O0():
    run("collect $args, $locals (-O0)",
        ["trace dstep", actions("collect $args", "collect $locals"), "tstart"],
        STOP + frames("start", "1", "4") + ["tfind none"],
        COLLECTED, r"^i = 4$", r"^m = 13$", r'^s = 0x[0-9a-f]+ "beta"$')


@needs_bpf
def test_diff_collect_globals():
    run("collect globals",
        ["trace dchain", actions("collect g_counter, g_array, g_msg, g_ratio, recs, g_head"),
         "tstart"],
        STOP + frames("start", "3") + ["print g_array[1]", "print recs[2].name",
                                       "print *g_head", "tfind none"],
        COLLECTED, r"^g_msg = \"hello diff", r"^g_ratio = 1.5$")


@needs_bpf
def test_diff_collect_ptr_at_n():
    run("collect *ptr@N",
        ["trace dstep", actions("collect *s@6", "collect *r", "collect g_array[2]@3"), "tstart"],
        STOP + frames("start", "2") + ["print *s@6", "print s[0]", "print g_array[2]@3",
                                       "print g_array[0]", "tfind none"],
        COLLECTED, r'"gamma"')


@needs_bpf
def test_diff_collect_struct_fields():
    run("collect struct fields",
        ["trace dstep", actions("collect r->id, r->pt.y, r->name, r->value"), "tstart"],
        STOP + frames("start", "1") + ["print r->pt", "print *r", "tfind none"],
        COLLECTED, r'rec-two')


@needs_bpf
def test_diff_collect_pointer_chain():
    run("collect pointer chains",
        ["trace dchain", actions("collect r->next->next->value", "collect g_head->next->name",
                                 "collect r->next->pt"), "tstart"],
        STOP + frames("start", "2") + ["print r->next->next->value", "print r->next->pt",
                                       "print g_head->next->name", "tfind none"],
        COLLECTED, r"rec-two")


@needs_bpf
def test_diff_collect_casts():
    run("collect casts",
        ["trace dstep", actions("collect (long)i", "collect *(struct point *)&r->pt",
                                "collect ((char *)s)[1]", "collect (unsigned char)m"),
         "tstart"],
        STOP + frames("start", "3") + ["print *(struct point *)&r->pt", "print ((char *)s)[1]",
                                       "tfind none"],
        COLLECTED, r"x = 1")


@needs_bpf
def test_diff_collect_strings():
    run("collect/s",
        ["trace dstep", actions("collect/s s", "collect/s g_str", "collect/s r->name"),
         "tstart"],
        STOP + frames("start", "2") + ["print s", "print g_str", "print r->name",
                                       "tfind none"],
        COLLECTED, r'"gamma"', r'"a constant string"')


@needs_bpf
def test_diff_uncollected_memory():
    run("memory that was not collected",
        ["trace dstep", actions("collect i"), "tstart"],
        STOP + ["tfind 1", "print i", "print m", "print g_counter", "print g_msg",
                "print *g_str", "print names", "print $rsp", "tfind none"],
        COLLECTED, r"^\$\d+ = 1$", r"unavailable")


# --------------------------------------------------------------------------
# conditions, pass counts, trace state variables


@needs_bpf
def test_diff_condition():
    run("condition",
        ["trace dstep if i % 2 == 0", actions("collect i, m"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "1", "2", "3") + ["tfind none"],
        r"Collected 3 trace frames", r"tracepoint already hit 3 times")


@needs_bpf
def test_diff_condition_command():
    run("condition N",
        ["trace dchain", "condition 1 r->id == 2", actions("collect r->id"),
         "trace lib_mul", "condition 2 a > 2", actions("collect a, b"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "1", "2", "3") + ["tfind none"],
        r"Collected 4 trace frames")


@needs_bpf
def test_diff_passcount():
    run("passcount",
        ["trace dstep", actions("collect i"), "passcount 3 1", "tstart"],
        ["tstatus", "info tracepoints"] + frames("start", "2", "3") + ["tfind none"],
        r"Trace stopped by tracepoint 1", r"Collected 3 trace frames")


@needs_bpf
def test_diff_passcount_two_tracepoints():
    run("passcount on one of two",
        ["trace dstep", actions("collect i"), "trace dchain", actions("collect r->id"),
         "passcount 2 2", "tstart"],
        ["tstatus", "info tracepoints"] + frames("start", "tracepoint 2", "tracepoint 1")
        + ["tfind none"],
        r"Trace stopped by tracepoint 2")


@needs_bpf
def test_diff_tvariables():
    run("tvariable / teval",
        ["tvariable $calls = 10", "tvariable $last", "trace dstep",
         actions("teval $calls = $calls + 1", "teval $last = i * 100",
                 "collect $calls, $last"), "tstart"],
        STOP + ["info tvariables", "print $calls"] + frames("start", "3") +
        ["print $calls", "print $last", "tfind none", "info tvariables"],
        r"\$calls\s+10\s+15", r"^\$last = 300$")


@needs_bpf
def test_diff_tvariable_condition():
    run("tvariable in a condition",
        ["tvariable $n = 0", "trace dchain if $n < 2", actions("teval $n = $n + 1",
                                                                "collect $n, r->id"),
         "tstart"],
        STOP + ["info tvariables"] + frames("start", "1") + ["tfind 2", "tfind none"],
        r"Collected 2 trace frames")


# --------------------------------------------------------------------------
# tfind, tstatus, info tracepoints


TWO_TP = ["trace dstep", actions("collect i, m"), "trace dchain", actions("collect r->id"),
          "tstart"]


@needs_bpf
def test_diff_tfind_numbers():
    run("tfind start / N / end / none / next",
        TWO_TP,
        STOP + ["tfind start", "tfind", "tfind", "tfind -", "tfind 7", "print i",
                "print r->id", "tfind 10", "tfind end", "tfind 9", "tfind", "tfind none",
                "tfind none"],
        r"Found trace frame 7, tracepoint 2")


@needs_bpf
def test_diff_tfind_pc_tracepoint():
    run("tfind pc / tracepoint",
        TWO_TP,
        STOP + ["tfind pc dchain", "tfind pc", "tfind pc", "tfind tracepoint 1",
                "tfind tracepoint", "tfind tracepoint 2", "tfind tracepoint", "print r->id",
                "tfind tracepoint 3", "tfind pc 0x401000", "tfind none"],
        r"Found trace frame \d+, tracepoint 2")


@needs_bpf
def test_diff_tfind_line_range_outside():
    run("tfind line / range / outside",
        TWO_TP,
        STOP + ["tfind start", "tfind line", "tfind line", f"tfind line diffprog.c:{LINE_MID}",
                "tfind start", "tfind range dchain, dchain+64", "tfind range dchain, dchain+64",
                "tfind start", "tfind outside dstep, dstep+200", "tfind outside dstep, dstep+200",
                "tfind none"],
        r"Found trace frame 1, tracepoint 2")


@needs_bpf
def test_diff_tstatus_running():
    run("tstatus while running, then stopped",
        ["trace dstep", actions("collect i"), "tstatus", "tstart", "tstatus"],
        ["tstatus", "tstop", "tstatus", "tstart", "tstatus", "tstop", "tstatus"],
        r"Trace is running on the target", r"Collected 5 trace frames",
        r"Trace stopped by a tstop command")


@needs_bpf
def test_diff_tstatus_notes():
    run("tstatus with user and notes",
        ["set trace-user tester", "set trace-notes the differential suite", "trace dstep",
         actions("collect i"), "tstart"],
        ["tstop stopped by the suite", "tstatus", "set circular-trace-buffer on",
         "show circular-trace-buffer"],
        r"stopped by the suite", r"tester")


@needs_bpf
def test_diff_info_tracepoints_hits():
    run("info tracepoints with hit counts",
        ["trace dstep", actions("collect i"), "trace dchain", "trace dnoargs",
         actions("collect g_noargs"), "info tracepoints", "tstart"],
        STOP + ["info tracepoints", "tstop", "info tracepoints 2"],
        r"tracepoint already hit 5 times")


# --------------------------------------------------------------------------
# where a tracepoint can be


@needs_bpf
def test_diff_shared_library():
    run("tracepoint in a shared library",
        ["trace lib_mul", actions("collect a, b, lib_total", "collect $regs"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "4") + ["print a * b",
                                                             "print lib_total", "tfind none"],
        COLLECTED, r"^a = 4$", r"^b = 5$")


@needs_bpf
def test_diff_libc_function():
    run("tracepoint on a libc function (write)",
        ["trace write", actions("collect $rdi, $rdx", "collect *(char *)$rsi@5"), "tstart"],
        STOP + frames("start") + ["print $rdi", "print $rdx", "print *(char *)$rsi@5",
                                  "tfind 1", "tfind none"],
        r"Collected 1 trace frame", r'"done\\n"')


@needs_bpf
def test_diff_line_inside_function():
    run("tracepoint at a line inside a function",
        [f"trace diffprog.c:{LINE_MID}", actions("collect local_a, local_b, tag, g_counter"),
         "tstart"],
        STOP + ["info tracepoints"] + frames("start", "3") + ["info frame", "tfind none"],
        COLLECTED, r"^local_a = 21$", r'^tag = "tag-3a')


@needs_bpf
def test_diff_two_tracepoints_one_address():
    run("two tracepoints at one address",
        ["trace dstep", actions("collect i"), "trace dstep", actions("collect m"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "1", "2", "3") + ["print i", "print m",
                                                                       "tfind none"],
        r"Collected 10 trace frames", r"Found trace frame 1, tracepoint 2")


@needs_bpf
def test_diff_disable_enable():
    run("disabled and re-enabled tracepoints",
        ["trace dstep", actions("collect i"), "trace dchain", actions("collect r->id"),
         "trace lib_mul", actions("collect a"), "disable 1", "disable 2", "enable 1",
         "info tracepoints", "tstart"],
        STOP + ["info tracepoints"] + frames("start", "tracepoint 2", "tracepoint 3")
        + ["tfind none"],
        r"Collected 10 trace frames")


@needs_bpf
def test_diff_no_actions():
    run("no actions",
        ["trace dstep", "tstart"],
        STOP + ["info tracepoints"] + frames("start", "4") + ["print i", "print $pc",
                                                             "tfind none"],
        COLLECTED)


@needs_bpf
def test_diff_empty_actions():
    run("empty actions",
        ["trace dchain", actions(), "trace dnoargs", actions(), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "5") + ["print r", "tfind none"],
        r"Collected 10 trace frames")


# --------------------------------------------------------------------------
# USDT probes


@needs_bpf
def test_diff_probe_stap():
    run("trace -probe-stap without a semaphore",
        ["info probes", "trace -probe-stap diff:plain",
         actions("collect $_probe_arg0, $_probe_arg1"), "tstart"],
        STOP + frames("start", "3") + ["print $_probe_arg0", "print $_probe_arg1",
                                       "print $_probe_argc", "tfind none"],
        COLLECTED, r"^\$\d+ = 30$")


@needs_bpf
def test_diff_probe_stap_semaphore():
    run("trace -probe-stap with a semaphore",
        ["trace -probe-stap diff:guarded", actions("collect $_probe_arg0, $_probe_arg1"),
         "tstart"],
        STOP + frames("start", "3") + ["print $_probe_arg0", "print $_probe_arg1",
                                       "print diff_guarded_semaphore", "tfind none"],
        COLLECTED, r"^\$\d+ = 9$")


# --------------------------------------------------------------------------
# -O2, PIE


@needs_bpf
def test_diff_O2_args_locals():
    run("collect $args, $locals (-O2)",
        ["trace dstep", actions("collect $args", "collect $locals", "collect $regs"), "tstart"],
        STOP + frames("start", "3") + ["info args", "tfind none"],
        COLLECTED, target="diffprog-O2")


@needs_bpf
def test_diff_O2_no_args():
    # GDB warns "No args found in scope" and sends QTDP:1:ADDR:E:0:0- with no
    # action packet after it: gdbserver still records a frame per hit.
    run("collect $args with none in scope (-O2)",
        ["trace dnoargs", actions("collect $args"), "tstart"],
        STOP + frames("start", "4") + ["tfind none"],
        COLLECTED, target="diffprog-O2")


@needs_bpf
def test_diff_O2_no_actions_regs():
    # No actions: gdbserver's frames hold no registers (the arguments, in
    # registers at -O2, are <unavailable>); bpfstub's hold them (MORE).
    run("no actions (-O2): registers in every frame",
        ["trace dstep", "trace dchain", actions("collect $args"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "2") +
        ["info args", "print $rdi", "print $rip == dstep", "info registers rsi rip",
         "tfind tracepoint 2", "info args", "tfind none"],
        rf"Collected {2 * N} trace frames", r"^#0  dstep \(i=<unavailable>",
        r"^\$1 = <unavailable>$", r"^\$2 = 1$", r"^r = 0x[0-9a-f]+ <recs\+48>$",
        target="diffprog-O2")


@needs_bpf
def test_diff_pie_O0():
    run("PIE -O0",
        ["trace dstep", actions("collect $args", "collect g_counter, *r"), "trace lib_mul",
         actions("collect a, b"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "1", "tracepoint 1") +
        ["print r->name", "print &g_counter", "tfind none"],
        r"Collected 10 trace frames", target="diffprog-pie")


@needs_bpf
def test_diff_pie_O2():
    run("PIE -O2",
        ["trace dchain", actions("collect $regs", "collect r->id, g_array"),
         "trace -probe-stap diff:plain", actions("collect $_probe_arg1"), "tstart"],
        STOP + frames("start", "1", "2", "3") + ["tfind none"],
        r"Collected 10 trace frames", target="diffprog-O2-pie")


# --------------------------------------------------------------------------
# Go


GO_ITERATIONS = (5, 10, 15)


def go_release(t):
    for n in GO_ITERATIONS:
        urllib.request.urlopen(f"http://127.0.0.1:{t.port}/e?iterations={n}", timeout=5).read()
    urllib.request.urlopen(f"http://127.0.0.1:{t.port}/greet?name=diff", timeout=5).read()


@needs_bpf
def test_diff_go_server():
    run("Go server",
        ["set print frame-info source-and-location",
         "trace main.computeE", actions("collect iterations"), "trace main.greet",
         "set language c", actions("collect $rbx", "collect *(char *)$rax@4"), "tstart"],
        STOP + ["info tracepoints"] + frames("start", "1", "2", "3") +
        ["print name.len", "print *name.str@name.len", "print *(char *)$rax@$rbx",
         "tfind none"],
        r"Collected 4 trace frames", r"^iterations = 15$", r'"diff"',
        target="goserver", args=["0"], release=go_release)


@needs_bpf
def test_diff_unreadable_memory():
    run("memory that cannot be read",
        ["trace dstep", actions("collect i", "collect *(long *)16", "collect *(char *)0@4"),
         "tstart"],
        STOP + frames("start") + ["print *(long *)16", "print *(char *)0@4", "print i",
                                  "tfind none"],
        COLLECTED, r"^i = 0$", r"^\$1 = <unreadable>$")
