#!/usr/bin/env bash
# `make bench`: the gateway's own cost, measured against the local Bedrock emulator: added
# latency, throughput, cold start and memory. Prints a table and writes bench/results.md.
#
# Builds release binaries first (`cargo build --release --workspace --bins`: about 8 minutes
# from clean on 2 cores, seconds when up to date). Needs python3 (standard library only) and
# wrk, which is installed with apt-get when missing. Extra arguments go to bench/bench.py,
# e.g. `scripts/bench.sh --requests 500 --seconds 5` (see `python3 bench/bench.py --help`).
# Runs for about 2 minutes after the build; load it only while nothing else heavy runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk with apt-get" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk >/dev/null
fi

echo "bench: building release binaries (about 8 minutes from clean on 2 cores)..." >&2
cargo build --release --workspace --bins

release_dir="${CARGO_TARGET_DIR:-target}/release"
exec python3 bench/bench.py \
  --gateway "$release_dir/bedrock-gateway" \
  --emulator "$release_dir/bedrock-emulator" \
  --out bench/results.md \
  "$@"
