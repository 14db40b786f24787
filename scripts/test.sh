#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, then run
# `bun test` (extra arguments are passed through, e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/bun test "$@"
