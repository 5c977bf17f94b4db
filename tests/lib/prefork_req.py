"""Requests to tests/targets/prefork (run by tests/integration/test_multiproc.py,
also as another user; exchange() is bench/multiproc.py's too).

  prefork_req.py PORT N...        one connection per N: prints "N->PID" (the worker)
  prefork_req.py --monitor LIBDIR ADDR MINE_PORT OTHER_PORT
        as a bpfstub client (harness.RspClient): monitor trace handle, tstart,
        4 requests to MINE_PORT ("mine N->PID"), 4 to OTHER_PORT, tstop, then
        prints what monitor tframes and monitor status say.
"""
import socket
import sys


def exchange(port, line, timeout=10):
    """One request: connect, send line and a newline, return the reply (bytes)
    read until its newline or until prefork closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"{line}\n".encode())
        data = b""
        while not data.endswith(b"\n"):
            got = s.recv(64)
            if not got:
                break
            data += got
    return data


def request(port, n):
    """Request "n": the worker doubles it; returns the worker's pid."""
    data = exchange(port, n)
    v, pid = data.split()
    assert int(v) == 2 * n, data
    return int(pid)


def monitor(c, line):
    out = ""
    for r in c.request_all("qRcmd," + line.encode().hex(), timeout=20):
        if r.startswith("O") and r != "OK":
            out += bytes.fromhex(r[1:]).decode(errors="replace")
        elif r != "OK":
            out += f"[reply {r}]\n"
    return out


def main():
    if sys.argv[1] != "--monitor":
        port = int(sys.argv[1])
        print(" ".join(f"{n}->{request(port, int(n))}" for n in sys.argv[2:]))
        return
    lib, addr, mine, other = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    sys.path.insert(0, lib)
    from harness import RspClient
    with RspClient(addr, timeout=20) as c:
        r = c.request("?")
        assert r and not r.startswith("E"), r
        print(monitor(c, "trace handle"))
        print(monitor(c, "tstart"))
        for n in range(1, 5):
            print(f"mine {n}->{request(mine, n)}")
            request(other, 100 + n)
        print(monitor(c, "tstop"))
        print(monitor(c, "tframes"))
        print(monitor(c, "status"))


if __name__ == "__main__":
    main()
