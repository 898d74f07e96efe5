#!/usr/bin/env bash
# Copy a reproduction's report into docs/: report.md, exponents.csv and timing.json if present,
# the figures the report links (PNG only: the SVGs stay in OUT), and its result files as one compressed
# archive (results/ and, if present, sweeps/ and timing.json), so the report can be rebuilt with
# `--no-run` after unpacking. Replaces what DEST held; with KEEP_ARCHIVE=1 the archive already
# in DEST is kept (a report rebuilt from the same runs: no second copy in the history).
#
#   scripts/publish-report.sh OUT DEST
#   scripts/publish-report.sh reproduce-table1-paper docs/results/table1-paper
# Only OUT/results is archived: table1's FC rows live in reproduce fc-mnist's directory and are
# published with it. EXCLUDE="results/a results/b" leaves out parts already published elsewhere
# (the paper preset's CNN rows are the laptop's runs, archived in docs/results/table1).
set -euo pipefail
out=${1:?usage: scripts/publish-report.sh OUT DEST}
dest=${2:?usage: scripts/publish-report.sh OUT DEST}
[ -f "$out/report.md" ] || { echo "error: $out/report.md: no report; run the reproduction first" >&2; exit 1; }
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
cp "$out/report.md" "$dest.tmp/"
for f in exponents.csv timing.json; do [ -f "$out/$f" ] && cp "$out/$f" "$dest.tmp/"; done
grep -o '](figures/[^)]*\.png)' "$out/report.md" | sed 's/^](//; s/)$//' | sort -u | while read -r png; do
  mkdir -p "$dest.tmp/$(dirname "$png")"
  cp "$out/$png" "$dest.tmp/$png"
done
if [ "${KEEP_ARCHIVE:-}" = 1 ] && [ -f "$dest/runs.tar.gz" ]; then
  cp "$dest/runs.tar.gz" "$dest.tmp/"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "published $out -> $dest ($(du -sh "$dest" | cut -f1)), archive kept"
  exit 0
fi
parts=(results)
for f in sweeps timing.json; do [ -e "$out/$f" ] && parts+=("$f"); done
# A fixed order, owner and date: the same results give the same archive bytes.
excludes=(--exclude='*.claim' --exclude='.*')
for e in ${EXCLUDE:-}; do excludes+=(--exclude="$e"); done
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01' "${excludes[@]}" \
  -C "$out" -cf - "${parts[@]}" | gzip -9 -n > "$dest.tmp/runs.tar.gz"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "published $out -> $dest ($(du -sh "$dest" | cut -f1))"
