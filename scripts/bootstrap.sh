# Sourced by scripts/serve and scripts/test: makes .venv with AronaNET installed in it.
# Re-running is cheap: pip runs only when pyproject.toml, the extras or Python changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ARONANET_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

bootstrap_python() {
  # $1: the pip extras to install ("" for a node only, "dev" for the test suite)
  local extras="${1:-}"
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "AronaNET needs Python 3.11 or newer; '$PYTHON' is older or missing." >&2
    echo "Install Python 3.11+ and run again (or set PYTHON=/path/to/python3.11)." >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating a Python environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # The install is editable: source changes need no reinstall, only a change of the
  # dependencies (pyproject.toml), of the extras, of the checkout's place or of Python does.
  # A stamp of those skips pip (about 10 s) when nothing changed.
  local stamp="$VENV/.aronanet-installed${extras:+-$extras}"
  local wanted
  wanted="$(install_fingerprint "$extras")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x "$VENV/bin/aronanet" ]; then
    return 0
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  local target="$ROOT"
  [ -n "$extras" ] && target="$ROOT[$extras]"
  echo "==> installing AronaNET${extras:+ with [$extras]} into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$target"
  printf '%s\n' "$wanted" > "$stamp"
}

install_fingerprint() {
  # What the installed environment depends on: the dependency list, the extras, where the
  # checkout is (an editable install points at it) and the Python version.
  {
    cat "$ROOT/pyproject.toml"
    printf '%s\n%s\n' "$1" "$ROOT"
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
  } | "$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}
