#!/usr/bin/env bash
# `make test-openwebui`: installs Open WebUI from PyPI into its own virtual environment inside
# the repository (`.venv-openwebui/`, ignored by git) and runs the browser scenarios
# (tests/browser/test_openwebui.py) in Debian's Chromium against it, over the gateway and the
# emulator. Not part of `make test`: the install is several GB (PyTorch comes with CUDA
# libraries from PyPI) and takes minutes; see docs/development.md#make-test-openwebui.
#
#   OPEN_WEBUI_VERSION   (0.12.4) the version installed
#   OPEN_WEBUI_PIP_ARGS  extra pip arguments, e.g. a CPU-only PyTorch where its index is
#                        reachable: --extra-index-url https://download.pytorch.org/whl/cpu
#   CHROMIUM             (/usr/bin/chromium)
#
# Open WebUI is started by the tests, offline, with a fresh DATA_DIR each run:
# OFFLINE_MODE=true WEBUI_AUTH=false ENABLE_OLLAMA_API=false OPENAI_API_BASE_URL=<gateway>.
# Screenshots: target/browser/openwebui-*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

die() { echo "test-openwebui: $*" >&2; exit 1; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing; install Debian's Chromium: apt-get install chromium (or set CHROMIUM)"
export CHROMIUM

OPEN_WEBUI_VERSION="${OPEN_WEBUI_VERSION:-0.12.4}"
OPEN_WEBUI_VENV="$(pwd)/.venv-openwebui"
if [ "$("$OPEN_WEBUI_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("open-webui"))' 2>/dev/null)" != "$OPEN_WEBUI_VERSION" ]; then
  echo "test-openwebui: installing open-webui==$OPEN_WEBUI_VERSION into $OPEN_WEBUI_VENV (several GB, minutes)" >&2
  start=$SECONDS
  "${PYTHON:-python3}" -m venv "$OPEN_WEBUI_VENV"
  # shellcheck disable=SC2086 # OPEN_WEBUI_PIP_ARGS is a list of arguments
  "$OPEN_WEBUI_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    ${OPEN_WEBUI_PIP_ARGS:-} "open-webui==$OPEN_WEBUI_VERSION"
  echo "test-openwebui: installed in $((SECONDS - start)) s, $(du -sh "$OPEN_WEBUI_VENV" | cut -f1)" >&2
fi
export OPEN_WEBUI_BIN="$OPEN_WEBUI_VENV/bin/open-webui"

use_venv tests/requirements.txt
(cd tests/browser && npm ci --silent --no-audit --no-fund)
cargo build --quiet --workspace --bins
python -m pytest tests/browser/test_openwebui.py -v "$@"
