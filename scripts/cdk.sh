#!/usr/bin/env bash
# Runs the pinned CDK CLI (or, with --local first, cdklocal) in infra/, installing both from
# infra/package-lock.json on first use (npm ci into infra/node_modules).
#   scripts/cdk.sh synth -c target=emulator        scripts/cdk.sh --local deploy ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=cdk
if [ "${1:-}" = --local ]; then bin=cdklocal; shift; fi
. "$root/scripts/node.sh"
stamp="$root/infra/node_modules/.package-lock.stamp"
if ! cmp -s "$root/infra/package-lock.json" "$stamp" 2>/dev/null; then
  echo "cdk: npm ci in infra/ (aws-cdk, aws-cdk-local, pinned by package-lock.json)" >&2
  (cd "$root/infra" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$root/infra/package-lock.json" "$stamp"
fi
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
cd "$root/infra"
exec "$root/infra/node_modules/.bin/$bin" "$@"
