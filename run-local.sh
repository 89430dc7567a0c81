#!/usr/bin/env bash
# Runs Gardien locally on the embedded default (embedded durable engine, Azurite).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
dotnet run --project local/Gardien.Cli -c Release -- plan samples/dmp-health-study.json --policy policy.sample.json "$@"
