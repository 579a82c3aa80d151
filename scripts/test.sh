#!/usr/bin/env bash
# Installs what the tests need (Python packages, bun, Debian's chromium) and runs lint and the tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --dev
# Debian's chromium for the browser tests, with emoji and CJK fonts so pages render as users see them;
# bubblewrap for the shell tool's sandbox (without it the shell is off and its tests fail)
if ! command -v chromium >/dev/null || [ ! -d /usr/share/fonts/truetype/noto ] || ! command -v bwrap >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji fonts-noto-cjk bubblewrap >/dev/null
fi
source "$ROOT/scripts/env.sh"
# the browser benchmark's smoke run (tests/bench) starts the whole app: on by default here, off in a bare pytest
export AGENTKIT_BENCH_BROWSER="${AGENTKIT_BENCH_BROWSER:-1}"
cd "$ROOT"
"${PYTHON:-python3}" -m ruff check .
"${PYTHON:-python3}" -m ruff format --check .
"${PYTHON:-python3}" -m mypy
"${PYTHON:-python3}" -m pytest -q "$@"
