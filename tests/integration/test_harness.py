"""Self-tests of the harness's safety net: ThreadStateSampler must notice a
stopped thread and a tracer, or every "never stops the target" check in this
suite would pass vacuously.  No bpfstub involved.
"""

import ctypes
import os
import signal
import time

from harness import Target, ThreadStateSampler

PTRACE_SEIZE = 0x4206


def expect_violation(sampler, word):
    try:
        sampler.finish()
    except AssertionError as e:
        assert word in str(e), str(e)
    else:
        raise AssertionError(f"the sampler did not report {word!r}")


def test_sampler_detects_stopped_thread():
    with Target("counter") as t:
        sampler = ThreadStateSampler(t.pid).start()
        time.sleep(0.05)
        os.kill(t.pid, signal.SIGSTOP)
        time.sleep(0.05)
        os.kill(t.pid, signal.SIGCONT)
        expect_violation(sampler, "state T")
        t.assert_running()


def test_sampler_detects_tracer():
    """PTRACE_SEIZE traces without stopping anything: only TracerPid shows it.
    The trace ends when the target is killed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    with Target("counter") as t:
        sampler = ThreadStateSampler(t.pid).start()
        time.sleep(0.05)
        if libc.ptrace(PTRACE_SEIZE, t.pid, None, None) != 0:
            raise AssertionError(f"PTRACE_SEIZE failed: errno {ctypes.get_errno()}")
        time.sleep(0.05)
        expect_violation(sampler, "TracerPid")
