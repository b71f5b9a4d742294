#!/usr/bin/env bash
# First start of the postgres container (docker-entrypoint-initdb.d): one login role per
# service, each allowed to create its own schema in chat_db and nothing else. A service reads and
# writes only its own schema (users, chat, notify), created by its migrations and owned by it,
# so the others cannot read it. Passwords come from files written by scripts/generate-envs.sh.
set -euo pipefail
dir=${SECRETS_DIR:-/run/secrets/cipherchat}
db=${POSTGRES_DB:-chat_db}
psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db")
for role in user notify chat; do
  pw=$(cat "$dir/${role}_db_password")
  "${psql[@]}" -v role="${role}_svc" -v pw="$pw" -v db="$db" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'pw') \gexec
SELECT format('GRANT CONNECT, CREATE ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
done
# pg_trgm (user directory search) lives in public, where the service roles cannot create objects.
"${psql[@]}" -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public'
echo "init-roles: roles user_svc, chat_svc, notify_svc ready"
