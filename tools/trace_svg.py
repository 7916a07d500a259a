#!/usr/bin/env python3
"""Draw a libwire timeline (WIRE_TRACE, wire_trace_start()) as an SVG picture.

Usage: trace_svg.py TRACE.json OUT.svg [--window US] [--start US]
                    [--lanes] [--width PX] [--title TEXT]

One row per scheduler thread: each run of a wire is a box in the wire's
colour, labelled with its name when it fits (and the fd it then waited
on), with a mark under its end that says why it stopped: a yield, a
wait, or the end of the wire. The gaps are the scheduler's own time
(timers, polls, waiting for events). --lanes adds under each thread one
lane per wire, so that the turns of many wires of one name can be told
apart. The time axis is in microseconds from the start of the window.

The window shown is --window microseconds (default 200) from --start
(microseconds since the timeline started); without --start, the window
of that length where the most runs start. Only the standard library.
"""
import argparse
import html
import json
import sys

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
MARKS = {"yield": "#7f7f7f", "wait": "#1f5fbf", "end": "#c0392b"}
FONT = "font-family=\"DejaVu Sans, Verdana, sans-serif\""


def shade(color, k):
    """@color made lighter by step @k (0: as is) of 3, to tell wires of one name apart."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    f = (0.0, 0.28, 0.5)[k % 3]
    return "#%02x%02x%02x" % tuple(int(c + (255 - c) * f) for c in (r, g, b))


def kind(why):
    return why if why in ("yield", "end") else "wait"


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs = {}  # tid -> [run]
    names = {}
    open_slice = {}
    for e in doc["traceEvents"]:
        ph, tid = e.get("ph"), e.get("tid")
        if ph == "M" and e.get("name") == "thread_name":
            names[tid] = e["args"]["name"]
        elif ph == "X":
            open_slice[tid] = e
        elif ph == "i" and tid in open_slice:
            x = open_slice.pop(tid)
            runs.setdefault(tid, []).append({
                "name": x["name"], "wire": x["args"]["wire"], "ts": x["ts"],
                "dur": x["dur"], "why": e["name"], "fd": e["args"].get("fd")})
    return runs, names


def busiest(runs, window):
    """The start of the @window (us) in which the most runs start."""
    starts = sorted(r["ts"] for rs in runs.values() for r in rs)
    if not starts:
        return 0.0
    best, best_n, j = starts[0], 0, 0
    for i, t in enumerate(starts):
        while starts[j] < t - window:
            j += 1
        if i - j + 1 > best_n:
            best_n, best = i - j + 1, starts[j]
    return best


def nice_step(span, ticks=10):
    raw = span / ticks
    step = 1e-3
    while step * 10 <= raw:
        step *= 10
    for m in (1, 2, 5, 10):
        if step * m >= raw:
            return step * m
    return step * 10


def fmt_us(v):
    return ("%.3f" % v).rstrip("0").rstrip(".")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--window", type=float, default=200.0, help="microseconds shown")
    ap.add_argument("--start", type=float, help="microseconds since the timeline started")
    ap.add_argument("--lanes", action="store_true", help="a lane per wire under each thread")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--title", default="libwire timeline")
    a = ap.parse_args()

    runs, names = load(a.trace)
    t0 = a.start if a.start is not None else busiest(runs, a.window)
    t1 = t0 + a.window
    left, right, top = 170, 20, 70
    plot_w = a.width - left - right
    scale = plot_w / a.window
    row_h, lane_h, gap = 34, 14, 26

    def x_of(t):
        return left + (min(max(t, t0), t1) - t0) * scale

    colors, wire_shade, per_name = {}, {}, {}
    body = []
    y = top
    for tid in sorted(runs):
        shown = [r for r in runs[tid] if r["ts"] + r["dur"] >= t0 and r["ts"] <= t1]
        wires = []
        for r in shown:
            if r["name"] not in colors:
                colors[r["name"]] = PALETTE[len(colors) % len(PALETTE)]
            if r["wire"] not in wire_shade:
                n = per_name.get(r["name"], 0)
                per_name[r["name"]] = n + 1
                wire_shade[r["wire"]] = n
                wires.append(r)
        label = names.get(tid, "thread %d" % tid)
        body.append('<text x="%d" y="%.1f" font-size="13" %s text-anchor="end">%s</text>'
                    % (left - 8, y + row_h / 2 + 4, FONT, html.escape(label)))
        body.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d0d0d0"/>'
                    % (left, y + row_h / 2, left + plot_w, y + row_h / 2))
        for r in shown:
            x0, x1 = x_of(r["ts"]), x_of(r["ts"] + r["dur"])
            w = max(x1 - x0, 0.8)
            fill = shade(colors[r["name"]], wire_shade[r["wire"]])
            tip = "%s (%s) %s us, then %s" % (r["name"], r["wire"], fmt_us(r["dur"]), r["why"])
            body.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" '
                        'stroke="#ffffff" stroke-width="0.5"><title>%s</title></rect>'
                        % (x0, y, w, row_h, fill, html.escape(tip)))
            text = r["name"] + (" fd %d" % r["fd"] if r["fd"] is not None else "")
            for t in (text, r["name"]):
                if len(t) * 6.6 + 6 <= w:
                    body.append('<text x="%.2f" y="%d" font-size="11" %s fill="#ffffff">%s</text>'
                                % (x0 + 3, y + row_h / 2 + 4, FONT, html.escape(t)))
                    break
            if r["ts"] + r["dur"] <= t1:
                body.append('<path d="M %.2f %d l -3.5 6 l 7 0 z" fill="%s"/>'
                            % (x1, y + row_h + 1, MARKS[kind(r["why"])]))
        y += row_h + 10
        if a.lanes:
            order = {}
            for r in wires:
                order[r["wire"]] = len(order)
            fds = {}
            for r in shown:
                if r["fd"] is not None:
                    fds.setdefault(r["wire"], set()).add(r["fd"])
            for r in wires:
                ly = y + order[r["wire"]] * lane_h
                f = fds.get(r["wire"], set())
                what = "fd %d" % min(f) if len(f) == 1 else r["wire"]
                body.append('<text x="%d" y="%.1f" font-size="9" %s text-anchor="end" '
                            'fill="#555555">%s (%s)</text>'
                            % (left - 8, ly + lane_h - 4, FONT, html.escape(r["name"]),
                               html.escape(what)))
            for r in shown:
                ly = y + order[r["wire"]] * lane_h
                x0, x1 = x_of(r["ts"]), x_of(r["ts"] + r["dur"])
                body.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" '
                            'stroke="none"/>' % (x0, ly + 2, max(x1 - x0, 0.8), lane_h - 4,
                               shade(colors[r["name"]], wire_shade[r["wire"]])))
            y += len(order) * lane_h
        y += gap

    # Time axis, above the rows.
    out = []
    step = nice_step(a.window)
    k = 0
    while k * step <= a.window + 1e-9:
        x = left + k * step * scale
        out.append('<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="#eeeeee"/>'
                   % (x, top - 6, x, y - gap))
        out.append('<text x="%.2f" y="%d" font-size="11" %s text-anchor="middle" '
                   'fill="#333333">%s</text>' % (x, top - 10, FONT, fmt_us(k * step)))
        k += 1
    out.append('<text x="%d" y="%d" font-size="11" %s fill="#333333" text-anchor="end">'
               '\u00b5s after %s \u00b5s</text>' % (left - 8, top - 10, FONT, fmt_us(t0)))
    # Legend, below the rows.
    lx, ly = left, y
    legend = []
    for name, c in list(colors.items())[:12]:
        legend.append((c, "rect", name))
    legend += [(MARKS["yield"], "mark", "yielded"), (MARKS["wait"], "mark", "blocked"),
               (MARKS["end"], "mark", "ended")]
    for c, shape, text in legend:
        if shape == "rect":
            out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, ly, c))
        else:
            out.append('<path d="M %d %d l -5 9 l 10 0 z" fill="%s"/>' % (lx + 6, ly + 2, c))
        out.append('<text x="%d" y="%d" font-size="11" %s>%s</text>'
                   % (lx + 17, ly + 10, FONT, html.escape(text)))
        lx += 17 + int(len(text) * 6.6) + 18
    out.append('<text x="%d" y="%d" font-size="11" %s fill="#555555">gaps: the scheduler '
               '(timers, polls, waiting for events)</text>' % (lx, ly + 10, FONT))
    height = ly + 30
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d">' % (a.width, height, a.width, height),
           '<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (a.width, height),
           '<text x="%d" y="24" font-size="15" font-weight="bold" %s>%s</text>'
           % (left, FONT, html.escape(a.title))]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(svg + out + body + ["</svg>"]) + "\n")
    total = sum(1 for rs in runs.values() for r in rs if r["ts"] + r["dur"] >= t0 and r["ts"] <= t1)
    sys.stderr.write("trace_svg: %d runs of %d threads from %s us to %s us\n"
                     % (total, len(runs), fmt_us(t0), fmt_us(t1)))


if __name__ == "__main__":
    main()
