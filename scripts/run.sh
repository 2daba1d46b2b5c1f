#!/usr/bin/env bash
# `make run`: the gateway on http://127.0.0.1:8080 over the local Bedrock emulator, ready for any
# OpenAI client. BEDROCK=aws uses real Amazon Bedrock with your AWS credentials instead.
#
#   PORT (8080), HOST (127.0.0.1)   where the gateway listens
#   API_KEY (local-dev-key)         the key clients send as `Authorization: Bearer ...`
#   API_KEYS_FILE                   instead: a file of keys or a key document (docs/configuration.md)
#   EMULATOR_PORT (4010)            where the emulator listens
#   BEDROCK=aws                     no emulator: real Bedrock in AWS_REGION (or your profile's region)
#   DEFAULT_MODEL, MODEL_ALIASES, RUST_LOG...   passed to the gateway as they are
#
# Debug builds: they compile in a fraction of the release time and are plenty fast for local use.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8080}"
API_KEY="${API_KEY:-local-dev-key}"
EMULATOR_PORT="${EMULATOR_PORT:-4010}"
BEDROCK="${BEDROCK:-emulator}"
BIN_DIR="${CARGO_TARGET_DIR:-target}/debug"
# The gateway takes one key source: the file when given, else API_KEY.
if [ -n "${API_KEYS_FILE:-}" ]; then
  key_source=(API_KEYS_FILE="$(realpath "$API_KEYS_FILE")")
  key_shown="the keys in $API_KEYS_FILE"
else
  key_source=(API_KEY="$API_KEY")
  key_shown="$API_KEY"
fi

die() { echo "run: $*" >&2; exit 1; }

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

case "$BEDROCK" in
  emulator | aws) ;;
  *) die "BEDROCK must be 'emulator' (the default) or 'aws', got '$BEDROCK'" ;;
esac
if [ "$BEDROCK" = aws ]; then
  region="$(aws_region)"
  [ -n "$region" ] || die "BEDROCK=aws needs a region: set AWS_REGION (e.g. AWS_REGION=us-east-1 make run) or 'region' in your AWS profile"
fi

echo "run: building bedrock-gateway and bedrock-emulator (debug)..." >&2
cargo build --quiet --workspace --bins

workdir="$(mktemp -d)"
pids=()
cleanup() {
  trap - INT TERM EXIT
  # The gateway (started last) first, the emulator after it: the gateway's graceful shutdown lets
  # open streams finish (SHUTDOWN_GRACE_SECONDS, 10 s by default) and needs Bedrock meanwhile.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[$i]}"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'echo; echo "run: stopping" >&2; exit 0' INT TERM

# Waits until the process `pid` prints a line matching `pattern` into `file`; prints the URL.
wait_for_url() {
  local file="$1" pid="$2" pattern="$3" name="$4"
  for _ in $(seq 600); do
    if url="$(sed -n "s#^$pattern \\(http://[^ ]*\\).*#\\1#p" "$file" | head -n1)" && [ -n "$url" ]; then
      echo "$url"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$name exited before it was ready (see its messages above)"
    sleep 0.05
  done
  die "$name did not start within 30 s"
}

if [ "$BEDROCK" = emulator ]; then
  "$BIN_DIR/bedrock-emulator" --host 127.0.0.1 --port "$EMULATOR_PORT" >"$workdir/emulator.out" &
  pids+=("$!")
  emulator_url="$(wait_for_url "$workdir/emulator.out" "${pids[0]}" "bedrock-emulator listening on" "bedrock-emulator")"
  # Dummy credentials: the emulator does not check signatures. No profile or
  # bearer token from your shell may send these requests to real AWS.
  env -u AWS_PROFILE -u AWS_BEARER_TOKEN_BEDROCK -u AWS_SESSION_TOKEN -u API_KEY -u API_KEYS_FILE \
    HOST="$HOST" PORT="$PORT" "${key_source[@]}" \
    AWS_REGION="${AWS_REGION:-us-east-1}" \
    AWS_ACCESS_KEY_ID=AKIDLOCALEMULATOR AWS_SECRET_ACCESS_KEY=local-emulator-secret \
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$emulator_url" AWS_ENDPOINT_URL_BEDROCK="$emulator_url" \
    "$BIN_DIR/bedrock-gateway" >"$workdir/gateway.out" &
  backend="the local Bedrock emulator at $emulator_url (replies echo your last message)"
else
  env -u AWS_ENDPOINT_URL_BEDROCK_RUNTIME -u AWS_ENDPOINT_URL_BEDROCK -u API_KEY -u API_KEYS_FILE \
    HOST="$HOST" PORT="$PORT" "${key_source[@]}" AWS_REGION="$region" \
    "$BIN_DIR/bedrock-gateway" >"$workdir/gateway.out" &
  backend="Amazon Bedrock in $region (your AWS credentials; requests are billed)"
fi
pids+=("$!")
gateway_url="$(wait_for_url "$workdir/gateway.out" "${pids[-1]}" "bedrock-gateway listening on" "bedrock-gateway")"
base_url="$gateway_url/api/v1"

cat <<EOF

bedrock-gateway is running (debug build) over $backend.

  OpenAI base URL   $base_url
  API key           $key_shown
  gpt-* names map to ${DEFAULT_MODEL:-the default model (anthropic.claude-haiku-4-5-20251001-v1:0, called via the inference profile of your region)}

Try it:

  curl $base_url/chat/completions \\
    -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'

  curl -N $base_url/chat/completions \\
    -H "Authorization: Bearer $API_KEY" -H "Content-Type: application/json" \\
    -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello, streaming!"}]}'

Point any OpenAI SDK at it:

  export OPENAI_BASE_URL=$base_url
  export OPENAI_API_KEY=$API_KEY

Ctrl-C stops it. Request logs follow.

EOF

# Stop when either process ends (or on Ctrl-C, through the trap).
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "run: a server exited (status $status); stopping" >&2
exit "$status"
