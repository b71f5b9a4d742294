import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ServerToClientEvents } from '@cipherchat/contracts';
import {
  connect,
  createTestEnv,
  fakeBody,
  request,
  type Instance,
  type TestEnv,
} from './support/harness.js';
import { rows, type Req, type Row, type World } from './support/routes.js';
import { buildWorld, fingerprint, send } from './support/world.js';

// Issue 15, deliverable 10: hostile input on every REST route (the rows of test/support/routes.ts)
// and every socket event: never a 5xx or an internal_error ack, the connection survives, and a
// refused input stores nothing. FUZZ_RUNS=500 for a longer hunt.

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
let env: TestEnv;
let inst: Instance;
let w: World;

beforeAll(async () => {
  env = await createTestEnv('chatfuzz2');
  inst = await env.start({
    RATE_HTTP_PER_MIN: '1000000',
    RATE_SOCKET_EVENTS_PER_SEC: '100000',
    RATE_PREKEY_PER_REQUESTER: '100000',
    RATE_PREKEY_PER_TARGET: '100000',
  });
  w = await buildWorld(inst, env.mint);
});
afterAll(async () => {
  await env?.close();
});

/** Strings a hostile client sends: unicode, control characters, injections, prototype keys. */
const shortHostile = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '../../etc/passwd',
    '%00',
    '\u0000',
    "' OR 1=1--",
    '<script>',
    'NaN',
    '-1',
    '1e999',
    '0x10',
    '\u202e',
    '💥'.repeat(50),
  ),
);
/** ... and huge ones (at most two per URL: Node answers 431 to request heads over 16 kB, before the app). */
const hostileString = fc.oneof(shortHostile, fc.string({ minLength: 1500, maxLength: 2000 }));
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
);
/** Raw JSON bodies that try to pollute prototypes (JSON.stringify would drop a `__proto__` key). */
const pollution = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '[{"__proto__":{"polluted":"yes"}}]',
  '{"title":null,"__proto__":{"polluted":"yes"}}',
);

/** A body: any JSON, junk keys, the route's template with one field dropped, replaced or added, or a pollution attempt. */
function bodyOf(template: Record<string, unknown> | undefined) {
  const tpl = template ?? {};
  const keys = Object.keys(tpl).length ? Object.keys(tpl) : ['x'];
  return fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.dictionary(
      fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor')),
      hostileValue,
      { maxKeys: 4 },
    ),
    fc
      .constantFrom(...keys)
      .map((k) => Object.fromEntries(Object.entries(tpl).filter(([key]) => key !== k))),
    fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...tpl, [k]: v })),
    fc.tuple(hostileString, hostileValue).map(([k, v]) => ({ ...tpl, [`x${k}`]: v })),
    pollution,
  );
}
const queryOf = fc.dictionary(
  fc.oneof(
    fc.constantFrom('limit', 'cursor', 'conversationId', '__proto__', 'constructor'),
    fc.string({ maxLength: 10 }),
  ),
  shortHostile,
  {
    maxKeys: 4,
  },
);

/**
 * @param pattern the row's path pattern
 * @param valid the owner's request path
 * @returns the owner's value of each `:param`
 */
function paramsOf(pattern: string, valid: string): Record<string, string> {
  const names = pattern.replace(/^\/api\/chat/, '').split('/');
  const values = valid.split('/');
  return Object.fromEntries(
    names.flatMap((n, i) =>
      n.startsWith(':') ? [[n.slice(1), decodeURIComponent(values[i] ?? '')]] : [],
    ),
  );
}

/** The row's request with hostile params, query and/or body. */
function hostileRequest(row: Row) {
  const valid = row.req(w);
  const names = Object.keys(paramsOf(row.path, valid.path));
  const params = fc.record(
    Object.fromEntries(
      names.map((n) => [n, fc.option(hostileString, { nil: undefined })]),
    ) as Record<string, fc.Arbitrary<string | undefined>>,
  );
  const canBody = row.method !== 'GET' && !valid.raw;
  return fc
    .record({
      params,
      query: fc.option(queryOf, { nil: undefined }),
      body: canBody
        ? fc.option(bodyOf(row.bodyTemplate?.(w)), { nil: undefined })
        : fc.constant(undefined),
    })
    .map((m): Req => {
      const ownerParams = paramsOf(row.path, valid.path);
      const path = row.path
        .replace(/^\/api\/chat/, '')
        .replace(/:(\w+)/g, (_s, n: string) =>
          encodeURIComponent(m.params[n] ?? ownerParams[n] ?? ''),
        )
        // a '.' or '..' segment is resolved away by the URL parser before it is sent
        .replace(/\/\.\.?(?=\/|$)/g, '/%2E');
      return {
        ...valid,
        path,
        query: m.query ?? valid.query,
        body: m.body === undefined ? valid.body : m.body,
      };
    });
}

describe('hostile REST input', () => {
  for (const row of rows.filter((r) => !r.open)) {
    it(`when ${row.method} ${row.path} gets hostile params, query and body, then it answers below 500 and a refused request stores nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileRequest(row), async (req) => {
          const before = await fingerprint(inst);
          const res = await send(inst, row, w.owner.token, req);
          const what = `${row.method} ${req.path} ${JSON.stringify(req.query ?? {}).slice(0, 100)} ${String(JSON.stringify(req.body)).slice(0, 200)}`;
          expect(res.status, `${what} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
          if (res.status < 400) return;
          expect(typeof res.body?.error?.code, what).toBe('string');
          expect(await fingerprint(inst), `${what} was refused but stored something`).toEqual(
            before,
          );
        }),
        { numRuns: RUNS },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

const EVENTS = ['message:send', 'message:ack', 'mailbox:sync', 'presence:get'] as const;
/** Every server → client event: a client that sends one (a forged `privacy:changed`) is ignored. */
const SERVER_EVENTS = [
  'message:new',
  'mailbox:empty',
  'presence',
  'identity:changed',
  'conversation:updated',
  'session:expired',
  'session:revoked',
  'prekeys:low',
  'privacy:changed',
] as const satisfies readonly (keyof ServerToClientEvents)[];
/** Socket.IO's own events on a server-side socket, not client events. */
const RESERVED = new Set(['disconnect', 'disconnecting', 'error', 'newListener', 'removeListener']);
/** Error codes a bad event may get (never internal_error). */
const CLIENT_CODES = new Set([
  'validation_error',
  'not_member',
  'stale_devices',
  'conflict',
  'not_found',
  'forbidden',
  'payload_too_large',
]);

describe('hostile socket events', () => {
  it('when the server handles client events, then every one of them is fuzzed here', async () => {
    const s = await connect(inst.url, w.owner.token, w.owner.deviceId);
    const server = inst.app.realtime.io.of('/').sockets.get(s.id as string);
    const handled = (server?.eventNames() ?? []).map(String).filter((e) => !RESERVED.has(e));
    s.close();
    expect(handled.sort()).toEqual([...EVENTS].sort());
    // and none of the server's own events is handled (the list above names them all)
    expectTypeOf<(typeof SERVER_EVENTS)[number]>().toEqualTypeOf<keyof ServerToClientEvents>();
    expect(handled.filter((e) => (SERVER_EVENTS as readonly string[]).includes(e))).toEqual([]);
  });

  it('when a client sends hostile payloads on every event and unknown ones, then acks are client errors, nothing refused is stored, and the connection serves on', async () => {
    const s = (await connect(inst.url, w.owner.token, w.owner.deviceId)) as unknown as Socket;
    const nearSend = fc.record({
      conversationId: fc.oneof(fc.constant(w.direct), hostileString),
      clientMessageId: hostileString,
      envelopes: fc.oneof(
        hostileValue,
        fc.array(
          fc.record({
            userId: fc.oneof(fc.constant(w.peer.userId), hostileString),
            deviceId: hostileValue,
            type: hostileValue,
            body: fc.oneof(hostileString, fc.constant(fakeBody())),
          }),
          {
            maxLength: 3,
          },
        ),
      ),
    });
    const payload = fc.oneof(
      hostileValue,
      nearSend,
      pollution.map((p) => JSON.parse(p) as unknown),
      fc.record({ userIds: fc.oneof(hostileValue, fc.array(hostileString, { maxLength: 5 })) }),
    );
    const event = fc.oneof(
      fc.constantFrom(...EVENTS),
      fc.constantFrom(...EVENTS),
      fc.constantFrom(...SERVER_EVENTS),
      fc.string({ maxLength: 20 }),
    );
    let unknownSent = 0;
    await fc.assert(
      fc.asyncProperty(event, fc.array(payload, { maxLength: 3 }), async (name, args) => {
        const before = await fingerprint(inst);
        if (!(EVENTS as readonly string[]).includes(name)) {
          // an unknown event is ignored: no ack, nothing stored, the connection stays
          if (
            [
              'connect',
              'connect_error',
              'disconnect',
              'disconnecting',
              'newListener',
              'removeListener',
            ].includes(name)
          )
            return; // reserved: the client refuses to emit them
          s.emit(name, ...args);
          unknownSent += 1;
          expect(await fingerprint(inst)).toEqual(before);
          return;
        }
        const ack = (await s.timeout(5_000).emitWithAck(name, ...args)) as {
          ok: boolean;
          error?: { code: string };
        };
        if (ack.ok) return;
        expect(
          CLIENT_CODES.has(ack.error?.code ?? ''),
          `${name} ${JSON.stringify(args).slice(0, 300)} → ${JSON.stringify(ack)}`,
        ).toBe(true);
        expect(await fingerprint(inst), `${name} was refused but stored something`).toEqual(before);
      }),
      { numRuns: RUNS * 4 },
    );
    expect(unknownSent).toBeGreaterThan(0);
    expect(s.connected).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the connection still does real work
    const peers = await request(s as never, 'presence:get', { userIds: [w.peer.userId] });
    expect(peers.ok, JSON.stringify(peers)).toBe(true);
    s.close();
  });
});
