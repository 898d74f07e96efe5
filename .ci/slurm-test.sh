#!/usr/bin/env bash
# Integration test of `sgd-regimes slurm` against a real one-node Slurm (slurmctld + slurmd +
# munge on localhost, from Debian's packages; recipe in .ci/slurm_local.sh):
#   1. a sweep of 12 runs submitted as an array of 3 tasks gives the same results as the same
#      sweep run locally;
#   2. an array with one task cancelled midway (scancel), then resubmitted, ends with exactly one
#      valid result per run;
#   3. a sweep with an external trainer (the NumPy example, issue #25) as an array of 2 tasks
#      gives the same results as run locally.
# The daemons are stopped by their PIDs at the end, also when the test fails.
# Usage: .ci/slurm-test.sh [path/to/sgd-regimes]   (default: target/debug/sgd-regimes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
BIN=$(realpath "${1:-target/debug/sgd-regimes}")
SLURM="$root/.ci/slurm_local.sh"
export SLURM_CI_DIR=${SLURM_CI_DIR:-/tmp/sgd-regimes-slurm-ci}
export SLURM_CONF=$SLURM_CI_DIR/etc/slurm.conf
work=$(mktemp -d /tmp/sgd-regimes-slurm-test.XXXXXX)
say() { echo "[slurm-test] $*"; }
trap 'bash "$SLURM" down >/dev/null 2>&1 || true' EXIT

[ -x "$BIN" ] || { say "no binary at $BIN (build it first)"; exit 1; }
bash "$SLURM" install
bash "$SLURM" up

cat > "$work/sweep.toml" <<'EOF'
[base]
model = "fc"
dataset = "mnist-parity"
depth = 2
width = 32
p_test = 256
alpha = 32768
batch = 16

[grid]
temperature = { log2 = [-10, -5], step = 1 }
p = [128, 256]
EOF

submitted() { sed -n 's/^submitted job //p'; }

# Every result file of DIR parsed, minus wall-clock fields; fails on any other file.
compare() {
  python3 - "$1" "$2" "${3:-12}" <<'EOF'
import json, os, sys
def load(d):
    out = {}
    for name in sorted(os.listdir(os.path.join(d, "runs"))):
        if name.startswith("."):
            continue
        if name.endswith(".log"):
            continue
        assert name.endswith(".json") and not name.endswith(".failed.json"), f"{d}: unexpected {name}"
        r = json.load(open(os.path.join(d, "runs", name)))
        r.pop("timing")
        out[name] = r
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
n = int(sys.argv[3])
assert len(a) == n, f"{sys.argv[1]}: {len(a)} results, expected {n}"
assert a == b, "array and local results differ"
print(f"[slurm-test] {len(a)} results identical")
EOF
}

say "1. array of 3 tasks vs a local run"
jid=$("$BIN" slurm "$work/sweep.toml" --results "$work/array" --tasks 3 --submit | tee /dev/stderr | submitted)
[ -n "$jid" ] || { say "no job id"; exit 1; }
bash "$SLURM" wait "$jid" 600
"$BIN" status "$work/array"
"$BIN" sweep run "$work/sweep.toml" --results "$work/local" --jobs 2 --quiet
compare "$work/array" "$work/local"
"$BIN" collect "$work/array" --out "$work/array.csv" >/dev/null
"$BIN" collect "$work/local" --out "$work/local.csv" >/dev/null

say "2. cancel one task midway, resubmit what is missing"
jid=$("$BIN" slurm "$work/sweep.toml" --results "$work/cancel" --tasks 3 --submit | submitted)
# Cancel task 1 as soon as it runs: it is cut in the middle of its first run.
until [ "$(squeue -h -j "${jid}_1" -o %T 2>/dev/null)" = RUNNING ]; do sleep 0.05; done
scancel "${jid}_1"
bash "$SLURM" wait "$jid" 600 || true   # the cancelled task is not COMPLETED
"$BIN" status "$work/cancel"
out=$("$BIN" slurm "$work/sweep.toml" --results "$work/cancel" --tasks 3 --submit)
echo "$out"
jid2=$(echo "$out" | submitted)
[ -n "$jid2" ] || { say "the cancelled task left nothing to resubmit"; exit 1; }
bash "$SLURM" wait "$jid2" 600
compare "$work/cancel" "$work/local"
"$BIN" status "$work/cancel" | grep "converged 12  diverged 0  stalled 0  budget 0  failed 0  missing 0" >/dev/null

say "3. an external trainer (NumPy example) as an array of 2 tasks vs a local run"
example="$root/docs/examples/external-numpy/sweep.toml"
jid=$("$BIN" slurm "$example" --results "$work/ext-array" --tasks 2 --submit | submitted)
[ -n "$jid" ] || { say "no job id"; exit 1; }
bash "$SLURM" wait "$jid" 600
"$BIN" sweep run "$example" --results "$work/ext-local" --jobs 2 --quiet
compare "$work/ext-array" "$work/ext-local" 30
"$BIN" status "$work/ext-array" | grep "converged 30  diverged 0  stalled 0  budget 0  failed 0  missing 0" >/dev/null
"$BIN" analyze "$work/ext-array" | grep "trainer train.py v1" >/dev/null
rm -rf "$work"
say "passed"
