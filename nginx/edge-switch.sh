#!/usr/bin/env bash
# Switches one upstream of the running edge container and reloads nginx without dropping
# connections. Used by scripts/deploy-blue-green.sh --compose:
#   docker compose exec -T nginx edge-switch USER_UPSTREAM 'server cipherchat-user-service-green:3001;'
set -euo pipefail
var=${1:-} value=${2:-}
case $var in USER_UPSTREAM|CHAT_UPSTREAM|NOTIFY_UPSTREAM) ;; *) echo "edge-switch: unknown upstream $var" >&2; exit 2 ;; esac
if [[ ! $value =~ ^([[:space:]]*server[[:space:]]+[A-Za-z0-9._-]+:[0-9]+;[[:space:]]*)+$ ]]; then
  echo "edge-switch: value must be one or more 'server host:port;' entries" >&2
  exit 2
fi
state=$RUN_DIR/upstreams.env
touch "$state"
grep -v "^$var=" "$state" >"$state.next" || true
printf '%s=%q\n' "$var" "$value" >>"$state.next"
set -a
# shellcheck disable=SC1090,SC1091
[[ -f $RUN_DIR/render.env ]] && . "$RUN_DIR/render.env"
# shellcheck disable=SC1090
. "$state.next"
set +a
"${NGINX_RENDER:-/usr/local/bin/nginx-render.sh}" "$TEMPLATE" "$RUN_DIR/nginx.conf.next"
nginx -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf.next"
mv "$RUN_DIR/nginx.conf.next" "$RUN_DIR/nginx.conf"
mv "$state.next" "$state"
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -s reload
echo "edge-switch: $var -> $value" >&2
