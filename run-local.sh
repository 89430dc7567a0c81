#!/usr/bin/env bash
# Runs Gardien locally on the embedded default: the embedded durable engine and the local adapters on Azurite.
#
#   ./run-local.sh                 the demo: a DMP through intake, approvals, provisioning, grants, audit (docs/local.md)
#   ./run-local.sh status          any other gardien command, against the same local state (inbox, approve TOKEN, sweep...)
#   ./run-local.sh --reset [...]   start from a clean slate (deletes .gardien/: Azurite data, inbox, directory copy)
#   ./run-local.sh --keep [...]    leave Azurite running afterwards (later ./run-local.sh calls reuse it; --reset stops it)
#
# State lives in .gardien/ (git-ignored): a second run joins the existing intake instead of provisioning again.
# Azurite listens on 127.0.0.1 only, on its usual ports 10000-10002 when free, else on free ports.
set -euo pipefail
cd "$(dirname "$0")"

reset=0
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reset) reset=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -eq 0 ]] && set -- demo

for tool in node npm dotnet; do
  command -v "$tool" >/dev/null || { echo "run-local.sh: '$tool' is not installed (needs Node.js 20+ and the .NET SDK of global.json)." >&2; exit 2; }
done

state=.gardien
if [[ $reset -eq 1 ]]; then
  if [[ -f "$state/azurite.pid" ]] && kill -0 "$(cat "$state/azurite.pid")" 2>/dev/null; then
    echo "run-local.sh: --reset: stopping the Azurite left running by --keep (pid $(cat "$state/azurite.pid"))."
    kill "$(cat "$state/azurite.pid")" 2>/dev/null || true
    sleep 1
  fi
  echo "run-local.sh: --reset: deleting $state/ (local Azurite data, inbox, directory copy)."
  rm -rf "$state"
fi
mkdir -p "$state/azurite"

# Azurite comes from the repository's pinned dev dependency; install it only when missing or out of date.
azurite_js=node_modules/azurite/dist/src/azurite.js
if [[ ! -f "$azurite_js" || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

port_free() { node -e "const s=require('net').createServer();s.once('error',()=>process.exit(1));s.listen($1,'127.0.0.1',()=>s.close(()=>process.exit(0)))"; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
answers() { node -e "const c=require('net').connect($1,'127.0.0.1');c.once('connect',()=>{c.end();process.exit(0)});c.once('error',()=>process.exit(1))"; }

reused=0
if [[ -f "$state/azurite.pid" && -f "$state/azurite.ports" ]] && kill -0 "$(cat "$state/azurite.pid")" 2>/dev/null; then
  # An Azurite left running by --keep on this same data folder: use it (a second one on the same folder would corrupt it).
  azurite_pid=$(cat "$state/azurite.pid")
  read -r blob queue table <"$state/azurite.ports"
  reused=1
  keep=1
  echo "run-local.sh: using the Azurite left running by --keep (pid $azurite_pid)."
else
  rm -f "$state/azurite.pid" "$state/azurite.ports"
  if port_free 10000 && port_free 10001 && port_free 10002; then
    blob=10000; queue=10001; table=10002
  else
    blob=$(free_port); queue=$(free_port); table=$(free_port)
    echo "run-local.sh: ports 10000-10002 are taken (another Azurite?); using $blob/$queue/$table."
  fi

  node "$azurite_js" --silent --disableTelemetry --skipApiVersionCheck --loose \
    --location "$state/azurite" \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" --tableHost 127.0.0.1 --tablePort "$table" \
    >"$state/azurite.log" 2>&1 &
  azurite_pid=$!
fi

stop_azurite() {
  if [[ $keep -eq 0 ]] && kill -0 "$azurite_pid" 2>/dev/null; then
    kill "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
}
trap stop_azurite EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 150); do
  if ! kill -0 "$azurite_pid" 2>/dev/null; then
    echo "run-local.sh: Azurite exited before listening; its log ($state/azurite.log):" >&2
    tail -n 20 "$state/azurite.log" >&2 || true
    exit 2
  fi
  if answers "$blob" && answers "$queue" && answers "$table"; then break; fi
  sleep 0.2
done
answers "$blob" && answers "$queue" && answers "$table" || { echo "run-local.sh: Azurite did not answer within 30 s (log: $state/azurite.log)." >&2; exit 2; }

# The well-known Azurite development account (public, not a secret).
account_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export Local__StorageConnectionString="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$account_key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
export GARDIEN_CONFIG="$PWD/gardien.local.json"
export DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}"

dotnet build local/Gardien.Cli -c Release --nologo -v q -clp:ErrorsOnly >/dev/null || dotnet build local/Gardien.Cli -c Release --nologo -v q -clp:ErrorsOnly
status=0
dotnet local/Gardien.Cli/bin/Release/net10.0/gardien.dll "$@" || status=$?

if [[ $keep -eq 1 && $reused -eq 0 ]]; then
  echo "$azurite_pid" >"$state/azurite.pid"
  echo "$blob $queue $table" >"$state/azurite.ports"
  echo
  echo "Azurite keeps running (pid $azurite_pid): './run-local.sh COMMAND' uses it; stop it with: kill $azurite_pid"
  echo "Or, from another shell in $PWD:"
  echo "  export Local__StorageConnectionString='$Local__StorageConnectionString'"
  echo "  dotnet local/Gardien.Cli/bin/Release/net10.0/gardien.dll status"
fi
exit "$status"
