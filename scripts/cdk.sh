#!/usr/bin/env bash
# Runs the pinned CDK CLI (or, with --local first, cdklocal) in infra/, installing both from
# infra/package-lock.json on first use (npm ci into infra/node_modules).
#   scripts/cdk.sh synth -c target=emulator        scripts/cdk.sh --local deploy ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=cdk
if [ "${1:-}" = --local ]; then bin=cdklocal; shift; fi
stamp="$root/infra/node_modules/.package-lock.stamp"
if ! cmp -s "$root/infra/package-lock.json" "$stamp" 2>/dev/null; then
  echo "cdk: npm ci in infra/ (aws-cdk, aws-cdk-local, pinned by package-lock.json)" >&2
  (cd "$root/infra" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$root/infra/package-lock.json" "$stamp"
fi
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
# jsii warns on every run about Node 20's end of life; the CDK works on it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}
cd "$root/infra"
exec "$root/infra/node_modules/.bin/$bin" "$@"
