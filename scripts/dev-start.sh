#!/usr/bin/env bash
# npm start: the whole stack on this machine, behind nginx at http://localhost:8080.
# Installs what is missing, starts PostgreSQL/RabbitMQ/Redis if stopped, creates chat_db,
# builds, migrates (each service migrates its schema at start-up), starts the services, the
# web client (static, through nginx) and a mail catcher, then waits. Ctrl-C stops everything.
set -euo pipefail
# shellcheck source=lib/stack.sh
. "$(dirname "$0")/lib/stack.sh"

NGINX_PORT="${NGINX_PORT:-8080}"
USER_PORT="${USER_PORT:-3001}"
CHAT_PORT="${CHAT_PORT:-3002}"
CHAT_PORT_2="${CHAT_PORT_2:-3012}"
NOTIFY_PORT="${NOTIFY_PORT:-3003}"
SMTP_PORT="${SMTP_PORT:-1025}"
MAILDEV_WEB_PORT="${MAILDEV_WEB_PORT:-1080}"
DB_NAME="${DB_NAME:-chat_db}"

for p in "$NGINX_PORT" "$USER_PORT" "$CHAT_PORT" "$CHAT_PORT_2" "$NOTIFY_PORT" "$SMTP_PORT" "$MAILDEV_WEB_PORT"; do
  port_open "$p" && die "port $p is already in use (is another 'npm start' running?)"
done

ensure_apt nginx curl:curl openssl:openssl postgresql-client:psql
ensure_node_modules
ensure_infra
ensure_database "$DB_NAME"
build_all || die "build failed"
ensure_secrets

trap 'echo; log "stopping"; stop_stack; exit 0' INT TERM
trap 'stop_stack' EXIT
start_stack || die "the stack did not start; logs are in $RUN_ROOT/logs/"

cat <<MSG

  CipherChat is running:   http://localhost:$NGINX_PORT
  Mail catcher (inbox):    http://localhost:$MAILDEV_WEB_PORT
  pgAdmin-style access:    psql postgres://postgres@127.0.0.1:5432/$DB_NAME
  Logs:                    $RUN_ROOT/logs/

  Press Ctrl-C to stop.
MSG

# Stay in the foreground; if any process dies, say which and stop the rest.
while true; do
  for pidfile in "$RUN_ROOT"/pids/*.pid; do
    pid=$(cat "$pidfile")
    if ! kill -0 "$pid" 2>/dev/null; then
      name=$(basename "$pidfile" .pid)
      rm -f "$pidfile"
      die "$name exited; see $RUN_ROOT/logs/$name.log"
    fi
  done
  sleep 2
done
