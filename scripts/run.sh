#!/usr/bin/env bash
# Installs what is missing and starts AgentKit (UI and API on one port, default 3000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/env.sh"
cd "$ROOT"
PORT="${AGENTKIT_PORT:-3000}"
echo "AgentKit starting on http://localhost:$PORT (API docs: http://localhost:$PORT/api/v1/docs)"
exec "${PYTHON:-python3}" -m reflex run --env prod --frontend-port "$PORT" --backend-port "$PORT" "$@"
