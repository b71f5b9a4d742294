#!/usr/bin/env bash
# The second half of `npm run typecheck`: every workspace's own type-check (test files included),
# two at a time (tsc is single-threaded; the machines have two cores). A failing workspace's
# output is printed after its name; the exit code is non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
node -p "require('./package.json').workspaces.join('\n')" |
  xargs -P 2 -I{} sh -c 'out=$(npm run --silent typecheck -w "$1" 2>&1) || { printf "type-check failed in %s:\n%s\n" "$1" "$out" >&2; exit 1; }' _ {}
