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
# PIDs of the master's workers that still accept connections ("nginx: worker process"; a worker
# of an older config is renamed "... is shutting down" and has closed its listening sockets).
accepting_workers() {
  local master p stat
  master=$(cat "$RUN_DIR/nginx.pid" 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    [[ $(cut -d' ' -f2 <<<"$stat") == "$master" ]] || continue
    [[ $(tr -d '\0' 2>/dev/null <"$p/cmdline") == 'nginx: worker process' ]] && echo "${p#/proc/}"
  done
  return 0
}
# `nginx -s reload` only signals the master. Wait (at most 10 s) until none of the workers that
# served the old config still accepts connections, so that whatever runs next (the deploy's
# check through nginx) is answered under the new config.
reload() {
  local before now _
  before=$(accepting_workers | sort)
  nginx -p "$RUN_DIR" -c "$1" -s reload || return 1
  for _ in $(seq 200); do
    now=$(accepting_workers | sort)
    if [[ -n $now ]] && [[ -z $(comm -12 <(echo "$before") <(echo "$now")) ]]; then return 0; fi
    sleep 0.05
  done
  echo "edge-switch: nginx still runs workers of the old config after 10 s" >&2
}
restore_prev() {
  [[ -f $conf.prev ]] || { echo "edge-switch: no previous config to restore" >&2; return 1; }
  cp "$conf.prev" "$conf"
  if [[ -f $state.prev ]]; then cp "$state.prev" "$state"; fi
  reload "$conf"
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
if ! reload "$conf"; then
  echo "edge-switch: nginx did not reload with the new config; restoring the previous one" >&2
  restore_prev || true
  exit 1
fi
echo "edge-switch: $var -> $value" >&2
