#!/usr/bin/env bash
# Blue-green deploy of one service behind nginx, with automatic rollback.
#
#   1. start the new colour (the one not serving now),
#   2. wait until every instance of it answers GET /ready with 200 (bounded by --ready-timeout),
#      else stop it and leave nginx untouched: the old colour keeps serving (exit 3),
#   3. render nginx's config with the new colour as the service's upstream, `nginx -t`, reload,
#      and wait for nginx's new workers,
#   4. check through nginx (--verify-url; in compose mode also that the new containers are still
#      ready after the reload); on failure restore nginx's previous config and reload, and only
#      then stop the new colour (exit 5),
#   5. wait --drain-seconds (requests in flight on the old workers finish), then stop the old
#      colour gracefully (SIGTERM: services stop accepting, drain, close; WebSocket clients
#      reconnect through nginx to the new colour), SIGKILL after --stop-timeout.
#
# Modes:
#   --local    colours are local processes on ports of this machine behind a local nginx
#              (npm start, tests, a VPS without containers). A colour is started with
#              `bash -c "$START_CMD"` with PORT and COLOUR in its environment, one process
#              per port, each in its own process group (stopped by pid).
#   --compose  colours are containers of the compose project; nginx runs in its container and
#              is switched with /usr/local/bin/edge-switch (nginx/edge-switch.sh in the image).
#
# Local example (user-service; chat-service would pass two ports per colour, e.g. 3102,3112):
#   USER_UPSTREAM='server 127.0.0.1:3001;' CHAT_UPSTREAM=... NOTIFY_UPSTREAM=... WEB_ROOT=... \
#   scripts/deploy-blue-green.sh --local --service user --state-dir .run/deploy \
#     --template nginx/dev.conf.template --conf .run/nginx/nginx.conf --run-dir .run/nginx \
#     --blue-ports 3101 --green-ports 3201 --start-cmd 'exec node user-service/dist/main.js'
#   The other render variables (NGINX_PORT, WEB_ROOT, ...) come from the environment, as for
#   scripts/nginx-render.sh; upstreams switched earlier are remembered in the state dir.
#
# Compose example (--instances: containers per colour, e.g. 2 for chat-service in prod):
#   scripts/deploy-blue-green.sh --compose --service chat --instances 2 -- -f docker-compose.yml -f docker-compose.prod.yml
#
# Whenever anything fails after the new config was moved in and nginx reloaded (nginx did not
# take it, the check failed, the script was interrupted), the previous config is put back and
# nginx reloaded BEFORE any colour is stopped, so nginx never points at a stopped colour (also
# on a first deploy, where there is no old colour to switch back to).
#
# Exit codes: 0 switched; 2 usage; 3 new colour not ready (rolled back); 4 nginx rejected or did
# not take the config (rolled back); 5 check through nginx failed (switched back, rolled back);
# 6 nginx could not be switched back: the new colour is left running because nginx may still
# send traffic to it (look at nginx, then stop it by hand).
set -euo pipefail

log() { printf '%s deploy[%s]: %s\n' "$(date -u +%H:%M:%S)" "${service:-?}" "$*" >&2; }
die() { log "$1"; exit "${2:-2}"; }

mode="" service="" state_dir="" template="" conf="" run_dir="" blue_ports="" green_ports=""
start_cmd="" ready_timeout=60 drain_seconds=10 stop_timeout=20 verify_url="" compose_args=() instances=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --local) mode=local ;;
    --compose) mode=compose ;;
    --service) service=$2; shift ;;
    --state-dir) state_dir=$2; shift ;;
    --template) template=$2; shift ;;
    --conf) conf=$2; shift ;;
    --run-dir) run_dir=$2; shift ;;
    --blue-ports) blue_ports=$2; shift ;;
    --green-ports) green_ports=$2; shift ;;
    --start-cmd) start_cmd=$2; shift ;;
    --ready-timeout) ready_timeout=$2; shift ;;
    --drain-seconds) drain_seconds=$2; shift ;;
    --stop-timeout) stop_timeout=$2; shift ;;
    --verify-url) verify_url=$2; shift ;;
    --instances) instances=$2; shift ;;
    --) shift; compose_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

case $service in
  user|user-service) service=user; upstream_var=USER_UPSTREAM; svc_name=user-service; svc_port=3001 ;;
  chat|chat-service) service=chat; upstream_var=CHAT_UPSTREAM; svc_name=chat-service; svc_port=3002 ;;
  notify|notification|notification-service) service=notify; upstream_var=NOTIFY_UPSTREAM; svc_name=notification-service; svc_port=3003 ;;
  *) die "--service must be user, chat or notify" ;;
esac
[[ $mode == local || $mode == compose ]] || die "choose --local or --compose"
[[ $ready_timeout =~ ^[0-9]+$ && $drain_seconds =~ ^[0-9]+$ && $stop_timeout =~ ^[0-9]+$ ]] || die "timeouts must be whole seconds"
[[ $instances =~ ^[1-9][0-9]?$ ]] || die "--instances must be 1-99"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=${state_dir:-$repo_root/.run/deploy}
mkdir -p "$state_dir/upstreams"
state_dir=$(cd "$state_dir" && pwd)
colour_file=$state_dir/$service.colour
current=$(cat "$colour_file" 2>/dev/null || true)
if [[ $current == blue ]]; then new=green; else new=blue; fi
old=$current

# One deploy of a service at a time.
exec 9>"$state_dir/$service.lock"
flock -n 9 || die "another deploy of $service is running"

# ---------------------------------------------------------------- local mode helpers
ports_of() { if [[ $1 == blue ]]; then echo "${blue_ports//,/ }"; else echo "${green_ports//,/ }"; fi; }
pids_file() { echo "$state_dir/$service-$1.pids"; }

http_ok() { # url -> 0 when 2xx within 2 s
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null -m 2 "$1" 2>/dev/null
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$1"
  fi
}

stop_colour_local() { # colour
  local f; f=$(pids_file "$1")
  [[ -s $f ]] || return 0
  local pids; pids=$(cat "$f")
  for pid in $pids; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + stop_timeout))
  for pid in $pids; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop within ${stop_timeout}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$f"
}

start_colour_local() { # colour
  local f; f=$(pids_file "$1")
  : >"$f"
  for port in $(ports_of "$1"); do
    if http_ok "http://127.0.0.1:$port/health"; then
      log "port $port is already serving: refusing to start $1 on it"
      return 1
    fi
    # setsid: own process group, so the whole colour stops with one signal and survives us.
    # 9>&-: the colour must not inherit the deploy lock.
    (cd "$repo_root" && PORT=$port COLOUR=$1 exec setsid bash -c "$start_cmd" </dev/null >>"$state_dir/$service-$1-$port.log" 2>&1 9>&-) &
    echo $! >>"$f"
    log "started $1 on port $port (pid $!)"
  done
}

wait_ready_local() { # colour
  local deadline=$((SECONDS + ready_timeout)) pending
  pending=$(ports_of "$1")
  while [[ -n $pending ]]; do
    local still=""
    for port in $pending; do http_ok "http://127.0.0.1:$port/ready" || still="$still $port"; done
    pending=${still# }
    [[ -z $pending ]] && return 0
    for pid in $(cat "$(pids_file "$1")"); do
      kill -0 "$pid" 2>/dev/null || { log "$1 process $pid exited before it was ready"; return 1; }
    done
    ((SECONDS >= deadline)) && { log "$1 not ready within ${ready_timeout}s (ports: $pending)"; return 1; }
    sleep 0.25
  done
}

upstream_lines() { # colour -> server lines
  local lines="" sep=""
  for port in $(ports_of "$1"); do lines="$lines${sep}server 127.0.0.1:$port;"; sep=$'\n    '; done
  printf '%s' "$lines"
}

nginx_workers() { pgrep -P "$(cat "$run_dir/nginx.pid")" 2>/dev/null | sort | tr '\n' ' ' || true; }

# 1 from the moment a new config is moved in until the deploy commits or nginx is restored.
nginx_touched=0
saved_conf=$state_dir/$service.nginx.conf.before
saved_upstream=$state_dir/$service.upstream.before

reload_local() { # -> 0 when nginx runs workers with $conf and the old workers stopped accepting
  local before; before=$(nginx_workers)
  nginx -p "$run_dir" -c "$conf" -s reload || return 1
  # Reload is asynchronous: wait until the master has started workers with the new config and
  # every old worker has stopped accepting (gone, or titled "worker process is shutting down";
  # it may keep serving its open WebSockets until the old colour closes them).
  local deadline=$((SECONDS + 15)) now fresh=0 w
  while ((SECONDS < deadline)) && ((fresh == 0)); do
    now=$(nginx_workers)
    for w in $now; do [[ " $before " == *" $w "* ]] || fresh=1; done
    ((fresh == 1)) || sleep 0.1
  done
  ((fresh == 1)) || { log "nginx did not start new workers after reload"; return 1; }
  for w in $before; do
    while ((SECONDS < deadline)) && [[ -r /proc/$w/cmdline ]] && ! tr '\0' ' ' 2>/dev/null <"/proc/$w/cmdline" | grep -q 'shutting down'; do
      sleep 0.05
    done
  done
}

restore_nginx_local() { # -> 0 when nginx serves the config it had before this deploy again
  ((nginx_touched)) || return 0
  log "restoring nginx's previous config and reloading"
  cp "$saved_conf" "$conf" || return 1
  if [[ -e $saved_upstream ]]; then cp "$saved_upstream" "$state_dir/upstreams/$upstream_var"; else rm -f "$state_dir/upstreams/$upstream_var"; fi
  reload_local || { log "nginx did not reload with the previous config"; return 1; }
  nginx_touched=0
}

switch_nginx_local() { # colour -> 0 when nginx serves with the new upstream
  local value; value=$(upstream_lines "$1")
  # Render with remembered upstreams of every service, then this service's new one.
  local v
  for v in USER_UPSTREAM CHAT_UPSTREAM NOTIFY_UPSTREAM; do
    [[ -s $state_dir/upstreams/$v ]] && export "$v=$(cat "$state_dir/upstreams/$v")"
  done
  export "$upstream_var=$value"
  export RUN_DIR=$run_dir
  local tmp="$conf.next"
  bash "$repo_root/scripts/nginx-render.sh" "$template" "$tmp" || return 1
  if ! nginx -t -q -p "$run_dir" -c "$tmp" 2>"$state_dir/nginx-test.log"; then
    log "nginx -t rejected the new config: $(tail -n 3 "$state_dir/nginx-test.log")"
    rm -f "$tmp"
    return 1
  fi
  # What nginx serves now, to put back if anything fails from here on.
  cp "$conf" "$saved_conf" || { rm -f "$tmp"; return 1; }
  if [[ -e $state_dir/upstreams/$upstream_var ]]; then cp "$state_dir/upstreams/$upstream_var" "$saved_upstream"; else rm -f "$saved_upstream"; fi
  nginx_touched=1
  mv "$tmp" "$conf"
  if ! reload_local; then
    restore_nginx_local || true
    return 1
  fi
  printf '%s' "$value" >"$state_dir/upstreams/$upstream_var"
}

# An unexpected exit (set -e, a signal) between the switch and the commit: nginx first, then the
# new colour, which nothing points at any more.
on_exit_local() {
  local rc=$?
  if ((nginx_touched)); then
    log "interrupted after nginx was switched"
    if restore_nginx_local; then sleep "$drain_seconds"; stop_colour_local "$new"; else log "nginx could not be restored: leaving $new running"; fi
  fi
  exit "$rc"
}

verify_through_nginx() {
  [[ -z $verify_url ]] && return 0
  local deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do http_ok "$verify_url" && return 0; sleep 0.25; done
  return 1
}

deploy_local() {
  [[ -n $template && -n $conf && -n $run_dir && -n $blue_ports && -n $green_ports && -n $start_cmd ]] ||
    die "--local needs --template --conf --run-dir --blue-ports --green-ports --start-cmd"
  [[ $template == /* ]] || template=$repo_root/$template
  [[ -s $run_dir/nginx.pid ]] || die "nginx is not running with RUN_DIR $run_dir (no nginx.pid)"
  log "serving: ${old:-none}; deploying: $new on ports $(ports_of "$new")"
  if ! start_colour_local "$new" || ! wait_ready_local "$new"; then
    log "ROLLBACK: stopping $new; nginx unchanged, ${old:-nothing} keeps serving"
    stop_colour_local "$new"
    exit 3
  fi
  trap on_exit_local EXIT
  trap 'exit 130' INT TERM HUP
  if ! switch_nginx_local "$new"; then
    if ((nginx_touched)); then
      log "ROLLBACK FAILED: nginx took neither the new nor the previous config; leaving $new running"
      nginx_touched=0
      exit 6
    fi
    log "ROLLBACK: nginx not switched (previous config serving); stopping $new"
    stop_colour_local "$new"
    exit 4
  fi
  if ! verify_through_nginx; then
    log "ROLLBACK: $verify_url fails through nginx after the switch"
    if ! restore_nginx_local; then
      log "ROLLBACK FAILED: nginx may still send traffic to $new; leaving it running"
      nginx_touched=0
      exit 6
    fi
    log "nginx serves its previous config again (${old:-the upstream before this deploy}); draining $new for ${drain_seconds}s, then stopping it"
    sleep "$drain_seconds"
    stop_colour_local "$new"
    exit 5
  fi
  echo "$new" >"$colour_file"
  nginx_touched=0
  log "nginx now sends $svc_name traffic to $new"
  if [[ -n $old ]]; then
    log "draining $old for ${drain_seconds}s"
    sleep "$drain_seconds"
    stop_colour_local "$old"
    log "stopped $old"
  fi
  log "done: $new is live"
}

# ---------------------------------------------------------------- compose mode
dc() { docker compose "${compose_args[@]}" "$@"; }

deploy_compose() {
  command -v docker >/dev/null || die "docker is not installed"
  local project; project=$(dc config --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).name))')
  [[ -n $project ]] || die "could not read the compose project name"
  local prefix="${project}-${svc_name}" i names=() old_names=() upstream="" sep=""
  for ((i = 1; i <= instances; i++)); do names+=("$prefix-$new-$i"); done
  if [[ -n $old ]]; then
    mapfile -t old_names < <(docker ps -a --format '{{.Names}}' | grep -E "^$prefix-$old-[0-9]+$" || true)
  fi
  log "serving: ${old_names[*]:-the compose service $svc_name}; deploying: ${names[*]}"
  for n in "${names[@]}"; do
    docker rm -f "$n" >/dev/null 2>&1 || true
    dc run -d --no-deps --name "$n" "$svc_name" >/dev/null
    upstream="$upstream${sep}server $n:$svc_port;"; sep=" "
  done
  local deadline=$((SECONDS + ready_timeout)) pending=("${names[@]}") still
  while ((${#pending[@]} > 0)); do
    still=()
    for n in "${pending[@]}"; do
      dc exec -T nginx curl -fsS -o /dev/null -m 2 "http://$n:$svc_port/ready" 2>/dev/null || still+=("$n")
    done
    pending=("${still[@]}")
    ((${#pending[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      log "ROLLBACK: ${pending[*]} not ready in ${ready_timeout}s; removing the new colour, nginx unchanged"
      for n in "${names[@]}"; do docker logs --tail 30 "$n" >&2 || true; docker rm -f "$n" >/dev/null; done
      exit 3
    fi
    sleep 1
  done
  # edge-switch keeps the previous config and puts it back itself when nginx rejects or does
  # not take the new one; `edge-switch --rollback` puts it back after a failed check.
  if ! dc exec -T nginx /usr/local/bin/edge-switch "$upstream_var" "$upstream"; then
    log "ROLLBACK: nginx did not take the switch (previous config serving); removing the new colour"
    for n in "${names[@]}"; do docker rm -f "$n" >/dev/null; done
    exit 4
  fi
  # Post-switch check: the new containers are still ready after the reload, and --verify-url
  # (as seen from the nginx container, e.g. http://127.0.0.1/api/user/.well-known/jwks.json)
  # answers through nginx.
  local check_ok=0 check_deadline=$((SECONDS + 15))
  while ((SECONDS < check_deadline)); do
    check_ok=1
    for n in "${names[@]}"; do
      dc exec -T nginx curl -fsS -o /dev/null -m 2 "http://$n:$svc_port/ready" 2>/dev/null || check_ok=0
    done
    if ((check_ok)) && [[ -n $verify_url ]]; then
      dc exec -T nginx curl -fsS -o /dev/null -m 2 "$verify_url" 2>/dev/null || check_ok=0
    fi
    ((check_ok)) && break
    sleep 0.5
  done
  if ((check_ok == 0)); then
    log "ROLLBACK: the check after the switch failed${verify_url:+ ($verify_url)}; restoring nginx's previous config"
    if ! dc exec -T nginx /usr/local/bin/edge-switch --rollback; then
      log "ROLLBACK FAILED: nginx may still send traffic to ${names[*]}; leaving them running"
      exit 6
    fi
    sleep "$drain_seconds"
    for n in "${names[@]}"; do docker stop -t "$stop_timeout" "$n" >/dev/null; docker rm -f "$n" >/dev/null; done
    exit 5
  fi
  echo "$new" >"$colour_file"
  log "nginx now sends $svc_name traffic to ${names[*]}; draining for ${drain_seconds}s"
  sleep "$drain_seconds"
  if ((${#old_names[@]} > 0)); then
    for n in "${old_names[@]}"; do docker stop -t "$stop_timeout" "$n" >/dev/null && docker rm "$n" >/dev/null; done
  else
    dc stop -t "$stop_timeout" "$svc_name"
  fi
  log "done: $new is live"
}

if [[ $mode == local ]]; then deploy_local; else deploy_compose; fi
