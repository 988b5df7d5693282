#!/usr/bin/env bash
# `npm test` in a fresh clone of this checkout's HEAD, inside a private directory (mode 0700, from
# mktemp -d) with no ../shared beside it, as whoever runs this (root included): the clone a new
# contributor makes. PYFENCE_CLONE_OFFLINE=1 links this checkout's node_modules and copies its wasm/
# instead of `npm install` (for machines without the registry). Files given: test only those.
#   test/clone-check.sh [test/cli.test.ts ...]
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
echo "clone-check: $dir (mode $(stat -c %a "$dir")) as $(id -un)"
git clone -q "$src" "$dir/pyfence"
cd "$dir/pyfence"
if [ -n "${PYFENCE_CLONE_OFFLINE:-}" ]; then
  ln -s "$src/node_modules" node_modules
  cp -r "$src/wasm" wasm
  npx tsc -p . && node build/finish-dist.mjs
else
  npm install --no-audit --no-fund
fi
if [ $# -gt 0 ]; then
  npm run pretest --silent
  node --import tsx --test --test-concurrency=3 --test-timeout=300000 "$@"
else
  npm test
fi
