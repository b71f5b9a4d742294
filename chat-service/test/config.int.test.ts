import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, createUser } from './support/harness.js';
import { useLimitedInstance } from './support/limits.js';

const t = useLimitedInstance('chatconfig', { ATTACHMENT_MAX_BYTES: '5000' });

describe('GET /api/chat/config', () => {
  it('when a signed-in user asks, then it answers the attachment limit the upload route enforces', async () => {
    const a = await createUser(t.inst, t.env.mint);
    const b = await createUser(t.inst, t.env.mint);
    const config = await api(t.inst.url, a.token, 'GET', '/config');
    expect(config.status).toBe(200);
    expect(config.body).toEqual({ attachmentMaxBytes: 5000 });

    const conv = await api(t.inst.url, a.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [b.userId],
    });
    const upload = (size: number) =>
      fetch(`${t.inst.url}/api/chat/attachments?conversationId=${conv.body.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(randomBytes(size)),
      });
    expect((await upload(5000)).status).toBe(201);
    expect((await upload(5001)).status).toBe(413);
  });

  it('when nobody is signed in, then 401 and no limits', async () => {
    const res = await api(t.inst.url, undefined, 'GET', '/config');
    expect(res.status).toBe(401);
  });
});
