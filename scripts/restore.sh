#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into an EMPTY database and verifies it.
#
# Usage:
#   scripts/restore.sh BACKUP_DIR [--database-url URL] [--secrets-to FILE] [--no-owner] [--force-secrets]
#                      [--compose [-- COMPOSE_ARGS...]]
#     --database-url    target database (must exist and be empty; default $DATABASE_URL / PG*)
#     --secrets-to      where to put the backup's app_secrets (e.g. docker-secrets/app_secrets);
#                       an existing file with a different OPAQUE_SERVER_SETUP is not overwritten
#                       unless --force-secrets (that is how a restore silently breaks logins)
#     --no-owner        do not restore ownership/grants (target cluster lacks the service roles)
#     --compose         restore inside the compose `postgres` container (database chat_db)
#
# Verification: SHA256SUMS, `pg_restore --list` of the archive, the target has no tables before,
# pg_restore --exit-on-error in one transaction, then the exact row count of every table must
# equal counts.tsv from backup time. Exit 0 only when all of that holds.
set -euo pipefail
umask 077

[[ $# -ge 1 ]] || { sed -n '2,16p' "$0"; exit 2; }
backup=$1; shift
db_url=${DATABASE_URL:-} secrets_to="" no_owner=() force=0 compose=0 compose_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --database-url) db_url=$2; shift ;;
    --secrets-to) secrets_to=$2; shift ;;
    --no-owner) no_owner=(--no-owner --no-privileges) ;;
    --force-secrets) force=1 ;;
    --compose) compose=1 ;;
    --) shift; compose_args=("$@"); break ;;
    *) echo "restore: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
fail() { echo "restore: $*" >&2; exit 1; }
[[ -f $backup/db.dump && -f $backup/SHA256SUMS && -f $backup/counts.tsv && -f $backup/app_secrets ]] ||
  fail "$backup is not a complete backup (db.dump, app_secrets, counts.tsv, SHA256SUMS)"

pg() {
  local tool=$1; shift
  if ((compose)); then
    docker compose "${compose_args[@]}" exec -T postgres "$tool" -U postgres -d chat_db "$@"
  elif [[ -n $db_url ]]; then
    "$tool" -d "$db_url" "$@"
  else
    "$tool" "$@"
  fi
}

# Refuse a secrets target holding another OPAQUE setup before anything is written.
opaque_of() { sed -n "s/^OPAQUE_SERVER_SETUP=['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\}$/\1/p" "$1" | tail -n 1; }
if [[ -n $secrets_to && -e $secrets_to ]] && [[ $(opaque_of "$secrets_to") != "$(opaque_of "$backup/app_secrets")" ]] && ((force == 0)); then
  fail "$secrets_to has a different OPAQUE_SERVER_SETUP than the backup; the restored users can only log in with the backup's. Move it away or pass --force-secrets"
fi

(cd "$backup" && sha256sum --quiet -c SHA256SUMS) || fail "checksums do not match: the backup is damaged"
if ((compose)); then
  entries=$(docker compose "${compose_args[@]}" exec -T postgres pg_restore --list <"$backup/db.dump" | grep -vc '^;' || true)
else
  entries=$(pg_restore --list "$backup/db.dump" | grep -vc '^;' || true)
fi
((entries > 0)) || fail "pg_restore --list finds nothing in db.dump"
echo "restore: archive ok ($entries entries)" >&2

existing=$(pg psql -X -At --no-password -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'")
[[ $existing == 0 ]] || fail "the target database is not empty ($existing tables): restore only into an empty database"

pg pg_restore --exit-on-error --single-transaction --no-password "${no_owner[@]}" <"$backup/db.dump" ||
  fail "pg_restore failed; the target is unchanged (single transaction)"

# Row counts must match the backup exactly.
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
pg psql -X -q -At -v ON_ERROR_STOP=1 --no-password >"$actual" <<'SQL'
SELECT format('SELECT %L || E''\t'' || count(*) FROM %I.%I;', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1 \gexec
SQL
if ! diff -u "$backup/counts.tsv" "$actual" >&2; then
  fail "row counts differ from the backup (above)"
fi
rows=$(awk -F'\t' '{s+=$2} END {print s+0}' "$actual")
echo "restore: database verified: $(wc -l <"$actual") tables, $rows rows, equal to the backup" >&2

if [[ -n $secrets_to ]]; then
  mkdir -p "$(dirname "$secrets_to")"
  cp "$backup/app_secrets" "$secrets_to"
  chmod 600 "$secrets_to"
  echo "restore: secrets written to $secrets_to (run scripts/generate-envs.sh, then start the services)" >&2
fi
echo "restore: done" >&2
