#!/usr/bin/env bash
# `make test-nextchat`: the browser scenarios (tests/browser/test_nextchat.py) in Debian's
# Chromium against a NextChat that you run, in its server mode and in direct mode. This script
# does not build or start NextChat: docs/development.md#make-test-nextchat says how to run it
# (its Docker image, or its own repository's instructions) with the settings the tests expect.
#
#   NEXTCHAT_URL     (required) where your NextChat is, e.g. http://127.0.0.1:3000
#   GATEWAY_PORT     (8080) where the gateway is started; your NextChat's BASE_URL must be
#                    http://127.0.0.1:$GATEWAY_PORT/api
#   API_KEY          (local-dev-key) the gateway's key; your NextChat's OPENAI_API_KEY
#   NEXTCHAT_MODEL   (us.anthropic.claude-haiku-4-5-20251001-v1:0) your NextChat's DEFAULT_MODEL
#   CHROMIUM         (/usr/bin/chromium)
#
# The emulator and the gateway are started here (like `make run`, so stop `make run` first if
# it holds the port). Screenshots: target/browser/nextchat-*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

die() { echo "test-nextchat: $*" >&2; exit 1; }

[ -n "${NEXTCHAT_URL:-}" ] || die "set NEXTCHAT_URL to your running NextChat, e.g. NEXTCHAT_URL=http://127.0.0.1:3000 make test-nextchat (docs/development.md#make-test-nextchat)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing; install Debian's Chromium: apt-get install chromium (or set CHROMIUM)"
export CHROMIUM NEXTCHAT_URL
curl -fsS -o /dev/null --max-time 10 "$NEXTCHAT_URL" || die "no NextChat answers at $NEXTCHAT_URL"

use_venv tests/requirements.txt
(cd tests/browser && npm ci --silent --no-audit --no-fund)
cargo build --quiet --workspace --bins
python -m pytest tests/browser/test_nextchat.py -v "$@"
