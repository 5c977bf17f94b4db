#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds for tests/fuzz/fuzz_gopclntab.c from a real Go 1.18+ binary.

A real .gopclntab is megabytes; libFuzzer's smoke runs take at most 8 KiB.
This re-encodes a few consecutive functions of a real table (their records,
names, pc-value tables, compilation-unit file lists and file names, exactly
as the Go linker wrote them, offsets renumbered) into a small table that
the reader accepts, plus the header alone and the build info section.

    mkseed_gopclntab.py BINARY FIRST_FUNC_NAME N OUTDIR
"""
import struct
import subprocess
import sys


def section(path, name):
    out = subprocess.check_output(['readelf', '-SW', path], text=True)
    for line in out.splitlines():
        if ' ' + name + ' ' in line + ' ':
            f = line.split(']', 1)[1].split()
            return int(f[2], 16), int(f[3], 16), int(f[4], 16)
    raise SystemExit(name + ' not found')


def varint(b, p):
    v = shift = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, p


def pcv_bytes(pct, off):
    """The bytes of the pc-value table at off, with its terminating 0."""
    p, first = off, True
    while True:
        if pct[p] == 0 and not first:
            return pct[off:p + 1]
        _, p = varint(pct, p)
        _, p = varint(pct, p)
        first = False


def main():
    path, first, n, outdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    data = open(path, 'rb').read()
    _, off, size = section(path, '.gopclntab')
    t = data[off:off + size]
    magic, = struct.unpack_from('<I', t, 0)
    assert magic in (0xfffffff0, 0xfffffff1) and t[7] == 8, 'a 64-bit Go 1.18+ table'
    w = struct.unpack_from('<8Q', t, 8)
    nfunc, _, text, o_names, o_cu, o_files, o_pct, o_pcln = w
    names, cutab = t[o_names:o_cu], t[o_cu:o_files]
    files, pct, pcln = t[o_files:o_pct], t[o_pct:o_pcln], t[o_pcln:]
    fixed = 44 if magic == 0xfffffff1 else 40
    ft = [struct.unpack_from('<II', pcln, 8 * i) for i in range(nfunc + 1)]
    idx = None
    for i in range(nfunc):
        e, fo = ft[i]
        nameoff, = struct.unpack_from('<i', pcln, fo + 4)
        if names[nameoff:names.index(b'\0', nameoff)].decode() == first:
            idx = i
    assert idx is not None, first + ' not in the table'
    sel = range(idx, min(idx + n, nfunc))

    o_names_new, o_cu_new, o_files_new = bytearray(), bytearray(), bytearray()
    pct_new, recs = bytearray(b'\0'), []
    file_off = {}
    for i in sel:
        e, fo = ft[i]
        npcdata, = struct.unpack_from('<I', pcln, fo + 28)
        nfd = pcln[fo + fixed - 1]
        rec = bytearray(pcln[fo:fo + fixed + 4 * npcdata + 4 * nfd])
        nameoff, = struct.unpack_from('<i', rec, 4)
        nm = names[nameoff:names.index(b'\0', nameoff) + 1]
        struct.pack_into('<i', rec, 4, len(o_names_new))
        o_names_new += nm
        # pcsp, pcfile, pcln and pcdata[]: copied, renumbered
        slots = [16, 20, 24] + [fixed + 4 * k for k in range(npcdata)]
        for s in slots:
            v, = struct.unpack_from('<I', rec, s)
            if v:
                struct.pack_into('<I', rec, s, len(pct_new))
                pct_new += pcv_bytes(pct, v)
        # the CU's files used by pcfile: its cutab slice up to the largest file number
        cu, = struct.unpack_from('<I', rec, 32)
        if cu != 0xffffffff:
            pf, = struct.unpack_from("<I", pcln, fo + 20)
            maxf, p, val, first_step = 0, pf, -1, True
            while pf and not (pct[p] == 0 and not first_step):
                uv, p = varint(pct, p)
                _, p = varint(pct, p)
                val += ~(uv >> 1) if uv & 1 else uv >> 1
                maxf = max(maxf, val)
                first_step = False
            struct.pack_into('<I', rec, 32, len(o_cu_new) // 4)
            for k in range(maxf + 1):
                fo_, = struct.unpack_from('<I', cutab, 4 * (cu + k))
                if fo_ != 0xffffffff:
                    if fo_ not in file_off:
                        file_off[fo_] = len(o_files_new)
                        o_files_new += files[fo_:files.index(b'\0', fo_) + 1]
                    fo_ = file_off[fo_]
                o_cu_new += struct.pack('<I', fo_)
        # funcdata point outside the table: keep them (the fuzzer maps its input there)
        recs.append((e, rec))

    hdr_len = 8 + 8 * 8
    body = bytearray()
    offs = []
    for part in (o_names_new, o_cu_new, o_files_new, pct_new):
        offs.append(hdr_len + len(body))
        body += part
        while len(body) % 8:
            body += b'\0'
    offs.append(hdr_len + len(body))
    ftab = bytearray(8 * (len(recs) + 1))
    recbytes = bytearray()
    for k, (e, rec) in enumerate(recs):
        struct.pack_into('<II', ftab, 8 * k, e, len(ftab) + len(recbytes))
        recbytes += rec
    struct.pack_into('<II', ftab, 8 * len(recs), ft[sel[-1] + 1][0], 0)
    hdr = struct.pack('<IBBBB8Q', magic, 0, 0, t[6], 8, len(recs), len(file_off), text, *offs)
    out = hdr + body + ftab + recbytes
    open(outdir + '/gopclntab-real', 'wb').write(out)
    open(outdir + '/gopclntab-header', 'wb').write(t[:hdr_len])
    _, boff, bsize = section(path, '.go.buildinfo')
    open(outdir + '/gobuildinfo-real', 'wb').write(data[boff:boff + min(bsize, 512)])
    print('%d functions, %d bytes' % (len(recs), len(out)))


main()
