#!/usr/bin/env bash
# Backs up CipherChat: the database (pg_dump custom format) and the secrets that logins depend
# on, with retention.
#
# Usage:
#   scripts/backup.sh [--out DIR] [--keep N] [--secrets FILE] [--database-url URL] [--compose [-- COMPOSE_ARGS...]]
#     --out DIR         where backups go (default: backups/ in the repository)
#     --keep N          keep the N newest backups, delete older ones (default 14)
#     --secrets FILE    the secrets file (default docker-secrets/app_secrets)
#     --database-url    PostgreSQL URL of a superuser or the database owner (default: $DATABASE_URL,
#                       else libpq's PG* variables)
#     --compose         run pg_dump inside the compose `postgres` container (no client needed on
#                       the host); arguments after `--` go to `docker compose` (e.g. -f files)
#
# Each backup is a directory cipherchat-<UTC time>/ (written as .partial, renamed when complete):
#   db.dump       pg_dump -Fc of the whole database (schemas users, chat, notify, roles' grants)
#   app_secrets   copy of the secrets file: OPAQUE_SERVER_SETUP, JWT_PRIVATE_KEYS, passwords
#   counts.tsv    exact row count of every table, checked by scripts/restore.sh
#   SHA256SUMS, README.txt
#
# WHY THE SECRETS: OPAQUE_SERVER_SETUP is the server half of every user's OPAQUE registration.
# A database restored without it is useless for logins: every login fails, and every key backup
# wrapped with the password-derived key can no longer be opened; only users' recovery keys still
# open their backups. The JWT keys sign sessions (losing them only logs everyone out).
# Backups therefore contain secrets: they are written mode 600 (umask 077). Store them encrypted
# and off the server (e.g. `gpg --encrypt` or restic/borg with encryption).
set -euo pipefail
umask 077

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo_root/backups keep=14 secrets=$repo_root/docker-secrets/app_secrets db_url=${DATABASE_URL:-} compose=0 compose_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$2; shift ;;
    --keep) keep=$2; shift ;;
    --secrets) secrets=$2; shift ;;
    --database-url) db_url=$2; shift ;;
    --compose) compose=1 ;;
    --) shift; compose_args=("$@"); break ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "backup: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $keep =~ ^[1-9][0-9]*$ ]] || { echo "backup: --keep must be a positive number" >&2; exit 2; }
[[ -r $secrets ]] || { echo "backup: secrets file $secrets not readable: a backup without OPAQUE_SERVER_SETUP cannot restore logins" >&2; exit 2; }
grep -q '^OPAQUE_SERVER_SETUP=.\+' "$secrets" || { echo "backup: $secrets has no OPAQUE_SERVER_SETUP" >&2; exit 2; }

# pg tools: on the host, or inside the compose postgres container (stdin/stdout streamed).
pg() { # tool args...
  local tool=$1; shift
  if ((compose)); then
    docker compose "${compose_args[@]}" exec -T postgres "$tool" -U postgres -d chat_db "$@"
  elif [[ -n $db_url ]]; then
    "$tool" -d "$db_url" "$@"
  else
    "$tool" "$@"
  fi
}

# Millisecond stamp: names sort by time and two backups in one second do not collide.
stamp=$(date -u +%Y%m%dT%H%M%S%3NZ)
mkdir -p "$out"
dir=$out/cipherchat-$stamp
tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

count_sql="SELECT format('SELECT %L || E''\\t'' || count(*) FROM %I.%I;', n.nspname || '.' || c.relname, n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1 \\gexec"

# The dump and the row counts must describe the same moment, or restore's check would fail on a
# busy server: one psql session opens a repeatable-read transaction and exports its snapshot,
# pg_dump reads that snapshot, and the counts are taken in the same transaction.
coproc PSQL { pg psql -X -q -At -v ON_ERROR_STOP=1 --no-password 2>&1; }
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SELECT pg_export_snapshot();" >&"${PSQL[1]}"
IFS= read -r -t 30 snapshot <&"${PSQL[0]}" || { echo "backup: could not open a snapshot" >&2; exit 1; }
[[ $snapshot =~ ^[0-9A-F-]+$ ]] || { echo "backup: psql: $snapshot" >&2; exit 1; }
pg pg_dump --format=custom --compress=6 --no-password --snapshot="$snapshot" >"$tmp/db.dump"
printf '%s\n' "$count_sql" "SELECT '__end__';" >&"${PSQL[1]}"
: >"$tmp/counts.tsv"
while IFS= read -r -t 300 line <&"${PSQL[0]}"; do
  [[ $line == __end__ ]] && break
  [[ $line == *$'\t'* ]] || { echo "backup: psql: $line" >&2; exit 1; }
  printf '%s\n' "$line" >>"$tmp/counts.tsv"
done
printf '%s\n' "COMMIT;" "\\q" >&"${PSQL[1]}"
wait "$PSQL_PID" 2>/dev/null || true

# The archive must be readable before we call it a backup.
if ((compose)); then
  docker compose "${compose_args[@]}" exec -T postgres pg_restore --list <"$tmp/db.dump" >/dev/null
else
  pg_restore --list "$tmp/db.dump" >/dev/null
fi || { echo "backup: the dump is not a readable pg_dump archive" >&2; exit 1; }

cp "$secrets" "$tmp/app_secrets"
cat >"$tmp/README.txt" <<TXT
CipherChat backup taken $stamp (UTC).
Restore: scripts/restore.sh <this directory> --database-url <empty database> --secrets-to docker-secrets/app_secrets
app_secrets holds OPAQUE_SERVER_SETUP: without it no user can log in to the restored database and
password-wrapped key backups cannot be opened (only recovery keys still open them). Keep this
directory encrypted and away from the server it came from.
TXT
(cd "$tmp" && sha256sum db.dump app_secrets counts.tsv >SHA256SUMS)
mv "$tmp" "$dir"
trap - EXIT

# Retention: newest first by name (the UTC stamp sorts), keep N.
mapfile -t all < <(find "$out" -maxdepth 1 -type d -name 'cipherchat-*' ! -name '*.partial' -printf '%f\n' | sort -r)
for old in "${all[@]:keep}"; do rm -rf "${out:?}/$old"; done
tables=$(wc -l <"$dir/counts.tsv")
echo "backup: $dir ($(du -h "$dir/db.dump" | cut -f1) dump, $tables tables; kept ${#all[@]} -> $((${#all[@]} < keep ? ${#all[@]} : keep)))" >&2
echo "$dir"
