#!/usr/bin/env bash
# The serverless stages of `make test` (scripts/test.sh calls this; it also runs alone while
# the emulators are up):
#   1. the CDK app: vet, then one synth of both targets (aws arm64, emulator) in the
#      assertions tests, which write the cloud assembly to infra/cdk.out;
#   2. that assembly deployed onto MiniStack by cdklocal, the emulator's known gaps repaired,
#      every setting that matters read back (scripts/emulator-deploy.sh);
#   3. the end-to-end test through API Gateway, the authorizer and the route Lambdas.
# AISPM_SKIP_LAMBDA_BUILD=1 when dist/arm64 and dist/amd64 are already built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .cache
log=.cache/infra-test.log
: >"$log"
# infra/ is its own module that imports the root module's packages (replace => ../): let the
# go command add go.sum entries the root module gained since infra/go.sum was last tidied.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
# The CDK app's jsii runtime and the CDK CLI run on the pinned Node LTS.
. "$root/scripts/node.sh"
echo "== infra: node $(node --version)"
export CI=${CI:-true}

if [ "${AISPM_SKIP_LAMBDA_BUILD:-}" != 1 ]; then
  LAMBDA_ARCH=arm64 scripts/build-lambdas.sh >/dev/null
  LAMBDA_ARCH=amd64 scripts/build-lambdas.sh >/dev/null
fi

echo "== infra: vet, CDK synth and assertions"
rm -rf infra/cdk.out
(cd infra && go vet ./... && AISPM_CDK_OUT="$root/infra/cdk.out" go test -count=1 . ./stackcheck/...) 2>&1 | tee -a "$log"

if grep -qi 'end-of-life' "$log"; then
  echo "the CDK toolchain warned about its Node runtime:"; grep -i 'end-of-life' "$log"; exit 1
fi

echo "== infra: deploy onto the emulator"
# The assertions' emulator stack is built for x86_64; elsewhere the deploy synthesizes its own.
if [ "$(uname -m)" = x86_64 ]; then export AISPM_CDK_ASSEMBLY="$root/infra/cdk.out"; fi
AISPM_SKIP_LAMBDA_BUILD=1 scripts/emulator-deploy.sh

echo "== infra: end-to-end through API Gateway on the emulator"
(cd infra && go test -count=1 -v ./e2e) 2>&1 | tee -a "$log" | grep -E '^(---|===|ok|FAIL|PASS|panic)|_test.go' || true
if ! grep -q '^ok .*infra/e2e' "$log"; then
  echo "end-to-end test failed; output in $log" >&2; exit 1
fi
if grep -q -- '--- SKIP' "$log"; then
  echo "skipped tests are failures here:"; grep -- '--- SKIP' "$log"; exit 1
fi
