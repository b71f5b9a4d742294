import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/nginx.js';

// Backup -> restore into an empty database -> old users still log in with OPAQUE and their
// password-wrapped key backups open. The "services" here are the OPAQUE library and SQL, so the
// test stands alone; it uses the real scripts, the real PostgreSQL and a real OPAQUE setup made
// by scripts/generate-envs.sh.
const PG_ADMIN = process.env.OPS_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const SRC = `ops_backup_src_${suffix}`;
const DST = `ops_backup_dst_${suffix}`;
const dbUrl = (db: string) => PG_ADMIN.replace(/\/[^/]*$/, `/${db}`);

let base: string;
let secretsFile: string;
let backupsDir: string;
const users: Array<{ id: string; email: string; password: string; state: string }> = [];

function wrapKey(exportKey: string): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.from(exportKey, 'base64url'),
      Buffer.alloc(0),
      'cipherchat key backup v1',
      32,
    ),
  );
}
function seal(key: Buffer, plaintext: string, userId: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(userId));
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}
function open(key: Buffer, blob: string, userId: string): string {
  const raw = Buffer.from(blob, 'base64');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAAD(Buffer.from(userId));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}
function secretOf(file: string, name: string): string {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .findLast((l) => l.startsWith(`${name}=`));
  return (line ?? '').slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}
async function withDb<T>(db: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: dbUrl(db) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
function script(name: string, args: string[]) {
  return spawnSync('bash', [path.join(REPO_ROOT, 'scripts', name), ...args], {
    encoding: 'utf8',
    env: { ...process.env, SECRETS_CHOWN: '0' },
  });
}

/** OPAQUE login against a database; undefined when the server setup does not fit the record. */
async function login(
  db: string,
  serverSetup: string,
  email: string,
  password: string,
): Promise<string | undefined> {
  const record = await withDb(
    db,
    async (c) =>
      (await c.query('SELECT opaque_record FROM users.accounts WHERE email = $1', [email])).rows[0]
        ?.opaque_record as string,
  );
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const { serverLoginState, loginResponse } = opaque.server.startLogin({
    serverSetup,
    userIdentifier: email,
    registrationRecord: record,
    startLoginRequest,
  });
  const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
  if (!finished) return undefined;
  opaque.server.finishLogin({ serverLoginState, finishLoginRequest: finished.finishLoginRequest });
  return finished.exportKey;
}

beforeAll(async () => {
  await opaque.ready;
  base = mkdtempSync(path.join(tmpdir(), 'cc-backup-'));
  backupsDir = path.join(base, 'backups');
  secretsFile = path.join(base, 'app_secrets');
  copyFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), secretsFile);
  const gen = script('generate-envs.sh', [secretsFile, path.join(base, 'env')]);
  expect(gen.status, gen.stderr).toBe(0);
  const serverSetup = secretOf(secretsFile, 'OPAQUE_SERVER_SETUP');

  await withDb('postgres', async (c) => {
    await c.query(`CREATE DATABASE ${SRC}`);
    await c.query(`CREATE DATABASE ${DST}`);
  });
  await withDb(SRC, async (c) => {
    await c.query('CREATE SCHEMA users; CREATE SCHEMA chat');
    await c.query(
      'CREATE TABLE users.accounts (id uuid PRIMARY KEY, email text UNIQUE NOT NULL, opaque_record text NOT NULL)',
    );
    await c.query(
      'CREATE TABLE chat.key_backups (user_id uuid PRIMARY KEY, version int NOT NULL, blob text NOT NULL)',
    );
    for (let i = 0; i < 3; i += 1) {
      const user = {
        id: crypto.randomUUID(),
        email: `user${i}-${suffix}@example.org`,
        password: `correct horse ${i} ${suffix}`,
        state: `identity-key-${randomBytes(16).toString('hex')}`,
      };
      const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
        password: user.password,
      });
      const { registrationResponse } = opaque.server.createRegistrationResponse({
        serverSetup,
        userIdentifier: user.email,
        registrationRequest,
      });
      const { registrationRecord, exportKey } = opaque.client.finishRegistration({
        clientRegistrationState,
        registrationResponse,
        password: user.password,
      });
      await c.query('INSERT INTO users.accounts VALUES ($1, $2, $3)', [
        user.id,
        user.email,
        registrationRecord,
      ]);
      await c.query('INSERT INTO chat.key_backups VALUES ($1, 1, $2)', [
        user.id,
        seal(wrapKey(exportKey), user.state, user.id),
      ]);
      users.push(user);
    }
  });
}, 120_000);

afterAll(async () => {
  await withDb('postgres', async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${SRC} WITH (FORCE)`);
    await c.query(`DROP DATABASE IF EXISTS ${DST} WITH (FORCE)`);
  });
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('backup.sh and restore.sh with the real PostgreSQL', () => {
  let latest: string;

  it('when three backups are taken with --keep 2, then the two newest remain, each with dump, secrets and checksums', () => {
    for (let i = 0; i < 3; i += 1) {
      const r = script('backup.sh', [
        '--out',
        backupsDir,
        '--keep',
        '2',
        '--secrets',
        secretsFile,
        '--database-url',
        dbUrl(SRC),
      ]);
      expect(r.status, r.stderr).toBe(0);
      latest = r.stdout.trim();
    }
    const kept = readdirSync(backupsDir).sort();
    expect(kept).toHaveLength(2);
    expect(path.basename(latest)).toBe(kept[1]);
    expect(readdirSync(latest).sort()).toEqual([
      'README.txt',
      'SHA256SUMS',
      'app_secrets',
      'counts.tsv',
      'db.dump',
    ]);
    expect(readFileSync(path.join(latest, 'db.dump')).subarray(0, 5).toString()).toBe('PGDMP');
    expect(readFileSync(path.join(latest, 'counts.tsv'), 'utf8')).toBe(
      'chat.key_backups\t3\nusers.accounts\t3\n',
    );
    expect(secretOf(path.join(latest, 'app_secrets'), 'OPAQUE_SERVER_SETUP')).toBe(
      secretOf(secretsFile, 'OPAQUE_SERVER_SETUP'),
    );
    expect(readFileSync(path.join(latest, 'README.txt'), 'utf8')).toContain('OPAQUE_SERVER_SETUP');
  });

  it('when the dump is damaged, then restore refuses before touching the database', async () => {
    const damaged = path.join(base, 'damaged');
    cpSync(latest, damaged, { recursive: true });
    const dump = readFileSync(path.join(damaged, 'db.dump'));
    const at = dump.length - 10;
    dump.writeUInt8(dump.readUInt8(at) ^ 0xff, at);
    writeFileSync(path.join(damaged, 'db.dump'), dump);
    const r = script('restore.sh', [damaged, '--database-url', dbUrl(DST), '--no-owner']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('checksums do not match');
    expect(
      await withDb(
        DST,
        async (c) =>
          (
            await c.query(
              "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('users','chat')",
            )
          ).rows[0].n,
      ),
    ).toBe(0);
  });

  it('when restored into an empty database with its secrets, then every old user logs in and opens their key backup', async () => {
    // Written after the backup: must not appear in the restore.
    await withDb(SRC, (c) =>
      c.query("INSERT INTO users.accounts VALUES (gen_random_uuid(), 'late@example.org', 'x')"),
    );
    const restoredSecrets = path.join(base, 'restored/app_secrets');
    const r = script('restore.sh', [
      latest,
      '--database-url',
      dbUrl(DST),
      '--no-owner',
      '--secrets-to',
      restoredSecrets,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('database verified: 2 tables, 6 rows');
    const serverSetup = secretOf(restoredSecrets, 'OPAQUE_SERVER_SETUP');
    for (const user of users) {
      const exportKey = await login(DST, serverSetup, user.email, user.password);
      expect(exportKey, user.email).toBeDefined();
      const blob = await withDb(
        DST,
        async (c) =>
          (await c.query('SELECT blob FROM chat.key_backups WHERE user_id = $1', [user.id])).rows[0]
            .blob as string,
      );
      expect(open(wrapKey(exportKey!), blob, user.id)).toBe(user.state);
    }
    expect(await login(DST, serverSetup, users[0]!.email, 'wrong password')).toBeUndefined();
  });

  it('when the database is restored without its OPAQUE_SERVER_SETUP, then no old user can log in (why backups carry it)', async () => {
    const otherSetup = opaque.server.createSetup();
    for (const user of users)
      expect(await login(DST, otherSetup, user.email, user.password)).toBeUndefined();
  });

  it('when the target is not empty or the secrets file holds another OPAQUE setup, then restore refuses', () => {
    const again = script('restore.sh', [latest, '--database-url', dbUrl(DST), '--no-owner']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('not empty');
    const other = path.join(base, 'other_secrets');
    writeFileSync(other, `OPAQUE_SERVER_SETUP=${opaque.server.createSetup()}\n`);
    execFileSync('psql', [
      dbUrl(DST),
      '-qc',
      'DROP SCHEMA users CASCADE; DROP SCHEMA chat CASCADE',
    ]);
    const r = script('restore.sh', [
      latest,
      '--database-url',
      dbUrl(DST),
      '--no-owner',
      '--secrets-to',
      other,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('different OPAQUE_SERVER_SETUP');
    expect(readFileSync(other, 'utf8')).not.toContain(secretOf(secretsFile, 'OPAQUE_SERVER_SETUP'));
    expect(
      execFileSync(
        'psql',
        [dbUrl(DST), '-Atc', "SELECT count(*) FROM pg_namespace WHERE nspname IN ('users','chat')"],
        { encoding: 'utf8' },
      ).trim(),
    ).toBe('0');
  });
});
