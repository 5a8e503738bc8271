# Sourced by scripts/demo, scripts/test and scripts/lint: make ./.venv with the project and its test tools installed.
# Installs the exact versions pinned in requirements.lock, then the project itself without resolving anything
# (--no-deps), and checks that the pins satisfy pyproject.toml's ranges (`pip check`). Re-installs only when
# pyproject.toml or requirements.lock changed since the last install; pip's output goes to .venv/install.log.
# Refresh the lock with ./scripts/lock (README, "Dependencies and the lock file").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
STAMP=.venv/.hirebot-installed
WANT="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installing hirebot and its test tools into .venv from requirements.lock (first run only)..." >&2
  if ! { .venv/bin/python -m pip install --upgrade pip \
         && .venv/bin/python -m pip install -r requirements.lock \
         && .venv/bin/python -m pip install --no-deps -e . \
         && .venv/bin/python -m pip check; } > .venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "Installing failed; the whole log is in .venv/install.log (a pin outside pyproject.toml's ranges: run" \
         "./scripts/lock)" >&2
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
