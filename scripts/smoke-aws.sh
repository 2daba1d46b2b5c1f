#!/usr/bin/env bash
# `make smoke-aws`: a few cheap requests through the gateway to real Amazon Bedrock, with your
# AWS credentials and region, to confirm in your account what the emulator says Bedrock does:
# text, a stream, a tool round trip, an image, reasoning on a thinking model, a profile-only
# model by its bare id, an embedding and the model list. Prints a pass/fail table; exits 1 if a
# check failed, 0 with one "skipped" line when no AWS credentials are found.
#
#   AWS_REGION (or your profile's region)   where to call Bedrock
#   SMOKE_CHAT_MODEL, SMOKE_THINKING_MODEL, SMOKE_EMBEDDING_MODEL   the models (see smoke-aws.py)
#   SMOKE_AWS_INSTANCE_ROLE=1   try anyway when only an EC2/ECS role can provide credentials
#
# Credentials are looked for where the AWS SDK looks, without calling anything: the environment
# (keys, AWS_PROFILE, a web identity or container role, a Bedrock API key) and the shared
# config and credentials files.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "smoke-aws: $*" >&2; exit 2; }

# Where the SDK would find credentials, or nothing.
credential_source() {
  local name
  for name in AWS_ACCESS_KEY_ID AWS_PROFILE AWS_BEARER_TOKEN_BEDROCK AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI; do
    if [ -n "${!name:-}" ]; then echo "$name"; return; fi
  done
  local credentials="${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"
  local config="${AWS_CONFIG_FILE:-$HOME/.aws/config}"
  if [ -f "$credentials" ] && grep -q 'aws_access_key_id' "$credentials"; then
    echo "$credentials"; return
  fi
  if [ -f "$config" ] && grep -Eq '^[[:space:]]*(aws_access_key_id|sso_|credential_process|role_arn|login_session)' "$config"; then
    echo "$config"; return
  fi
  if [ "${SMOKE_AWS_INSTANCE_ROLE:-}" = 1 ]; then echo "the instance role"; fi
}

# The region the AWS SDK will use: the environment first, then the profile's `region` line.
aws_region() {
  if [ -n "${AWS_REGION:-}" ]; then echo "$AWS_REGION"; return; fi
  if [ -n "${AWS_DEFAULT_REGION:-}" ]; then echo "$AWS_DEFAULT_REGION"; return; fi
  local profile="${AWS_PROFILE:-default}" file="${AWS_CONFIG_FILE:-$HOME/.aws/config}" section
  [ "$profile" = default ] && section="default" || section="profile $profile"
  [ -f "$file" ] || return 0
  awk -v want="[$section]" '
    /^\[/ { inside = ($0 == want); next }
    inside && $1 == "region" { sub(/^[^=]*=[ \t]*/, ""); print; exit }' "$file"
}

source="$(credential_source)"
if [ -z "$source" ]; then
  echo "smoke-aws: skipped: no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION; SMOKE_AWS_INSTANCE_ROLE=1 on EC2/ECS)"
  exit 0
fi
region="$(aws_region)"
[ -n "$region" ] || die "credentials found ($source) but no region: set AWS_REGION, e.g. AWS_REGION=us-east-1 make smoke-aws"

source scripts/venv.sh
use_venv tests/requirements.txt

echo "smoke-aws: credentials from $source, region $region"
python scripts/smoke-aws.py --plan
echo

echo "smoke-aws: building bedrock-gateway (debug)..." >&2
cargo build --quiet --bin bedrock-gateway
BIN="${CARGO_TARGET_DIR:-target}/debug/bedrock-gateway"

workdir="$(mktemp -d)"
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then
    kill -TERM "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

api_key="smoke-$RANDOM$RANDOM$RANDOM"
env -u AWS_ENDPOINT_URL_BEDROCK_RUNTIME -u AWS_ENDPOINT_URL_BEDROCK -u AWS_ENDPOINT_URL \
  HOST=127.0.0.1 PORT=0 API_KEY="$api_key" AWS_REGION="$region" RUST_LOG="${RUST_LOG:-warn}" \
  "$BIN" >"$workdir/gateway.out" 2>"$workdir/gateway.err" &
gateway_pid=$!

base_url=""
for _ in $(seq 300); do
  base_url="$(sed -n 's#^bedrock-gateway listening on \(http://[^ ]*\).*#\1/api/v1#p' "$workdir/gateway.out" | head -n1)"
  [ -n "$base_url" ] && break
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    cat "$workdir/gateway.err" >&2
    die "the gateway exited before it was ready (its messages are above)"
  fi
  sleep 0.1
done
[ -n "$base_url" ] || die "the gateway did not start within 30 s"

echo "smoke-aws: gateway at $base_url; running the checks"
status=0
python scripts/smoke-aws.py --base-url "$base_url" --api-key "$api_key" || status=$?
exit "$status"
