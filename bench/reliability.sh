#!/usr/bin/env bash
# Reliability runs (docs/BENCHMARKS.md), apart from the test suite because they take minutes:
#   hostile  >= 200 generated bad requests per platform, standalone (Storage queue) and in Functions mode (the route
#            the host forwards to, sending to the Service Bus test broker): every answer a 4xx in the platform's
#            format, the process alive afterwards, nothing enqueued (Storage queue, poison queue, history rows; or
#            the broker's queue)
#   crash    steady load, SIGKILL the app, start it again: every acknowledged callback stored exactly once
#   outage   stop Azurite for 20 s under load: fast 5xx while it is down, never a false acknowledgement; after it
#            returns the queue drains and every acknowledged callback is stored exactly once
#   storage-outage
#            stop the tables' Azurite for 3 minutes under load in each delivery (Functions trigger invocation,
#            standalone Service Bus drain, standalone Storage queue drain), with the app's default redelivery
#            settings: nothing dead-lettered or poisoned, everything acknowledged applied once it is back. The suite's
#            StorageOutageTests with RELIABILITY_OUTAGE_SECONDS set (the suite itself runs a 15 s outage).
# Usage: bench/reliability.sh [hostile|crash|outage|storage-outage ...]   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(hostile crash outage storage-outage)
failed=0
result() { echo "$1"; }
drain() { # waits until the app's queue is empty (every acknowledged batch applied or poisoned)
  local deadline=$((SECONDS + ${1:-180}))
  until [ "$(lg queue-count --storage "$storage" --queue "$events_queue")" = 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { log "the queue did not drain"; failed=1; return 0; }
    sleep 0.5
  done
}

build_all
start_azurite
start_broker hostile-events

for part in "${parts[@]}"; do
  case "$part" in
  hostile)
    for mode in functions standalone; do
      if [ "$mode" = functions ]; then start_app functions "RelationshipEventsQueue=hostile-events"; else start_app standalone; fi
      for platform in tencent openim; do
        if [ "$mode" = standalone ]; then
          extra=(--storage "$storage" --queue "$events_queue")
        else
          extra=(--broker-status "$broker_status" --broker-queue hostile-events)
        fi
        line="$(lg fuzz --url "$app_url" --platform "$platform" --app "$tencent_app" --token "$tencent_token" \
          --openim-key "$openim_key" "${extra[@]}")" || failed=1
        alive=yes
        kill -0 "$app_pid" 2>/dev/null || { alive=no; failed=1; }
        result "hostile_${platform}_${mode}: $line process_alive=$alive"
      done
      stop_app
    done
    ;;
  crash)
    start_app standalone
    log "crash: 25 s of load (16 connections); SIGKILL the app at 8 s, start it again at 10 s..."
    lg http --url "$app_url" --connections 16 --warmup 0 --duration 25 --app "$tencent_app" \
      --token "$tencent_token" --pairs 3 --run crash --timeout 5 --acks "$work/acks-crash" >"$work/crash-load" &
    load_pid=$!
    started_pids+=("$load_pid")
    sleep 8
    stop_app KILL
    sleep 2
    start_app standalone
    wait "$load_pid" || failed=1
    drain
    verify="$(lg verify --storage "$storage" --app "$tencent_app" --pairs 3 --acks "$work/acks-crash")" || failed=1
    result "crash: $(cat "$work/crash-load")"
    result "crash: $verify"
    stop_app
    ;;
  outage)
    start_app standalone
    log "outage: 50 s of load (16 connections); Azurite stopped from 10 s to 30 s..."
    lg http --url "$app_url" --connections 16 --warmup 0 --duration 50 --app "$tencent_app" \
      --token "$tencent_token" --pairs 3 --run outage --timeout 10 --acks "$work/acks-outage" >"$work/outage-load" &
    load_pid=$!
    started_pids+=("$load_pid")
    sleep 10
    stop_azurite
    log "outage: Azurite stopped"
    sleep 20
    start_azurite
    log "outage: Azurite back"
    wait "$load_pid" || failed=1
    drain
    verify="$(lg verify --storage "$storage" --app "$tencent_app" --pairs 3 --acks "$work/acks-outage")" || failed=1
    load="$(cat "$work/outage-load")"
    result "outage: $load"
    result "outage: max latency of an answer that was not an acknowledgement: $(field max_not_ok_ms "$load") ms (answers by status: $(field statuses "$load"))"
    result "outage: $verify"
    stop_app
    ;;
  storage-outage)
    # The tests find Azurite and the handler from their own output folder, so they build in the repository's.
    outage_seconds="${STORAGE_OUTAGE_SECONDS:-180}"
    log "storage-outage: Azurite stopped for $outage_seconds s under load in each of the three deliveries, one after the other..."
    RELIABILITY_OUTAGE_SECONDS="$outage_seconds" dotnet test FunctionApp.Tests/FunctionApp.Tests.csproj -c Release --nologo \
      -p:UseSharedCompilation=false -nodeReuse:false --filter "FullyQualifiedName~StorageOutageTests" \
      --logger "console;verbosity=detailed" >"$work/storage-outage.log" 2>&1 || { failed=1; grep -E "Failed|Error Message" -A3 "$work/storage-outage.log" >&2 || true; }
    lines="$(grep -o 'storage_outage_[a-z]*: .*' "$work/storage-outage.log" || true)"
    [ "$(grep -c . <<<"$lines")" = 3 ] || { log "storage-outage: not every delivery reported"; failed=1; }
    while IFS= read -r line; do [ -n "$line" ] && result "$line"; done <<<"$lines"
    ;;
  *) log "unknown part '$part' (hostile, crash, outage, storage-outage)"; exit 2 ;;
  esac
done

machine
[ "$failed" = 0 ] && echo "reliability: PASSED (${parts[*]})" || { echo "reliability: FAILED (${parts[*]})"; exit 1; }
