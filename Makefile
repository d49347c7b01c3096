# AISPM Report Center. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
# Lambda architecture: arm64 for AWS; the emulator runs bootstraps on this host, so use the host's.
LAMBDA_ARCH ?= arm64
FUZZTIME ?= 10s

.PHONY: help run build test lint unit fuzz emulators-up emulators-down bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## start the product locally (embedded adapters, demo tenant) on 127.0.0.1:8787
	$(GO) run ./cmd/aispm-reports serve

build: ## build every Lambda as dist/<arch>/<name>.zip (bootstrap, -tags lambda.norpc, static, stripped)
	LAMBDA_ARCH=$(LAMBDA_ARCH) scripts/build-lambdas.sh

test: ## what CI runs: lint, emulators, unit + adapter contract tests on both families, fuzzing, Lambda build
	scripts/test.sh

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit: ## tests against already-running emulators (scripts/emulators.sh up)
	$(GO) test -count=1 ./...

fuzz: ## fuzz the request decoders for FUZZTIME each
	scripts/fuzz.sh $(FUZZTIME)

emulators-up: ## start MiniStack and moto on 127.0.0.1
	scripts/emulators.sh up

emulators-down: ## stop the emulators
	scripts/emulators.sh down

bench: ## local-server catalog throughput and p99 against a bare net/http handler
	scripts/bench-catalog.sh

clean: ## remove build output and local data
	rm -rf dist data
