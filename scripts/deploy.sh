#!/usr/bin/env bash
# Builds and deploys the stack in template.yaml with the AWS SAM CLI.
#
#   scripts/deploy.sh            # first time: sam deploy --guided (writes samconfig.toml)
#   scripts/deploy.sh            # afterwards: sam deploy with the saved answers
#   ARCH=x86_64 scripts/deploy.sh
#   scripts/deploy.sh --no-confirm-changeset   # extra arguments go to sam deploy
#
# Needs AWS credentials for the target account (aws configure, AWS_PROFILE, SSO...), the SSM
# parameter (or secret) holding the API key, and Bedrock model access in the Region.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh
if ! command -v sam >/dev/null 2>&1; then
  # The pinned SAM CLI in its own environment (.venv-sam), as `make publish` and the lints use.
  echo "deploy: no sam on PATH; installing the AWS SAM CLI into .venv-sam (scripts/sam-requirements.txt)"
  if ! VENV_DIR="$(pwd)/.venv-sam" use_venv scripts/sam-requirements.txt || ! command -v sam >/dev/null 2>&1; then
    echo "deploy: could not install the AWS SAM CLI. Install it with:" >&2
    echo "    python3 -m pip install aws-sam-cli" >&2
    echo "  or see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html" >&2
    exit 1
  fi
fi

# The Architecture a guided deploy saved in samconfig.toml (empty if none).
saved_architecture() {
  [ -f samconfig.toml ] || return 0
  grep -o 'Architecture=[\\"]*[a-z0-9_]*' samconfig.toml | head -n1 | sed 's/.*=[\\"]*//' || true
}

# The architecture the function is deployed with must be the one it is built for: take ARCH,
# else the Architecture saved in samconfig.toml by an earlier guided deploy, else arm64.
saved_arch=$(saved_architecture)
arch="${ARCH:-${saved_arch:-arm64}}"
if [ -n "$saved_arch" ] && [ "$arch" != "$saved_arch" ]; then
  echo "deploy: ARCH=$arch but samconfig.toml deploys Architecture=$saved_arch." >&2
  echo "  Run 'sam deploy --guided' and answer Architecture=$arch, or remove samconfig.toml." >&2
  exit 1
fi

# cargo-lambda and the Rust target, which sam build's rust-cargolambda method calls.
ARCH="$arch" scripts/lambda-build.sh --tools-only
# lambda-build.sh may have installed cargo-lambda into the repository's .venv.
use_venv

# Building Rust with cargo-lambda is a SAM CLI beta feature.
export SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
sam build --beta-features --parameter-overrides "Architecture=$arch"

if [ ! -f samconfig.toml ]; then
  echo "deploy: first deployment: answering a few questions (saved to samconfig.toml)."
  echo "  ApiKeyParam is the SSM parameter holding the key, e.g. /bedrock-gateway/api-key."
  sam deploy --guided --capabilities CAPABILITY_IAM --parameter-overrides "Architecture=$arch" "$@"
  answered=$(saved_architecture)
  if [ -n "$answered" ] && [ "$answered" != "$arch" ]; then
    # The guided run deployed a $arch build onto an $answered function: rebuild and redeploy.
    echo "deploy: Architecture=$answered was chosen; rebuilding for it and deploying again."
    sam build --beta-features --parameter-overrides "Architecture=$answered"
    sam deploy "$@"
  fi
else
  sam deploy "$@"
fi

stack=$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml | head -n1)
if [ -n "$stack" ] && command -v aws >/dev/null 2>&1; then
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table || true
fi
