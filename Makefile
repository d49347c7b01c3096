# AISPM Report Center. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
# Lambda architecture: arm64 for AWS; the emulator runs bootstraps on this host, so use the host's.
LAMBDA_ARCH ?= arm64
FUZZTIME ?= 30000x

.PHONY: help run build test lint unit fuzz emulators-up emulators-down bench bench-audit bench-render bench-ingest bench-search clean \
	synth infra-test emulator-deploy e2e deploy measure-lambdas

# `make deploy` (real AWS) needs these; see infra/README.md.
AWS_ACCOUNT ?=
AWS_DEPLOY_REGION ?=
SENDER_IDENTITY ?=

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## start the product locally (embedded adapters, demo tenant) on 127.0.0.1:8787
	$(GO) run ./cmd/aispm-reports serve

build: ## build every Lambda as dist/<arch>/<name>.zip (bootstrap, -tags lambda.norpc, static, stripped)
	LAMBDA_ARCH=$(LAMBDA_ARCH) scripts/build-lambdas.sh

test: ## what CI runs: lint, emulators, all Go tests (contract suites on both families), fuzzing, Lambda zips, CDK synth + assertions, emulator deploy, end-to-end
	scripts/test.sh

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit: ## tests against already-running emulators (scripts/emulators.sh up)
	$(GO) test -count=1 ./...

fuzz: ## fuzz the request decoders, FUZZTIME inputs each (e.g. 30000x; a duration such as 30s works too)
	scripts/fuzz.sh $(FUZZTIME)

emulators-up: ## start MiniStack, moto and the mail moto on 127.0.0.1
	scripts/emulators.sh up

emulators-down: ## stop the emulators
	scripts/emulators.sh down

bench: ## local-server catalog throughput and p99 against a bare net/http handler
	scripts/bench-catalog.sh

bench-audit: ## audit writer append throughput; 1M-entry offline verification against sha256sum
	scripts/bench-audit.sh

bench-render: ## render the executive brief from 1M ingested events (time, peak RSS) beside DuckDB
	scripts/bench-render.sh

bench-ingest: ## public envelopes/s through the ingest API (batch, NDJSON) beside raw SQLite inserts; peak RSS of a 4 MiB body
	scripts/bench-ingest.sh

bench-search: ## search p50/p99 per query over 100,000 artifact records
	scripts/bench-search.sh

clean: ## remove build output and local data
	rm -rf dist data

synth: ## CDK synth for AWS (arm64) into infra/cdk.out; CDK_CONTEXT="-c key=value ..." adds context
	LAMBDA_ARCH=arm64 scripts/build-lambdas.sh >/dev/null
	scripts/cdk.sh synth --quiet $(CDK_CONTEXT)

infra-test: ## CDK assertions, deploy onto the running MiniStack, end-to-end test (part of make test)
	scripts/test-infra.sh

emulator-deploy: ## deploy the stack onto the emulator on 127.0.0.1:4566 (cdklocal), repair known gaps, read settings back
	scripts/emulator-deploy.sh

e2e: ## end-to-end test through API Gateway against the stack make emulator-deploy deployed
	cd infra && $(GO) test -count=1 -v ./e2e

deploy: ## deploy to real AWS: AWS_PROFILE=... make deploy AWS_ACCOUNT=... AWS_DEPLOY_REGION=... SENDER_IDENTITY=...
	@if [ -z "$(AWS_PROFILE)" ] || [ -z "$(AWS_ACCOUNT)" ] || [ -z "$(AWS_DEPLOY_REGION)" ] || [ -z "$(SENDER_IDENTITY)" ]; then \
	  echo "set AWS_PROFILE, AWS_ACCOUNT, AWS_DEPLOY_REGION and SENDER_IDENTITY (see infra/README.md)"; exit 2; fi
	LAMBDA_ARCH=arm64 scripts/build-lambdas.sh >/dev/null
	scripts/cdk.sh deploy AispmReports --profile "$(AWS_PROFILE)" --require-approval broadening \
	  -c target=aws -c arch=arm64 -c account=$(AWS_ACCOUNT) -c region=$(AWS_DEPLOY_REGION) -c senderIdentity=$(SENDER_IDENTITY) $(CDK_CONTEXT)

measure-lambdas: ## arm64 zip sizes and cold start (first-invoke-ready) against a hello-world bootstrap
	scripts/measure-lambdas.sh
