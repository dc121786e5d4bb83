#!/usr/bin/env bash
# README "Run locally": runs the app standalone on this machine, with Azurite as its storage account.
# Installs the pinned Azurite if missing, starts it (data kept under .local/azurite), builds and starts the app on
# PORT (default 7071), prints the callback URLs and sample requests, and stops both on Ctrl-C.
#
# Environment (all optional):
#   PORT                                        the app's port (default 7071)
#   AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT,
#   AZURITE_TABLE_PORT                          Azurite's ports (default: free ports chosen here)
#   AZURITE_LOCATION                            Azurite's data folder (default .local/azurite)
#   Tencent__Apps__<SdkAppId>__CallbackToken    Tencent apps served (default: app 1400000001 without a token)
#   OpenIm__AppId, OpenIm__CallbackKey          OpenIM app id (default "openim") and URL key (default none)
#   QueryApi__Keys                              query API keys (default none: loopback callers only)
#   Callbacks__AllowUnsigned                    default true here: unsigned callbacks are accepted (local only)
#   and every other setting of the README's configuration table.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-azurite.sh

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})"
}

wait_for_port() { # port, what, pid
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$2 exited before listening on port $1." >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$2 did not listen on port $1 within 30 s." >&2
  return 1
}

app_port="${PORT:-7071}"
blob_port="${AZURITE_BLOB_PORT:-$(free_port)}"
queue_port="${AZURITE_QUEUE_PORT:-$(free_port)}"
table_port="${AZURITE_TABLE_PORT:-$(free_port)}"
location="${AZURITE_LOCATION:-.local/azurite}"
mkdir -p "$location"

azurite_pid=""
app_pid=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    echo "Stopping the app..."
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if [ -n "$azurite_pid" ] && kill -0 "$azurite_pid" 2>/dev/null; then
    echo "Stopping Azurite..."
    kill -TERM "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo "Starting Azurite (data in $location)..."
node_modules/.bin/azurite --silent --disableTelemetry --location "$location" \
  --blobHost 127.0.0.1 --blobPort "$blob_port" \
  --queueHost 127.0.0.1 --queuePort "$queue_port" \
  --tableHost 127.0.0.1 --tablePort "$table_port" &
azurite_pid=$!
wait_for_port "$queue_port" Azurite "$azurite_pid"
wait_for_port "$table_port" Azurite "$azurite_pid"

echo "Building the app..."
dotnet build FunctionApp/FunctionApp.csproj -c Release --nologo -v quiet

account=devstoreaccount1
# Azurite's well-known development key (public, documented by Microsoft).
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export RelationshipStorage="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob_port/$account;QueueEndpoint=http://127.0.0.1:$queue_port/$account;TableEndpoint=http://127.0.0.1:$table_port/$account;"
export PORT="$app_port"
unset FUNCTIONS_CUSTOMHANDLER_PORT
if ! env | grep -q '^Tencent__Apps__'; then
  export Tencent__Apps__1400000001__CallbackToken=""
fi
# A local run accepts unsigned callbacks (the default app has no token, OpenIM no key); a deployment never does.
export Callbacks__AllowUnsigned="${Callbacks__AllowUnsigned:-true}"

echo "Starting the app on port $app_port..."
dotnet FunctionApp/bin/Release/net10.0/FunctionApp.dll &
app_pid=$!
wait_for_port "$app_port" "The app" "$app_pid"

base="http://127.0.0.1:$app_port"
tencent_app="$(env | sed -n 's/^Tencent__Apps__\([^_]*\)__CallbackToken=.*/\1/p' | head -n 1)"
openim_key="${OpenIm__CallbackKey:-}"
cat <<INFO

Running (Azurite pid $azurite_pid, app pid $app_pid). Press Ctrl-C to stop both.
Callbacks__AllowUnsigned=$Callbacks__AllowUnsigned: callbacks without a Tencent token or OpenIM key are accepted.
This is for a local run only; a deployment refuses to start that way.

Callback URLs:
  Tencent:  $base/api/callbacks/tencent
  OpenIM:   $base/api/callbacks/openim${openim_key:+/<OpenIm__CallbackKey>}
Query API:  $base/api/v1/apps/{appId}/users/{userId}/friends|blocklist|friend-of|blocked-by|history
Health:     $base/api/health

Sample Tencent callback (app $tencent_app; a signed app also needs &Sign=..&RequestTime=..):
  curl -X POST '$base/api/callbacks/tencent?SdkAppid=$tencent_app&CallbackCommand=Sns.CallbackFriendAdd&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI' \\
    -H 'Content-Type: application/json' \\
    -d '{"CallbackCommand":"Sns.CallbackFriendAdd","PairList":[{"From_Account":"alice","To_Account":"bob","Initiator_Account":"alice"}],"ClientCmd":"friend_add","Admin_Account":"","ForceFlag":0}'
Sample query (alice's friends):
  curl '$base/api/v1/apps/$tencent_app/users/alice/friends'${QueryApi__Keys:+" -H 'x-api-key: <one of QueryApi__Keys>'"}

INFO

# Runs until the app or Azurite exits, or Ctrl-C.
set +e
wait -n "$app_pid" "$azurite_pid"
status=$?
set -e
echo "A process exited (status $status); stopping." >&2
exit "$status"
