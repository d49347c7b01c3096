#!/usr/bin/env bash
# Ingest benchmark: public live-ingestion envelopes/s through POST /enterprise/aispm/ingest on
# loopback (batches of 500 and NDJSON bodies of 500 lines) beside raw SQLite inserts of the rows
# the product wrote, in one transaction; and the peak RSS of one 4 MiB NDJSON body in a fresh
# process. ENVELOPES (default 20000) per mode, CONCURRENCY (default 2) clients, RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
go build -o .cache/benchingest ./scripts/benchingest
.cache/benchingest -n "${ENVELOPES:-20000}" -c "${CONCURRENCY:-2}" -runs "${RUNS:-3}"
