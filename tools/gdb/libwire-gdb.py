# libwire-gdb.py - gdb commands for the wires of libwire.
#
#   info wires [all]          the wires of the selected thread's scheduler
#                             (all: of every scheduler thread), in the format
#                             of wire_thread_dump() (include/wire_debug.h)
#   wire bt NAME|ADDRESS      the backtrace of a wire that is not running
#
# gdb loads this file by itself for a program linked with the installed
# shared library (it is installed as <auto-load dir>/<libwire.so path>-gdb.py);
# with the static library, `source <datadir>/libwire/gdb/libwire-gdb.py`.
# Works on a live process and on a core file; needs the debug info of
# libwire. Loading it twice replaces the commands. See docs/debugging.md.
#
# Where the data is: wire__debug_threads lists one struct wire_reg per
# thread that called wire_thread_init() (src/wire_debug_internal.h), with
# the thread's id and its wire_thread_t; a scheduler lists its wires in
# wire_thread_t.wires. A wire that is not running is switched out: its
# registers are in the frame wire_coro_jump pushed on its stack
# (src/coro_x86_64.S, src/coro_aarch64.S), at wire_t.coro.sp. `wire bt`
# has an unwinder of this file give gdb those registers as the caller of
# the thread's innermost frame, lets gdb's own unwinding do the rest, and
# shows the frames from there on. No register of the process is changed,
# so the same works on a core file.

import re
import time

import gdb

try:
    import gdb.unwinder as _gdb_unwinder
except ImportError:  # a gdb without Python unwinders (before 7.10)
    _gdb_unwinder = None

_STATE_NAMES = ("done", "ready", "running", "suspended")
_WIRE_RUNNING = 2
_WIRE_SUSPENDED = 3
_INT64_MAX = (1 << 63) - 1
_LIST_LIMIT = 10000000  # nodes walked before a list is called corrupt


class _Error(gdb.GdbError):
    pass


# --------------------------------------------------------------------------
# Reading the scheduler's data.


def _type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        raise _Error(
            "libwire: the debug info of libwire is needed (type %s is unknown): "
            "install libwire's debug symbols, or build it with -g" % name
        )


class _Types(object):
    def __init__(self):
        self.head = _registry_head()
        self.reg = _type("struct wire_reg")
        self.wire = _type("wire_t")
        self.thread = _type("wire_thread_t")
        self.list = _type("wire_list_t")
        self.wire_link = _offset(self.wire, "link")
        self.reg_link = _offset(self.reg, "link")


def _offset(struct_type, field):
    for f in struct_type.strip_typedefs().fields():
        if f.name == field:
            return f.bitpos // 8
    raise _Error("libwire: %s has no field %s: this script does not match the library"
                 % (struct_type, field))


def _ptr(addr, typ):
    return gdb.Value(addr).cast(typ.pointer()).dereference()


def _registry_head():
    try:
        return int(gdb.parse_and_eval("&wire__debug_threads"))
    except gdb.error as e:
        if "No symbol" not in str(e):
            raise _Error("libwire: %s" % e)
        raise _Error(
            "libwire: no symbol wire__debug_threads: is libwire in this program "
            "(and a version with the registry of scheduler threads)?"
        )


def _walk(head, link_offset, types):
    """Addresses of the containers of the nodes of the list at @head."""
    n = int(_ptr(head, types.list)["next"])
    count = 0
    while n != head:
        if n == 0:
            raise _Error("libwire: a NULL link in the list at 0x%x" % head)
        yield n - link_offset
        count += 1
        if count > _LIST_LIMIT:
            raise _Error("libwire: the list at 0x%x does not end" % head)
        n = int(_ptr(n, types.list)["next"])


def _schedulers(types):
    """(tid, wire_thread_t address) of each thread with a scheduler."""
    out = []
    for reg in _walk(types.head, types.reg_link, types):
        r = _ptr(reg, types.reg)
        out.append((int(r["tid"]), int(r["t"])))
    return out


def _selected_lwp():
    th = gdb.selected_thread()
    if th is None:
        raise _Error("libwire: no thread: run the program, attach to it or load a core file")
    return th.ptid[1] or th.ptid[0]


def _scheduler_of_selected(types):
    lwp = _selected_lwp()
    scheds = _schedulers(types)
    for tid, t in scheds:
        if tid == lwp:
            return tid, t
    if scheds:
        others = ", ".join("LWP %d" % tid for tid, _ in scheds)
        raise _Error("libwire: thread LWP %d has no scheduler; the threads with one: %s "
                     "(select one with `thread`, or use `info wires all`)" % (lwp, others))
    raise _Error("libwire: no thread has called wire_thread_init() yet")


def _wires(types, t):
    th = _ptr(t, types.thread)
    head = t + _offset(types.thread, "wires")
    return th, list(_walk(head, types.wire_link, types))


def _read_bytes(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def _name(types, w):
    """The wire's name as wire_thread_dump() writes it."""
    addr = int(_ptr(w, types.wire)["name"].address)
    raw = _read_bytes(addr, 32)
    raw = raw.split(b"\0", 1)[0][:31]
    out = bytearray()
    for c in raw:
        out.append(ord("?") if (c < 0x20 or c == 0x22 or c == 0x7F) else c)
    return out.decode("utf-8", "replace")


def _c_string(ptr, limit=256):
    """The NUL-terminated string at @ptr (None for NULL), read in aligned
    pieces so that a string at the end of a mapping reads too."""
    if ptr == 0:
        return None
    data = b""
    addr = ptr
    while len(data) < limit:
        piece = 64 - addr % 64
        try:
            chunk = _read_bytes(addr, piece)
        except gdb.error:
            if not data:
                return "?"
            break
        data += chunk
        if b"\0" in chunk:
            break
        addr += piece
    return data.split(b"\0", 1)[0][:limit].decode("utf-8", "replace")


# --------------------------------------------------------------------------
# The clock: a live process on this machine reads the same CLOCK_MONOTONIC;
# a core file (or a remote target) has only the scheduler's last reading.


def _target_kind():
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None and getattr(conn, "type", None):
        return conn.type  # "native", "core", "remote", "extended-remote"...
    if inf.pid == 0:
        return "none"
    try:
        if "core file" in gdb.execute("info target", to_string=True).lower():
            return "core"
    except gdb.error:
        pass
    return "native"


def _now(th):
    """(now in ns, note or None) for the listing of scheduler @th."""
    kind = _target_kind()
    if kind == "native" and hasattr(time, "clock_gettime"):
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC), None
    what = "a core file" if kind == "core" else "a %s target" % kind
    return int(th["now"]), (
        "libwire: %s: times are measured up to the scheduler's last clock reading "
        "(wire_thread_t.now), not to when the process stopped" % what)


def _secs(ns):
    return 0.0 if ns < 0 else ns / 1e9


# --------------------------------------------------------------------------
# The listing.


def _state(w):
    s = int(w["state"])
    return s, (_STATE_NAMES[s] if 0 <= s < len(_STATE_NAMES) else "?")


def _format(types, waddr, now):
    w = _ptr(waddr, types.wire)
    state, sname = _state(w)
    line = '  0x%x "%s" %s' % (waddr, _name(types, waddr), sname)
    if state == _WIRE_SUSPENDED:
        b = w["blocked"]
        what = _c_string(int(b["what"]))
        line += ": %s" % (what if what is not None else "?")
        obj = int(b["obj"])
        if obj:
            line += " 0x%x" % obj
        fd = int(b["fd"])
        if fd >= 0:
            line += " (fd %d)" % fd
        deadline = int(b["deadline"])
        if deadline and deadline != _INT64_MAX:
            line += ", %.3f s left" % _secs(deadline - now)
        line += ", for %.3f s" % _secs(now - int(b["since"]))
    return line


def _listing(types, tid, t):
    th, wires = _wires(types, t)
    now, note = _now(th)
    count = [0, 0, 0, 0]
    for waddr in wires:
        s = int(_ptr(waddr, types.wire)["state"])
        if 0 <= s < 4:
            count[s] += 1
    lines = []
    lines.append("libwire: thread %d: %d wires: %d running, %d ready, %d suspended"
                 % (tid, count[1] + count[2] + count[3], count[2], count[1],
                    count[3]))
    for waddr in wires:
        lines.append(_format(types, waddr, now))
    return note, lines


class _InfoWires(gdb.Command):
    """List the wires of the selected thread's scheduler (libwire).

Usage: info wires [all]
One line per wire not ended, as wire_thread_dump() writes them:
  ADDRESS "NAME" STATE[: WHAT[ OBJECT][ (fd FD)][, T s left], for D s]
With "all", the wires of every thread that has a scheduler.
On a core file, times are measured up to the scheduler's last clock reading."""

    def __init__(self):
        super(_InfoWires, self).__init__("info wires", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if arg not in ("", "all"):
            raise gdb.GdbError("usage: info wires [all]")
        types = _Types()
        if arg == "all":
            scheds = _schedulers(types)
            if not scheds:
                raise _Error("libwire: no thread has called wire_thread_init() yet")
        else:
            scheds = [_scheduler_of_selected(types)]
        noted = False
        for tid, t in scheds:
            try:
                note, lines = _listing(types, tid, t)
            except gdb.MemoryError as e:
                raise _Error("libwire: cannot read the scheduler of thread %d at 0x%x: %s"
                             % (tid, t, e))
            if note and not noted:
                lines.insert(0, note)
                noted = True
            gdb.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Backtraces of switched-out wires.
#
# While `wire bt` runs, the unwinder below takes the thread's innermost
# frame (the first that is not an inlined call) and says that its caller's
# registers are the wire's: the pc and stack pointer where the wire resumes
# and the callee-saved registers wire_coro_jump saved. gdb unwinds on from
# there with the debug info, and the command shows the frames above that
# first one, renumbered from 0. Nothing of the process changes, so it
# works on a core file as well as on a live process.


def _arch_name():
    try:
        return gdb.selected_frame().architecture().name()
    except gdb.error:
        return gdb.selected_inferior().architecture().name()


def _symbol_address(name):
    try:
        return int(gdb.parse_and_eval("&%s" % name))
    except gdb.error:
        return None


def _read_words(addr, n):
    data = _read_bytes(addr, 8 * n)
    return [int.from_bytes(data[8 * i:8 * i + 8], "little") for i in range(n)]


class _X86_64(object):
    """The frame of src/coro_x86_64.S: r15 r14 r13 r12 rbx rbp, resume address."""

    sp_reg = "rsp"
    pc_reg = "rip"

    def resume(self, sp):
        """The registers as the wire resumes (pc: the resume address)."""
        r15, r14, r13, r12, rbx, rbp, pc = _read_words(sp, 7)
        return {"r15": r15, "r14": r14, "r13": r13, "r12": r12, "rbx": rbx, "rbp": rbp,
                "rip": pc, "rsp": sp + 56}

    def in_switch(self, sp, jump):
        """The registers in wire_coro_jump as it stored @sp, with the pc a
        return address there (the instruction after that store)."""
        regs = self.resume(sp)
        regs["rsp"] = sp
        regs["rip"] = self.after_store(jump)
        return regs

    @staticmethod
    def after_store(jump):
        """The instruction after `mov %rsp,(%rdi)`, which follows the pushes."""
        insns = _insns(jump, 10)
        pushes = [k for k, i in enumerate(insns) if i["asm"].startswith("push")]
        if len(pushes) == 6 and pushes[-1] + 2 < len(insns):
            return insns[pushes[-1] + 2]["addr"]
        return jump + 13  # 55 53 41 54 41 55 41 56 41 57, 48 89 27

    def redirected(self, regs, sp, stub):
        """If coro_redirect() made the wire call a function as it resumes,
        its address; @regs then become those at the original resume point."""
        # The function sits where the resume address was, and the resume
        # address is its return address, one word up.
        pc = regs["rip"]
        if not _at_function_start(pc):
            return None
        regs["rip"] = _read_words(sp + 56, 1)[0]
        regs["rsp"] = sp + 64
        return pc


class _Aarch64(object):
    """The frame of src/coro_aarch64.S: x19..x28, x29, x30, d8..d15 (160 bytes)."""

    sp_reg = "sp"
    pc_reg = "pc"

    def resume(self, sp):
        w = _read_words(sp, 12)
        regs = dict(("x%d" % (19 + i), w[i]) for i in range(10))
        regs.update({"x29": w[10], "x30": w[11], "pc": w[11], "sp": sp + 160})
        return regs

    def in_switch(self, sp, jump):
        regs = self.resume(sp)
        regs["sp"] = sp
        regs["pc"] = self.after_store(jump)
        return regs

    @staticmethod
    def after_store(jump):
        """The instruction after `mov x2, sp`, which follows the stores."""
        insns = _insns(jump, 16)
        for k, i in enumerate(insns[:-1]):
            if i["asm"].split() == ["mov", "x2,", "sp"]:
                return insns[k + 1]["addr"]
        return jump + 48  # sub, 6 stp x, 4 stp d, mov

    def redirected(self, regs, sp, stub):
        # x30 is wire_coro_redirect_stub, which pops the resume address and
        # the function from above the frame.
        if stub is None or regs["pc"] != stub:
            return None
        resume, fn = _read_words(sp + 160, 2)
        regs["x30"] = regs["pc"] = resume
        regs["sp"] = sp + 176
        return fn


def _insns(addr, count):
    try:
        return gdb.selected_inferior().architecture().disassemble(addr, count=count)
    except (gdb.error, AttributeError):
        return []


def _arch():
    name = _arch_name()
    if "x86-64" in name or "x86_64" in name:
        return _X86_64()
    if "aarch64" in name:
        return _Aarch64()
    raise _Error("libwire: `wire bt` knows the switch frames of x86-64 and aarch64, not of %s"
                 % name)


# What `wire bt` shows: the unwinder answers only while it is set.
_active = None


class _WireUnwinder(_gdb_unwinder.Unwinder if _gdb_unwinder else object):
    """Gives the thread's innermost frame the wire's registers as its caller's."""

    def __init__(self):
        super(_WireUnwinder, self).__init__("libwire")

    def __call__(self, pending_frame):
        act = _active
        if act is None or pending_frame.level() != act["level"]:
            return None
        # This frame's id: where the wire's stack is, so that gdb sees its
        # frames as outer to this one, as they are to each other.
        fid = _FrameId(act["regs"][act["sp_reg"]] - 16,
                       int(pending_frame.read_register(act["pc_reg"])))
        info = pending_frame.create_unwind_info(fid)
        for reg, val in act["regs"].items():
            typ = pending_frame.read_register(reg).type
            info.add_saved_register(reg, gdb.Value(val).cast(typ))
        return info


class _FrameId(object):
    def __init__(self, sp, pc):
        self.sp = gdb.Value(sp)
        self.pc = gdb.Value(pc)


def _find_wire(types, arg):
    """The wire named or at @arg: (address, tid of its scheduler)."""
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        arg = arg[1:-1]
    lwp = _selected_lwp()
    scheds = _schedulers(types)
    # The selected thread's scheduler first, then the others.
    scheds.sort(key=lambda s: s[0] != lwp)
    every = []
    for tid, t in scheds:
        _, wires = _wires(types, t)
        every.append((tid, wires))
    for tid, wires in every:
        named = [w for w in wires if _name(types, w) == arg]
        if len(named) == 1:
            return named[0], tid
        if len(named) > 1:
            raise _Error("libwire: %d wires are named \"%s\" (%s): give the address"
                         % (len(named), arg, ", ".join("0x%x" % w for w in named)))
    try:
        val = gdb.parse_and_eval(arg)
        if val.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
            val = val.address  # a wire_t itself
        addr = int(val)
    except (gdb.error, ValueError, TypeError):
        addr = None
    if addr is not None:
        for tid, wires in every:
            if addr in wires:
                return addr, tid
        raise _Error("libwire: 0x%x is not a wire of any scheduler (wires that ended are "
                     "not listed)" % addr)
    raise _Error("libwire: no wire is named \"%s\" (see `info wires`)" % arg)


def _function(addr):
    """(name, entry address) of the function that holds @addr, from the
    debug info, else from the ELF symbol table (an entry of the PLT stands
    for the function it calls); (None, None) when nothing is known."""
    try:
        block = gdb.block_for_pc(addr)
    except (gdb.error, RuntimeError):
        block = None
    fn = None
    # The outermost function: the ones inside are inlined into it.
    while block is not None and not (block.is_global or block.is_static):
        if block.function is not None:
            fn = block.function
        block = block.superblock
    if fn is not None:
        try:
            return fn.name, int(fn.value().address)
        except gdb.error:
            pass
    try:
        desc = gdb.execute("info symbol 0x%x" % addr, to_string=True)
    except gdb.error:
        return None, None
    m = re.match(r"^(\S+)(?: \+ (\d+))? in section ", desc)
    if not m:
        return None, None
    name = m.group(1)
    if name.endswith("@plt"):
        name = name[:-4]
        try:
            sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
            if sym is not None and sym.type.code == gdb.TYPE_CODE_FUNC:
                return name, int(sym.value().address)
        except gdb.error:
            pass
        return name, None
    return name, addr - int(m.group(2) or 0)


def _describe_pc(pc):
    name, start = _function(pc)
    if name is None:
        return "0x%x" % pc
    return name if start == pc else "%s+%d" % (name, pc - start) if start else name


def _at_function_start(pc):
    return _function(pc)[1] == pc


def _call_before(pc):
    """The target of the call instruction that returns to @pc: an address,
    "indirect", or None when there is no call right before @pc."""
    for size in (5, 4, 2, 3, 6, 7):  # x86-64 call rel32 first, aarch64 bl/blr
        insns = _insns(pc - size, 1)
        if not insns or insns[0]["length"] != size:
            continue
        words = insns[0]["asm"].split()
        if not words or words[0] not in ("call", "callq", "bl", "blr"):
            continue
        if len(words) > 1 and words[1].startswith("0x"):
            try:
                return int(words[1].rstrip(","), 16)
            except ValueError:
                return None
        return "indirect"
    return None


def _tail_notes(w, skip, first_callee):
    """{level: name} for the frames above level @skip whose call left no
    frame: the function called (name) ended with a jump (a tail call)
    that led to the frame below. The call is read from the instruction
    before the frame's return address; the frame below is the first that
    is not an inlined call of the caller, nor one of gdb's own tail-call
    frames. @first_callee: the function below the first frame."""
    notes = {}
    frames = []
    f = gdb.newest_frame()
    while f is not None and len(frames) < 4096:
        if f.level() > skip:
            frames.append(f)
        f = f.older()
    below = (first_callee, _symbol_address(first_callee)) if first_callee else None
    group_start = None
    for f in frames:
        if group_start is None:
            group_start = f.level()
        if f.type() == gdb.INLINE_FRAME:
            continue
        pc = f.pc()
        # Where the frame's code is: pc for the first frame (in the switch),
        # else a return address, just after the call.
        here = pc if f.level() == skip + 1 and first_callee is None else pc - 1
        if f.type() == gdb.NORMAL_FRAME and below is not None:
            target = _call_before(pc)
            if target == "indirect":
                # wire_main calls the wire's entry through a pointer.
                target = int(w["entry"]) if _function(here)[0] == "wire_main" else None
            if target is not None:
                name, start = _function(target)
                # A call right to a function (else the decoding misled).
                if name is not None and (start is None or start == target or
                                         _function(start)[1] == start):
                    same = (start == below[1]) if start is not None else (name == below[0])
                    if not same:
                        notes[group_start - skip - 1] = name
        sym = f.function() if f.type() == gdb.NORMAL_FRAME else None
        below = _function(here)
        if sym is not None:
            try:
                below = (sym.name, int(sym.value().address))
            except gdb.error:
                pass
        group_start = None
    return notes


def _insert_notes(lines, notes):
    out = []
    for line in lines:
        if line.startswith("#"):
            num = line[1:].split(" ", 1)[0]
            if num.isdigit() and int(num) in notes:
                out.append("    (#%s called %s, whose frame is gone: it ended with a jump, "
                           "a tail call, that led to %s)"
                           % (num, notes[int(num)],
                              "the switch" if num == "0" else "the frame above"))
        out.append(line)
    return out


def _innermost_level():
    """The level of the thread's innermost frame that is not an inlined call."""
    frame = gdb.newest_frame()
    while frame is not None and frame.type() == gdb.INLINE_FRAME:
        frame = frame.older()
    if frame is None:
        raise _Error("libwire: the thread has no frame to start from")
    return frame.level()


def _renumber(text, skip):
    """The lines of `bt` output @text for the frames above level @skip,
    renumbered from 0 (frame lines start with #LEVEL; others follow them)."""
    out = []
    keep = False
    for line in text.splitlines():
        if line.startswith("#"):
            num = line[1:].split(" ", 1)[0]
            if num.isdigit():
                level = int(num)
                keep = level > skip
                if keep:
                    rest = line[1 + len(num):].lstrip(" ")
                    line = "#%-2d %s" % (level - skip - 1, rest)
        if keep or not line.startswith("#") and out:
            out.append(line)
    return out


class _WirePrefix(gdb.Command):
    """Commands for the wires of libwire: wire bt."""

    def __init__(self):
        super(_WirePrefix, self).__init__("wire", gdb.COMMAND_STACK, prefix=True)

    def invoke(self, arg, from_tty):
        gdb.execute("help wire", from_tty)


class _WireBt(gdb.Command):
    """Backtrace of a wire that is not running (libwire).

Usage: wire bt [-full] [-N] NAME|ADDRESS
Shows the frames of the wire named NAME (as `info wires` lists it), or of
the wire_t at ADDRESS, from where it switched out down to the start of its
stack, as `bt` shows the frames of a thread: -full adds the local
variables, -N shows only the N innermost frames. A running wire's frames
are those of its thread: use `bt` there. Works on a core file too."""

    def __init__(self):
        super(_WireBt, self).__init__("wire bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        global _active
        opts, limit = [], None
        words = arg.split()
        while words and words[0].startswith("-") and len(words) > 1:
            w = words.pop(0)
            if w[1:].isdigit():
                limit = max(1, int(w[1:]))
            elif w in ("-full", "full"):
                opts.append("-full")
            else:
                raise gdb.GdbError("wire bt: unknown option %s" % w)
        arg = " ".join(words)
        if not arg:
            raise gdb.GdbError("usage: wire bt [-full] [-N] NAME|ADDRESS")
        if _gdb_unwinder is None:
            raise _Error("libwire: `wire bt` needs a gdb with Python unwinders (7.10 or later)")
        types = _Types()
        waddr, tid = _find_wire(types, arg)
        w = _ptr(waddr, types.wire)
        state, sname = _state(w)
        head = '0x%x "%s"' % (waddr, _name(types, waddr))
        th = _ptr(int(w["thread"]), types.thread)
        if state == _WIRE_RUNNING:
            raise _Error("libwire: wire %s is running: its frames are those of thread LWP %d "
                         "(`bt` there)" % (head, tid))
        if int(th["current"]) == waddr:
            # Stopped on its way out (it has set its state, not yet switched).
            raise _Error("libwire: wire %s is %s but still the current wire of its scheduler, "
                         "switching out: its frames are those of thread LWP %d (`bt` there)"
                         % (head, sname, tid))
        if state not in (1, 3):
            raise _Error("libwire: wire %s is %s: it has no frames" % (head, sname))
        jump = _symbol_address("wire_coro_jump")
        if jump is None:
            raise _Error("libwire: no symbol wire_coro_jump: the debug info of libwire is needed")
        tramp = _symbol_address("wire_coro_trampoline")
        if tramp is None:
            raise _Error(
                "libwire: this libwire switches with ucontext (WIRE_CORO=ucontext): a wire's "
                "registers are in a mangled jmp_buf, which `wire bt` cannot read; the "
                "assembly switches (x86-64, aarch64) keep them where it can")
        arch = _arch()
        sp = int(w["coro"]["sp"])
        if sp == 0:
            raise _Error("libwire: wire %s has no saved context (coro.sp is NULL)" % head)
        try:
            regs = arch.resume(sp)
        except gdb.MemoryError as e:
            raise _Error("libwire: cannot read the saved registers of wire %s at 0x%x: %s"
                         % (head, sp, e))
        gdb.write("wire %s\n" % _format(types, waddr, _now(th)[0]).strip())
        if regs[arch.pc_reg] == tramp:
            gdb.write("It has not started yet: it will run %s (arg 0x%x).\n"
                      % (_describe_pc(int(w["entry"])), int(w["arg"])))
            return
        fn = arch.redirected(regs, sp, _symbol_address("wire_coro_redirect_stub"))
        resume = regs[arch.pc_reg]
        if fn is not None:
            # Its frames from the resume point: the function called first
            # has no frame yet.
            gdb.write("It resumes in %s first, which returns to frame #0.\n" % _describe_pc(fn))
        else:
            # Its frames from inside wire_coro_jump, unwound by the debug
            # info: gdb also finds the calls that jumped there as their
            # last step (tail calls), which left no frame of their own.
            regs = arch.in_switch(sp, jump)
        try:
            selected = gdb.selected_frame().level()
        except gdb.error:
            selected = None
        level = _innermost_level()
        # One frame more than asked, to tell whether more follow.
        count = "" if limit is None else " %d" % (limit + level + 2)
        _active = {"level": level, "regs": regs, "sp_reg": arch.sp_reg, "pc_reg": arch.pc_reg}
        try:
            gdb.invalidate_cached_frames()
            text = gdb.execute("bt %s%s" % (" ".join(opts), count), to_string=True)
            # Below the first frame: the switch (wire_coro_jump, which
            # is the first frame unless the wire was redirected).
            notes = _tail_notes(w, level, "wire_coro_jump" if fn is not None else None)
        finally:
            _active = None
            gdb.invalidate_cached_frames()
            if selected is not None:
                try:
                    gdb.execute("select-frame %d" % selected, to_string=True)
                except gdb.error:
                    pass
        lines = _renumber(text, level)
        if not lines:
            raise _Error("libwire: gdb found no frame where wire %s resumes (pc 0x%x)"
                         % (head, resume))
        if limit is not None:
            for k, line in enumerate(lines):
                if line.startswith("#%d " % limit):
                    lines = lines[:k] + ["(More stack frames follow...)"]
                    break
        lines = _insert_notes(lines, notes)
        gdb.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Registration (again on a second load: the new definitions replace the old).

_InfoWires()
_WirePrefix()
_WireBt()
if _gdb_unwinder is not None:
    _gdb_unwinder.register_unwinder(None, _WireUnwinder(), replace=True)
