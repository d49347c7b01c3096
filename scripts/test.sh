#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, start the emulators, run every test (the port
# contract suites run against the embedded adapters and the emulators), fuzz the decoders
# for a bounded time, and build the Lambda zips.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

echo "== lint"
make --no-print-directory lint

echo "== emulators"
eval "$(scripts/emulators.sh up)"
export AISPM_MINISTACK_ENDPOINT AISPM_MOTO_ENDPOINT
trap 'scripts/emulators.sh down' EXIT
scripts/emulators.sh reset

echo "== tests"
# Under CI=true an unreachable emulator fails its tests instead of skipping them.
export CI=${CI:-true}
go test -count=1 -timeout 20m ./... 2>&1 | tee .cache/go-test.log
if grep -q -- '--- SKIP' .cache/go-test.log; then
  echo "skipped tests are failures here:"; grep -- '--- SKIP' .cache/go-test.log; exit 1
fi

echo "== fuzz"
scripts/fuzz.sh "${FUZZTIME:-10s}"

echo "== lambda build"
LAMBDA_ARCH=arm64 scripts/build-lambdas.sh

echo "== make test passed in $((SECONDS - start))s"
