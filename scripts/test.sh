#!/usr/bin/env bash
# The project's test command (README "Test"): installs the pinned tools it needs, checks formatting,
# builds warning-free and runs every test, storage tests against a real Azurite the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-azurite.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore RelationshipCallbacks.slnx --nologo -v quiet
dotnet format RelationshipCallbacks.slnx --verify-no-changes --no-restore -v quiet \
  || { echo "dotnet format found changes: run 'dotnet format RelationshipCallbacks.slnx' and commit." >&2; exit 1; }

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test RelationshipCallbacks.slnx -c Release --no-restore --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain summary line, whatever the runner printed.
summary="$(grep -E '(Passed|Failed)!? +- +Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -n 1)"
if [ -n "$summary" ]; then
  failed="$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")"
  passed="$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")"
  skipped="$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")"
  echo "tests: $passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
