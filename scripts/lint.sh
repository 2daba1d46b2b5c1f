#!/usr/bin/env bash
# Static checks: formatting, clippy with warnings as errors, and cfn-lint on the SAM template.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
if [ -f template.yaml ]; then
  command -v cfn-lint >/dev/null || python3 -m pip install --quiet cfn-lint
  cfn-lint template.yaml
fi
echo "lint: ok"
