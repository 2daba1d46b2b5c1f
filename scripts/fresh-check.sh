#!/usr/bin/env bash
# The fresh-machine check: runs CI (`.ci/run`, i.e. `make test`) the way a new machine would,
# so that no test can pass only because of what happens to be in this machine's caches.
#
#   scripts/fresh-check.sh            # clone HEAD into a temporary folder and run CI there
#   KEEP=1 scripts/fresh-check.sh     # keep the folder afterwards (its path is printed)
#
# What is fresh:
# - the repository: a `git clone` of the committed HEAD (uncommitted changes are not included;
#   commit first), with `../shared` beside it as CI has it, when this checkout has one;
# - Rust: an empty CARGO_HOME holding only a copy of the toolchain binaries (~/.cargo/bin), so
#   every crate is downloaded from the registry again, and a new target folder;
# - Python: `python3` is an empty virtual environment made from your interpreter, with nothing
#   else of yours on PATH (no global moto_server, cfn-lint or pytest to fall back on), and an
#   empty pip cache;
# - Node: an empty npm cache.
# Afterwards it checks that your interpreter's package list is what it was before: `make test`
# installs nothing globally. Needs git and the network access CI has (the package registries).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/fresh-check.XXXXXX")"
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "fresh-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

host_python="$(command -v python3)"
packages_before="$("$host_python" -m pip list --format=freeze 2>/dev/null | sort)"

git clone --quiet --no-hardlinks "$repo" "$work/repo"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
echo "fresh-check: $(git -C "$work/repo" log -1 --format='%h %s') in $work/repo"

mkdir -p "$work/cargo-home" "$work/pip-cache" "$work/npm-cache"
cp -a "${CARGO_HOME:-$HOME/.cargo}/bin" "$work/cargo-home/bin"
"$host_python" -m venv "$work/python"

# Only system folders, the copied toolchain and the empty interpreter on PATH.
fresh_path="$work/python/bin:$work/cargo-home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
started=$SECONDS
status=0
env -u VIRTUAL_ENV -u PYTHONPATH -u CARGO_TARGET_DIR -u RUSTC_WRAPPER \
  PATH="$fresh_path" \
  RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
  CARGO_HOME="$work/cargo-home" \
  PIP_CACHE_DIR="$work/pip-cache" PYTHONNOUSERSITE=1 \
  npm_config_cache="$work/npm-cache" \
  bash "$work/repo/.ci/run" || status=$?
elapsed=$((SECONDS - started))

packages_after="$("$host_python" -m pip list --format=freeze 2>/dev/null | sort)"
if [ "$packages_before" != "$packages_after" ]; then
  echo "fresh-check: FAILED: the run changed $host_python's packages:" >&2
  diff <(echo "$packages_before") <(echo "$packages_after") >&2 || true
  status=1
fi

printf 'fresh-check: %s in %dm%02ds (exit %d)\n' \
  "$([ "$status" = 0 ] && echo passed || echo FAILED)" $((elapsed / 60)) $((elapsed % 60)) "$status"
exit "$status"
