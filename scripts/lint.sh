#!/usr/bin/env bash
# Static checks: formatting, clippy with warnings as errors, and cfn-lint on the SAM template.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
use_venv tests/requirements.txt   # cfn-lint, in the repository's .venv
cfn-lint template.yaml
echo "lint: ok"
