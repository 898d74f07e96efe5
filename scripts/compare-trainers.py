#!/usr/bin/env python3
"""Side by side, cell by cell: two results directories of the same grid run by two trainers
(issue #25's cross-check of the PyTorch example against the built-in trainer).

    scripts/compare-trainers.py results/builtin-lazy results/torch-lazy > comparison.md

Per (P, T): runs converged, median over seeds of dw, t* and the test error for each, their
ratio, and whether the two seed ranges overlap; then the wall time per run. Stdlib only.
"""
import json
import math
import os
import statistics
import sys
from collections import defaultdict


def load(d):
    cells = defaultdict(list)
    for name in os.listdir(os.path.join(d, "runs")):
        if not name.endswith(".json") or name.endswith(".failed.json") or name.startswith("."):
            continue
        r = json.load(open(os.path.join(d, "runs", name)))
        c = r["config"]
        T = c["temperature"] if c["temperature"] is not None else c["lr"] / c["batch"]
        cells[(c["p"], T)].append(r)
    return cells


def med(rs, f):
    v = [f(r) for r in rs if r["status"] == "converged" and f(r) is not None]
    return (statistics.median(v), min(v), max(v)) if v else None


def fmt(x):
    return "-" if x is None else f"{x[0]:.3g} [{x[1]:.3g}, {x[2]:.3g}]"


def main(a_dir, b_dir):
    a, b = load(a_dir), load(b_dir)
    names = (os.path.basename(a_dir.rstrip("/")), os.path.basename(b_dir.rstrip("/")))
    obs = [
        ("dw", lambda r: r["final"]["weight_change"]),
        ("t*", lambda r: r["final"]["t"]),
        ("test error", lambda r: r["final"]["test_error"]),
    ]
    print(f"| P | T | converged {names[0]} / {names[1]} | " + " | ".join(
        f"{o} {names[0]} | {o} {names[1]} | ratio" for o, _ in obs) + " |")
    print("|---|---|---|" + "---|---|---|" * len(obs))
    overlap = {o: [0, 0] for o, _ in obs}
    log_ratios = {o: [] for o, _ in obs}
    for key in sorted(set(a) | set(b)):
        ra, rb = a.get(key, []), b.get(key, [])
        conv = lambda rs: sum(r["status"] == "converged" for r in rs)
        row = [str(key[0]), f"2^{round(math.log2(key[1]))}", f"{conv(ra)}/{len(ra)} / {conv(rb)}/{len(rb)}"]
        for o, f in obs:
            ma, mb = med(ra, f), med(rb, f)
            ratio = "-" if not (ma and mb) else f"{mb[0] / ma[0]:.2f}"
            if ma and mb:
                log_ratios[o].append(math.log(mb[0] / ma[0]))
                overlap[o][1] += 1
                if ma[1] <= mb[2] and mb[1] <= ma[2]:
                    overlap[o][0] += 1
            row += [fmt(ma), fmt(mb), ratio]
        print("| " + " | ".join(row) + " |")
    print()
    print("Seed ranges (min..max over seeds) that overlap, cells with both converged: " + ", ".join(
        f"{o} {k}/{n}" for o, (k, n) in overlap.items()))
    print()
    print(f"Median ratio {names[1]} / {names[0]} over those cells, geometric mean ± standard error: " + ", ".join(
        f"{o} {math.exp(statistics.mean(v)):.3f} ± {math.exp(statistics.mean(v)) * statistics.stdev(v) / math.sqrt(len(v)):.3f}"
        for o, v in log_ratios.items() if len(v) > 1))
    print()
    for name, cells in zip(names, (a, b)):
        walls = [r["timing"]["wall_s"] for rs in cells.values() for r in rs]
        by_p = defaultdict(list)
        for (p, _), rs in cells.items():
            by_p[p] += [r["timing"]["wall_s"] for r in rs]
        per_p = ", ".join(f"P={p}: {statistics.median(w):.2f} s" for p, w in sorted(by_p.items()))
        print(f"- {name}: {len(walls)} runs, wall per run median {statistics.median(walls):.2f} s, "
              f"total {sum(walls):.0f} s ({per_p})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
