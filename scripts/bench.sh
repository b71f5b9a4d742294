#!/usr/bin/env bash
# npm run bench / npm run test:faults on a clean checkout: installs what is missing (npm
# dependencies; Debian's chromium, which draws the benchmark's chart), starts PostgreSQL,
# RabbitMQ and Redis if stopped, then runs the bench workspace's script with the arguments.
set -euo pipefail
# shellcheck source=lib/stack.sh
. "$(dirname "$0")/lib/stack.sh"
script="$1"
shift
if [ "$script" = bench ]; then ensure_apt chromium; fi
ensure_node_modules
ensure_infra
cd "$ROOT"
exec npm run --silent "$script" -w bench -- "$@"
