#!/usr/bin/env bash
# Installs what is missing and starts AgentKit (UI and API on one port, default 3000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# The shell tool runs commands in a bubblewrap sandbox; without bwrap the app starts with the shell off.
if ! command -v bwrap >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; } >/dev/null 2>&1 \
    || echo "bubblewrap could not be installed: the shell tool stays off" >&2
fi
source "$ROOT/scripts/env.sh"
cd "$ROOT"
PORT="${AGENTKIT_PORT:-3000}"
echo "AgentKit starting on http://localhost:$PORT (API docs: http://localhost:$PORT/api/v1/docs)"
exec "${PYTHON:-python3}" -m reflex run --env prod --frontend-port "$PORT" --backend-port "$PORT" "$@"
