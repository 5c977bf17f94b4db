"""One section of docs/PERFORMANCE.md, rewritten by the benchmark that
measured it; the rest of the file is left alone.

    from perfdoc import write_section
    write_section("## Title (`make bench`, bench/x.py)", lines, after="## Tracepoint hit cost")

The section runs from its heading line to the next "## " heading.  A new
one goes after the section whose heading starts with `after` (when there is
one), else at the end.
"""

import os
import re

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "PERFORMANCE.md")


def write_section(title, lines, after=None, path=DOC):
    section = "\n".join(lines)
    with open(path) as f:
        doc = f.read()
    m = re.search(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", doc, re.M | re.S)
    if m:
        doc = doc[:m.start()] + section + ("\n" if m.end() < len(doc) else "") + doc[m.end():]
    else:
        m = after and re.search(rf"^{re.escape(after)}.*?(?=^## |\Z)", doc, re.M | re.S)
        at = m.end() if m else len(doc)
        doc = doc[:at].rstrip("\n") + "\n\n" + section + "\n" + doc[at:]
    with open(path, "w") as f:
        f.write(doc)
    print(f"wrote the '{title}' section of {path}")
