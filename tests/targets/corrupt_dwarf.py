#!/usr/bin/env python3
"""corrupt_dwarf.py IN OUT - copy the ELF file IN to OUT with the contents of
its .debug_info section overwritten by 0xff bytes: the ELF stays valid (same
size, headers, symbols, code), but its DWARF cannot be parsed (the first unit
claims a 64-bit length far past the section's end), for the test that deep
collection refuses such a file with a message and tracing goes on."""
import shutil
import struct
import sys


def section(data, name):
    """(offset, size) in the file of the section called name."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)

    def hdr(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab_off = hdr(shstrndx)[4]
    for i in range(shnum):
        sh_name, _type, _flags, _addr, off, size = hdr(i)
        end = data.index(b"\0", strtab_off + sh_name)
        if data[strtab_off + sh_name:end].decode() == name:
            return off, size
    sys.exit(f"corrupt_dwarf: no {name} section in {sys.argv[1]}")


def main():
    src, dst = sys.argv[1:3]
    shutil.copyfile(src, dst)
    shutil.copymode(src, dst)
    with open(dst, "r+b") as f:
        data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2:
            sys.exit(f"corrupt_dwarf: {src} is not a 64-bit ELF file")
        off, size = section(data, ".debug_info")
        f.seek(off)
        f.write(b"\xff" * size)


if __name__ == "__main__":
    main()
