#!/usr/bin/env bash
# Builds the Lambda artifact with cargo-lambda: target/lambda/bedrock-gateway/bootstrap.
#
#   scripts/lambda-build.sh                 # arm64 (Graviton), the template's default
#   ARCH=x86_64 scripts/lambda-build.sh     # Intel/AMD
#   scripts/lambda-build.sh --tools-only    # install cargo-lambda and the Rust target, build nothing
#
# cargo-lambda comes from PyPI (a prebuilt binary that brings zig for cross-linking), so no
# Docker, cross toolchain or C compiler for the target is needed. The release build takes
# about 9 minutes on 2 cores from clean.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH="${ARCH:-arm64}"
case "$ARCH" in
  arm64 | aarch64) target=aarch64-unknown-linux-gnu arch_flag=--arm64 ;;
  x86_64 | amd64) target=x86_64-unknown-linux-gnu arch_flag=--x86-64 ;;
  *)
    echo "lambda-build: ARCH must be arm64 or x86_64, got '$ARCH'" >&2
    exit 2
    ;;
esac

# cargo-lambda from PyPI (it brings zig), installed into the repository's .venv unless one is
# already on PATH.
source scripts/venv.sh
use_venv
if ! cargo lambda --version >/dev/null 2>&1; then
  echo "lambda-build: cargo-lambda not found; installing it into .venv (pip install -r scripts/lambda-requirements.txt)"
  if ! use_venv scripts/lambda-requirements.txt || ! cargo lambda --version >/dev/null 2>&1; then
    echo "lambda-build: could not install cargo-lambda. Install it yourself (pip install cargo-lambda," >&2
    echo "  brew install cargo-lambda/tap/cargo-lambda, or see https://www.cargo-lambda.info/guide/installation.html)." >&2
    exit 1
  fi
fi
echo "lambda-build: $(cargo lambda --version)"

if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "lambda-build: adding the Rust standard library for $target (rustup target add $target)"
    if ! rustup target add "$target"; then
      echo "lambda-build: could not add the $target target (no network to static.rust-lang.org?)." >&2
      echo "  Run 'rustup target add $target' where it works, or build for the host with ARCH=x86_64." >&2
      exit 1
    fi
  fi
elif [ "$target" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then
  echo "lambda-build: rustup is not installed, so the $target standard library cannot be added." >&2
  echo "  Install Rust with rustup (https://rustup.rs) or build for the host architecture." >&2
  exit 1
fi

if [ "${1:-}" = "--tools-only" ]; then
  exit 0
fi

cargo lambda build --release "$arch_flag" --bin bedrock-gateway
artifact=target/lambda/bedrock-gateway/bootstrap
echo "lambda-build: $artifact ($ARCH, $(du -h "$artifact" | cut -f1))"
