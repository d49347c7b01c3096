#!/usr/bin/env bash
# Render benchmark: the executive posture brief as json+csv+pdf from EVENTS (default 1,000,000)
# ingested events on the embedded default, side by side with DuckDB computing the same
# aggregates over the same stored JSONL segment files. Same method every run:
#   1. seed once per EVENTS into .cache/bench-render-$EVENTS (through the ingest service; reused
#      afterwards, the clock is fixed so the snapshot is the same),
#   2. render in a fresh process: in-process wall time of the render, peak RSS (ru_maxrss),
#   3. DuckDB (pinned, in .cache/bench-venv) in a fresh process: in-process wall time of
#      loading + aggregating, peak RSS (ru_maxrss); its tables are checked against the product's
#      json artifact, so both sides computed the same figures.
# Page cache: each side reads the segment files once beforehand (warm cache for both).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${EVENTS:-1000000}
dir=".cache/bench-render-$events"
venv=".cache/bench-venv"
duckdb_version=1.4.2

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$duckdb_version')" 2>/dev/null; then
  echo "bench-render: installing duckdb==$duckdb_version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==$duckdb_version"
fi

mkdir -p .cache
go build -o .cache/benchrender ./scripts/benchrender
if [ ! -f "$dir/seeded-$events" ]; then
  rm -rf "$dir"
  echo "bench-render: seeding $events events into $dir (once)" >&2
  .cache/benchrender seed -dir "$dir" -events "$events"
  touch "$dir/seeded-$events"
fi

# Warm the page cache for both sides alike, then render and aggregate once each.
.cache/benchrender render -dir "$dir" > "$dir/warmup.json"
xargs cat < "$dir/segments.txt" > /dev/null
product=$(.cache/benchrender render -dir "$dir")
from=$(sed -E 's/.*"window_from":"([^"]+)".*/\1/' <<<"$product")
to=$(sed -E 's/.*"window_to":"([^"]+)".*/\1/' <<<"$product")
duck=$("$venv/bin/python" scripts/benchrender/duckdb_brief.py "$dir" "$from" "$to")

echo "product: $product"
echo "duckdb:  $duck"
python3 - "$product" "$duck" <<'PY'
import json, sys
p, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"events {p['events']} in {p['segments']} segment files")
print(f"render json+csv+pdf : {p['wall_ms']/1000:8.2f} s   peak RSS {p['max_rss_kb']/1024:7.1f} MiB")
print(f"{d['engine']:<19}: {d['wall_ms']/1000:8.2f} s   peak RSS {d['max_rss_kb']/1024:7.1f} MiB   tables match: {d['tables_match']}")
print(f"ratio render/duckdb : {p['wall_ms']/d['wall_ms']:8.2f}x")
PY
