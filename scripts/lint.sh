#!/usr/bin/env bash
# Static checks: formatting, clippy with warnings as errors, and cfn-lint on the SAM template.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
python3 -c 'import cfnlint' 2>/dev/null || python3 -m pip install --quiet cfn-lint
python3 -c 'import sys; from cfnlint.runner import main; sys.argv = ["cfn-lint", "template.yaml"]; sys.exit(main())'
echo "lint: ok"
