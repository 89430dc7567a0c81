#!/usr/bin/env bash
# Runs every test on a fresh clone: installs the dev tools the tests start themselves (Azurite from npm;
# the Bicep CLI comes from NuGet at restore), then builds and tests every project in Gardien.slnf, the Azure
# Functions app and its Durable Task conformance tests included, then the workflow tests again with replay forced.
set -euo pipefail
cd "$(dirname "$0")"

# npm ci wipes and reinstalls node_modules: only when it is missing or older than package-lock.json.
if [[ ! -f node_modules/azurite/dist/src/azurite.js || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

log=$(mktemp)
status=0
dotnet test Gardien.slnf -c Release --nologo 2>&1 | tee "$log" || status=$?

# The workflows' own tests once more with the engine's execution cache off (GARDIEN_TEST_REPLAY=1, see
# docs/workflows.md "Testing workflows"): every step of every workflow then replays its whole history, as after a
# restart, so code that replays differently from what it recorded fails here even when the cached run passed.
# The Azurite end-to-end tests are left out: they test the adapters, which replay does not change.
echo "Workflow tests with every step replayed from history:"
GARDIEN_TEST_REPLAY=1 dotnet test tests/Gardien.Workflows.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~Gardien.Workflows.Tests.Workflows&FullyQualifiedName!~EndToEnd" 2>&1 | tee -a "$log" || status=$?

# One closing line for the whole run, summed over the test assemblies and both runs.
awk '/^(Passed|Failed)!/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "Failed:")  f += $(i+1)
            if ($i == "Passed:")  p += $(i+1)
            if ($i == "Skipped:") s += $(i+1)
        }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log" | tr -d ','
rm -f "$log"
exit $status
