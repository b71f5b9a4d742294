# shellcheck shell=bash
# Shared by scripts/dev-start.sh (npm start) and scripts/test.sh (npm test): make sure the
# machine has what the stack needs, build it, and run it as local processes behind nginx.
# Everything lives under $RUN_ROOT (gitignored .run/ by default).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_ROOT="${RUN_ROOT:-$ROOT/.run}"
STACK_PIDS=()

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 4; i++)); do port_open "$1" && return 0; sleep 0.25; done
  return 1
}

# Debian packages, installed only when missing (apt-get update once, first).
APT_UPDATED=0
# An argument `pkg:cmd` is satisfied by any installed `cmd` (psql comes in versioned packages).
ensure_apt() { # package[:command]...
  local arg pkg missing=()
  for arg in "$@"; do
    pkg="${arg%%:*}"
    if [ "$arg" != "$pkg" ] && command -v "${arg#*:}" >/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm dependencies: a clean checkout has none; `npm ci` follows the lockfile exactly
# (and applies patches/ through the postinstall hook).
ensure_node_modules() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# PostgreSQL, RabbitMQ and Redis run on the machine; start whichever is stopped.
ensure_infra() {
  if ! port_open 5432; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    wait_port 5432 30 || die "PostgreSQL did not start"
  fi
  if ! port_open 6379; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_port 6379 15 || die "Redis did not start"
  fi
  if ! port_open 5672; then
    log "starting RabbitMQ"
    rabbitmq-server -detached
    wait_port 5672 90 || die "RabbitMQ did not start"
  fi
}

ensure_database() { # name
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; then
    log "creating database $1"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$1\"" >/dev/null
  fi
}

build_all() {
  log "building TypeScript (tsc -b)"
  (cd "$ROOT" && npx --no-install tsc -b tsconfig.build.json) || return 1
  log "building the web client (vite build)"
  (cd "$ROOT/web-client" && npx --no-install vite build --logLevel warn) || return 1
}

# Secrets the dev/test stack needs, generated once and kept in $RUN_ROOT/secrets.env
# (losing OPAQUE_SERVER_SETUP would break every login, so it is never regenerated).
ensure_secrets() {
  local file="$RUN_ROOT/secrets.env"
  if [ ! -s "$file" ]; then
    log "generating local secrets in $file"
    mkdir -p "$RUN_ROOT"
    (umask 077 && {
      (cd "$ROOT/user-service" && node dist/scripts/generate-secrets.js)
      echo "UNSUBSCRIBE_SECRET='$(openssl rand -hex 32)'"
    } >"$file.tmp" && mv "$file.tmp" "$file")
  fi
  set -a
  # shellcheck disable=SC1090
  . "$file"
  set +a
}

start_bg() { # name logfile cmd...
  local name="$1" logfile="$2"
  shift 2
  "$@" >>"$logfile" 2>&1 &
  STACK_PIDS+=("$!")
  echo "$!" >"$RUN_ROOT/pids/$name.pid"
}

wait_ready() { # name url seconds
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "---- last lines of $RUN_ROOT/logs/$1.log ----" >&2
  tail -n 40 "$RUN_ROOT/logs/$1.log" >&2 || true
  echo "error: $1 did not become ready at $2" >&2
  return 1
}

# Starts maildev, the three services (chat-service twice) and nginx in front.
# Reads: DB_NAME, NGINX_PORT, USER_PORT, CHAT_PORT, CHAT_PORT_2, NOTIFY_PORT, SMTP_PORT, MAILDEV_WEB_PORT, BUS_EXCHANGE.
start_stack() {
  mkdir -p "$RUN_ROOT/logs" "$RUN_ROOT/pids" "$RUN_ROOT/attachments" "$RUN_ROOT/nginx"
  rm -f "$RUN_ROOT"/pids/*.pid
  local db_url="postgres://postgres@127.0.0.1:5432/$DB_NAME"
  local public="http://localhost:$NGINX_PORT"
  export NODE_ENV="${NODE_ENV:-production}" LOG_LEVEL="${LOG_LEVEL:-info}"
  # REDIS_URL: every service (notification-service too: the session revocation list); the list
  # keeps its default REVOCATION_KEY_PREFIX in every service, so writer and readers agree.
  export DATABASE_URL="$db_url" AMQP_URL="amqp://guest:guest@127.0.0.1:5672" REDIS_URL="redis://127.0.0.1:6379"
  export BUS_EXCHANGE="${BUS_EXCHANGE:-cipherchat.events}" PUBLIC_BASE_URL="$public" ALLOWED_ORIGINS="$public,http://127.0.0.1:$NGINX_PORT"
  # A stack on its own exchange gets its own queues and Redis keys too: stacks sharing one
  # RabbitMQ and Redis (npm start beside npm test, parallel runs) would otherwise take turns at
  # each other's events and share one per-IP rate-limit budget.
  if [ "$BUS_EXCHANGE" != cipherchat.events ]; then
    export QUEUE_PREFIX="${QUEUE_PREFIX:-$BUS_EXCHANGE}" REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-$BUS_EXCHANGE:}"
  fi
  export HOST=127.0.0.1 JWKS_URL="http://127.0.0.1:$USER_PORT/api/user/.well-known/jwks.json"
  export SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" MAIL_FROM="CipherChat <no-reply@localhost>"
  export ATTACHMENTS_DIR="$RUN_ROOT/attachments"

  log "starting maildev (SMTP 127.0.0.1:$SMTP_PORT, inbox http://localhost:$MAILDEV_WEB_PORT)"
  start_bg maildev "$RUN_ROOT/logs/maildev.log" "$ROOT/node_modules/.bin/maildev" \
    --smtp "$SMTP_PORT" --web "$MAILDEV_WEB_PORT" --ip 127.0.0.1 --silent
  wait_port "$SMTP_PORT" 30 || { echo "error: maildev did not start" >&2; return 1; }

  # The services, as built (dist/), through the same spawnService as the benchmark
  # (packages/service-kit/src/testing/stack-cli.ts): user-service first (the others fetch its
  # JWKS), then chat-service, then its second instance and notification-service together.
  start_services user-service=user-service:"$USER_PORT" chat-service=chat-service:"$CHAT_PORT" \
    chat-service-2=chat-service:"$CHAT_PORT_2",notification-service=notification-service:"$NOTIFY_PORT" || return 1

  log "starting nginx :$NGINX_PORT"
  NGINX_PORT=$NGINX_PORT \
    USER_UPSTREAM="server 127.0.0.1:$USER_PORT;" \
    CHAT_UPSTREAM="server 127.0.0.1:$CHAT_PORT; server 127.0.0.1:$CHAT_PORT_2;" \
    NOTIFY_UPSTREAM="server 127.0.0.1:$NOTIFY_PORT;" \
    WEB_ROOT="$ROOT/web-client/dist" RUN_DIR="$RUN_ROOT/nginx" \
    bash "$ROOT/scripts/nginx-render.sh" "$ROOT/nginx/dev.conf.template" "$RUN_ROOT/nginx/nginx.conf" || return 1
  # Started by root, nginx runs its workers as `nobody`, who cannot read a checkout inside a
  # private directory (/root, a mktemp dir: mode 0700) and would answer 500 for the web client.
  # Then the workers run as the invoking user (this stack listens on 127.0.0.1 only).
  local global='daemon off;'
  if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -r "$ROOT/web-client/dist/index.html" 2>/dev/null; then
    global+=" user $(id -un);"
  fi
  start_bg nginx "$RUN_ROOT/logs/nginx.log" nginx -p "$RUN_ROOT/nginx" -c "$RUN_ROOT/nginx/nginx.conf" -g "$global"
  wait_ready nginx "http://127.0.0.1:$NGINX_PORT/api/user/.well-known/jwks.json" 30 || return 1
  wait_ready nginx "http://127.0.0.1:$NGINX_PORT/" 10 || return 1  # the web client itself
}

# Starts services (groups of NAME=SERVICE:PORT, see stack-cli.ts) and waits until they are
# ready; the starter stays their parent, and its pid and theirs join STACK_PIDS
# (theirs also $RUN_ROOT/pids/, like start_bg's).
start_services() {
  local status="$RUN_ROOT/services.status" starter group spec i
  rm -f "$status"
  STACK_LOG_DIR="$RUN_ROOT/logs" STACK_PID_DIR="$RUN_ROOT/pids" STACK_STATUS_FILE="$status" STACK_READY_TIMEOUT_S=60 \
    node "$ROOT/packages/service-kit/dist/testing/stack-cli.js" "$@" &
  starter=$!
  STACK_PIDS+=("$starter")
  # bounded: the starter gives each group 60 s, and writes `failed` or exits on any error
  for ((i = 0; i < 300 * 4; i++)); do
    [ -s "$status" ] && break
    kill -0 "$starter" 2>/dev/null || break
    sleep 0.25
  done
  for group in "$@"; do
    for spec in ${group//,/ }; do
      if [ -f "$RUN_ROOT/pids/${spec%%=*}.pid" ]; then STACK_PIDS+=("$(cat "$RUN_ROOT/pids/${spec%%=*}.pid")"); fi
    done
  done
  [ "$(cat "$status" 2>/dev/null)" = ready ]
}

stop_stack() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STACK_PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  STACK_PIDS=()
}
