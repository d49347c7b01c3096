#!/usr/bin/env bash
# Search benchmark: p50/p99 per query over ARTIFACTS (default 100,000) artifact records on the
# embedded default, RUNS (default 200) runs each; seeded once into .cache/bench-search-<N>.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${ARTIFACTS:-100000}
go build -o .cache/benchsearch ./scripts/benchsearch
.cache/benchsearch -dir ".cache/bench-search-$n" -artifacts "$n" -runs "${RUNS:-200}"
