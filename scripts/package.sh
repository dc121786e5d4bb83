#!/usr/bin/env bash
# Builds the deployable zip of the function app (README "Deploy"):
#   host.json                  at the root
#   <Function>/function.json   one folder per function (every repo-root folder holding a function.json)
#   handler/FunctionApp        the self-contained linux-x64 custom handler host.json starts, executable bit kept
# Usage: scripts/package.sh [OUT.zip]   (default: out/relationship-callbacks.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

out="${1:-out/relationship-callbacks.zip}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
mkdir -p "$(dirname "$out")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
staging="$work/package"
mkdir -p "$staging"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# --artifacts-path keeps this build's bin/obj out of the repository, so it never races a build or test run there.
dotnet publish FunctionApp/FunctionApp.csproj -c Release -r linux-x64 --self-contained true \
  -p:PublishReadyToRun=true -p:UseSharedCompilation=false -nodeReuse:false \
  --artifacts-path "$work/artifacts" -o "$staging/handler" --nologo -v quiet

cp host.json "$staging/"
functions=0
for function_json in */function.json; do
  [ -f "$function_json" ] || continue
  name="$(dirname "$function_json")"
  mkdir -p "$staging/$name"
  cp "$function_json" "$staging/$name/"
  functions=$((functions + 1))
done
if [ "$functions" -eq 0 ]; then
  echo "package.sh: no function folders (<name>/function.json) at the repository root." >&2
  exit 1
fi
if [ ! -x "$staging/handler/FunctionApp" ]; then
  echo "package.sh: the publish did not produce an executable handler/FunctionApp." >&2
  exit 1
fi

# python3's zipfile (not the zip tool, which may be missing) with Unix modes in the external attributes,
# so the platform can execute handler/FunctionApp after extracting the package.
rm -f "$out"
python3 - "$staging" "$out" <<'PY'
import os, stat, sys, zipfile

staging, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
    for directory, subdirectories, files in os.walk(staging):
        subdirectories.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            entry = zipfile.ZipInfo.from_file(path, os.path.relpath(path, staging))
            entry.create_system = 3  # Unix, so readers honour the mode bits below
            entry.external_attr = (stat.S_IFREG | stat.S_IMODE(os.stat(path).st_mode)) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as source:
                archive.writestr(entry, source.read(), compresslevel=6)
PY

size="$(stat -c %s "$out")"
echo "package: $out ($size bytes, $functions functions)"
