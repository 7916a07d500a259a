#!/usr/bin/env python3
"""Docs name only what exists.

In README.md and docs/*.md (not the performance log, which keeps the names
of its day), every name in backticks that looks like one of
the project's identifiers (wire_..., wio_..., WIRE_..., wire__...) must
occur in the sources; every path of the project (src/..., include/...,
tests/..., examples/..., bench/..., docs/..., cmake/...) must exist; and
every test name LAYER.name of a test file tests/test_LAYER.c must be a
TEST() of it, or a test CMakeLists.txt adds by that name.

Usage: doc_symbols.py SOURCE_DIR
"""
import os
import re
import sys

src = sys.argv[1]
# docs/perf-log.md is a record of past experiments, in the names of their day.
docs = [os.path.join(src, "README.md")] + sorted(
    os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs"))
    if f.endswith(".md") and f != "perf-log.md")

corpus = []
for top in ("src", "include", "tests", "examples", "bench", "cmake", "man"):
    for root, _, files in os.walk(os.path.join(src, top)):
        for f in files:
            try:
                corpus.append(open(os.path.join(root, f), errors="replace").read())
            except OSError:
                pass
for f in ("CMakeLists.txt", "Makefile", ".ci/run"):
    corpus.append(open(os.path.join(src, f), errors="replace").read())
words = set(re.findall(r"\b\w+\b", "\n".join(corpus)))

ident = re.compile(r"\b((?:wire|wio|WIRE)_\w+)")
path = re.compile(r"^((?:src|include|tests|examples|bench|docs|cmake|man)/[\w./-]+|\.ci/run)$")
testname = re.compile(r"^([a-z_]+)\.([a-z0-9_]+)$")

bad = []
for doc in docs:
    text = open(doc).read()
    # Code blocks hold programs, not references.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for lineno, line in enumerate(text.split("\n"), 1):
        for tick in re.findall(r"`([^`]+)`", line):
            tick = tick.strip()
            for name in ident.findall(tick):
                if name not in words:
                    bad.append("%s:%d: `%s` names %s, which is nowhere in the sources"
                               % (os.path.relpath(doc, src), lineno, tick, name))
            # Install paths (a trailing /) and placeholders (LAYER, NAME) are not files.
            if path.match(tick) and not tick.endswith("/") and not re.search(r"[A-Z]", tick):
                p = tick.split(":")[0]
                if not os.path.exists(os.path.join(src, p)):
                    bad.append("%s:%d: `%s`: no such file" % (os.path.relpath(doc, src), lineno, tick))
            m = testname.match(tick)
            if m and m.group(2) not in ("h", "c", "md", "py", "sh", "txt", "so"):
                f = os.path.join(src, "tests", "test_%s.c" % m.group(1))
                # Tests CMakeLists.txt registers by name (debug.gdb_backtrace) count too.
                registered = "NAME %s " % tick in open(os.path.join(src, "CMakeLists.txt")).read()
                if (os.path.exists(f) and ("TEST(%s)" % m.group(2)) not in open(f).read()
                        and not registered):
                    bad.append("%s:%d: `%s`: no such test" % (os.path.relpath(doc, src), lineno, tick))

for b in bad:
    print(b)
print("doc symbols: %d docs checked, %d names that do not exist" % (len(docs), len(bad)))
sys.exit(1 if bad else 0)
