#!/usr/bin/env bash
# Starts the server on a fresh machine: installs Bun and the runtime
# dependencies from npm when they are missing or older than package-lock.json,
# then runs `bun run server.ts` with any flags given.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "start: installing Bun and the dependencies from npm"
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/bun run server.ts "$@"
