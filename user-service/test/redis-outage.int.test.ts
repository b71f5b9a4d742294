import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy, testInfra } from '@cipherchat/service-kit/testing';
import type { App } from '../src/app.js';
import { countRows } from '../src/store/user.repository.js';
import {
  call,
  createHarness,
  login,
  newAccount,
  register,
  type Harness,
} from './support/harness.js';

describe('when Redis (rate limits, login states) is unreachable, the auth routes fail closed', () => {
  let h: Harness;
  let app: App;
  let base: string;
  const proxy = new TcpProxy(6379);

  beforeAll(async () => {
    h = await createHarness('redis');
    const port = await proxy.start();
    ({ app, url: base } = await h.startApp({
      REDIS_URL: testInfra.redisUrl.replace(':6379', `:${port}`),
    }));
    await opaque.ready;
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await h?.close();
    await proxy.stop();
  });

  it('when Redis is cut, then login answers 503 unavailable (never unlimited guesses, never a 500), and works again once Redis is back', async () => {
    const acc = newAccount('redis');
    expect((await register(base, acc)).status).toBe(200);
    const before = await countRows(app.ds.manager);
    await proxy.cut();
    const { startLoginRequest } = opaque.client.startLogin({ password: acc.password });
    const res = await call(base, 'POST', '/auth/login/start', {
      email: acc.email,
      startLoginRequest,
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: boolean } }).checks.redis).toBe(false);
    expect(await countRows(app.ds.manager)).toEqual(before);

    await proxy.restore();
    // ioredis reconnects by itself; the first login after that succeeds
    if (app.redis.status !== 'ready')
      await new Promise((resolve) => app.redis.once('ready', resolve));
    expect((await login(base, acc)).finish?.status).toBe(200);
  });
});
