#!/usr/bin/env bash
# Generates the per-service environment files of a CipherChat deployment from
# docker-secrets/app_secrets, creating strong random secrets that are missing.
#
# Usage: scripts/generate-envs.sh [SECRETS_FILE] [OUT_DIR]
#   SECRETS_FILE  default docker-secrets/app_secrets (KEY=VALUE lines; see app_secrets.example)
#   OUT_DIR       default docker-secrets/env
# Host names inside the generated URLs (defaults fit docker-compose.yml; k8s: see docs):
#   DB_HOST=postgres DB_NAME=chat_db AMQP_HOST=rabbitmq REDIS_HOST=redis USER_SERVICE_HOST=user-service
#
# What it does
#   - Generates, when missing or left as a placeholder (empty, "change-me", "CHANGE_ME..."):
#     database/broker/cache passwords, UNSUBSCRIBE_SECRET, JWT_PRIVATE_KEYS (one ES256 private
#     JWK with a kid, WebCrypto) and OPAQUE_SERVER_SETUP (@serenity-kit/opaque
#     server.createSetup()). Generated values are appended to SECRETS_FILE, so they persist:
#     OPAQUE_SERVER_SETUP and the JWT keys must never change by accident (see docs/operations.md).
#   - Refuses (exit 1) a value that is present but malformed or weak instead of replacing it:
#     silently replacing OPAQUE_SERVER_SETUP would break every login, replacing a database
#     password would lock the services out of an existing database.
#   - Writes OUT_DIR/<service>/app.env (read by `node --env-file`), postgres password files,
#     rabbitmq and redis configs, the pgAdmin password: one directory per container, owned by
#     the uid that container runs as, mode 700/600 (when run as root; SECRETS_CHOWN=0 skips
#     the chown, e.g. for the dev stack). Idempotent.
#   - Never prints a secret: only the names of what it generated.
set -euo pipefail
umask 077

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secrets_file=${1:-$repo_root/docker-secrets/app_secrets}
out_dir=${2:-$repo_root/docker-secrets/env}

if [[ ! -e $secrets_file ]]; then
  echo "generate-envs: $secrets_file does not exist; starting from app_secrets.example" >&2
  cp "$repo_root/docker-secrets/app_secrets.example" "$secrets_file"
fi
mkdir -p "$out_dir"

cd "$repo_root"
SECRETS_FILE=$secrets_file OUT_DIR=$out_dir node --input-type=module - <<'NODE'
import { readFileSync, writeFileSync, mkdirSync, appendFileSync, chmodSync, chownSync } from 'node:fs';
import { randomBytes, webcrypto } from 'node:crypto';
import path from 'node:path';

const secretsFile = process.env.SECRETS_FILE;
const outDir = process.env.OUT_DIR;
const host = (name, dflt) => process.env[name] || dflt;

// ---- parse KEY=VALUE lines (no shell evaluation; optional single or double quotes)
const text = readFileSync(secretsFile, 'utf8');
const values = new Map();
for (const [i, raw] of text.split('\n').entries()) {
  const line = raw.trim();
  if (!line || line.startsWith('#')) continue;
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  if (!m) fail(`line ${i + 1} of ${secretsFile} is not KEY=VALUE`);
  let v = m[2];
  if (v.length >= 2 && ((v[0] === "'" && v.at(-1) === "'") || (v[0] === '"' && v.at(-1) === '"'))) v = v.slice(1, -1);
  values.set(m[1], v);
}

function fail(msg) {
  process.stderr.write(`generate-envs: ${msg}\n`);
  process.exit(1);
}
const isPlaceholder = (v) => v === undefined || v === '' || /^change[-_]?me/i.test(v);
const generated = [];
const password = () => randomBytes(24).toString('base64url');
const WEAK = new Set(['password', 'postgres', 'guest', 'admin', 'secret', 'redis', 'rabbitmq', 'cipherchat', '123456']);

function secret(name, make, check) {
  const v = values.get(name);
  if (isPlaceholder(v)) {
    const fresh = make();
    values.set(name, fresh);
    generated.push(name);
    return fresh;
  }
  const problem = check(v);
  if (problem) fail(`${name} is present but ${problem}; fix or remove it (it is not replaced automatically)`);
  return v;
}
const strongPassword = (v) => (v.length < 16 ? 'shorter than 16 characters' : WEAK.has(v.toLowerCase()) ? 'a well-known password' : null);

// ---- the secrets logins depend on
async function makeOpaqueSetup() {
  const opaque = await import('@serenity-kit/opaque');
  await opaque.ready;
  return opaque.server.createSetup();
}
async function makeJwk() {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d, kid: `es256-${date}-${randomBytes(4).toString('hex')}` };
}
function checkJwks(v) {
  let keys;
  try {
    keys = JSON.parse(v);
  } catch {
    return 'not valid JSON';
  }
  if (!Array.isArray(keys) || keys.length === 0) return 'not a non-empty JSON array';
  for (const k of keys) {
    if (k?.kty !== 'EC' || k?.crv !== 'P-256' || !k?.d || !k?.x || !k?.y || !k?.kid) return 'not a list of private ES256 JWKs with kid';
  }
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) return 'using a kid twice';
  return null;
}

let opaqueSetup = values.get('OPAQUE_SERVER_SETUP');
if (isPlaceholder(opaqueSetup)) {
  opaqueSetup = await makeOpaqueSetup();
  values.set('OPAQUE_SERVER_SETUP', opaqueSetup);
  generated.push('OPAQUE_SERVER_SETUP');
} else if (!/^[A-Za-z0-9_-]{100,400}$/.test(opaqueSetup)) {
  fail('OPAQUE_SERVER_SETUP is present but not the output of opaque.server.createSetup(); it is not replaced automatically (replacing it breaks every login)');
}
let jwtKeys = values.get('JWT_PRIVATE_KEYS');
if (isPlaceholder(jwtKeys)) {
  jwtKeys = JSON.stringify([await makeJwk()]);
  values.set('JWT_PRIVATE_KEYS', jwtKeys);
  generated.push('JWT_PRIVATE_KEYS');
} else {
  const problem = checkJwks(jwtKeys);
  if (problem) fail(`JWT_PRIVATE_KEYS is present but ${problem}`);
}

const pg = secret('POSTGRES_PASSWORD', password, strongPassword);
const userDb = secret('USER_DB_PASSWORD', password, strongPassword);
const chatDb = secret('CHAT_DB_PASSWORD', password, strongPassword);
const notifyDb = secret('NOTIFY_DB_PASSWORD', password, strongPassword);
const rabbit = secret('RABBITMQ_PASSWORD', password, strongPassword);
const redis = secret('REDIS_PASSWORD', password, strongPassword);
const pgadmin = secret('PGADMIN_PASSWORD', password, strongPassword);
const unsubscribe = secret('UNSUBSCRIBE_SECRET', () => randomBytes(32).toString('base64url'), (v) => (v.length < 32 ? 'shorter than 32 characters' : null));

// ---- persist what was generated (append: comments and order of the operator's file stay)
if (generated.length > 0) {
  const stamp = new Date().toISOString();
  let add = `\n# generated by scripts/generate-envs.sh at ${stamp}\n`;
  for (const name of generated) add += `${name}='${values.get(name)}'\n`;
  appendFileSync(secretsFile, add);
}
chmodSync(secretsFile, 0o600);

// ---- per-service files
const get = (k, d) => {
  const v = values.get(k);
  return isPlaceholder(v) ? d : v;
};
const publicBaseUrl = get('PUBLIC_BASE_URL', 'http://localhost:8080');
const dbHost = host('DB_HOST', 'postgres');
const dbName = host('DB_NAME', get('DB_NAME', 'chat_db'));
const e = encodeURIComponent;
const amqp = `amqp://cipherchat:${e(rabbit)}@${host('AMQP_HOST', 'rabbitmq')}:5672`;
const redisUrl = `redis://:${e(redis)}@${host('REDIS_HOST', 'redis')}:6379/0`;
const logLevel = get('LOG_LEVEL', 'info');
// Plain KEY=value where possible: both `node --env-file` and `kubectl create secret
// --from-env-file` read it the same way. Values that node would cut ('#' starts a comment) or
// trim are single-quoted (node strips the quotes; kubectl would keep them: avoid such values).
const quote = (v) => {
  const s = String(v);
  if (s.includes("'") || s.includes('\n')) fail('a value contains a single quote or newline');
  return /#|^["`]|^\s|\s$/.test(s) ? `'${s}'` : s;
};
function writeEnv(service, vars) {
  const dir = path.join(outDir, service);
  mkdirSync(dir, { recursive: true });
  const body = Object.entries(vars)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join('\n');
  writeFileSync(path.join(dir, 'app.env'), `# generated by scripts/generate-envs.sh; do not edit, edit app_secrets\n${body}\n`, { mode: 0o600 });
  own(dir, 'app.env', UID.services);
}
function writeFile(rel, content, uid) {
  const p = path.join(outDir, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content, { mode: 0o600 });
  own(path.dirname(p), path.basename(p), uid);
}
// Each directory is bind-mounted into one container only; it and its files belong to the uid
// that container runs as (distroless nonroot 65532; postgres, rabbitmq, redis 999; pgAdmin
// 5050), mode 700/600. Not root (no chown): readable by all local users, with a warning.
function own(dir, file, uid) {
  if (isRoot) {
    chownSync(dir, uid, uid);
    chownSync(path.join(dir, file), uid, uid);
    chmodSync(dir, 0o700);
  } else {
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, file), 0o644);
    looseOwnership = true;
  }
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0 && process.env.SECRETS_CHOWN !== '0';
let looseOwnership = false;
const UID = { services: 65532, postgres: 999, rabbitmq: 999, redis: 999, pgadmin: 5050 };
// REDIS_URL for all three: user-service writes the session revocation list, chat-service and
// notification-service refuse revoked sessions' tokens from it (plus rate limits, Socket.IO).
const common = { NODE_ENV: 'production', LOG_LEVEL: logLevel, HOST: '0.0.0.0', PUBLIC_BASE_URL: publicBaseUrl, AMQP_URL: amqp, REDIS_URL: redisUrl };
writeEnv('user-service', {
  ...common,
  PORT: '3001',
  DATABASE_URL: `postgres://user_svc:${e(userDb)}@${dbHost}:5432/${dbName}`,
  JWT_PRIVATE_KEYS: jwtKeys,
  OPAQUE_SERVER_SETUP: opaqueSetup,
  COOKIE_SECURE: get('COOKIE_SECURE', publicBaseUrl.startsWith('https://') ? 'true' : 'false'),
});
writeEnv('chat-service', {
  ...common,
  PORT: '3002',
  DATABASE_URL: `postgres://chat_svc:${e(chatDb)}@${dbHost}:5432/${dbName}`,
  JWKS_URL: `http://${host('USER_SERVICE_HOST', 'user-service')}:3001/api/user/.well-known/jwks.json`,
  ATTACHMENTS_DIR: '/data/attachments',
  CLOUDINARY_URL: get('CLOUDINARY_URL', ''),
});
writeEnv('notification-service', {
  ...common,
  PORT: '3003',
  DATABASE_URL: `postgres://notify_svc:${e(notifyDb)}@${dbHost}:5432/${dbName}`,
  SMTP_URL: get('SMTP_URL', 'smtp://maildev:1025'),
  MAIL_FROM: get('MAIL_FROM', 'CipherChat <no-reply@localhost>'),
  UNSUBSCRIBE_SECRET: unsubscribe,
  JWKS_URL: `http://${host('USER_SERVICE_HOST', 'user-service')}:3001/api/user/.well-known/jwks.json`,
  CLOUDINARY_URL: get('CLOUDINARY_URL', ''),
});
// postgres: the image reads POSTGRES_PASSWORD_FILE; ops/postgres/init-roles.sh the others.
writeFile('postgres/postgres_password', pg, UID.postgres);
writeFile('postgres/user_db_password', userDb, UID.postgres);
writeFile('postgres/chat_db_password', chatDb, UID.postgres);
writeFile('postgres/notify_db_password', notifyDb, UID.postgres);
writeFile(
  'rabbitmq/10-cipherchat.conf',
  `# generated by scripts/generate-envs.sh\nlisteners.tcp.default = 5672\nmanagement.tcp.port = 15672\nloopback_users.guest = true\ndefault_user = cipherchat\ndefault_pass = ${rabbit}\n`,
  UID.rabbitmq,
);
writeFile('redis/redis.conf', `# generated by scripts/generate-envs.sh\nrequirepass ${redis}\nappendonly no\nsave ""\n`, UID.redis);
writeFile('pgadmin/password', pgadmin, UID.pgadmin);
if (looseOwnership) process.stderr.write('generate-envs: warning: not root, so the files are world-readable; run as root (or the compose setup service) on a server\n');

process.stderr.write(
  `generate-envs: wrote ${outDir}/{user-service,chat-service,notification-service}/app.env` +
    (generated.length ? `; generated ${generated.join(', ')} (saved in ${secretsFile})` : '; nothing generated') + '\n',
);
NODE
