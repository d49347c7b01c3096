#!/usr/bin/env bash
# Measures the Lambda bootstraps:
#   1. zip size of every function for arm64 (the AWS build; goal <= 10 MB zipped),
#   2. time from process start to first-invoke-ready (the first GET .../invocation/next on a
#      fake Runtime API on 127.0.0.1) of FUNCTIONS (default: one per start path), side by side with a
#      hello-world aws-lambda-go bootstrap built the same way (goal <= 1.5x its median), and
#      beside dynamodb-floor, hello plus a DynamoDB client: the least a function reading the
#      item store can cost.
#      The default FUNCTIONS take one function of each start path (docs/architecture.md).
# Timing runs host-arch builds (this host cannot execute arm64), RUNS times each, interleaved.
#   scripts/measure-lambdas.sh            RUNS=50 FUNCTIONS="get-catalog post-ingest" scripts/measure-lambdas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-30}
functions=${FUNCTIONS:-get-catalog authorizer get-settings post-ingest post-send}
limit=$((10 * 1000 * 1000))

echo "== zip sizes, arm64 (dist/arm64; goal <= 10 MB)"
LAMBDA_ARCH=arm64 scripts/build-lambdas.sh >/dev/null
over=0
for z in dist/arm64/*.zip; do
  size=$(stat -c %s "$z")
  flag=""
  if [ "$size" -gt "$limit" ]; then flag="  OVER 10 MB"; over=1; fi
  printf '  %-28s %6.2f MB  (bootstrap %6.2f MB unzipped)%s\n' "$(basename "$z" .zip)" \
    "$(awk -v s="$size" 'BEGIN { print s / 1000000 }')" \
    "$(python3 -c 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap").file_size/1e6)' "$z")" "$flag"
done

echo "== first-invoke-ready, host build ($(go env GOARCH)), $runs runs each"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build() { # name package
  mkdir -p "$work/$1"
  CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid=' -o "$work/$1/bootstrap" "$2"
}
build hello ./scripts/coldstart/hello
build dynamodb-floor ./scripts/coldstart/dynamodbfloor
targets=("hello=$work/hello/bootstrap" "dynamodb-floor=$work/dynamodb-floor/bootstrap")
for f in $functions; do
  build "$f" "./functions/$f"
  targets+=("$f=$work/$f/bootstrap")
done
# Every setting the stack can give a function (infra/functions.go gives each only what its
# route uses), so each opens at least the clients it opens in AWS. Nothing is called before
# the first invocation: the placeholders (credentials too, which Lambda sets) go unused.
arn=arn:aws:states:us-east-1:000000000000
go run ./scripts/coldstart -n "$runs" -env AISPM_TABLE=aispm-reports -env AISPM_ARTIFACT_BUCKET=aispm-artifacts \
  -env AISPM_SIGNING_KEY_ID=alias/aispm-signing -env AISPM_SES_ENABLED=true \
  -env AISPM_APPROVAL_STATE_MACHINE_ARN=$arn:stateMachine:gate -env AISPM_APPROVAL_ACTIVITY_ARN=$arn:activity:gate \
  -env AISPM_SCHEDULE_TARGET_ARN=arn:aws:lambda:us-east-1:000000000000:function:schedule-runner \
  -env AISPM_SCHEDULE_ROLE_ARN=arn:aws:iam::000000000000:role/scheduler \
  -env AWS_ACCESS_KEY_ID=AKIDPLACEHOLDER -env AWS_SECRET_ACCESS_KEY=placeholder "${targets[@]}"
exit $over
