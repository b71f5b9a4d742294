import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@cipherchat/service-kit/testing';
import { signUnsubscribeToken } from '../src/domain/unsubscribe-token.js';
import { newUser, registerVerified, startHarness, type Harness } from './support/harness.js';
import { until } from './support/until.js';

// Redis holds only the revocation list here. When this service cannot reach it, the
// authenticated routes fail closed (503, as at chat-service) instead of letting a possibly
// revoked token through; mail and the token-less unsubscribe links go on.
let h: Harness;
let proxy: TcpProxy;
beforeAll(async () => {
  proxy = new TcpProxy(6379);
  const port = await proxy.start();
  h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await h?.cleanup();
  await proxy?.stop();
});

async function preferences(token: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${h.baseUrl}/api/notifications/preferences`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, code: body.error?.code };
}

describe('Redis outage', () => {
  it('when Redis is cut, then preferences answer 503 unavailable while unsubscribe links and mail still work; when it is back, then 200 again', async () => {
    const u = newUser();
    await registerVerified(h, u);
    const token = await h.tokens.mint(u.userId);
    expect(await preferences(token)).toEqual({ status: 200, code: undefined });

    await proxy.cut();
    expect(await preferences(token)).toEqual({ status: 503, code: 'unavailable' });
    const link = signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, {
      userId: u.userId,
      kind: 'digest',
    });
    const unsub = await fetch(`${h.baseUrl}/api/notifications/unsubscribe?token=${link}`);
    expect(unsub.status).toBe(200);
    const other = newUser();
    await h.publishAndWait('user.email_verification_requested.v1', {
      userId: other.userId,
      email: other.email,
      displayName: other.displayName,
      verifyUrl: 'http://chat.test/verify-email?token=abc',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(await h.inbox.waitFor((m) => m.to === other.email)).toHaveLength(1);

    await proxy.restore();
    // ioredis reconnects with its own backoff; the next requests succeed once it has
    await until(
      'preferences answer 200 again',
      async () => (await preferences(token)).status === 200,
    );
  });
});
