#!/usr/bin/env bash
# Before/after timing of `bench` steps in one run on one machine: builds BASE (a git revision)
# next to the working tree's release build, then alternates the two binaries ROUNDS times so
# that both see the same load. Prints every line, then per case the fastest and the median
# time of each binary and their ratio (on a shared VM the fastest is the least disturbed).
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
if [ -n "${BEFORE_BIN:-}" ]; then
  before=$BEFORE_BIN   # a binary already built from BASE
else
  tree=${TMPDIR:-/tmp}/sgd-regimes-bench-base
  [ -d "$tree" ] || git -C "$root" worktree add --detach "$tree" "$base" >/dev/null
  git -C "$tree" checkout --quiet --detach "$base"
  (cd "$tree" && cargo build --release --quiet)
  before="$tree/target/release/sgd-regimes"
fi
(cd "$root" && cargo build --release --quiet)
after="$root/target/release/sgd-regimes"
grep -m1 'model name' /proc/cpuinfo || true
log=$(mktemp)
for r in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    for which in before after; do
      bin=$before; [ "$which" = after ] && bin=$after
      # The measured row is the one after the table header (names print longer than --only's).
      line=$("$bin" bench --only "$c" | sed -n '/^case/{n;p;q}')
      echo "round $r $which: $c | $line" | tee -a "$log"
    done
  done
done
# The first time on a line is ours, in us or ms: convert to ms.
for c in "${cases[@]}"; do
  for which in before after; do
    grep -F "$which: $c |" "$log" | sed -E 's/^[^)]*\) +([0-9.]+) (us|ms).*/\1 \2/' |
      awk -v w="$which" -v c="$c" '{ v = ($2 == "us") ? $1 / 1000 : $1; print v }' | sort -g |
      awk -v w="$which" -v c="$c" '{ a[NR] = $1 } END { printf "%s %s: fastest %.3f ms, median %.3f ms\n", c, w, a[1], a[int((NR + 1) / 2)] }'
  done
done
rm -f "$log"
