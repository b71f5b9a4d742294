import http from 'node:http';
import https from 'node:https';

/** The one freePort of the repository (service-kit's testing module). */
export { freePort } from '@cipherchat/service-kit/testing';

/** Polls `check` until it returns true; fails after `timeoutMs` (every loop here is bounded). */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One HTTP(S) response, fully read. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** Options of {@link request}. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Use HTTPS (the test certificate is trusted through NODE_EXTRA_CA_CERTS, see global-setup). */
  tls?: boolean;
  timeoutMs?: number;
  /**
   * A keep-alive agent to reuse connections, as browsers do. A GET that fails on a reused
   * connection before any response byte arrived is retried once on a new one: the server may
   * close an idle keep-alive connection just as a request is sent (RFC 9112 section 9.3.1;
   * browsers retry such idempotent requests themselves, Node's http client does not).
   */
  agent?: http.Agent;
}

/** A reply and whether it needed the keep-alive retry. */
export interface RetriedReply extends Reply {
  retried: boolean;
}

/** {@link request} with the keep-alive retry described on {@link RequestOptions.agent}. */
export async function requestWithRetry(
  port: number,
  path: string,
  opts: RequestOptions = {},
): Promise<RetriedReply> {
  try {
    return { ...(await request(port, path, opts)), retried: false };
  } catch (e) {
    const reused = (e as { reusedSocket?: boolean }).reusedSocket === true;
    if (!opts.agent || !reused || (opts.method ?? 'GET') !== 'GET') throw e;
    return { ...(await request(port, path, { ...opts, agent: undefined })), retried: true };
  }
}

/**
 * One request, by default on a fresh connection (no keep-alive pool) so each request's outcome
 * belongs to that request alone; with `agent`, on a pooled keep-alive connection.
 */
export function request(port: number, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const mod = opts.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.agent
          ? { ...(opts.headers ?? {}) }
          : { connection: 'close', ...(opts.headers ?? {}) },
        agent: opts.agent ?? false,
        servername: 'localhost',
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timeout ${path}`)));
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(opts.body);
  });
}
