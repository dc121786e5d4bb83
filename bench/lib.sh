# Shared by bench/run and bench/reliability.sh: build once, start Azurite, the Service Bus test broker and the app on
# free ports, and stop every process started here on exit, failure or Ctrl-C. Source it from the repository root.

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
root="$PWD"
work="$(mktemp -d "${TMPDIR:-/tmp}/relcb-bench.XXXXXX")"
started_pids=()
azurite_pid=""
app_pid=""
broker_pid=""

bench_cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  if [ -f "$work/cold-start.pid" ]; then kill "$(cat "$work/cold-start.pid")" 2>/dev/null || true; fi
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { log "nothing listens on port $1 after $2 s"; return 1; }
    sleep 0.1
  done
}

# Publishes the handler self-contained for linux-x64 with ReadyToRun (as scripts/package.sh does) and builds the
# load generator; both build outside the repository's bin/obj folders.
build_all() {
  want_azurite="$(node -p "require('./package.json').devDependencies.azurite")"
  if [ ! -x node_modules/.bin/azurite ] || [ "$(node_modules/.bin/azurite --version 2>/dev/null)" != "$want_azurite" ]; then
    log "Installing the pinned Azurite $want_azurite (npm ci)..."
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
  log "Publishing the handler (Release, linux-x64, self-contained, ReadyToRun)..."
  dotnet publish FunctionApp/FunctionApp.csproj -c Release -r linux-x64 --self-contained true \
    -p:PublishReadyToRun=true -p:UseSharedCompilation=false -nodeReuse:false \
    --artifacts-path "$work/artifacts" -o "$work/handler" --nologo -v quiet >&2
  log "Building the load generator..."
  dotnet build bench/LoadGenerator/LoadGenerator.csproj -c Release -p:UseSharedCompilation=false -nodeReuse:false \
    --artifacts-path "$work/artifacts-load" --nologo -v quiet >&2
  handler="$work/handler/FunctionApp"
  loadgen="$work/artifacts-load/bin/LoadGenerator/release/LoadGenerator"
  [ -x "$handler" ] && [ -x "$loadgen" ] || { log "build outputs missing"; return 1; }
}

lg() { "$loadgen" "$@"; }

# Azurite with on-disk data under $work/azurite, so it can be stopped and started again with its data.
start_azurite() {
  if [ -z "${blob_port:-}" ]; then
    blob_port="$(free_port)"; queue_port="$(free_port)"; table_port="$(free_port)"
  fi
  mkdir -p "$work/azurite"
  node_modules/.bin/azurite --silent --disableTelemetry --location "$work/azurite" \
    --blobHost 127.0.0.1 --blobPort "$blob_port" --queueHost 127.0.0.1 --queuePort "$queue_port" \
    --tableHost 127.0.0.1 --tablePort "$table_port" >>"$work/azurite.log" 2>&1 &
  azurite_pid=$!
  started_pids+=("$azurite_pid")
  wait_port "$blob_port" 60 && wait_port "$queue_port" 60 && wait_port "$table_port" 60
  account_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$account_key;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table_port/devstoreaccount1;"
}

stop_pid() { # pid [signal]
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

stop_azurite() { [ -n "$azurite_pid" ] && stop_pid "$azurite_pid"; azurite_pid=""; }

# start_broker QUEUE...: the project's Service Bus test broker (LoadGenerator broker) on a free port, with these
# queues; sets service_bus (its connection string) and broker_status (the file it rewrites every 100 ms with each
# queue's counts, read by sb_count).
start_broker() {
  broker_status="$work/broker.status"
  local -a queues=()
  local queue
  for queue in "$@"; do queues+=(--queue "$queue"); done
  # Not through lg: a function run in the background is a subshell, and stopping it would leave the broker running.
  "$loadgen" broker --status "$broker_status" "${queues[@]}" >"$work/broker.out" 2>>"$work/broker.log" &
  broker_pid=$!
  started_pids+=("$broker_pid")
  local deadline=$((SECONDS + 60))
  until [ -s "$work/broker.out" ]; do
    kill -0 "$broker_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || { log "the broker did not start: $(cat "$work/broker.log")"; return 1; }
    sleep 0.1
  done
  service_bus="$(head -n 1 "$work/broker.out")"
}

# sb_count QUEUE FIELD: a count from the broker's status file (active, dead_letter, sent, completed, duplicates).
sb_count() { field "$2" "$(grep "^queue=$1 " "$broker_status")"; }

# Settings every app run shares: one signed Tencent app, an OpenIM key, the storage.
tencent_app=1400000001
tencent_token="bench-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
openim_key="bench-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
events_queue="relationship-events"

# start_app functions|standalone: starts the published handler on a free port; sets app_pid and app_url.
# start_app MODE [NAME=VALUE ...]: the published handler in MODE; extra settings override the defaults. Functions
# mode sends to Service Bus, so it needs the broker (start_broker) and a queue of it as RelationshipEventsQueue.
start_app() {
  local mode="$1" port
  shift
  port="${app_port:-$(free_port)}"
  app_port="$port"
  local -a env=(
    "Tencent__Apps__${tencent_app}__CallbackToken=$tencent_token"
    "OpenIm__CallbackKey=$openim_key"
    "RelationshipEventsQueue=$events_queue"
    "Benchmark__BaselineEndpoint=true"
  )
  # The app logs as deployed (one Information line per callback) unless BENCH_APP_LOG_LEVEL says otherwise.
  [ -n "${BENCH_APP_LOG_LEVEL:-}" ] && env+=("Logging__LogLevel__Default=$BENCH_APP_LOG_LEVEL")
  [ -n "${storage:-}" ] && env+=("RelationshipStorage=$storage")
  env+=("$@")
  if [ "$mode" = functions ]; then
    [ -n "${service_bus:-}" ] || { log "start_app functions needs the broker (start_broker)"; return 1; }
    env=("ServiceBusConnection=$service_bus" "${env[@]}" "FUNCTIONS_CUSTOMHANDLER_PORT=$port")
  else
    env+=("PORT=$port")
  fi
  (cd "$work/handler" && exec env "${env[@]}" ./FunctionApp) >>"$work/app.log" 2>&1 &
  app_pid=$!
  started_pids+=("$app_pid")
  app_url="http://127.0.0.1:$port"
  wait_port "$port" 60
}

stop_app() { [ -n "$app_pid" ] && stop_pid "$app_pid" "${1:-TERM}"; app_pid=""; }

# field NAME LINE: the value of NAME=value in a key=value line.
field() { grep -o "$1=[^ ]*" <<<"$2" | head -n 1 | cut -d= -f2; }

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else '0')" "$1" "$2"; }

machine() {
  echo "machine: load average $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine shares its cores), $(nproc) cores, $(free -m | awk '/^Mem:/ {print $2}') MB memory, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(uname -sr), .NET $(dotnet --version), Node $(node --version), Azurite $(node_modules/.bin/azurite --version)"
}
