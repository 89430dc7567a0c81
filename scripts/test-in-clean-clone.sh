#!/usr/bin/env bash
# Runs ./test.sh in a fresh clone of the current commit, in a temporary folder with nothing beside it: proves that
# the suite needs nothing outside the repository. Uncommitted changes are not part of the clone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-hardlinks "$repo" "$work/gardien"
git -C "$work/gardien" checkout --quiet "$(git -C "$repo" rev-parse HEAD)"
cd "$work/gardien"
./test.sh
