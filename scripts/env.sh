# Environment for running Reflex offline with the bun installed by setup.sh (sourced by run.sh and test.sh).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REFLEX_USE_SYSTEM_BUN=1
export REFLEX_BUN_PATH="$ROOT/.bun/node_modules/bun/bin/bun.exe"
export PATH="$ROOT/.bun/node_modules/.bin:$PATH"
export BUN_INSTALL_CACHE_DIR="$ROOT/.bun/cache"
export REFLEX_DIR="$ROOT/.reflex"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
