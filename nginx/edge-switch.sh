#!/usr/bin/env bash
# Switches one upstream of the running edge container and reloads nginx without dropping
# connections. Used by scripts/deploy-blue-green.sh --compose:
#   docker compose exec -T nginx edge-switch USER_UPSTREAM 'server cipherchat-user-service-green:3001;'
#   docker compose exec -T nginx edge-switch --rollback   # back to the config before the last switch
# The config and upstream state before a switch are kept as *.prev; when nginx does not take the
# new config (reload fails), they are put back and nginx reloaded before this exits non-zero.
set -euo pipefail
state=$RUN_DIR/upstreams.env
conf=$RUN_DIR/nginx.conf
restore_prev() {
  [[ -f $conf.prev ]] || { echo "edge-switch: no previous config to restore" >&2; return 1; }
  cp "$conf.prev" "$conf"
  if [[ -f $state.prev ]]; then cp "$state.prev" "$state"; fi
  nginx -p "$RUN_DIR" -c "$conf" -s reload
  echo "edge-switch: previous config restored" >&2
}
if [[ ${1:-} == --rollback ]]; then
  restore_prev
  exit
fi
var=${1:-} value=${2:-}
case $var in USER_UPSTREAM|CHAT_UPSTREAM|NOTIFY_UPSTREAM) ;; *) echo "edge-switch: unknown upstream $var" >&2; exit 2 ;; esac
if [[ ! $value =~ ^([[:space:]]*server[[:space:]]+[A-Za-z0-9._-]+:[0-9]+;[[:space:]]*)+$ ]]; then
  echo "edge-switch: value must be one or more 'server host:port;' entries" >&2
  exit 2
fi
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
cp "$conf" "$conf.prev"
cp "$state" "$state.prev"
mv "$RUN_DIR/nginx.conf.next" "$conf"
mv "$state.next" "$state"
if ! nginx -p "$RUN_DIR" -c "$conf" -s reload; then
  echo "edge-switch: nginx did not reload with the new config; restoring the previous one" >&2
  restore_prev || true
  exit 1
fi
echo "edge-switch: $var -> $value" >&2
