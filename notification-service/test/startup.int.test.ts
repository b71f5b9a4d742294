import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** What an operator sees when notification-service is started with a bad configuration. */
describe('start-up with a bad configuration', () => {
  it('when SMTP_URL, MAIL_FROM and PUBLIC_BASE_URL are malformed, then the process exits 78 listing every problem and echoes no value', async () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
        AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
        SMTP_URL: 'ftp://mailer:hunter2-smtp-password@mail.example.org',
        MAIL_FROM: 'no address here',
        PUBLIC_BASE_URL: 'chat.example.org',
        UNSUBSCRIBE_SECRET: 'too-short',
        JWKS_URL: 'http://127.0.0.1:3001/api/user/.well-known/jwks.json',
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(78);
    for (const name of ['SMTP_URL', 'MAIL_FROM', 'PUBLIC_BASE_URL', 'UNSUBSCRIBE_SECRET']) expect(out).toContain(`- ${name}:`);
    expect(out).not.toMatch(/DATABASE_URL|AMQP_URL|JWKS_URL|REDIS_URL/);
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('no address here');
  });
});
