#!/usr/bin/env python3
"""patch_dwo_name.py IN OUT OLD NEW - copy the executable IN to OUT with the
string OLD (a skeleton unit's DW_AT_dwo_name in .debug_str) replaced by NEW,
no longer, NUL-padded: a hostile split-DWARF name for the tests."""
import os
import shutil
import sys

src, dst, old, new = sys.argv[1:5]
data = open(src, "rb").read()
o, n = old.encode() + b"\0", new.encode()
if len(n) >= len(o):
    sys.exit(f"{new!r} is not shorter than {old!r}")
if data.count(o) != 1:
    sys.exit(f"{old!r} found {data.count(o)} times in {src}")
data = data.replace(o, n + b"\0" * (len(o) - len(n)))
with open(dst, "wb") as f:
    f.write(data)
shutil.copymode(src, dst)
