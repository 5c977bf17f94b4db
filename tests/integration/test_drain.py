"""The drain never starves anything (stub/trace/trace.c, bpf/ring.c): each drain of
the ring buffer is bounded, so the overhead guard, the expiry and the client
run on time however fast the tracepoints write.

Target: tests/targets/hotloop.c, whose threads hot-1 and hot-2 call hot() in
a tight loop: a tracepoint there with `collect $regs` (and bpfstub's default
stack window) writes ~100k records/s, more than bpfstub can store.

The issue asks for two numbers, and these tests check them as stated
(docs/PERFORMANCE.md, "Drain per tick", has the measurements): the runaway
tracepoint is detached within 1 s of tstart in 20 runs of 20, and tstatus
is answered within 0.5 s while the ring floods.
"""

import re
import statistics
import time

from harness import attached, actions, gdb_pipe, needs_bpf, tracepoint_hits
from harness import gdb_connect as connect
from harness import gdb_tstart as tstart
from harness import gdb_tstatus as tstatus

GUARD_NOTE = re.compile(r"tracepoint 1 at 0x[0-9a-f]+ detached by the overhead guard: "
                        r"(\d+) hits/s")
DROP_NOTE = re.compile(r"bpfstub: (\d+) frames dropped \(ring buffer full\), (\d+) lost "
                       r"\(trace buffer full\)")
GUARD_OFF = ["--max-hit-rate", "off", "--max-overhead", "off"]

ROUNDS = 20
DETACH_WITHIN = 1.0  # the bound, seconds from tstart's reply
ANSWER_WITHIN = 0.5  # the bound for tstatus during a flood
POLL = 0.05  # between two tstatus: a client that asks now and then, not a storm


def timed_tstatus(g):
    """(status, seconds gdb's tstatus took: qTStatus and a qTP)."""
    t0 = time.monotonic()
    st = tstatus(g)
    return st, time.monotonic() - t0


def trace_hot(g):
    # tstart attaches uprobes, which waits on the kernel's uprobe lock while
    # other processes attach theirs: GDB's 2 s would time out on a busy
    # machine.  (Not one of the bounds checked here: those start at the reply.)
    g.cmd("set remotetimeout 30")
    assert "Tracepoint 1 at" in g.cmd("trace hot")
    g.cmd(actions("collect $regs"))


def accounting(g, st):
    """(hits, frames created, dropped, lost) of tracepoint 1 once the run stopped."""
    h = tracepoint_hits(g.cmd("info tracepoints"))[1]
    m = DROP_NOTE.search(st.text)
    dropped, lost = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return h, st.created, dropped, lost


@needs_bpf
def test_runaway_tracepoint_detached_within_1s():
    """hot() traced with the defaults, 20 times in one bpfstub: each run the
    overhead guard detaches it within 1 s of tstart's reply, and every
    tstatus meanwhile is answered within 0.5 s."""
    with attached("hotloop") as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        trace_hot(g)
        took, waits, longest = [], [], []
        for i in range(ROUNDS):
            tstart(g)
            t0 = time.monotonic()
            longest.append(0)
            while True:
                st, wait = timed_tstatus(g)
                waits.append(wait)
                longest[i] = max(longest[i], wait)
                if GUARD_NOTE.search(st.text):
                    break
                assert st.running, f"run {i}: the trace stopped:\n{st}"
                assert time.monotonic() - t0 < 10, f"run {i}: not detached in 10 s:\n{st}"
                time.sleep(POLL)
            took.append(time.monotonic() - t0)
            assert int(GUARD_NOTE.search(st.text).group(1)) > 20000, st.text
            g.cmd("tstop")
        print(f"detached after (s): min {min(took):.3f} median {statistics.median(took):.3f} "
              f"max {max(took):.3f}; tstatus (s): median {statistics.median(waits):.3f} "
              f"max {max(waits):.3f} of {len(waits)}")
        # A tstatus that waited long is one bpfstub answered after the detach
        # itself (the kernel releasing the uprobe), not after a drain.
        late = [f"run {i}: {s:.3f} s (longest tstatus {longest[i]:.3f} s)"
                for i, s in enumerate(took) if s > DETACH_WITHIN]
        assert not late, f"detached later than {DETACH_WITHIN} s: {late}; all: {took}"
        assert max(waits) < ANSWER_WITHIN, f"tstatus took up to {max(waits):.3f} s"


@needs_bpf
def test_flood_answers_tstatus_and_accounts_every_hit():
    """The guard off, hot() floods until the 512 MiB buffer is full: tstatus
    is answered within 0.5 s each time, the frames keep coming, and at the
    end every hit is a frame, a drop or the one frame that did not fit.
    Then a circular buffer floods and tstop ends it mid-flood: hits =
    frames + drops exactly (records still in the ring are stored, or
    counted as dropped)."""
    with attached("hotloop", options=GUARD_OFF) as (t, stub), gdb_pipe(file=t.path) as g:
        connect(g, stub)
        trace_hot(g)
        tstart(g)
        t0 = time.monotonic()
        samples = []
        while True:
            st, wait = timed_tstatus(g)
            if not st.running:
                break
            samples.append((time.monotonic() - t0, wait, st.created))
            assert time.monotonic() - t0 < 30, f"the flood did not fill the buffer:\n{st}"
            time.sleep(0.1)
        waits = [w for _, w, _ in samples]
        print(f"flood: {len(samples)} tstatus while running, median {statistics.median(waits):.3f}"
              f" max {max(waits):.3f} s; stopped after {time.monotonic() - t0:.1f} s")
        assert st.stop == "Trace stopped because the buffer was full.", st.text
        assert len(samples) >= 5, f"only {len(samples)} tstatus while flooding: {samples}"
        assert max(waits) < ANSWER_WITHIN, f"tstatus took up to {max(waits):.3f} s: {samples}"
        created = [c for _, _, c in samples]
        assert created == sorted(created) and created[-1] > created[0], created
        h, c, d, lost = accounting(g, st)
        print(f"flood: {h} hits, {c} frames, {d} dropped, {lost} lost")
        # Drops are usual here (the ring overflows before the store fills), but
        # a CPU-starved target can be drained as fast as it hits: the count,
        # not their presence, is what is asserted.
        assert h == c + d + lost and lost <= 1, f"{h} hits != {c} frames + {d} dropped + " \
            f"{lost} lost:\n{st}"

        g.cmd("set circular-trace-buffer on")
        g.cmd("set trace-buffer-size 33554432")
        tstart(g)
        time.sleep(1.5)
        st, wait = timed_tstatus(g)
        assert st.running and wait < ANSWER_WITHIN, f"{wait:.3f} s:\n{st}"
        g.cmd("tstop")
        st = tstatus(g)
        h, c, d, lost = accounting(g, st)
        print(f"circular, tstop mid-flood: {h} hits, {c} frames, {d} dropped, {lost} lost")
        assert st.frames < st.created, f"the circular buffer did not wrap:\n{st}"
        assert h == c + d and lost == 0, f"{h} hits != {c} frames + {d} dropped:\n{st}"
