#!/usr/bin/env python3
"""Every errno a public header documents for a function is asserted by a test.

Reads the doc comment above each function declared in include/*.h and
takes the errno names it mentions (names <errno.h> defines). A test
asserts (function, errno) when a block of a test file (a TEST() body or a
static function, up to the next one) mentions the errno in a check
(CHECK..., FAILS, EXPECT..., an array of expected errnos) and calls the
function, or calls a static function of the same file that calls it.
Prints what is documented, what is asserted and the gap; fails on a gap.

Usage: errno_coverage.py SOURCE_DIR [CC]   (exit 77 when no C compiler)
"""
import os
import re
import subprocess
import sys

src = sys.argv[1]
cc = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CC", "cc")

try:
    out = subprocess.run([cc, "-E", "-dM", "-include", "errno.h", "-x", "c", "/dev/null"],
                         capture_output=True, text=True, check=True).stdout
except (OSError, subprocess.CalledProcessError):
    print("errno coverage: no C preprocessor to list the errno names")
    sys.exit(77)
ERRNOS = set(re.findall(r"#define (E[A-Z0-9]+) ", out))

# ---- documented: (function, errno) from the headers ----
decl = re.compile(r"^[A-Za-z_][\w \*]*?\b(wi(?:re|o)_\w+)\s*\(", re.M)
documented = {}
for name in sorted(os.listdir(os.path.join(src, "include"))):
    text = open(os.path.join(src, "include", name)).read()
    # Comments, then the declarations that follow each.
    for m in re.finditer(r"/\*(.*?)\*/", text, re.S):
        comment = m.group(1)
        end = m.end()
        nxt = text.find("/*", end)
        chunk = text[end:nxt if nxt >= 0 else len(text)]
        errs = set(re.findall(r"\b(E[A-Z0-9]+)\b", comment)) & ERRNOS
        if not errs:
            continue
        for d in decl.finditer(chunk):
            documented.setdefault(d.group(1), set()).update(errs)

# ---- asserted: (function, errno) from the tests ----
block_start = re.compile(r"^(?:TEST\((\w+)\)|static\b[^;=]*?\b(\w+)\s*\([^;]*$)")
check_line = re.compile(r"CHECK|FAILS|EXPECT|errs\[\]|errno")
asserted = {}
tests_dir = os.path.join(src, "tests")
for name in sorted(os.listdir(tests_dir)):
    if not name.endswith(".c"):
        continue
    lines = open(os.path.join(tests_dir, name)).read().split("\n")
    blocks = []  # (name, lines)
    cur_name, cur = None, []
    for line in lines:
        m = block_start.match(line)
        if m:
            blocks.append((cur_name, cur))
            cur_name, cur = m.group(1) or m.group(2), []
        cur.append(line)
    blocks.append((cur_name, cur))
    calls = {}  # block name -> functions of the API it calls
    errs_of = {}
    refs = {}
    names = {b for b, _ in blocks if b}
    for bname, body in blocks:
        text = "\n".join(body)
        calls[bname] = set(re.findall(r"\b(wi(?:re|o)_\w+)\s*\(", text))
        errs = set()
        for line in body:
            if check_line.search(line):
                errs |= set(re.findall(r"\b(E[A-Z0-9]+)\b", line)) & ERRNOS
        errs_of[bname] = errs
        refs[bname] = {n for n in re.findall(r"\b(\w+)\b", text) if n in names and n != bname}
    for bname, _ in blocks:
        fns = set(calls[bname])
        for r in refs[bname]:
            fns |= calls.get(r, set())
        for fn in fns:
            asserted.setdefault(fn, set()).update(errs_of[bname])

pairs = sorted((fn, e) for fn, es in documented.items() for e in es)
missing = [(fn, e) for fn, e in pairs if e not in asserted.get(fn, set())]
print("errno coverage: %d documented (function, errno) pairs, %d asserted by a test"
      % (len(pairs), len(pairs) - len(missing)))
for fn, e in missing:
    print("  not asserted: %s %s" % (fn, e))
sys.exit(1 if missing else 0)
