#!/usr/bin/env bash
# `make test`: everything CI runs, on a fresh machine. Installs the Python and Node test
# dependencies inside the repository (Python: the `.venv/` of scripts/venv.sh; Node:
# tests/clients/node/node_modules and tests/browser/node_modules), builds the workspace once
# (debug) and reuses that build for every suite. Nothing is installed globally. The browser
# tests need Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`; .ci/run
# installs it); without it this script stops at once with a one-line message.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

step() { printf '\n==> %s\n' "$*"; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "make test: $CHROMIUM is missing; the browser tests need Debian's Chromium: apt-get install chromium (or set CHROMIUM)" >&2
  exit 1
fi
export CHROMIUM

step "test dependencies (PyPI, npm)"
# pytest, the OpenAI client libraries, moto (the Rust key-store tests start `moto_server`) and
# cfn-lint, all in .venv, whose bin/ now leads PATH for every step below (the SAM CLI and
# checkov get environments of their own, .venv-sam and .venv-checkov: scripts/lint.sh).
use_venv tests/requirements.txt
if [ -f tests/clients/node/package.json ]; then
  (cd tests/clients/node && { [ -f package-lock.json ] && npm ci --silent --no-audit --no-fund || npm install --silent --no-audit --no-fund; })
fi
# NextChat's stream reader, served to the browser test page.
(cd tests/browser && npm ci --silent --no-audit --no-fund)
# The Lambda runtime and key-store tests run the real binary and moto's server; no AWS access.
unset AWS_BEARER_TOKEN_BEDROCK AWS_PROFILE AWS_ENDPOINT_URL || true

step "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# cfn-lint, sam validate --lint and checkov on template.yaml and the packaged release template.
scripts/lint.sh --templates

step "build (debug, once)"
cargo build --workspace --bins --tests --locked

step "Rust unit and integration tests"
cargo test --workspace --locked

step "OpenAI Python SDK against the local server"
python -m pytest tests/clients/python -q

step "release packaging of the debug binary (make test-release does the full build)"
python -m pytest tests/release -q

if [ -f tests/clients/node/package.json ]; then
  step "OpenAI Node SDK against the local server"
  (cd tests/clients/node && node --test)
fi

step "browser tests: the test page in Chromium, calling the gateway as NextChat does"
python -m pytest tests/browser/test_static_page.py -q

step "all tests passed"
