#!/usr/bin/env bash
# Make sure uv and the locked Python environment (.venv) exist. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python312() {
  local candidate
  for candidate in "${PYTHON312:-}" "$(command -v python3.12 2>/dev/null || true)" \
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
      2>/dev/null && { echo "$candidate"; return 0; }
  done
  return 1
}

PY312=$(find_python312) || { echo "Python 3.12 is required (set PYTHON312=/path/to/python3.12)" >&2; exit 1; }

if uv --version >/dev/null 2>&1; then
  UV=$(command -v uv)
elif "$(dirname "$PY312")/uv" --version >/dev/null 2>&1; then
  UV="$(dirname "$PY312")/uv"
else
  echo "installing uv (from PyPI) into $(dirname "$PY312")" >&2
  "$PY312" -m pip install --quiet --disable-pip-version-check uv
  UV="$(dirname "$PY312")/uv"
fi

"$UV" sync --frozen --python "$PY312" --quiet
