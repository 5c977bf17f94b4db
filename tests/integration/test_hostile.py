"""Hostile input: a client that sends garbage, lies about lengths, or tries to
write, open files or connect twice.  bpfstub must answer with an error, keep
serving, never modify the target, and never stop it.
"""

import os
import re
import socket
import tempfile
import time

from harness import (NAK, RspClient, attached, connect_when_free, escape_binary, frame, hexstr,
                     needs_bpf, read_mem, rsp_client)


def assert_serves(c, t):
    """The connection still works: ? and a read of the live counter."""
    r = c.request("?")
    assert r and r[0] in "TS", f"? -> {r!r}\n{c.exchange()}"
    before = t.read_long("counter")
    v = c.request(f"m{t.addr_of('counter'):x},8")
    assert v and re.fullmatch(r"[0-9a-f]{16}", v), f"m counter -> {v!r}\n{c.exchange()}"
    got = int.from_bytes(bytes.fromhex(v), "little")
    assert got >= before, f"m counter gives {got}, below the live value {before}"


def test_garbage_then_valid_packet():
    """Noise outside packets is skipped; the next packet is answered."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.send_raw(bytes(range(0x80, 0x100)) + b"hello\r\n#}}**#00\x00\x00" + b"\xff" * 5000)
        r = c.request("?")
        assert r and r[0] in "TS", f"? after garbage -> {r!r}\n{c.exchange()}"
        assert_serves(c, t)


def test_bad_checksum_gets_nak_then_retransmission_served():
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.send_raw(b"$?#00")
        r = c.recv_packet(timeout=2, allow_nak=True)
        assert r == NAK, f"bad checksum -> {r!r}, expected '-'\n{c.exchange()}"
        r = c.request("?")  # the retransmission
        assert r and r[0] in "TS", f"retransmitted ? -> {r!r}"
        assert_serves(c, t)


def test_oversized_packet_rejected():
    """A 70000-byte packet (over PacketSize) gets an error; the stub keeps serving."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        feats = c.supported()
        size = int(feats.get("PacketSize", "0"), 16)
        assert 0 < size < 70000, f"PacketSize={feats.get('PacketSize')!r}"
        c.no_ack()
        r = c.request("qRcmd," + "61" * 35000)
        assert r is not None and r.startswith("E"), f"70006-byte packet -> {r!r}"
        assert_serves(c, t)


def test_truncated_packets_then_disconnect():
    """A client that vanishes mid-packet does not wedge the stub."""
    with attached() as (t, stub):
        for partial in (b"$m40", b"$?#3", b"$X0,1:}", b"$qXfer:auxv:read::0,"):
            c = RspClient(stub.addr)
            c.send_raw(partial)
            c.close()
            c = connect_when_free(stub.addr)
            assert_serves(c, t)
            c.close()


def test_malformed_packets_get_replies():
    """Malformed arguments get an error or empty reply, never OK or silence."""
    bad = ["m", "mzz,4", "m1,", "m,4", "m1;4", "M1,1", "M1,1:zz", "X", "H", "Hgzz", "p",
           "pzz", "vCont;", "vCont;q", "qXfer:auxv:read::zz,10", "qXfer:nosuch:read::0,10",
           "vFile:open:zz", "vFile:pread:", "qRcmd,zzz", "qThreadExtraInfo,zz", "T",
           "Tzz", "QTDP:", "QTFrame:", "z0", "Z", "vAttach;1", "vRun;", "!", "qP", "qL"]
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        c.no_ack()
        for pkt in bad:
            r = c.request(pkt, timeout=3)
            assert r is not None, f"no reply to {pkt!r}\n{c.exchange()}"
            assert not (pkt[0] in "MXZ" and r == "OK"), f"{pkt!r} -> OK"
        assert_serves(c, t)


@needs_bpf
def test_malformed_tracepoint_packets():
    """Hostile tracepoint packets get an error (with a message where it helps)
    and nothing else: the stub keeps serving, no probe is left in the code,
    and a good tracepoint still runs afterwards."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        c.no_ack()
        code = t.addr_of("compute")
        orig = open(f"/proc/{t.pid}/mem", "rb")
        orig.seek(code)
        before = orig.read(16)
        bad = {
            "QTDP:1:zz:E:0:0": None,
            "QTDP:1:0000000000000010:E:0:0": "0x10",  # outside code: names the address
            f"QTDP:1:{code:016x}:E:3:0": "while-stepping",
            f"QTDP:1:{code:016x}:E:0:0:X3,210000": "loops cannot be proven",  # goto itself
            f"QTDP:1:{code:016x}:E:0:0:Xffffffff,27": None,  # hostile length
            f"QTDP:1:{code:016x}:E:0:0:X1,01": "float",
            "QTDP:-7:0000000000401000:R1": "undefined",
            "QTFrame:zz": None,
            "QTFrame:range:5": None,
            "qTBuffer:ffffffffffffffff,ffffffff": "",
            "QTSave:zz": None,
            "QTSave:2f6574632f706173737764": "--save-dir",  # /etc/passwd
            "QTBuffer:size:1": "between",
            "QTro:5,1": None,
            "QTDV:0:0:0:61": None,
            "qTP:zz": None,
            "QTEnable:9:1": "no tracepoint",
            "QTNotes:user:zzz": None,
        }
        for pkt, want in bad.items():
            r = c.request(pkt, timeout=5)
            assert r is not None, f"no reply to {pkt!r}\n{c.exchange()}"
            if want == "":
                assert r == "l", f"{pkt!r} -> {r!r}"
                continue
            assert r.startswith("E"), f"{pkt!r} -> {r!r}, want an error"
            if want:
                assert want in r, f"{pkt!r} -> {r!r}, want a message with {want!r}"
        assert c.request("QTStart") == "OK"  # nothing valid defined: an empty run
        r = c.request("qTStatus")
        assert r and r.startswith("T1;"), r
        assert c.request("QTStop") == "OK"
        orig.seek(code)
        assert orig.read(16) == before, "the code changed"
        # A good tracepoint still works.
        assert c.request("QTinit") == "OK"
        assert c.request(f"QTDP:1:{code:016x}:E:0:0") == "OK"
        assert c.request("QTStart") == "OK"
        time.sleep(0.3)
        assert c.request("QTStop") == "OK"
        r = c.request("qTStatus")
        assert r and re.search(r";tframes:([0-9a-f]+);", r) and \
            int(re.search(r";tframes:([0-9a-f]+);", r).group(1), 16) > 0, r
        assert_serves(c, t)


def test_vfile_refuses_files_not_mapped():
    """vFile opens only files the target maps; /etc/shadow is EACCES (F-1,d)."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        c.no_ack()
        c.request("vFile:setfs:0")
        r = c.request(f"vFile:open:{hexstr('/etc/shadow')},0,0")
        assert r == "F-1,d", f"open /etc/shadow -> {r!r}"
        for path in ("/etc/passwd", "/proc/self/root/etc/shadow",
                     "/" + "../" * 8 + "etc/shadow", f"/proc/{os.getpid()}/environ"):
            r = c.request(f"vFile:open:{hexstr(path)},0,0")
            assert r and r.startswith("F-1,"), f"open {path} -> {r!r}"

        # The executable itself can be read...
        exe = os.path.realpath(t.path)
        r = c.request(f"vFile:open:{hexstr(exe)},0,0")
        m = re.fullmatch(r"F([0-9a-f]+)", r or "")
        assert m, f"open {exe} -> {r!r}"
        fd = int(m.group(1), 16)
        r = c.request(f"vFile:pread:{fd:x},4,0")
        assert r == "F4;\x7fELF", f"pread -> {r!r}"
        assert c.request(f"vFile:close:{fd:x}") == "F0"

        # ...but never for writing, and nothing is ever deleted.
        mtime = os.stat(exe).st_mtime
        for flags in (1, 2, 0x201, 0x402):  # GDB fileio O_WRONLY, O_RDWR, |O_CREAT, |O_TRUNC
            r = c.request(f"vFile:open:{hexstr(exe)},{flags:x},1ed")
            assert r and r.startswith("F-1,"), f"open {exe} flags {flags:#x} -> {r!r}"
        assert os.stat(exe).st_mtime == mtime, "the executable was modified"
        with tempfile.NamedTemporaryFile(prefix="bpfstub-unlink-") as victim:
            r = c.request(f"vFile:unlink:{hexstr(victim.name)}")
            assert r is None or r == "" or r.startswith("F-1"), f"unlink -> {r!r}"
            assert os.path.exists(victim.name), "vFile:unlink deleted a file"
        assert_serves(c, t)


def test_memory_and_register_writes_refused():
    """M, X, G and P are refused and the target's memory is unchanged."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        c.no_ack()
        cfg = t.addr_of("config")
        code = t.addr_of("compute")
        orig_cfg, orig_code = read_mem(t.pid, cfg, 8), read_mem(t.pid, code, 8)
        for payload in (f"M{cfg:x},4:07000000", f"M{code:x},1:cc"):
            r = c.request(payload)
            assert r and r.startswith("E"), f"{payload} -> {r!r}"
        for addr, data in ((cfg, b"\x07\x00\x00\x00"), (code, b"\xcc"), (cfg, b"$#}*")):
            pkt = f"X{addr:x},{len(data):x}:".encode() + escape_binary(data)
            c.send_raw(frame(pkt))
            r = c.recv_packet()
            assert r and r.startswith("E"), f"X{addr:x} -> {r!r}"
        for payload in ("G" + "00" * 560, "P10=0000000000000000", "P0=0100000000000000"):
            r = c.request(payload)
            assert r != "OK", f"{payload[:24]}... -> OK"
        assert read_mem(t.pid, cfg, 8) == orig_cfg, "config was modified"
        assert read_mem(t.pid, code, 8) == orig_code, "code at compute() was modified"
        assert_serves(c, t)


def test_hostile_memory_reads():
    """m at 0, past the end of the address space, or with a huge length."""
    with attached() as (t, stub), rsp_client(stub.addr) as c:
        c.supported()
        c.no_ack()
        for pkt in ("m0,8", "mffffffffffffff00,200", "mffffffffffffffff,ffffffffffffffff"):
            r = c.request(pkt)
            assert r and r.startswith("E"), f"{pkt} -> {r!r}"
        message = t.addr_of("message")  # .data: stable bytes
        live = read_mem(t.pid, message, 64)
        for length in ("ffffffffffffffff", "7fffffff", "100000000"):
            r = c.request(f"m{message:x},{length}", timeout=10)
            assert r is not None, f"m{message:x},{length}: no reply within 10 s"
            if not r.startswith("E"):
                assert re.fullmatch(r"(?:[0-9a-f]{2})+", r), f"m...,{length}: not hex: {r[:80]!r}"
                assert len(r) // 2 <= 64 << 20, f"m...,{length}: {len(r) // 2} bytes"
                assert bytes.fromhex(r[:128]) == live, "partial read disagrees with memory"
        r = c.request("qXfer:auxv:read::0,ffffffffffffffff")
        assert r and r[0] in "lmE", f"auxv huge length -> {r[:40]!r}"
        assert_serves(c, t)


def test_second_client_refused_first_keeps_working():
    with attached() as (t, stub), rsp_client(stub.addr) as first:
        first.supported()
        first.no_ack()
        assert_serves(first, t)
        second = RspClient(stub.addr)
        try:
            try:
                second.send_raw(b"+" + frame("?"))
            except OSError:
                pass  # already closed by the stub: fine
            second.assert_closed(timeout=3)
        finally:
            second.close()
        assert_serves(first, t)
        first.close()
        third = connect_when_free(stub.addr)
        assert_serves(third, t)
        third.close()


def test_raw_socket_abuse():
    """Connect-and-close, half-closed sockets and a flood of acks and naks."""
    with attached() as (t, stub):
        host, port = stub.addr.rsplit(":", 1)
        for _ in range(5):
            socket.create_connection((host, int(port)), 2).close()
        s = socket.create_connection((host, int(port)), 2)
        s.sendall(b"+" * 10000 + b"-" * 100)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(3)
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        c = connect_when_free(stub.addr)
        assert_serves(c, t)
        c.close()


def test_kill_requests_do_not_kill():
    """GDB's `kill` (vKill) and LLDB's `k` leave an attached process running."""
    with attached() as (t, stub):
        with rsp_client(stub.addr) as c:
            c.supported()
            c.no_ack()
            r = c.request(f"vKill;{t.pid:x}")
            assert r == "OK", f"vKill -> {r!r}"
            t.assert_running()
        with connect_when_free(stub.addr) as c:
            c.send("k")
            c.recv_packet(timeout=1)  # a reply or none: both allowed
        t.assert_running()
