#!/usr/bin/env python3
"""Rerun result files committed in a runs archive and compare them field by field with what the
current binary gives (timing, version, schema and adoption marks aside): the check that a change
kept the bits. Usage, from the repository root after `cargo build --release`:

    scripts/rerun-committed.py docs/results/table1/runs.tar.gz 4 [max_wall_s]

(result fields added to `derived` since a run was recorded are left out of the comparison)
takes, from every results directory in the archive, the N result files with the smallest
recorded wall time (below max_wall_s, default 20), reruns each config with
`target/release/sgd-regimes train --config`, and prints one line per run and a summary; exit 1 on
any difference."""
import json, subprocess, sys, tarfile, tempfile, os

SKIP = {"timing", "version", "schema", "adopted_from"}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise ValueError(v)


def first_difference(a, b, at=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in SKIP and not at:
                continue
            if k not in b and at == ".derived":
                continue  # a field added since the run was recorded (data_files, 2026-12-07)
            if k not in a or k not in b:
                return f"{at}.{k}: present on one side only"
            d = first_difference(a[k], b[k], f"{at}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{at}: {len(a)} vs {len(b)} entries"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{at}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{at}: now {a!r}, recorded {b!r}"


def main():
    archive, per_dir = sys.argv[1], int(sys.argv[2])
    max_wall = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    chosen = {}
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            if m.isfile() and "/runs/" in m.name and m.name.endswith(".json"):
                r = json.load(tar.extractfile(m))
                if r.get("status") is None or r["timing"]["wall_s"] > max_wall:
                    continue
                chosen.setdefault(m.name.split("/runs/")[0], []).append((r["timing"]["wall_s"], m.name, r))
    bad = 0
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for group, runs in sorted(chosen.items()):
            for _, name, recorded in sorted(runs, key=lambda t: t[0])[:per_dir]:
                cfg = os.path.join(tmp, "run.toml")
                with open(cfg, "w") as f:
                    for k, v in recorded["config"].items():
                        if v is not None:
                            if isinstance(v, dict):
                                f.write(f"{k} = {toml_value(v)}\n")
                            else:
                                f.write(f"{k} = {toml_value(v)}\n")
                out = subprocess.run(["target/release/sgd-regimes", "train", "--config", cfg, "--json", "--quiet"],
                                     capture_output=True, text=True)
                total += 1
                if out.returncode != 0:
                    print(f"FAILED {name}: {out.stderr.strip()}")
                    bad += 1
                    continue
                d = first_difference(json.loads(out.stdout), recorded)
                print(f"{'same' if d is None else 'DIFFERENT'}  {name}  {recorded['config']['model']}  {d or ''}")
                bad += d is not None
    print(f"{total - bad} of {total} runs bit-identical field by field")
    sys.exit(1 if bad else 0)


main()
