#!/usr/bin/env bash
# Mutation testing of the protocol, core and store-planning code with Stryker.NET (docs/TESTING.md).
#   bash bench/mutation.sh                      every file in scope (bench/stryker-config.json)
#   bash bench/mutation.sh '**/EdgeRecord.cs'   only the files matching the given globs (to iterate on one file)
# Prints one line per mutated file and a total, each
#   mutation_score: <percent> % | baseline 100 % | ratio <score / 100>
# then every surviving mutant (file:line, mutator, replacement). Not part of scripts/test.sh: it takes tens of minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The pinned Stryker.NET from the local tool manifest (.config/dotnet-tools.json).
dotnet tool restore >/dev/null

# Stryker builds the projects and then swaps mutated assemblies into their output folders, so it runs on a copy of
# the working tree (tracked and new, unignored files): the tree's own bin/ and obj/ stay untouched and tests can run
# there meanwhile.
work="$(mktemp -d "${TMPDIR:-/tmp}/relcb-mutation.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$work"

mutate=()
for glob in "$@"; do
  mutate+=(--mutate "$glob")
done

started=$SECONDS
(
  cd "$work/FunctionApp.Tests"
  dotnet stryker --config-file ../bench/stryker-config.json --output "$work/stryker" --skip-version-check "${mutate[@]}"
) >"$work/stryker.log" 2>&1 || { tail -n 60 "$work/stryker.log" >&2; echo "Stryker failed (log above)." >&2; exit 1; }
elapsed=$((SECONDS - started))

report="$(find "$work/stryker" -name mutation-report.json | head -n 1)"
[ -n "$report" ] || { tail -n 60 "$work/stryker.log" >&2; echo "Stryker wrote no JSON report." >&2; exit 1; }
mkdir -p "$root/out/mutation"
cp "$report" "$root/out/mutation/mutation-report.json"
cp "$work/stryker.log" "$root/out/mutation/stryker.log"

python3 - "$report" "$work/" "$elapsed" <<'PY'
import json, sys

report, prefix, elapsed = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = json.load(open(report))["files"]
# Stryker's mutation score: detected (killed or timed out) over valid mutants (detected, survived or never covered).
detected_statuses, undetected_statuses = {"Killed", "Timeout"}, {"Survived", "NoCoverage"}

def line(name, detected, valid):
    score = 100.0 * detected / valid if valid else 100.0
    return f"{name}mutation_score: {score:.1f} % | baseline 100 % | ratio {score / 100:.3f} ({detected}/{valid} mutants detected)"

total_detected = total_valid = 0
survivors = []
for path in sorted(files):
    name = path[len(prefix):] if path.startswith(prefix) else path
    mutants = files[path]["mutants"]
    detected = sum(m["status"] in detected_statuses for m in mutants)
    valid = detected + sum(m["status"] in undetected_statuses for m in mutants)
    if not valid:
        continue
    total_detected += detected
    total_valid += valid
    print(line(f"{name}: ", detected, valid))
    for m in mutants:
        if m["status"] in undetected_statuses:
            start = m["location"]["start"]
            survivors.append(f"  {name}:{start['line']}:{start['column']} {m['status']} {m['mutatorName']}: {m.get('replacement', '').strip()[:120]}")

print(line("", total_detected, total_valid))
print(f"mutation_duration: {elapsed} s")
print(f"survivors: {len(survivors)}")
print("\n".join(survivors))
PY
