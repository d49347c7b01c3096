#!/usr/bin/env bash
# Runs every Fuzz* target for a bounded number of inputs each (default 30000x). A count,
# not a duration: when a duration runs out while a worker is busy, go test reports
# "context deadline exceeded" as a failure of the target, which made runs fail by chance.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30000x}
grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u | while read -r dir; do
  for target in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
    echo "fuzz ./$dir $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "./$dir"
  done
done
