# Sourced by the other scripts: the project's own Python environment, `.venv/` in the repository
# (ignored by git). Every Python tool the scripts use (pytest and the OpenAI client libraries,
# moto, cfn-lint, cargo-lambda) is installed there, never into the interpreter they were started
# with, so `make test` leaves the user's Python as it found it.
#
#   use_venv tests/requirements.txt     # create .venv if needed, install what the file pins,
#                                       # and put .venv/bin first on PATH
#   use_venv                            # the same without installing anything
#
# Installs are skipped when the requirement files have not changed since the last install (a
# stamp per list of files holds their SHA-256), so a second `make test` starts at once. PYTHON picks the
# interpreter the environment is created from (default python3).

VENV_DIR="${VENV_DIR:-$(pwd)/.venv}"

# The given requirement files and, recursively, those they include with `-r`.
requirement_files() {
  local file
  for file in "$@"; do
    echo "$file"
    sed -n 's/^-r[[:space:]]*//p' "$file" | while read -r nested; do
      requirement_files "$(dirname "$file")/$nested"
    done
  done
}

use_venv() {
  local python="${PYTHON:-python3}"
  if [ ! -x "$VENV_DIR/bin/python" ]; then
    echo "venv: creating $VENV_DIR from $(command -v "$python")" >&2
    "$python" -m venv "$VENV_DIR" || {
      echo "venv: could not create a virtual environment; install Python's venv module (Debian: apt-get install python3-venv)" >&2
      return 1
    }
  fi
  if [ "$#" -gt 0 ]; then
    local stamp wanted
    stamp="$VENV_DIR/.installed-$(echo "$*" | sha256sum | cut -c1-12)"
    wanted="$(requirement_files "$@" | xargs cat | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
      local args=()
      for file in "$@"; do args+=(-r "$file"); done
      "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" || return 1
      echo "$wanted" >"$stamp"
    fi
  fi
  export VIRTUAL_ENV="$VENV_DIR"
  export PATH="$VENV_DIR/bin:$PATH"
  hash -r
}
