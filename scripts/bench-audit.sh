#!/usr/bin/env bash
# Audit log benchmarks, the same method every run:
#   1. Writer append throughput in entries/s, batches of 100 stream records into one tenant's
#      log: on the embedded default (SQLite) and on the emulator (DynamoDB on MiniStack;
#      start it with scripts/emulators.sh up, or that line skips).
#   2. Offline verification (`aispm-reports verify log`) of a 1,000,000-entry bundle with a
#      checkpoint every 1,000 entries, beside `sha256sum` over the same files, on this machine,
#      page cache warm, best of 3 each: wall time, ratio (goal <= 1.3x) and peak RSS
#      (goal < 128 MB).
# AUDIT_BENCH_ENTRIES and AUDIT_BENCH_DIR override the size and the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${AUDIT_BENCH_ENTRIES:-1000000}
work=${AUDIT_BENCH_DIR:-.cache/bench-audit}

echo "== append throughput (batches of 100 stream records)"
go test -run '^$' -bench 'BenchmarkAppend(Embedded|Emulator)$' -benchtime 50x -count 1 ./internal/audit/ |
  grep -E 'Benchmark|SKIP|ok' || true

echo "== offline verification of $entries entries"
rm -rf "$work" && mkdir -p "$work"
go build -o "$work/aispm-reports" ./cmd/aispm-reports
go build -o "$work/benchaudit" ./scripts/benchaudit
"$work/benchaudit" -n "$entries" -out "$work/bundle"
files=("$work"/bundle/segments/*.jsonl "$work"/bundle/checkpoints/*.json)
bytes=$(cat "${files[@]}" | wc -c)
cat "${files[@]}" > /dev/null # warm the page cache for both contenders

best() { # command...: prints "seconds peak_kb" of the fastest of 3 runs
  local out best_s="" best_kb=""
  for _ in 1 2 3; do
    out=$( { /usr/bin/time -f '%e %M' "$@" > /dev/null; } 2>&1 | tail -n 1)
    read -r s kb <<< "$out"
    if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN{exit !(a<b)}'; then best_s=$s best_kb=$kb; fi
  done
  echo "$best_s $best_kb"
}
read -r vs vkb <<< "$(best "$work/aispm-reports" verify log "$work/bundle")"
read -r ss skb <<< "$(best sha256sum "${files[@]}")"
"$work/aispm-reports" verify log "$work/bundle" | cut -c1-160
printf '%-28s %10s %12s\n' "" "wall (s)" "peak RSS"
printf '%-28s %10s %9d MB\n' "aispm-reports verify log" "$vs" $((vkb / 1024))
printf '%-28s %10s %9d MB\n' "sha256sum (same files)" "$ss" $((skb / 1024))
awk -v v="$vs" -v s="$ss" -v b="$bytes" -v n="$entries" 'BEGIN{
  printf "bytes %d, entries %d; verify/sha256sum = %.2fx (goal <= 1.30x); verify %.0f MB/s, %.0f entries/s\n", b, n, v/s, b/v/1e6, n/v }'
