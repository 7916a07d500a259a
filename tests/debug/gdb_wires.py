#!/usr/bin/env python3
"""Check of the gdb commands of tools/gdb/libwire-gdb.py (gdb_wires.sh).

Runs tests/debug/debug_target (a wire blocked in each way) under gdb to
its debug_target_stop(), where every wire is in place, and checks there
and then on a core file written at that point:

  info wires   against the program's "expect" lines, field by field, and
               against its own wire_thread_dump() listing, line by line
               (the times apart: numbers >= 0 with 3 decimals);
  wire bt      of a suspended wire by name (chan-recv) and of another by
               address (sleeper): their frames down to wire_coro_trampoline,
               without an unwinder error; of the running wire and of an
               unknown name: an error.

Usage: gdb_wires.py PROGRAM SCRIPT
Exit 0 (pass), 1 (fail) or 77 (skip: no gdb, no Python in gdb, ptrace
not permitted). WIRE_TEST_TIME_SCALE stretches the time allowed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SKIP = 77

# Run inside gdb (written to a file, loaded with -x): drives the session
# and marks each command's output, errors included, on stdout.
DRIVER = r'''
import os, re
import gdb

def step(tag, cmd):
    gdb.write("@@begin %s\n" % tag)
    try:
        gdb.write(gdb.execute(cmd, to_string=True))
    except gdb.error as e:
        gdb.write("@@error %s\n" % e)
    gdb.write("@@end %s\n" % tag)
    gdb.flush()

mode = os.environ["GW_MODE"]
if not gdb.selected_inferior().threads():
    gdb.write("@@norun\n")
else:
    out = open(os.environ["GW_OUT"]).read()
    addr = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) > 3 and w[0] == "expect":
            addr[w[2]] = w[1]
    if mode == "core":
        # The scheduler's thread (the program's own listing says which).
        tid = int(re.search(r"^libwire: thread (\d+):", out, re.M).group(1))
        for th in gdb.selected_inferior().threads():
            if th.ptid[1] == tid:
                th.switch()
    step("info", "info wires")
    step("bt-chan-recv", "wire bt chan-recv")
    step("bt-sleeper", "wire bt %s" % addr.get("sleeper", "sleeper"))
    step("bt-dumper", "wire bt dumper")
    step("bt-nosuch", "wire bt nosuch")
    if mode == "live":
        sanitized = False
        for sym in ("__asan_init", "__tsan_init"):
            try:
                gdb.parse_and_eval("&" + sym)
                sanitized = True
            except gdb.error:
                pass
        if sanitized:
            # gdb writes the sanitizer's shadow memory (terabytes mapped)
            # into the core: tens of GB, minutes.
            gdb.write("@@nocore\n")
        else:
            step("gcore", "generate-core-file %s" % os.environ["GW_CORE"])
        gdb.execute("kill")
'''


def fail(msg):
    print("FAIL: %s" % msg)
    sys.exit(1)


def run_gdb(args, env, timeout):
    """gdb's output (stdout and stderr); bounded by @timeout seconds."""
    p = subprocess.Popen(["gdb", "-nx", "-batch"] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        print(out.decode("utf-8", "replace"))
        fail("gdb did not finish in %d s" % timeout)
    return out.decode("utf-8", "replace")


def sections(out):
    """{tag: lines} of the steps of the driver."""
    res = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"^@@(begin|end) (\S+)$", line)
        if m:
            cur = m.group(2) if m.group(1) == "begin" else None
            if cur:
                res[cur] = []
        elif cur:
            res[cur].append(line)
    return res


def parse_program(out):
    """The expect lines (dicts) and the program's own listing (lines)."""
    expects = []
    listing = []
    in_listing = False
    for line in out.splitlines():
        if line == "listing":
            in_listing = True
        elif in_listing:
            if line.startswith("libwire: thread ") or line.startswith("  0x"):
                listing.append(line)
        elif line.startswith("expect "):
            w = line.split()
            expects.append({"addr": w[1], "name": w[2], "state": w[3],
                            "what": " ".join(w[4:-3]), "obj": w[-3], "fd": int(w[-2]),
                            "deadline": w[-1] == "1"})
    return expects, listing


TIME = r"(\d+\.\d{3})"
LINE = re.compile(r'^  (0x[0-9a-f]+) "([^"]*)" (running|ready|suspended)(?:: (.*))?$')


def without_times(line):
    return re.sub(r", %s s left" % TIME, ", T s left",
                  re.sub(r", for %s s$" % TIME, ", for D s", line))


def check_line(line, e):
    """Check the gdb listing line of one wire against its expect line."""
    m = LINE.match(line)
    if not m:
        fail("not a listing line: %r" % line)
    addr, name, state, rest = m.groups()
    if (addr, name, state) != (e["addr"], e["name"], e["state"]):
        fail("%r: expected %s %s %s" % (line, e["addr"], e["name"], e["state"]))
    if state != "suspended":
        if rest is not None:
            fail("%r: a %s wire shows what it waits on" % (line, state))
        return
    if rest is None:
        fail("%r: a suspended wire without what it waits on" % line)
    m = re.match(r"^(.*), for %s s$" % TIME, rest)
    if not m:
        fail("%r: no 'for D s' (D >= 0, 3 decimals)" % line)
    rest = m.group(1)
    m = re.match(r"^(.*), %s s left$" % TIME, rest)
    if bool(m) != e["deadline"]:
        fail("%r: 's left' %s, expected %s" % (line, "shown" if m else "missing",
                                               "shown" if e["deadline"] else "none"))
    if m:
        rest = m.group(1)
    m = re.match(r"^(.*) \(fd (\d+)\)$", rest)
    fd = int(m.group(2)) if m else -1
    if m:
        rest = m.group(1)
    if fd != e["fd"]:
        fail("%r: fd %d, expected %d" % (line, fd, e["fd"]))
    m = re.match(r"^(.*) (0x[0-9a-f]+)$", rest)
    obj = m.group(2) if m else None
    if m:
        rest = m.group(1)
    if e["obj"] == "*":
        if obj is None:
            fail("%r: no object" % line)
    elif e["obj"] in ("(nil)", "0x0"):
        if obj is not None:
            fail("%r: an object, expected none" % line)
    elif obj != e["obj"]:
        fail("%r: object %s, expected %s" % (line, obj, e["obj"]))
    if rest != e["what"]:
        fail("%r: waits on %r, expected %r" % (line, rest, e["what"]))


def check_listing(lines, expects, listing, core):
    if core:
        if not lines or not lines[0].startswith("libwire: a core file"):
            fail("no note that the times of a core file end at the scheduler's last look")
        lines = lines[1:]
    if not lines or lines[0] != listing[0]:
        fail("header %r, the program wrote %r" % (lines[:1], listing[:1]))
    wires = lines[1:]
    if len(wires) != len(expects):
        fail("%d wires listed, expected %d" % (len(wires), len(expects)))
    for line, e in zip(wires, expects):
        check_line(line, e)
    for line, own in zip(wires, listing[1:]):
        if without_times(line) != without_times(own):
            fail("listed %r, the program's own listing has %r" % (line, own))


def check_bt(tag, lines, must):
    text = "\n".join(lines)
    if any(line.startswith("@@error") for line in lines):
        fail("%s: %s" % (tag, text))
    frames = [line for line in lines if re.match(r"^#\d+ ", line)]
    if not frames:
        fail("%s: no frames:\n%s" % (tag, text))
    levels = [int(f[1:].split()[0]) for f in frames]
    if levels != list(range(len(levels))):
        fail("%s: frames numbered %s" % (tag, levels))
    for name in must:
        if not re.search(r"\b%s\b" % name, text):
            fail("%s: %s missing:\n%s" % (tag, name, text))
    if "wire_coro_trampoline" not in frames[-1]:
        fail("%s: does not end at wire_coro_trampoline:\n%s" % (tag, text))
    if " main (" in text:
        fail("%s: leaks into the scheduler's stack:\n%s" % (tag, text))


def check_session(out, expects, listing, core):
    what = "core file" if core else "live process"
    bad = re.search(r"corrupt stack|Backtrace stopped|previous frame (identical|inner)|"
                    r"Python Exception|Traceback|Error occurred in Python", out)
    if bad:
        fail("%s: gdb said %r" % (what, bad.group(0)))
    sec = sections(out)
    for tag in ("info", "bt-chan-recv", "bt-sleeper", "bt-dumper", "bt-nosuch"):
        if tag not in sec:
            fail("%s: no output of step %s" % (what, tag))
    info = sec["info"]
    if any(line.startswith("@@error") for line in info):
        fail("%s: info wires: %s" % (what, "\n".join(info)))
    check_listing(info, expects, listing, core)
    check_bt("wire bt chan-recv", sec["bt-chan-recv"],
             ["wire_channel_recv_block", "recv_forever", "wire_coro_jump"])
    check_bt("wire bt <address of sleeper>", sec["bt-sleeper"],
             ["wire_sleep_ns", "hold_lock_and_sleep", "wire_coro_jump"])
    err = "\n".join(sec["bt-dumper"])
    if not err.startswith("@@error") or "is running" not in err:
        fail("wire bt dumper (running): %r" % err)
    err = "\n".join(sec["bt-nosuch"])
    if not err.startswith("@@error") or "no wire is named" not in err:
        fail("wire bt nosuch: %r" % err)
    print("%s: info wires matches (%d wires), wire bt unwinds to wire_coro_trampoline"
          % (what, len(expects)))


def main():
    prog, script = sys.argv[1], sys.argv[2]
    if shutil.which("gdb") is None:
        print("SKIP: gdb not installed")
        return SKIP
    try:
        scale = max(1, int(os.environ.get("WIRE_TEST_TIME_SCALE", "1")))
    except ValueError:
        scale = 1
    timeout = 25 * scale
    tmp = tempfile.mkdtemp(prefix="gdb_wires.")
    try:
        env = dict(os.environ)
        # LeakSanitizer cannot run under ptrace; the rest of ASan can.
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        env["GW_OUT"] = os.path.join(tmp, "program.out")
        env["GW_CORE"] = os.path.join(tmp, "core")
        driver = os.path.join(tmp, "driver.py")
        with open(driver, "w") as f:
            f.write(DRIVER)
        common = ["-ex", "set debuginfod enabled off", "-ex", "set pagination off",
                  "-ex", "set confirm off", "-ex", "set width 0", "-ex", "source " + script]

        env["GW_MODE"] = "live"
        out = run_gdb(common + ["-ex", "break debug_target_stop",
                                "-ex", "run > %s" % env["GW_OUT"], "-x", driver, prog],
                      env, timeout)
        print(out)
        if "Python scripting is not supported" in out:
            print("SKIP: this gdb has no Python")
            return SKIP
        if re.search(r"ptrace.*Operation not permitted|Could not trace the inferior "
                     r"process|not permitted to trace", out):
            print("SKIP: ptrace not permitted")
            return SKIP
        if "@@norun" in out:
            fail("the program did not start under gdb")
        with open(env["GW_OUT"]) as f:
            prog_out = f.read()
        expects, listing = parse_program(prog_out)
        if len(expects) < 10 or not listing:
            fail("the program wrote no expect lines or no listing:\n" + prog_out)
        check_session(out, expects, listing, core=False)

        if "@@nocore" in out:
            print("SKIP (core file part only): gdb writes the sanitizer's terabytes of "
                  "shadow memory into a core; the live part passed")
            return 0
        if not os.path.exists(env["GW_CORE"]):
            fail("gdb wrote no core file")
        env["GW_MODE"] = "core"
        out = run_gdb(common + ["-x", driver, prog, env["GW_CORE"]], env, timeout)
        print(out)
        check_session(out, expects, listing, core=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
