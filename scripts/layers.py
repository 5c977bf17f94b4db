#!/usr/bin/env python3
"""The layers check: who uses whom, read from the objects themselves.

bpfstub is built in layers, each allowed to use only the ones below it:

    stub/serve    the server, sessions, packet handlers, monitor, main
    stub/views    typed frame text (mprint, tdump)
    stub/trace    trace core, guard, frame store, trace files, collection
    stub/program  the target: process, DWARF, SDT, registers, osdata
    stub/base     the audit sink and small shared helpers
    bpf           BPF programs, rings, probes (uses only rsp/)
    rsp           the pure protocol layer (no I/O, no globals, no libbpf)

Includes can lie (a header included and never used, a prototype declared by
hand), so the arrows come from the objects: it reads every object's own symbol
table with nm(1): an object that leaves a symbol undefined ("U") which
another object defines uses that object.  From those arrows it fails on

  * any circle between objects (a strongly connected component of more
    than one object), inside one folder as much as across folders;
  * any arrow from a lower layer to a higher one;
  * any source file (.c/.h under stub/, bpf/, rsp/) past HARD_LINES lines,
  * and, since a struct's layout is used without any symbol, any
    #include "..." of a header from a higher layer;

and warns about files past SOFT_LINES lines.  Each bad arrow is printed with
the symbols that make it, so the fix can start from the report.

Only objects whose source file still exists are read, so an object left in
the build directory by a file since moved or deleted does not add arrows.

Usage: scripts/layers.py [BUILD_DIR]   (default build/rel; run from the top)
       scripts/layers.py --edges [BUILD_DIR]   also print every arrow
Exit status: 0 clean, 1 a circle, an upward arrow or a file too long,
2 the check could not run (no objects, nm missing).
"""

import collections
import os
import re
import subprocess
import sys

# Lowest first; an object may use objects of its own layer (without a
# circle) and of any layer before it in this list.
LAYERS = ["rsp", "bpf", "stub/base", "stub/program", "stub/trace",
          "stub/views", "stub/serve"]
RANK = {name: i for i, name in enumerate(LAYERS)}
SOURCE_ROOTS = ("stub", "bpf", "rsp")
SOFT_LINES = 1200
HARD_LINES = 1300
# Symbols shown per bad arrow before "...".
SHOW_SYMBOLS = 8


def layer_of(unit):
    """The layer of "stub/trace/guard" or "bpf/ring", or None."""
    d = os.path.dirname(unit)
    while d:
        if d in RANK:
            return d
        d = os.path.dirname(d)
    return None


def find_objects(build_dir, top):
    """Map unit ("stub/trace/guard") to its object path, for live sources."""
    units = {}
    for root in SOURCE_ROOTS:
        base = os.path.join(build_dir, root)
        for d, _, files in os.walk(base):
            for f in files:
                if not f.endswith(".o"):
                    continue
                path = os.path.join(d, f)
                unit = os.path.relpath(path, build_dir)[:-2]
                if os.path.exists(os.path.join(top, unit + ".c")):
                    units[unit] = path
    return units


def read_symbols(path):
    """(defined, undefined) external symbols of one object, from nm -P."""
    out = subprocess.run(["nm", "-P", "-g", path], capture_output=True,
                         text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind in ("U", "w", "v"):
            undefined.add(name)
        else:
            defined.add(name)
    return defined, undefined


def build_graph(units):
    """edges[a][b] = symbols a uses that b defines; plus duplicate defs."""
    defs, uses, dups = {}, {}, []
    for unit in sorted(units):
        defined, undefined = read_symbols(units[unit])
        for s in sorted(defined):
            if s in defs:
                dups.append((s, defs[s], unit))
            else:
                defs[s] = unit
        uses[unit] = undefined
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for a, syms in uses.items():
        for s in syms:
            b = defs.get(s)
            if b and b != a:
                edges[a][b].add(s)
    return edges, dups


def circles(nodes, edges):
    """Strongly connected components of more than one node (Tarjan,
    iterative so a long chain cannot hit Python's recursion limit)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def show(syms):
    syms = sorted(syms)
    text = ", ".join(syms[:SHOW_SYMBOLS])
    if len(syms) > SHOW_SYMBOLS:
        text += ", ... (%d in all)" % len(syms)
    return text


def source_files(top):
    """Every .c/.h under SOURCE_ROOTS, as a path relative to top."""
    for root in SOURCE_ROOTS:
        for d, _, files in os.walk(os.path.join(top, root)):
            for f in files:
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), top)


def long_files(top):
    """(lines, path) of every .c/.h past SOFT_LINES, longest first."""
    found = []
    for path in source_files(top):
        with open(os.path.join(top, path), "rb") as fh:
            n = sum(1 for _ in fh)
        if n > SOFT_LINES:
            found.append((n, path))
    return sorted(found, reverse=True)


def upward_includes(top):
    """(file, header) for every #include of a header from a higher layer."""
    found = []
    for path in source_files(top):
        la = layer_of(path[:-2])
        with open(os.path.join(top, path), errors="replace") as fh:
            for m in re.finditer(r'^\s*#\s*include\s+"([^"]+)"', fh.read(), re.M):
                lb = layer_of(m.group(1)[:-2])
                if la and lb and RANK[lb] > RANK[la]:
                    found.append((path, m.group(1)))
    return sorted(found)


def main(argv):
    all_edges = "--edges" in argv
    args = [a for a in argv if a != "--edges"]
    build_dir = args[0] if args else "build/rel"
    top = os.getcwd()

    units = find_objects(build_dir, top)
    if not units:
        print("layers: no objects under %s (build first)" % build_dir)
        return 2
    try:
        edges, dups = build_graph(units)
    except (OSError, subprocess.CalledProcessError) as e:
        print("layers: nm failed: %s" % e)
        return 2

    failed = False
    print("layers: %d objects under %s" % (len(units), build_dir))

    unplaced = sorted(u for u in units if layer_of(u) is None)
    for u in unplaced:
        print("FAIL layer: %s is in no layer (add its folder to LAYERS)" % u)
        failed = True

    for s, a, b in dups:
        print("warn: %s defined by both %s and %s" % (s, a, b))

    comps = circles(units.keys(), edges)
    for comp in comps:
        failed = True
        members = set(comp)
        print("FAIL circle (%d objects): %s" % (len(comp), " ".join(comp)))
        for a in comp:
            for b in sorted(edges[a]):
                if b in members:
                    print("    %s -> %s: %s" % (a, b, show(edges[a][b])))

    for a in sorted(edges):
        la = layer_of(a)
        for b in sorted(edges[a]):
            lb = layer_of(b)
            if la is None or lb is None or RANK[lb] <= RANK[la]:
                continue
            failed = True
            print("FAIL upward: %s (%s) -> %s (%s): %s" %
                  (a, la, b, lb, show(edges[a][b])))

    for path, hdr in upward_includes(top):
        failed = True
        print("FAIL upward include: %s includes %s" % (path, hdr))

    for n, path in long_files(top):
        if n > HARD_LINES:
            failed = True
            print("FAIL length: %s has %d lines (limit %d)" %
                  (path, n, HARD_LINES))
        else:
            print("warn length: %s has %d lines (over %d)" %
                  (path, n, SOFT_LINES))

    if all_edges:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print("edge %s -> %s: %s" % (a, b, show(edges[a][b])))

    print("layers: %s" % ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
