import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
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
});
