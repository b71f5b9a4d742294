import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
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
import { ChatClient, type StoredMessage } from '@cipherchat/client';
import {
  createApp as createChatApp,
  configSchema as chatConfigSchema,
  type App as ChatApp,
} from '@cipherchat/chat-service';
import { testEnv as chatTestEnv } from '@cipherchat/chat-service/testing';
import { createLogger, parseConfig } from '@cipherchat/service-kit';
import { deleteBusObjects, deleteRedisKeys, runNames, testInfra } from '@cipherchat/service-kit/testing';
import {
  createApp as createUserApp,
  configSchema as userConfigSchema,
  type App as UserApp,
} from '@cipherchat/user-service';
import { testEnv as userTestEnv, type UserServiceSecrets } from '@cipherchat/user-service/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/nginx.js';

// Backup -> restore into an empty database -> a working stack: the real user-service and
// chat-service (their own migrations, each logged in as its own role, as in production) hold
// accounts made by the real SDK (OPAQUE sign-up, device keys, key backup). scripts/backup.sh
// takes the backup, scripts/restore.sh restores it into a new empty database, the services are
// started again on the restored database with the secrets from the backup (through
// scripts/generate-envs.sh, as docs/operations.md says), and the old users log in on new
// devices with their old passwords: identity restored from the key backup, same identity key,
// same safety number, messages flow.
const PG_ADMIN = testInfra.postgresAdminUrl;
const names = runNames('ops.backup');
const suffix = names.suffix;
const SRC = `ops_backup_src_${suffix}`;
const DST = `ops_backup_dst_${suffix}`;
const DST_NO_OWNER = `ops_backup_noown_${suffix}`;
const SPARE = `ops_backup_spare_${suffix}`;
// One login role per service, as ops/postgres/init-roles.sh creates them (named per run so
// parallel runs and the dev stack's roles are never touched).
const ROLES = {
  user: { name: `ops_bk_user_${suffix}`, password: randomBytes(18).toString('base64url') },
  chat: { name: `ops_bk_chat_${suffix}`, password: randomBytes(18).toString('base64url') },
};
const EXCHANGE = names.exchange;
// one Redis prefix per stack (source, restored, intruder), all under the run's pattern
const REDIS_PREFIX = names.redisPattern.slice(0, -2);

const dbUrl = (db: string, role?: { name: string; password: string }) => {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${db}`;
  if (role) {
    url.username = role.name;
    url.password = role.password;
  }
  return url.toString();
};

let base: string;
let secretsFile: string;
let backupsDir: string;
let latest: string;
let restoredSecrets: string;
const quiet = createLogger('ops-backup-test', 'error');
const clients: ChatClient[] = [];

interface Stack {
  userApp: UserApp;
  chatApp: ChatApp;
  userUrl: string;
  chatUrl: string;
  close(): Promise<void>;
}

/**
 * Boots user-service and chat-service in-process on `db`, each connected as its own role,
 * chat-service verifying tokens through user-service's JWKS URL (as deployed).
 */
async function startStack(
  db: string,
  secrets: UserServiceSecrets,
  tag: string,
  roles: { user?: { name: string; password: string }; chat?: { name: string; password: string } },
): Promise<Stack> {
  const userApp = await createUserApp(
    parseConfig(
      userConfigSchema,
      await userTestEnv({
        databaseUrl: dbUrl(db, roles.user),
        exchange: EXCHANGE,
        redisKeyPrefix: `${REDIS_PREFIX}:${tag}:user:`,
        secrets,
      }),
    ),
    { logger: quiet },
  );
  const userUrl = `http://127.0.0.1:${await userApp.listen(0)}`;
  const chatApp = await createChatApp(
    parseConfig(
      chatConfigSchema,
      chatTestEnv({
        names,
        databaseUrl: dbUrl(db, roles.chat),
        jwksUrl: `${userUrl}/api/user/.well-known/jwks.json`,
        attachmentsDir: path.join(base, `attachments-${tag}`),
        amqpUrl: testInfra.amqpUrl,
        redisUrl: testInfra.redisUrl,
        overrides: { LOG_LEVEL: 'silent', REDIS_PREFIX: `${REDIS_PREFIX}:${tag}:chat` },
      }),
    ),
    { logger: quiet },
  );
  const chatUrl = `http://127.0.0.1:${await chatApp.listen(0)}`;
  return {
    userApp,
    chatApp,
    userUrl,
    chatUrl,
    async close() {
      await chatApp.close();
      await userApp.close();
    },
  };
}

function client(stack: Stack, deviceName: string): ChatClient {
  const c = new ChatClient({
    userApiUrl: `${stack.userUrl}/api/user`,
    chatApiUrl: `${stack.chatUrl}/api/chat`,
    socketUrl: stack.chatUrl,
    deviceName,
    backupDebounceMs: 20,
  });
  clients.push(c);
  return c;
}

function account(tag: string) {
  const id = `${tag}${suffix.slice(0, 8)}`;
  return {
    email: `${id}@example.org`,
    username: id,
    displayName: tag,
    password: `correct horse battery ${id}`,
  };
}

/** A KEY=value line of an env or secrets file (last one wins; optional single quotes). */
function valueOf(file: string, name: string): string {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .findLast((l) => l.startsWith(`${name}=`));
  return (line ?? '').slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}

/** The secrets user-service reads, from the env file generate-envs.sh writes for it. */
function userSecretsFrom(secrets: string, outDir: string): UserServiceSecrets {
  const gen = script('generate-envs.sh', [secrets, outDir]);
  expect(gen.status, gen.stderr).toBe(0);
  const env = path.join(outDir, 'user-service/app.env');
  return {
    OPAQUE_SERVER_SETUP: valueOf(env, 'OPAQUE_SERVER_SETUP'),
    JWT_PRIVATE_KEYS: valueOf(env, 'JWT_PRIVATE_KEYS'),
  };
}

async function withDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const scalar = (db: string, sql: string) =>
  withDb(dbUrl(db), async (c) => Object.values((await c.query(sql)).rows[0] ?? {})[0]);

function script(name: string, args: string[]) {
  return spawnSync('bash', [path.join(REPO_ROOT, 'scripts', name), ...args], {
    encoding: 'utf8',
    env: { ...process.env, SECRETS_CHOWN: '0' },
  });
}

const identityKey = async (c: ChatClient) =>
  Buffer.from((await c.store.getLocalIdentity())!.identityKeyPair.pubKey).toString('base64');
const jwks = async (stack: Stack) =>
  (await fetch(`${stack.userUrl}/api/user/.well-known/jwks.json`)).json();

const alice = account('alice');
const bob = account('bob');
const before = {
  aliceId: '',
  bobId: '',
  aliceKey: '',
  bobKey: '',
  safetyNumber: '',
  jwks: undefined as unknown,
  accessToken: '',
};
let source: Stack | undefined;
let restored: Stack | undefined;
let intruder: Stack | undefined;

beforeAll(async () => {
  await opaque.ready;
  base = mkdtempSync(path.join(tmpdir(), 'cc-backup-'));
  chmodSync(base, 0o700);
  backupsDir = path.join(base, 'backups');
  secretsFile = path.join(base, 'app_secrets');
  restoredSecrets = path.join(base, 'restored/app_secrets');
  copyFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), secretsFile);
  const secrets = userSecretsFrom(secretsFile, path.join(base, 'env'));

  await withDb(PG_ADMIN, async (c) => {
    for (const r of Object.values(ROLES))
      await c.query(`CREATE ROLE ${r.name} LOGIN PASSWORD '${r.password}'`);
    for (const db of [SRC, DST, DST_NO_OWNER, SPARE]) {
      await c.query(`CREATE DATABASE ${db}`);
      for (const r of Object.values(ROLES))
        await c.query(`GRANT CONNECT, CREATE ON DATABASE ${db} TO ${r.name}`);
    }
  });
  // As init-roles.sh does: pg_trgm in public, where the service roles cannot create objects.
  await withDb(dbUrl(SRC), (c) =>
    c.query('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public'),
  );

  source = await startStack(SRC, secrets, 'src', ROLES);
  const a = client(source, 'alice laptop');
  const b = client(source, 'bob laptop');
  before.aliceId = (await a.signUp(alice)).user.id;
  before.bobId = (await b.signUp(bob)).user.id;
  const direct = await a.createConversation({ kind: 'direct', memberIds: [before.bobId] });
  const got = b.next('message', (m) => m.text === 'before the backup') as Promise<StoredMessage>;
  await a.sendText(direct.id, 'before the backup');
  await got;
  before.safetyNumber = (await a.safetyNumber(before.bobId)).digits;
  expect((await b.safetyNumber(before.aliceId)).digits).toBe(before.safetyNumber);
  before.aliceKey = await identityKey(a);
  before.bobKey = await identityKey(b);
  before.jwks = await jwks(source);
  const accessToken = a.tokens()?.accessToken;
  if (!accessToken) throw new Error('a bearer-mode client holds its access token');
  before.accessToken = accessToken;
  await Promise.all([a.flushBackup(), b.flushBackup()]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await source?.close().catch(() => undefined);
  await restored?.close().catch(() => undefined);
  await intruder?.close().catch(() => undefined);
  await withDb(PG_ADMIN, async (c) => {
    for (const db of [SRC, DST, DST_NO_OWNER, SPARE])
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const r of Object.values(ROLES)) await c.query(`DROP ROLE IF EXISTS ${r.name}`);
  });
  await deleteBusObjects(testInfra.amqpUrl, EXCHANGE, [`${names.queuePrefix('chat')}.user-deleted`]);
  await deleteRedisKeys(testInfra.redisUrl, names.redisPattern);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('backup.sh and restore.sh with the real services, SDK and PostgreSQL', () => {
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
    expect(kept, latest).toHaveLength(2);
    expect(path.basename(latest)).toBe(kept[1]);
    expect(readdirSync(latest).sort()).toEqual([
      'README.txt',
      'SHA256SUMS',
      'app_secrets',
      'counts.tsv',
      'db.dump',
    ]);
    expect(readFileSync(path.join(latest, 'db.dump')).subarray(0, 5).toString()).toBe('PGDMP');
    const counts = readFileSync(path.join(latest, 'counts.tsv'), 'utf8');
    expect(counts, counts).toContain('users.users\t2\n');
    expect(counts, counts).toContain('chat.backups\t2\n');
    expect(valueOf(path.join(latest, 'app_secrets'), 'OPAQUE_SERVER_SETUP')).toBe(
      valueOf(secretsFile, 'OPAQUE_SERVER_SETUP'),
    );
    expect(valueOf(path.join(latest, 'app_secrets'), 'JWT_PRIVATE_KEYS')).toBe(
      valueOf(secretsFile, 'JWT_PRIVATE_KEYS'),
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
    const r = script('restore.sh', [damaged, '--database-url', dbUrl(SPARE)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('checksums do not match');
    expect(
      await scalar(
        SPARE,
        "SELECT count(*)::int FROM pg_namespace WHERE nspname IN ('users','chat')",
      ),
    ).toBe(0);
  });

  it('when restored (with owners) into an empty database and the services restart on it with the backed-up secrets, then old users log in on new devices, their key backups open and the stack works', async () => {
    // Written after the backup: must not be in the restore. The SDK's pooled keep-alive
    // connections sat idle during the backups, about as long as the services' keep-alive
    // timeout: touch both services first (retrying a reset) so signUp does not race a close.
    for (const url of [source!.userUrl, source!.chatUrl])
      await fetch(`${url}/health`).catch(() => fetch(`${url}/health`));
    const late = account('late');
    await client(source!, 'late laptop').signUp({ ...late, connect: false });
    for (const c of clients.splice(0)) c.disconnect();
    await source!.close();
    source = undefined;

    const r = script('restore.sh', [
      latest,
      '--database-url',
      dbUrl(DST),
      '--secrets-to',
      restoredSecrets,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/database verified: \d+ tables, \d+ rows, equal to the backup/);
    // Owners came back: each schema still belongs to its service's role.
    expect(
      await scalar(DST, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'users'"),
    ).toBe(ROLES.user.name);
    expect(
      await scalar(DST, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'chat'"),
    ).toBe(ROLES.chat.name);

    // The documented restart: restore.sh wrote app_secrets, generate-envs.sh makes the env files.
    const secrets = userSecretsFrom(restoredSecrets, path.join(base, 'restored/env'));
    restored = await startStack(DST, secrets, 'dst', ROLES);
    expect(await jwks(restored)).toEqual(before.jwks);
    // A token signed before the backup still verifies: the JWT keys came back too.
    const me = await fetch(`${restored.userUrl}/api/user/me`, {
      headers: { authorization: `Bearer ${before.accessToken}` },
    });
    expect(me.status).toBe(200);
    const conversations = await fetch(`${restored.chatUrl}/api/chat/conversations`, {
      headers: { authorization: `Bearer ${before.accessToken}` },
    });
    expect(conversations.status).toBe(200);

    const alice2 = client(restored, 'alice new laptop');
    const aliceLogin = await alice2.logIn(alice);
    expect(aliceLogin.identity).toBe('restored');
    expect(alice2.user.id).toBe(before.aliceId);
    expect(await identityKey(alice2)).toBe(before.aliceKey);
    expect((await alice2.safetyNumber(before.bobId)).digits).toBe(before.safetyNumber);

    const bob2 = client(restored, 'bob new phone');
    expect((await bob2.logIn(bob)).identity).toBe('restored');
    expect(await identityKey(bob2)).toBe(before.bobKey);
    expect((await bob2.safetyNumber(before.aliceId)).digits).toBe(before.safetyNumber);

    const direct = await alice2.createConversation({ kind: 'direct', memberIds: [before.bobId] });
    const got = bob2.next(
      'message',
      (m) => m.text === 'after the restore',
    ) as Promise<StoredMessage>;
    await alice2.sendText(direct.id, 'after the restore');
    expect((await got).text).toBe('after the restore');

    await expect(
      client(restored, 'alice typo').logIn({ ...alice, password: `${alice.password}!` }),
    ).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    await expect(
      client(restored, 'late again').logIn({ ...late, connect: false }),
    ).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
  });

  it('when the restored database is served with another OPAQUE_SERVER_SETUP, then no old user can log in (why backups carry it)', async () => {
    await opaque.ready;
    const { privateKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign'],
    );
    const jwk = await crypto.subtle.exportKey('jwk', privateKey);
    intruder = await startStack(
      DST,
      {
        OPAQUE_SERVER_SETUP: opaque.server.createSetup(),
        JWT_PRIVATE_KEYS: JSON.stringify([
          { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d, kid: 'other' },
        ]),
      },
      'other',
      ROLES,
    );
    for (const input of [alice, bob])
      await expect(
        client(intruder, 'wrong setup').logIn({ ...input, connect: false }),
      ).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
  });

  it('when restored with --no-owner, then every object belongs to the restoring role and the row counts still match', async () => {
    // For a cluster without the service roles: the restoring role (here postgres) owns all;
    // the services must then connect as that role, or the operator creates the roles first and
    // restores without --no-owner (the case above).
    const r = script('restore.sh', [latest, '--database-url', dbUrl(DST_NO_OWNER), '--no-owner']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('equal to the backup');
    expect(
      await scalar(
        DST_NO_OWNER,
        "SELECT count(DISTINCT nspowner::regrole::text)::int FROM pg_namespace WHERE nspname IN ('users','chat')",
      ),
    ).toBe(1);
    expect(
      await scalar(
        DST_NO_OWNER,
        "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'users'",
      ),
    ).toBe(new URL(PG_ADMIN).username);
  });

  it('when the target is not empty or the secrets file holds another OPAQUE setup, then restore refuses', async () => {
    const again = script('restore.sh', [latest, '--database-url', dbUrl(DST)]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('not empty');
    const other = path.join(base, 'other_secrets');
    writeFileSync(other, `OPAQUE_SERVER_SETUP=${opaque.server.createSetup()}\n`);
    const r = script('restore.sh', [latest, '--database-url', dbUrl(SPARE), '--secrets-to', other]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('different OPAQUE_SERVER_SETUP');
    expect(readFileSync(other, 'utf8')).not.toContain(valueOf(secretsFile, 'OPAQUE_SERVER_SETUP'));
    expect(
      await scalar(
        SPARE,
        "SELECT count(*)::int FROM pg_namespace WHERE nspname IN ('users','chat')",
      ),
    ).toBe(0);
  });
});
