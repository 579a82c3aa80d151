#!/usr/bin/env bash
# Installs what AgentKit needs, idempotently: Python packages, and bun (Reflex's JS runtime)
# from the npm registry, since Reflex's own bun download needs the open internet.
# `setup.sh --dev` adds the test, lint and type-check tools (requirements-dev.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
BUN_VERSION=1.4.4

REQUIREMENTS="$ROOT/requirements.txt"
[ "${1:-}" = "--dev" ] && REQUIREMENTS="$ROOT/requirements-dev.txt"
"$PYTHON" -m pip install --disable-pip-version-check -q -r "$REQUIREMENTS"

if [ ! -x "$ROOT/.bun/node_modules/bun/bin/bun.exe" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install bun (apt-get install -y npm)" >&2; exit 1; }
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$ROOT/.bun" "bun@$BUN_VERSION" >/dev/null
fi
