#!/usr/bin/env bash
# Deploys the CDK stack (target=emulator) onto the local emulator with cdklocal, then restores
# the settings the emulator's CloudFormation drops and reads every setting that matters back
# (infra/cmd/stackcheck), failing loudly on any difference. See localstack/README.md.
#
#   scripts/emulator-deploy.sh            # MiniStack from scripts/emulators.sh up, on 127.0.0.1:4566
#
# Environment:
#   AISPM_MINISTACK_ENDPOINT  emulator endpoint (default http://127.0.0.1:4566; LocalStack works too)
#   AISPM_CDK_ASSEMBLY        a cloud assembly already synthesized with the AispmReportsEmulator stack
#                             (make test passes the one the infra assertions tests wrote); without it
#                             this script synthesizes with -c target=emulator
#   AISPM_SKIP_LAMBDA_BUILD=1 the dist/amd64 zips are already built (make test builds them first)
#   AISPM_MOTO_MAIL_ENDPOINT  the mail moto of scripts/emulators.sh (default http://127.0.0.1:5056): the
#                             functions send SES mail there, see "SES through the mail moto" below
#   AISPM_FUNCTION_ENDPOINT   where the functions reach the emulator (default: the endpoint; MiniStack
#                             runs them on this host). LocalStack runs them in containers:
#                             http://localhost.localstack.cloud:4566
# Writes the stack outputs to .cache/emulator-stack.json (read by infra/e2e).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$SECONDS
endpoint=${AISPM_MINISTACK_ENDPOINT:-http://127.0.0.1:4566}
mail_endpoint=${AISPM_MOTO_MAIL_ENDPOINT:-http://127.0.0.1:5056}
stack=AispmReportsEmulator
outputs="$root/.cache/emulator-stack.json"
mkdir -p "$root/.cache"

case "$(uname -m)" in
  x86_64) host_arch=amd64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) echo "emulator-deploy: unsupported host architecture $(uname -m)" >&2; exit 1 ;;
esac
# The emulator runs each bootstrap as a process on this host; the CDK app's emulator target
# is x86_64 (-c arch=arm64 on an arm64 host).
cdk_arch=x86_64
[ "$host_arch" = arm64 ] && cdk_arch=arm64

if [ "${AISPM_SKIP_LAMBDA_BUILD:-}" != 1 ]; then
  echo "emulator-deploy: building Lambda zips for $host_arch"
  LAMBDA_ARCH=$host_arch scripts/build-lambdas.sh >/dev/null
fi

if ! curl -fsS -o /dev/null "$endpoint/_ministack/health" && ! curl -fsS -o /dev/null "$endpoint/_localstack/health"; then
  echo "emulator-deploy: no emulator at $endpoint (scripts/emulators.sh up, or localstack/docker-compose.yml)" >&2
  exit 1
fi

export AWS_ENDPOINT_URL=$endpoint AWS_ENDPOINT_URL_S3=$endpoint
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
cdk() { "$root/scripts/cdk.sh" "$@"; } # pinned CLI from infra/package-lock.json

if [ -n "${AISPM_CDK_ASSEMBLY:-}" ]; then
  assembly=$(cd "$AISPM_CDK_ASSEMBLY" && pwd)
  [ -f "$assembly/$stack.template.json" ] || { echo "emulator-deploy: $assembly has no $stack" >&2; exit 1; }
  echo "emulator-deploy: reusing the synthesized assembly $assembly"
else
  assembly="$root/infra/cdk.out"
  echo "emulator-deploy: synthesizing (-c target=emulator)"
  cdk synth --quiet -o "$assembly" -c target=emulator -c arch=$cdk_arch -c awsEndpoint="${AISPM_FUNCTION_ENDPOINT:-$endpoint}" \
    -c sesEndpoint="$mail_endpoint" >/dev/null
fi

t=$SECONDS
cdk --local bootstrap aws://000000000000/us-east-1 --app "$assembly" >"$root/.cache/emulator-bootstrap.log" 2>&1 ||
  { tail -n 40 "$root/.cache/emulator-bootstrap.log" >&2; exit 1; }
echo "emulator-deploy: bootstrapped in $((SECONDS - t))s"

# Emulator step "approval activity outside CloudFormation" (localstack/README.md): MiniStack's
# CloudFormation has no AWS::StepFunctions::Activity, so the emulator template refers to the
# gate's activity by name and this creates it unless it exists (ActivityAlreadyExists).
activity="$stack-approval-gate"
answer=$(curl -sS -X POST "$endpoint/" -H "Content-Type: application/x-amz-json-1.0" \
  -H "X-Amz-Target: AWSStepFunctions.CreateActivity" \
  -H "Authorization: AWS4-HMAC-SHA256 Credential=test/$(date -u +%Y%m%d)/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0" \
  -d "{\"name\":\"$activity\"}") || { echo "emulator-deploy: cannot create the activity $activity" >&2; exit 1; }
case "$answer" in
  *'"activityArn"'* | *ActivityAlreadyExists*) ;;
  *) echo "emulator-deploy: cannot create the activity $activity: $answer" >&2; exit 1 ;;
esac
echo "  emulator step applied: Step Functions activity $activity created outside CloudFormation"

t=$SECONDS
rm -f "$outputs"
cdk --local deploy "$stack" --app "$assembly" --require-approval never --progress events \
  --outputs-file "$outputs" >"$root/.cache/emulator-deploy.log" 2>&1 ||
  { tail -n 60 "$root/.cache/emulator-deploy.log" >&2; exit 1; }
echo "emulator-deploy: deployed $stack in $((SECONDS - t))s"

# Known emulator gaps, repaired in one named step each (localstack/README.md), then the
# read-back check of every setting that matters; any difference fails here.
(cd infra && go run ./cmd/stackcheck -assembly "$assembly" -stack "$stack" -outputs "$outputs" -endpoint "$endpoint" \
  -emulator-workarounds) | sed 's/^/  /'
# Emulator step "SES through the mail moto" (localstack/README.md): MiniStack's SES v2 keeps
# no attachment of a raw message, so the emulator target's functions send mail to moto
# (AISPM_SES_ENDPOINT); moto sends from verified identities only, so verify the stack's
# sender identity there (idempotent).
sender=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]].get("SenderIdentity",""))' "$outputs" "$stack")
if [ -n "$sender" ]; then
  curl -fsS -o /dev/null -X POST "$mail_endpoint/" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=test/$(date -u +%Y%m%d)/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0" \
    --data-urlencode "Action=VerifyEmailIdentity" --data-urlencode "Version=2010-12-01" --data-urlencode "EmailAddress=$sender" ||
    { echo "emulator-deploy: cannot verify $sender in the mail moto at $mail_endpoint (scripts/emulators.sh up)" >&2; exit 1; }
  echo "  emulator step applied: SES sender identity $sender verified in the mail moto ($mail_endpoint)"
fi
echo "emulator-deploy: done in $((SECONDS - start))s; outputs in ${outputs#"$root"/}"
