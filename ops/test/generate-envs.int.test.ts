import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@cipherchat/service-kit';
import { configSchema as userConfig } from '@cipherchat/user-service/config';
import { configSchema as chatConfig } from '@cipherchat/chat-service/config';
import { configSchema as notifyConfig } from '@cipherchat/notification-service/config';
import { REPO_ROOT } from './support/nginx.js';

describe('scripts/generate-envs.sh', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'cc-envs-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('when run on the example secrets, then every service accepts its generated env file as a valid config', () => {
    const secrets = path.join(base, 'app_secrets');
    copyFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), secrets);
    const out = path.join(base, 'env');
    const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/generate-envs.sh'), secrets, out], {
      encoding: 'utf8',
      env: { ...process.env, SECRETS_CHOWN: '0' },
    });
    expect(run.status, run.stderr).toBe(0);
    const envOf = (svc: string) => parseEnv(readFileSync(path.join(out, svc, 'app.env'), 'utf8')) as NodeJS.ProcessEnv;
    // parseConfig throws a ConfigError listing every missing or invalid variable.
    expect(parseConfig(userConfig, envOf('user-service')).PORT).toBe(3001);
    expect(parseConfig(chatConfig, envOf('chat-service')).PORT).toBe(3002);
    expect(parseConfig(notifyConfig, envOf('notification-service')).PORT).toBe(3003);
    // nothing secret is printed
    const generated = readFileSync(secrets, 'utf8');
    const opaqueSetup = /OPAQUE_SERVER_SETUP=['"]?([^'"\n]+)/.exec(generated)?.[1] ?? '';
    expect(opaqueSetup.length).toBeGreaterThan(100);
    expect(run.stdout + run.stderr).not.toContain(opaqueSetup);
  });

  const script = (secrets: string, out: string) =>
    spawnSync('bash', [path.join(REPO_ROOT, 'scripts/generate-envs.sh'), secrets, out], {
      encoding: 'utf8',
      env: { ...process.env, SECRETS_CHOWN: '0' },
    });
  const envValues = (out: string, svc: string) => parseEnv(readFileSync(path.join(out, svc, 'app.env'), 'utf8'));

  it('when run a second time, then OPAQUE_SERVER_SETUP, the JWT keys and every password stay the same and nothing is appended', () => {
    const secrets = path.join(base, 'app_secrets');
    const before = readFileSync(secrets, 'utf8');
    const first = { user: envValues(path.join(base, 'env'), 'user-service'), chat: envValues(path.join(base, 'env'), 'chat-service') };
    const out = path.join(base, 'env-again');
    const run = script(secrets, out);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('nothing generated');
    expect(readFileSync(secrets, 'utf8')).toBe(before);
    const user = envValues(out, 'user-service');
    expect(user.OPAQUE_SERVER_SETUP).toBe(first.user.OPAQUE_SERVER_SETUP);
    expect(user.JWT_PRIVATE_KEYS).toBe(first.user.JWT_PRIVATE_KEYS);
    expect(user.DATABASE_URL).toBe(first.user.DATABASE_URL);
    expect(envValues(out, 'chat-service')).toEqual(first.chat);
  });

  const validKey = () => (JSON.parse(envValues(path.join(base, 'env'), 'user-service').JWT_PRIVATE_KEYS ?? '[]') as unknown[])[0];
  it.each([
    ['a weak database password', 'POSTGRES_PASSWORD=postgres', 'POSTGRES_PASSWORD is present but shorter than 16 characters'],
    ['a short service password', 'CHAT_DB_PASSWORD=short-pw', 'CHAT_DB_PASSWORD is present but shorter than 16 characters'],
    ['a short unsubscribe secret', 'UNSUBSCRIBE_SECRET=0123456789abcdef', 'UNSUBSCRIBE_SECRET is present but shorter than 32 characters'],
    ['an OPAQUE_SERVER_SETUP that is not a setup', 'OPAQUE_SERVER_SETUP=not-an-opaque-setup', 'OPAQUE_SERVER_SETUP is present but not the output of opaque.server.createSetup()'],
    ['JWT keys that are not JSON', `JWT_PRIVATE_KEYS='[{"kty":'`, 'JWT_PRIVATE_KEYS is present but not valid JSON'],
    ['an empty JWT key list', 'JWT_PRIVATE_KEYS=[]', 'JWT_PRIVATE_KEYS is present but not a non-empty JSON array'],
    ['a public JWT key only', 'JWT_PRIVATE_KEYS=[{"kty":"EC","crv":"P-256","x":"a","y":"b","kid":"k1"}]', 'not a list of private ES256 JWKs with kid'],
    ['two JWT keys with one kid', () => `JWT_PRIVATE_KEYS=${JSON.stringify([validKey(), validKey()])}`, 'JWT_PRIVATE_KEYS is present but using a kid twice'],
    ['a line that is not KEY=VALUE', 'this is not an assignment', 'is not KEY=VALUE'],
  ])('when the secrets hold %s, then it exits 1 naming the problem, replaces nothing and writes no env file', (_, line, message) => {
    const secrets = path.join(base, `bad-${randomUUID()}`);
    copyFileSync(path.join(base, 'app_secrets'), secrets);
    const value = typeof line === 'function' ? line() : line;
    appendFileSync(secrets, `${value}\n`);
    const before = readFileSync(secrets, 'utf8');
    const out = path.join(base, `out-${path.basename(secrets)}`);
    const run = script(secrets, out);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('generate-envs:');
    // Refused, not silently regenerated: the file is exactly as the operator left it.
    expect(readFileSync(secrets, 'utf8')).toBe(before);
    expect(existsSync(path.join(out, 'user-service/app.env'))).toBe(false);
    // The offending value itself is never echoed (it may be a real secret with a typo).
    const secretPart = value.slice(value.indexOf('=') + 1);
    if (value.includes('=') && secretPart.length >= 8) expect(run.stdout + run.stderr).not.toContain(secretPart);
  });

  it('when a secret is a placeholder (empty or change-me), then it is generated and appended, and values already set are kept', () => {
    const secrets = path.join(base, 'partial');
    copyFileSync(path.join(REPO_ROOT, 'docker-secrets/app_secrets.example'), secrets);
    appendFileSync(secrets, 'POSTGRES_PASSWORD=a-strong-operator-chosen-password\nREDIS_PASSWORD=CHANGE_ME_later\n');
    const run = script(secrets, path.join(base, 'partial-env'));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/generated [^;]*REDIS_PASSWORD/);
    expect(run.stderr).not.toMatch(/generated [^;]*POSTGRES_PASSWORD/);
    expect(readFileSync(path.join(base, 'partial-env/postgres/postgres_password'), 'utf8')).toBe('a-strong-operator-chosen-password');
    expect(run.stdout + run.stderr).not.toContain('a-strong-operator-chosen-password');
  });
});
