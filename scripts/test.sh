#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, start the emulators, run every test (the port
# contract suites run against the embedded adapters and the emulators), fuzz the decoders
# for a bounded time, build the Lambda zips, then the CDK app: synth and assertions, deploy
# onto MiniStack and the end-to-end test through API Gateway (scripts/test-infra.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

echo "== lint"
make --no-print-directory lint

echo "== emulators"
eval "$(scripts/emulators.sh up)"
export AISPM_MINISTACK_ENDPOINT AISPM_MOTO_ENDPOINT AISPM_MOTO_MAIL_ENDPOINT
trap 'scripts/emulators.sh down' EXIT
scripts/emulators.sh reset

# The render tests convert DOCX with LibreOffice and read PDFs with poppler; a fresh machine
# gets them here (nothing happens when both are on PATH).
if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
  if [ -z "$as_root" ] || sudo -n true 2>/dev/null; then
    echo "== installing libreoffice-writer-nogui poppler-utils"
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui poppler-utils >/dev/null
  fi
fi

echo "== tests"
# Under CI=true an unreachable emulator fails its tests instead of skipping them.
export CI=${CI:-true}
# test-report.py prints package results, failures, which adapter family each contract suite
# ran against, and fails the run on any failure or skip.
set +e
go test -count=1 -timeout 20m -json ./... >.cache/go-test.json 2>.cache/go-test.stderr
go_status=$?
set -e
cat .cache/go-test.stderr
python3 scripts/test-report.py <.cache/go-test.json
[ "$go_status" -eq 0 ] || { echo "go test exited $go_status"; exit 1; }

echo "== fuzz"
scripts/fuzz.sh "${FUZZTIME:-30000x}"

echo "== lambda build"
LAMBDA_ARCH=arm64 scripts/build-lambdas.sh
LAMBDA_ARCH=amd64 scripts/build-lambdas.sh >/dev/null # the emulator runs bootstraps on this host

# CDK synth + assertions, deploy onto MiniStack, end-to-end through API Gateway.
AISPM_SKIP_LAMBDA_BUILD=1 scripts/test-infra.sh

echo "== make test passed in $((SECONDS - start))s"
