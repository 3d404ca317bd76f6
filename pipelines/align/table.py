#!/usr/bin/python3
"""The alignment study's table and plot, from the result lines of evaluate.py.

    table.py OUTDIR RESULT.json...

writes OUTDIR/results.tsv (every run, every metric), OUTDIR/table.md (the runs, then the
mean of each metric for each level of each factor: technique, data set, starting model,
method, rank) and, when gnuplot is installed, OUTDIR/plot.svg: preference accuracy and the
judge's pass rate against the adapter rank, one panel per technique, one line per data
set, starting model and method.
"""
import json
import os
import shutil
import subprocess
import sys

METRICS = [("pref_acc", "pref. acc. (implicit reward)"), ("judge_ok", "judge: all rules"),
           ("judge_safe", "judge: safe"), ("downstream_acc", "downstream acc."),
           ("downstream_logp", "downstream log-prob"),
           ("pref_acc_abs", "pref. acc. (log-prob)"), ("train_loss", "final loss"),
           ("step_seconds", "s / step"), ("base_bits", "base bits / weight")]
FACTORS = ["tech", "data", "start", "method", "rank"]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e-2 else f"{v:.3f}"
    return str(v)


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    rows = []
    for p in paths:
        with open(p) as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    key = lambda r: tuple(str(r.get(k, "")) for k in FACTORS[:4]) + (int(r.get("rank", 0) or 0),)
    rows.sort(key=key)
    cols = FACTORS + [m for m, _ in METRICS]
    with open(os.path.join(out, "results.tsv"), "w") as f:
        f.write("\t".join(["name"] + cols) + "\n")
        for r in rows:
            f.write("\t".join([r["name"]] + [fmt(r.get(c)) for c in cols]) + "\n")
    md = ["# Alignment study: results", "",
          "| " + " | ".join(FACTORS + [t for _, t in METRICS]) + " |",
          "|" + "---|" * (len(FACTORS) + len(METRICS))]
    for r in rows:
        md.append("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |")
    runs = [r for r in rows if r.get("tech") in ("sft", "dpo")]
    md += ["", "## Means by factor (over the runs of the grid)", "",
           "| factor | level | runs | " + " | ".join(t for _, t in METRICS[:5]) + " |",
           "|---|---|---|" + "---|" * 5]
    for fac in FACTORS:
        levels = sorted({r.get(fac) for r in runs}, key=lambda v: (str(type(v)), v))
        for lev in levels:
            sel = [r for r in runs if r.get(fac) == lev]
            means = []
            for m, _ in METRICS[:5]:
                vals = [r[m] for r in sel if r.get(m) is not None]
                means.append(fmt(sum(vals) / len(vals)) if vals else "-")
            md.append(f"| {fac} | {lev} | {len(sel)} | " + " | ".join(means) + " |")
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    if shutil.which("gnuplot") and runs:
        plot(out, runs)


def plot(out, runs):
    series = {}
    for r in runs:
        series.setdefault((r["tech"], r["data"], r["start"], r["method"]), []).append(r)
    cmds = ["set terminal svg size 1100,800 dynamic font 'sans,10'",
            f"set output '{os.path.join(out, 'plot.svg')}'",
            "set multiplot layout 2,2", "set logscale x 2", "set xrange [0.7:90]",
            "set yrange [0:1.05]", "set key bottom right font 'sans,8'", "set grid",
            "set xlabel 'adapter rank'"]
    for tech in ("sft", "dpo"):
        for metric, title in (("pref_acc", "held-out preference accuracy (implicit reward)"),
                              ("judge_ok", "judge: answers following all rules")):
            plots = []
            for (t, d, s, m), rs in sorted(series.items()):
                if t != tech:
                    continue
                name = os.path.join(out, f"plot-{t}-{d}-{s}-{m}-{metric}.dat")
                with open(name, "w") as f:
                    for r in sorted(rs, key=lambda r: r["rank"]):
                        if r.get(metric) is not None:
                            f.write(f"{r['rank']} {r[metric]}\n")
                plots.append(f"'{name}' using 1:2 with linespoints title '{d} {s} {m}'")
            cmds.append(f"set title '{tech.upper()}: {title}'")
            cmds.append("plot " + ", ".join(plots) if plots else "plot 0 notitle")
    cmds.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(cmds) + "\n", text=True, check=True)


if __name__ == "__main__":
    main()
