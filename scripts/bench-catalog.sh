#!/usr/bin/env bash
# Local-server catalog throughput and latency against a bare net/http handler (loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./scripts/benchcatalog -c "${CONCURRENCY:-8}" -d "${DURATION:-10s}"
