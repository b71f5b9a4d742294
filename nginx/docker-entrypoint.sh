#!/usr/bin/env bash
# Edge container start: render the template (prod by default; TEMPLATE=.../dev.conf.template for
# the dev compose stack) and run nginx in the foreground. Upstreams chosen by blue-green
# deploys (edge-switch) are kept in $RUN_DIR/upstreams.env and survive container restarts.
set -euo pipefail
export SERVER_NAME=${SERVER_NAME:-localhost}
export TLS_CERT=${TLS_CERT:-/etc/letsencrypt/live/$SERVER_NAME/fullchain.pem}
export TLS_KEY=${TLS_KEY:-/etc/letsencrypt/live/$SERVER_NAME/privkey.pem}
mkdir -p "$RUN_DIR"
if [[ -f $RUN_DIR/upstreams.env ]]; then
  # shellcheck disable=SC1091
  set -a; . "$RUN_DIR/upstreams.env"; set +a
fi
if [[ $TEMPLATE == *prod* && ! -s $TLS_CERT ]]; then
  # First start, before certbot has run: a throw-away self-signed certificate lets nginx start
  # and answer the ACME http-01 challenge on port 80. Replace with `certbot certonly --webroot
  # -w $RUN_DIR/acme -d $SERVER_NAME`, then `docker compose exec nginx nginx -s reload`... see docs.
  echo "edge: no certificate at $TLS_CERT yet; using a temporary self-signed one" >&2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj "/CN=$SERVER_NAME" \
    -keyout "$RUN_DIR/selfsigned.key" -out "$RUN_DIR/selfsigned.crt" 2>/dev/null
  export TLS_CERT=$RUN_DIR/selfsigned.crt TLS_KEY=$RUN_DIR/selfsigned.key
fi
"${NGINX_RENDER:-/usr/local/bin/nginx-render.sh}" "$TEMPLATE" "$RUN_DIR/nginx.conf"
# Record what edge-switch needs to re-render the same way.
declare -p SERVER_NAME TLS_CERT TLS_KEY | sed 's/^declare -x /export /; s/^declare -- /export /' >"$RUN_DIR/render.env"
exec nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -g 'daemon off;'
