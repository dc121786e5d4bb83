#!/usr/bin/env bash
# Installs the Azurite version pinned in package.json (npm ci) when node_modules lacks it or holds another version.
# Used by scripts/test.sh and scripts/run-local.sh; run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

want_azurite="$(node -p "require('./package.json').devDependencies.azurite")"
if [ ! -x node_modules/.bin/azurite ] || [ "$(node_modules/.bin/azurite --version 2>/dev/null)" != "$want_azurite" ]; then
  echo "Installing the pinned Azurite $want_azurite (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi
