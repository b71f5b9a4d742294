import { randomUUID } from 'node:crypto';
import type { TokenIssuer } from '@cipherchat/service-kit/testing';
import type { KeyUpload } from './signal-keys.js';

/** A synthetic user with one registered device. */
export interface BenchUser {
  userId: string;
  token: string;
  deviceId: number;
  /** The device's secret from `POST /devices` (socket handshake, `X-Device-Secret`). */
  deviceSecret: string;
}

/**
 * Calls chat-service's REST API with a bearer token.
 * @param baseUrl service base URL
 * @param token access token
 * @param method HTTP method
 * @param path path under `/api/chat`
 * @param body JSON body
 * @param headers extra headers (`x-device-secret` on routes that act as a device)
 * @returns the parsed JSON answer
 * @throws on a non-2xx answer (with the error body)
 */
export async function api<T>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(`${baseUrl}/api/chat${path}`, {
    method,
    headers: { ...headers, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Runs `fn` over `items` with at most `concurrency` in flight.
 * @param items inputs
 * @param concurrency parallelism
 * @param fn the work
 * @returns results in input order
 */
export async function mapLimit<I, O>(items: readonly I[], concurrency: number, fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as I, i);
    }
  });
  await Promise.all(runners);
  return out;
}

/**
 * Creates `count` synthetic users, each with a token minted by the stack's issuer, one device
 * registered over REST and (when `keys` is given) its keys uploaded, so it can receive messages.
 * @param baseUrls chat-service URLs (requests are spread over them)
 * @param issuer token issuer
 * @param count users
 * @param keys key upload to use for every device, or undefined for connection-only users
 * @param concurrency parallel REST calls
 * @returns the users
 */
export async function provisionUsers(
  baseUrls: string[],
  issuer: Pick<TokenIssuer, 'mint'>,
  count: number,
  keys: KeyUpload | undefined,
  concurrency = 32,
): Promise<BenchUser[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const base = baseUrls[i % baseUrls.length] as string;
      const userId = randomUUID();
      const token = await issuer.mint(userId);
      const { deviceId, deviceSecret } = await api<{ deviceId: number; deviceSecret: string }>(base, token, 'POST', '/devices', {
        name: `bench ${i}`,
      });
      if (keys) await api(base, token, 'PUT', `/devices/${deviceId}/keys`, keys, { 'x-device-secret': deviceSecret });
      return { userId, token, deviceId, deviceSecret };
    },
  );
}

/**
 * Creates a conversation as `creator`, and every other member accepts it: the benchmarks
 * measure contacts (a stranger's request is held to a small per-sender daily budget).
 * @param baseUrl service URL
 * @param creator the creating user
 * @param kind direct or group
 * @param members the other members
 * @returns the conversation id
 */
export async function createConversation(baseUrl: string, creator: BenchUser, kind: 'direct' | 'group', members: BenchUser[]): Promise<string> {
  // creating and accepting need a proof of one of the caller's devices (a token alone cannot
  // lower the guard); no title: group titles travel end to end, the server refuses them
  const proofOf = (u: BenchUser) => ({ 'x-device-id': String(u.deviceId), 'x-device-secret': u.deviceSecret });
  const conv = await api<{ id: string }>(baseUrl, creator.token, 'POST', '/conversations', { kind, memberIds: members.map((m) => m.userId) }, proofOf(creator));
  for (const m of members) {
    await api(baseUrl, m.token, 'POST', `/conversations/${conv.id}/accept`, undefined, proofOf(m));
  }
  return conv.id;
}
