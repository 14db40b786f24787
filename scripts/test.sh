#!/usr/bin/env bash
# The whole test suite on a fresh machine, one command: install what is
# missing, type-check the project (`tsc --noEmit`), then run every test tier
# with `bun test` (extra arguments are passed through to it, e.g. a file
# filter). A type error fails the run, but the tests still run, so one run
# reports both.
#
# The tiers alone, without the type check: `npm run test:unit` (pure modules,
# under a few seconds), `npm run test:integration` (real sockets in-process),
# `npm run test:e2e` (processes, Redis, Chromium).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit

typecheck=0
echo "typecheck: tsc --noEmit"
if ! node_modules/.bin/tsc --noEmit -p .; then
  typecheck=1
  echo "typecheck: tsc --noEmit found type errors (listed above); running the tests anyway" >&2
fi

node_modules/.bin/bun test "$@"
tests=$?
if [ "$typecheck" -ne 0 ]; then
  echo "typecheck: failed, so this run fails whatever the tests say" >&2
  [ "$tests" -eq 0 ] && exit 1
fi
exit "$tests"
