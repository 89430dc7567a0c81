#!/usr/bin/env bash
# Runs Gardien locally on the embedded default: the embedded durable engine and the local adapters on Azurite.
#
#   ./run-local.sh                 the main job as a service: starts 'gardien serve' (HTTP API, approval page, inbox,
#                                  dashboard on http://127.0.0.1:7071), submits the sample health DMP, prints the inbox and
#                                  dashboard URLs and keeps running until Ctrl-C (docs/local.md)
#   ./run-local.sh --once          the same to the end: approves every request over HTTP (on the addressees' behalf),
#                                  waits for Active, checks the containers on Azurite and the audit trail, stops, exit 0
#   ./run-local.sh status          any other gardien command, against the same local state (inbox, approve LINK, sweep...);
#                                  while a service runs, the commands go through it
#   ./run-local.sh --reset [...]   start from a clean slate (deletes .gardien/: Azurite data, inbox, directory copy)
#   ./run-local.sh --keep [...]    leave Azurite running afterwards (later ./run-local.sh calls reuse it; --reset stops it)
#
# State lives in .gardien/ (git-ignored; GARDIEN_STATE_DIR elsewhere): a second run resumes where the first stopped.
# Azurite listens on 127.0.0.1 only, on its usual ports 10000-10002 when free, else on free ports; a second run while
# one runs (a service in another terminal) reuses it.
# Every run also installs the 'gardien' command in ~/.local/bin (or $GARDIEN_BIN_DIR): it runs this script from any
# directory, so 'gardien status' or 'gardien validate my-dmp.json' work like './run-local.sh status' here.

set -euo pipefail
caller=$PWD
repo=$(cd "$(dirname "$0")" && pwd)
cd "$repo"

# The 'gardien' launcher sets GARDIEN_LAUNCHER: every argument is then the CLI's (its --help, no demo by default).
launched=${GARDIEN_LAUNCHER:-0}
reset=0
keep=0
once=0
while [[ $launched -eq 0 && $# -gt 0 ]]; do
  case "$1" in
    --reset) reset=1; shift ;;
    --keep) keep=1; shift ;;
    --once) once=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ $launched -eq 0 && $# -eq 0 ]]; then
  if [[ $once -eq 1 ]]; then set -- serve --demo --once; else set -- serve --demo; fi
fi

for tool in node npm dotnet; do
  command -v "$tool" >/dev/null || { echo "run-local.sh: '$tool' is not installed (needs Node.js 20+ and the .NET SDK of global.json)." >&2; exit 2; }
done

install_launcher() {
  local bin_dir=${GARDIEN_BIN_DIR:-$HOME/.local/bin}
  local launcher=$bin_dir/gardien
  local marker="# gardien launcher installed by run-local.sh"
  if [[ -e "$launcher" ]] && ! grep -qF "$marker" "$launcher" 2>/dev/null; then
    echo "run-local.sh: $launcher exists and is not Gardien's launcher; left as is (use ./run-local.sh COMMAND)." >&2
    return 0
  fi
  mkdir -p "$bin_dir" 2>/dev/null || return 0
  printf '#!/usr/bin/env bash\n%s\n# Runs the gardien CLI of %s (its local state and Azurite) from any directory.\nGARDIEN_LAUNCHER=1 exec %q "$@"\n' \
    "$marker" "$repo" "$repo/run-local.sh" >"$launcher.tmp" && chmod +x "$launcher.tmp" && mv "$launcher.tmp" "$launcher"
  case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) [[ $launched -eq 1 ]] || echo "run-local.sh: installed $launcher; add $bin_dir to your PATH to type 'gardien ...' anywhere (export PATH=\"$bin_dir:\$PATH\")." ;;
  esac
}
[[ $launched -eq 1 ]] || install_launcher

cli_dll=local/Gardien.Cli/bin/Release/net10.0/gardien.dll
state=${GARDIEN_STATE_DIR:-.gardien}
mkdir -p "$state"
state_dir=$(cd "$state" && pwd)
build_cli() {
  # Rebuilding takes seconds even when nothing changed: skip it when no source is newer than the built CLI.
  if [[ -f "$cli_dll" ]] && [[ -z $(find local workflows runtime Directory.Packages.props Directory.Build.props \( -name bin -o -name obj \) -prune -o -type f -newer "$cli_dll" -print -quit) ]]; then
    return 0
  fi
  dotnet build local/Gardien.Cli -c Release --nologo -v q -clp:ErrorsOnly >/dev/null || dotnet build local/Gardien.Cli -c Release --nologo -v q -clp:ErrorsOnly
}

# Runs the CLI from the caller's directory (so that FILE arguments are read from there), with the local state's paths
# made absolute: gardien.local.json names them relative to the repository.
run_cli() {
  local dir=$caller
  # The demo's default DMP (samples/...) is named relative to the repository.
  [[ ( "${1:-}" == demo || "${1:-}" == serve ) && " $* " != *" --file"* ]] && dir=$repo
  (cd "$dir" && \
    GARDIEN_CONFIG="$repo/gardien.local.json" \
    Local__InboxPath="${Local__InboxPath:-$state_dir/inbox}" \
    Local__DirectoryPath="${Local__DirectoryPath:-$state_dir/directory.json}" \
    Local__DirectorySeedPath="${Local__DirectorySeedPath:-$repo/samples/directory.sample.json}" \
    Local__DmpFolder="${Local__DmpFolder:-$state_dir/dmps}" \
    Serve__StateDirectory="${Serve__StateDirectory:-$state_dir}" \
    Workflows__PolicyPath="${Workflows__PolicyPath:-$repo/policy.sample.json}" \
    DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}" \
    dotnet "$repo/$cli_dll" "$@")
}

# Commands that need no storage (and --help, --version, no command at all) start no Azurite.
case "${1:-}" in
  ""|validate|plan|-h|--help|-\?|--version|help)
    build_cli
    status=0
    run_cli "$@" || status=$?
    exit "$status"
    ;;
esac

if [[ $reset -eq 1 ]]; then
  if [[ -f "$state/azurite.pid" ]] && kill -0 "$(cat "$state/azurite.pid")" 2>/dev/null; then
    echo "run-local.sh: --reset: stopping the Azurite left running by --keep (pid $(cat "$state/azurite.pid"))."
    kill "$(cat "$state/azurite.pid")" 2>/dev/null || true
    sleep 1
  fi
  echo "run-local.sh: --reset: deleting $state/ (local Azurite data, inbox, directory copy)."
  rm -rf "$state"
fi
mkdir -p "$state"
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
  # An Azurite running on this same data folder (left by --keep, or a service running in another terminal): use it
  # (a second one on the same folder would corrupt it), and leave it to whoever started it.
  azurite_pid=$(cat "$state/azurite.pid")
  read -r blob queue table <"$state/azurite.ports"
  reused=1
  keep=1
  echo "run-local.sh: using the Azurite already running on $state (pid $azurite_pid)."
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
    rm -f "$state/azurite.pid" "$state/azurite.ports"
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
if [[ $reused -eq 0 ]]; then
  # Recorded while it runs, so that a command typed in another terminal (next to a running service) reuses it.
  echo "$azurite_pid" >"$state/azurite.pid"
  echo "$blob $queue $table" >"$state/azurite.ports"
fi

# The well-known Azurite development account (public, not a secret).
account_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export Local__StorageConnectionString="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$account_key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"

build_cli
status=0
run_cli "$@" || status=$?

if [[ $keep -eq 1 && $reused -eq 0 ]]; then
  echo
  echo "Azurite keeps running (pid $azurite_pid): './run-local.sh COMMAND' uses it; stop it with: kill $azurite_pid"
  echo "Or, from another shell in $PWD:"
  echo "  gardien status     (the launcher run-local.sh installed; or: export Local__StorageConnectionString='$Local__StorageConnectionString'"
  echo "                      and dotnet $cli_dll status)"
fi
exit "$status"
