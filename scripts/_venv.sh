# Sourced by scripts/demo and scripts/test: make ./.venv with the project and its test tools installed.
# Re-installs only when pyproject.toml changed since the last install; pip's output goes to .venv/install.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
STAMP=.venv/.hirebot-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installing hirebot and its test tools into .venv (first run only)..." >&2
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e ".[test]"; } \
      > .venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "Installing failed; the whole log is in .venv/install.log" >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
