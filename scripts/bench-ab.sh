#!/usr/bin/env bash
# Before/after timing of `bench` steps in one run on one machine: builds BASE (a git revision)
# next to the working tree's release build, then alternates the two binaries ROUNDS times so
# that both see the same load. Prints every line; compare the medians.
#
#   scripts/bench-ab.sh BASE [ROUNDS] [ONLY...]
#   scripts/bench-ab.sh 9c6bbe0 3 "mnas h=8 step" "simple-cnn h=8 step"
set -euo pipefail
base=${1:?usage: scripts/bench-ab.sh BASE [ROUNDS] [ONLY...]}
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("mnas h=8 step" "simple-cnn h=8 step")
root=$(git rev-parse --show-toplevel)
tree=${TMPDIR:-/tmp}/sgd-regimes-bench-base
[ -d "$tree" ] || git -C "$root" worktree add --detach "$tree" "$base" >/dev/null
git -C "$tree" checkout --quiet --detach "$base"
(cd "$tree" && cargo build --release --quiet)
(cd "$root" && cargo build --release --quiet)
before="$tree/target/release/sgd-regimes"
after="$root/target/release/sgd-regimes"
grep -m1 'model name' /proc/cpuinfo || true
for r in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    for which in before after; do
      bin=$before; [ "$which" = after ] && bin=$after
      line=$("$bin" bench --only "$c" | grep -F "$c" | head -1)
      echo "round $r $which: $line"
    done
  done
done
