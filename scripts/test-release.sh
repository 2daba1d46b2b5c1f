#!/usr/bin/env bash
# `make test-release`: the full release, built and checked (too slow for every CI run: two
# clean cargo-lambda release builds, ~9 minutes each on an idle 2-core machine).
#
#   1. scripts/release.sh: both zips, SHA256SUMS and the packaged template in dist/
#   2. tests/release (pytest, RELEASE_DIR=dist): zip contents and modes, ELF architecture,
#      interpreter and glibc needs, checksums, the packaged template (cfn-lint), `sam package`
#      against moto's S3
#   3. the fake Lambda Runtime API tests (tests/it/lambda_runtime.rs) against the x86_64 zip's
#      bootstrap, and against the arm64 one under qemu-aarch64-static when it is installed
#      (Debian: apt-get install qemu-user-static libc6-arm64-cross)
#   4. the template lints (scripts/lint.sh --templates)
#
# SKIP_BUILD=1 reuses what is in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
started=$(date +%s)
step() { printf '\n==> %s (%s s)\n' "$*" "$(($(date +%s) - started))"; }

if [ -z "${SKIP_BUILD:-}" ]; then
  step "release build (both architectures)"
  scripts/release.sh
fi

use_venv tests/requirements.txt
unset AWS_BEARER_TOKEN_BEDROCK AWS_PROFILE AWS_ENDPOINT_URL || true

step "release artifacts"
RELEASE_DIR="$(pwd)/dist" python -m pytest tests/release -q

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step "x86_64 bootstrap under the fake Lambda Runtime API"
mkdir -p "$work/x86_64" && (cd "$work/x86_64" && unzip -q "$OLDPWD/dist/bedrock-gateway-x86_64.zip")
BEDROCK_GATEWAY_BOOTSTRAP="$work/x86_64/bootstrap" cargo test --test it lambda_runtime::

if command -v qemu-aarch64-static >/dev/null 2>&1 && [ -d /usr/aarch64-linux-gnu ]; then
  step "arm64 bootstrap under qemu-aarch64-static and the fake Lambda Runtime API"
  mkdir -p "$work/arm64" && (cd "$work/arm64" && unzip -q "$OLDPWD/dist/bedrock-gateway-arm64.zip")
  printf '#!/bin/sh\nexec qemu-aarch64-static -L /usr/aarch64-linux-gnu %s "$@"\n' "$work/arm64/bootstrap" >"$work/arm64/run"
  chmod +x "$work/arm64/run"
  BEDROCK_GATEWAY_BOOTSTRAP="$work/arm64/run" cargo test --test it lambda_runtime::
else
  step "arm64: qemu-aarch64-static not installed; checked at the file level only (tests/release)"
fi

step "template lints"
scripts/lint.sh --templates
step "release checked"
