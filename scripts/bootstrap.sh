# Sourced by scripts/serve and scripts/test: makes .venv with AronaNET installed in it.
# Re-running is cheap: pip only installs what changed.
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
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  local target="$ROOT"
  [ -n "$extras" ] && target="$ROOT[$extras]"
  echo "==> installing AronaNET${extras:+ with [$extras]} into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$target"
}
