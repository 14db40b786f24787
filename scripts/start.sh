#!/usr/bin/env bash
# Starts the server on a fresh machine: installs Bun from npm if it is not
# there yet, then runs `bun run server.ts` with any flags given.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ]; then
  echo "start: installing Bun from npm (first run only)"
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/bun run server.ts "$@"
