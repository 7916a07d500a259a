#!/usr/bin/env python3
"""Check a libwire timeline (wire_trace_start()) and print what it shows.

Usage: trace_check.py FILE

Fails (exit 1, a message on stderr) unless FILE is strict JSON in the
form wire_debug.h promises: {"traceEvents": [...], "displayTimeUnit":
"ns"}, every event of this process, each run of a wire a complete event
("ph": "X") followed on its thread by the instant event ("ph": "i",
"s": "t") that says why it stopped, at the slice's end; runs of a thread
in order, none overlapping; every thread named by a metadata event
"libwire thread TID" that says how many events were dropped.

Prints, for the test to compare exactly:
  thread TID dropped N           one line per thread, in file order
  runs TID: NAME>WHY, ...        its runs in order; WHY is the instant's
                                 name, then " obj=ADDRESS" if it names an
                                 object and " fd=N" if it names an fd
  events N                       slices and instants in the file
  dropped N                      otherData's total
"""
import json
import sys


def fail(msg):
    sys.stderr.write("trace_check: %s\n" % msg)
    sys.exit(1)


def reject_constant(name):
    fail("not strict JSON: %s" % name)


path = sys.argv[1]
try:
    with open(path, "rb") as f:
        raw = f.read()
    doc = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
except (OSError, ValueError) as e:
    fail("%s: %s" % (path, e))

if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
    fail("no traceEvents list")
if doc.get("displayTimeUnit") != "ns":
    fail("displayTimeUnit is not \"ns\"")
events = doc["traceEvents"]
pids = {e.get("pid") for e in events}
if len(pids) != 1 or not isinstance(next(iter(pids)), int):
    fail("events of more than one process, or a pid not a number: %r" % pids)


def number(e, key):
    v = e.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
        fail("event %r: %s is not a number >= 0" % (e, key))
    return v


def show(s):
    """@s with what is not printable ASCII as \\uXXXX."""
    return "".join(c if " " <= c <= "~" else "\\u%04x" % ord(c) for c in s)


threads = []  # tids in the order their name appears
names = {}
dropped = {}
runs = {}  # tid -> [(name, why)]
last = {}  # tid -> the open slice, or the end of the last run
count = 0
for e in events:
    ph, tid, name = e.get("ph"), e.get("tid"), e.get("name")
    if not isinstance(tid, int) or not isinstance(name, str):
        fail("event without an integer tid and a name: %r" % e)
    if ph == "M":
        if name == "thread_name":
            if tid in names:
                fail("thread %d named twice" % tid)
            names[tid] = e["args"]["name"]
            d = e["args"].get("dropped_events")
            if not isinstance(d, int) or d < 0 or d % 2:
                fail("thread %d: dropped_events %r" % (tid, d))
            dropped[tid] = d
            threads.append(tid)
        elif name != "process_name":
            fail("unknown metadata event %r" % e)
        continue
    count += 1
    if e.get("cat") != "wire" or not isinstance(e.get("args", {}).get("wire"), str) \
            or not e["args"]["wire"].startswith("0x"):
        fail("event without cat wire and args.wire: %r" % e)
    ts = number(e, "ts")
    prev = last.get(tid)
    if ph == "X":
        dur = number(e, "dur")
        if isinstance(prev, dict):
            fail("thread %d: slice %r before the instant ending %r" % (tid, e, prev))
        if prev is not None and ts < prev:
            fail("thread %d: slice %r starts before the last run ended (%s)" % (tid, e, prev))
        last[tid] = e
    elif ph == "i":
        if e.get("s") != "t":
            fail("instant not of thread scope: %r" % e)
        if not isinstance(prev, dict):
            fail("thread %d: instant %r without its slice" % (tid, e))
        end = prev["ts"] + prev["dur"]
        if abs(ts - end) > 0.0015:
            fail("thread %d: instant %r not at the end of %r" % (tid, e, prev))
        if e["args"]["wire"] != prev["args"]["wire"] or e["args"].get("wire_name") != prev["name"]:
            fail("thread %d: instant %r of another wire than %r" % (tid, e, prev))
        why = name
        if "object" in e["args"]:
            why += " obj=%s" % e["args"]["object"]
        if "fd" in e["args"]:
            why += " fd=%d" % e["args"]["fd"]
        runs.setdefault(tid, []).append("%s>%s" % (show(prev["name"]), show(why)))
        last[tid] = ts
    else:
        fail("unknown phase %r" % e)
for tid, prev in last.items():
    if isinstance(prev, dict):
        fail("thread %d: slice %r without its instant" % (tid, prev))
    if tid not in names:
        fail("thread %d has events but no name" % tid)
for tid in threads:
    if names[tid] != "libwire thread %d" % tid:
        fail("thread %d is named %r" % (tid, names[tid]))
total = doc.get("otherData", {}).get("dropped_events")
if total != sum(dropped.values()):
    fail("otherData.dropped_events %r is not the threads' sum" % total)

for tid in threads:
    print("thread %d dropped %d" % (tid, dropped[tid]))
for tid in threads:
    print("runs %d: %s" % (tid, ", ".join(runs.get(tid, []))))
print("events %d" % count)
print("dropped %d" % total)
