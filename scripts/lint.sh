#!/usr/bin/env bash
# Static checks: formatting, clippy with warnings as errors, and the template checks.
#
#   scripts/lint.sh               # everything
#   scripts/lint.sh --templates   # only the template checks (what `make test` runs for them)
#
# Template checks, on template.yaml and on the packaged release template made from it
# (scripts/package_template.py, as `make release` makes it):
#   cfn-lint                      (.venv, tests/requirements.txt)
#   sam validate --lint           (.venv-sam, scripts/sam-requirements.txt; offline: a Region
#                                  and dummy credentials are all it needs)
#   checkov --framework cloudformation   (.venv-checkov, scripts/checkov-requirements.txt;
#                                  every skip is justified next to its resource in the template)
# Each tool has its own environment because they pin different boto3 versions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

templates_only=false
[ "${1:-}" = "--templates" ] && templates_only=true

if ! $templates_only; then
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets -- -D warnings
fi

use_venv tests/requirements.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packaged="$work/template.packaged.yaml"
python scripts/package_template.py release template.yaml "$packaged" 0.0.0-lint

echo "lint: cfn-lint"
cfn-lint template.yaml "$packaged"

echo "lint: sam validate --lint"
(
  VENV_DIR="$(pwd)/.venv-sam" use_venv scripts/sam-requirements.txt
  # Offline: nothing here may reach AWS, and nothing needs to.
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint
  unset AWS_PROFILE AWS_SESSION_TOKEN
  export SAM_CLI_TELEMETRY=0
  for template in template.yaml "$packaged"; do
    sam validate --lint --template-file "$template" --region us-east-1
  done
)

echo "lint: checkov"
(
  VENV_DIR="$(pwd)/.venv-checkov" use_venv scripts/checkov-requirements.txt
  for template in template.yaml "$packaged"; do
    checkov --quiet --compact --framework cloudformation --skip-download -f "$template"
  done
)
echo "lint: ok"
