#!/usr/bin/env bash
# Renders an nginx config template (nginx/*.conf.template) into a complete nginx.conf.
#
# Usage: scripts/nginx-render.sh TEMPLATE OUT
#
# Only the variables below are substituted; every other `$name` in the template is an nginx
# variable and is left alone (that is why plain `envsubst` without a list would be wrong).
#   NGINX_PORT       port nginx listens on (dev: HTTP; prod: HTTPS)
#   NGINX_LISTEN_ADDR address to listen on (default 127.0.0.1; containers use 0.0.0.0)
#   NGINX_HTTP_PORT  prod only: plain-HTTP port for the HTTPS redirect and ACME (default 80)
#   USER_UPSTREAM    `server host:port;` line(s) of user-service
#   CHAT_UPSTREAM    `server host:port;` line(s) of chat-service (one per instance)
#   NOTIFY_UPSTREAM  `server host:port;` line(s) of notification-service
#   WEB_ROOT         absolute path of the built web client (web-client/dist)
#   RUN_DIR          absolute directory for pid, temp paths and logs (created here)
#   TLS_CERT/TLS_KEY prod only: certificate chain and key (Let's Encrypt: fullchain/privkey.pem)
#   SERVER_NAME      server_name (dev default: localhost)
#   MODSEC_MAIN      prod only: ModSecurity main conf (nginx/modsecurity/main.conf)
#   PUBLIC_BASE_URL  dev only: the origin browsers use (default http://SERVER_NAME:NGINX_PORT);
#                    its host and port become PUBLIC_WS_ORIGIN (ws:// or wss://) in the CSP's
#                    connect-src, so the policy never echoes a request's Host header
# Values must not contain secrets: the rendered file is world-readable like any nginx.conf.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 TEMPLATE OUT" >&2
  exit 2
fi
template=$1
out=$2
[[ -r $template ]] || { echo "nginx-render: template not readable: $template" >&2; exit 2; }

export SERVER_NAME=${SERVER_NAME:-localhost}
export NGINX_HTTP_PORT=${NGINX_HTTP_PORT:-80}
export NGINX_LISTEN_ADDR=${NGINX_LISTEN_ADDR:-127.0.0.1}
vars=(NGINX_PORT NGINX_LISTEN_ADDR NGINX_HTTP_PORT USER_UPSTREAM CHAT_UPSTREAM NOTIFY_UPSTREAM WEB_ROOT RUN_DIR TLS_CERT TLS_KEY SERVER_NAME MODSEC_MAIN PUBLIC_WS_ORIGIN)

# Every variable the template mentions must be set: a silently empty `server` line or root
# would give a config that starts but routes nowhere.
missing=()
for v in "${vars[@]}"; do
  [[ $v == PUBLIC_WS_ORIGIN ]] && continue # derived from PUBLIC_BASE_URL below
  if grep -q "\${$v}" "$template" && [[ -z ${!v:-} ]]; then missing+=("$v"); fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "nginx-render: missing variables for $template: ${missing[*]}" >&2
  exit 2
fi
for v in WEB_ROOT RUN_DIR; do
  if grep -q "\${$v}" "$template" && [[ ${!v} != /* ]]; then
    echo "nginx-render: $v must be an absolute path (got ${!v})" >&2
    exit 2
  fi
done
if [[ ! ${NGINX_PORT:-0} =~ ^[0-9]+$ ]]; then
  echo "nginx-render: NGINX_PORT must be a number" >&2
  exit 2
fi

# The WebSocket origin of the public URL, checked strictly (it is written into a header): only
# a scheme, a host name or IP and a port pass; any path is dropped.
if grep -q '${PUBLIC_WS_ORIGIN}' "$template"; then
  public=${PUBLIC_BASE_URL:-http://$SERVER_NAME:$NGINX_PORT}
  if [[ ! $public =~ ^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[^[:space:]\"\;]*)?$ ]]; then
    echo "nginx-render: PUBLIC_BASE_URL must be http(s)://host[:port][/path] (got ${public})" >&2
    exit 2
  fi
  scheme=ws
  [[ ${BASH_REMATCH[1]} == https ]] && scheme=wss
  export PUBLIC_WS_ORIGIN="$scheme://${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
fi

if grep -q '${RUN_DIR}' "$template"; then
  mkdir -p "$RUN_DIR/logs" "$RUN_DIR/tmp" "$RUN_DIR/acme"
fi

# Substitute only the listed variables. envsubst (gettext-base) when present, else node.
list=$(printf '${%s} ' "${vars[@]}")
tmp_out="$out.tmp.$$"
if command -v envsubst >/dev/null 2>&1; then
  envsubst "$list" <"$template" >"$tmp_out"
else
  node -e '
    const fs = require("node:fs");
    const names = process.argv[1].split(" ");
    let text = fs.readFileSync(0, "utf8");
    for (const n of names) text = text.split("${" + n + "}").join(process.env[n] ?? "");
    process.stdout.write(text);
  ' "${vars[*]}" <"$template" >"$tmp_out"
fi
mv "$tmp_out" "$out"
