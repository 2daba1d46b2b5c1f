# bedrock-gateway: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help run test test-nextchat test-openwebui fresh-check lint bench build package deploy events clean smoke-aws release test-release publish

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## Gateway on http://127.0.0.1:8080 over the local Bedrock emulator (BEDROCK=aws: real Bedrock)
	@scripts/run.sh

test: ## Everything CI runs: fmt, clippy, unit + integration tests, client SDK tests, template lints + checkov, release packaging
	@scripts/test.sh

smoke-aws: ## A few cheap requests to real Bedrock with your AWS credentials (says the cost first; skips without credentials)
	@scripts/smoke-aws.sh

test-nextchat: ## Browser scenarios against a NextChat you run (NEXTCHAT_URL=http://...; see docs/development.md)
	@scripts/test-nextchat.sh

test-openwebui: ## Installs Open WebUI (PyPI, .venv-openwebui/, several GB) and runs browser scenarios against it
	@scripts/test-openwebui.sh

fresh-check: ## CI as on a new machine: a clone with empty cargo, pip and npm caches (slow: a full build)
	@scripts/fresh-check.sh

lint: ## cargo fmt --check, clippy -D warnings; cfn-lint, sam validate --lint, checkov on the templates
	@scripts/lint.sh

bench: ## Latency, throughput, cold start and memory: gateway vs direct emulator calls
	@scripts/bench.sh

build: ## Lambda artifact: cargo lambda build --release --arm64 (installs cargo-lambda from PyPI)
	@scripts/lambda-build.sh

package: build ## Zip the Lambda artifact into target/lambda/bedrock-gateway.zip
	@cd target/lambda/bedrock-gateway && rm -f ../bedrock-gateway.zip && zip -q ../bedrock-gateway.zip bootstrap && echo "target/lambda/bedrock-gateway.zip"

deploy: ## sam build + sam deploy (--guided the first time)
	@scripts/deploy.sh

release: ## Release artifacts in dist/: arm64 + x86_64 zips, SHA256SUMS, packaged template (ARCHES=x86_64: one)
	@scripts/release.sh

test-release: ## make release, then check the zips, serve them through the fake Runtime API, lint (~25 min idle)
	@scripts/test-release.sh

publish: ## Publish to the Serverless Application Repository (SAR_BUCKET=..., after make release)
	@scripts/publish.sh

events: ## Feed every sample event in events/ to the binary through a local fake Lambda Runtime API
	@cargo test --test it lambda_runtime:: -- --nocapture

clean: ## Remove build output
	cargo clean
