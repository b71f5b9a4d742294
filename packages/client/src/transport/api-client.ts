import { AuthResult, ErrorBody } from '@cipherchat/contracts';
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { cancelledError, readWithProgress, type TransferOptions, xhrSend } from './progress.js';
import { ChatEndpoints } from './chat-endpoints.js';
import { NotificationEndpoints } from './notification-endpoints.js';
import { UserEndpoints } from './user-endpoints.js';

/** Methods whose repetition has no extra effect (PUT replaces, and backups are versioned). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Where the services are and how to authenticate. */
export interface ApiClientOptions {
  /** Origin of the deployment behind nginx, e.g. `http://localhost:8080`. */
  baseUrl?: string;
  /** Full URL prefix of user-service routes (default `${baseUrl}/api/user`). */
  userApiUrl?: string;
  /** Full URL prefix of chat-service routes (default `${baseUrl}/api/chat`). */
  chatApiUrl?: string;
  /** Full URL prefix of notification-service routes (default `${baseUrl}/api/notifications`). */
  notificationApiUrl?: string;
  /** fetch implementation (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /**
   * `bearer` (Node, CLI, tests): send `Authorization: Bearer`; keep the refresh token in memory.
   * `cookies` (browser): rely on the httpOnly cookies the services set (`credentials: 'include'`);
   * the browser adds `Origin`, which the services check on state-changing requests. Pass a
   * `fetch` that serialises refreshes across tabs (the web client's `withSerialisedRefresh`).
   */
  auth?: 'bearer' | 'cookies';
}

/** Tokens held by a bearer-mode client (a cookie-mode client holds none: they are httpOnly cookies). */
export interface Tokens {
  accessToken?: string | undefined;
  refreshToken?: string | undefined;
  accessTokenExpiresAt?: string | undefined;
}

/** Which service a request goes to. */
export type Service = 'user' | 'chat' | 'notifications';

/** Options of one request. */
export interface RequestOptions<T> {
  /** JSON body. */
  json?: unknown;
  /** Raw bytes body (`application/octet-stream`). */
  bytes?: Uint8Array;
  /** Answer schema; without one the answer is `unknown`. */
  schema?: z.ZodType<T>;
  /** Answer is raw bytes. */
  binary?: boolean;
  /** Send credentials (default true). */
  auth?: boolean;
  /** Extra request headers (e.g. `x-device-secret` on routes that act as this device). */
  headers?: Record<string, string>;
  /** Progress of the body sent (with `bytes`; uses `XMLHttpRequest` where there is one) or, with `binary`, of the answer. */
  onProgress?: TransferOptions['onProgress'];
  /** Cancels the request (`ApiError` code `cancelled`). */
  signal?: AbortSignal;
}

/**
 * The SDK's one HTTP client for the public API: JSON in/out, answers parsed with the contracts'
 * schemas, `{error}` answers as `ApiError`, and one transparent access-token refresh (shared by
 * concurrent callers) when a request answers 401: `token_expired` with bearer tokens, any 401 with
 * cookies (the browser drops the expired access cookie, so the service answers `unauthorized`).
 * The typed routes of each service are {@link user}, {@link chat} and {@link notifications}.
 */
export class ApiClient {
  private readonly urls: Record<Service, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly mode: 'bearer' | 'cookies';
  private tokens: Tokens | undefined;
  private refreshing: Promise<boolean> | undefined;
  /** Called whenever tokens change (to persist or to reconnect the socket). */
  onTokens: ((tokens: Tokens | undefined) => void) | undefined;
  /** user-service routes (profile, directory, sessions, email links). */
  readonly user = new UserEndpoints(this);
  /** chat-service routes (devices and keys, conversations, backup, attachments). */
  readonly chat = new ChatEndpoints(this);
  /** notification-service routes (email preferences). */
  readonly notifications = new NotificationEndpoints(this);

  /** @param options endpoints and auth mode */
  constructor(options: ApiClientOptions) {
    const base = (options.baseUrl ?? '').replace(/\/$/, '');
    this.urls = {
      user: (options.userApiUrl ?? `${base}/api/user`).replace(/\/$/, ''),
      chat: (options.chatApiUrl ?? `${base}/api/chat`).replace(/\/$/, ''),
      notifications: (options.notificationApiUrl ?? `${base}/api/notifications`).replace(/\/$/, ''),
    };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.mode = options.auth ?? 'bearer';
  }

  /** @returns the current tokens (bearer mode). */
  getTokens(): Tokens | undefined {
    return this.tokens;
  }

  /** Sets or clears tokens. */
  setTokens(tokens: Tokens | undefined): void {
    this.tokens = tokens;
    this.onTokens?.(tokens);
  }

  /**
   * Sends one request.
   * @param service which service
   * @param method HTTP method
   * @param path path under the service prefix, e.g. `/auth/login/start`
   * @param options body, schema, auth
   * @returns parsed answer (undefined for 204)
   * @throws {ApiError} for error answers and network failures
   */
  async request<T = unknown>(
    service: Service,
    method: string,
    path: string,
    options: RequestOptions<T> = {},
  ): Promise<T> {
    const first = await this.send(service, method, path, options);
    if (first.status === 401 && options.auth !== false) {
      const err = await this.toError(first);
      // Cookie mode: an expired access cookie is gone from the jar, so the service cannot say
      // `token_expired`; any 401 may be an expiry there.
      const mayRefresh = err.code === 'token_expired' || this.mode === 'cookies';
      if (mayRefresh && (await this.refresh())) {
        return this.parse(await this.send(service, method, path, options), options);
      }
      throw err;
    }
    return this.parse(first, options);
  }

  private async send(
    service: Service,
    method: string,
    path: string,
    options: RequestOptions<unknown>,
  ) {
    const headers: Record<string, string> = {
      ...options.headers,
      accept: options.binary ? 'application/octet-stream' : 'application/json',
    };
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.bytes) {
      headers['content-type'] = 'application/octet-stream';
      body = options.bytes as Uint8Array<ArrayBuffer>;
    }
    if (this.mode === 'bearer') {
      // Non-browser clients say so: user-service then returns the refresh token in the body
      // instead of setting httpOnly cookies.
      headers['x-client'] = 'sdk';
      if (options.auth !== false && this.tokens?.accessToken)
        headers.authorization = `Bearer ${this.tokens.accessToken}`;
    }
    const url = `${this.urls[service]}${path}`;
    // redirect 'error': a redirect would carry the body (keys, the sealed backup) and the
    // device-secret header to wherever the server points; the API never redirects.
    const init: RequestInit = {
      method,
      headers,
      body,
      credentials: this.mode === 'cookies' ? 'include' : 'omit',
      redirect: 'error',
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const upload = options.bytes && options.onProgress;
    if (upload && typeof XMLHttpRequest !== 'undefined') return xhrSend(url, init, upload, options.signal);
    try {
      const res = await this.fetchImpl(url, init);
      // No XMLHttpRequest (Node): the body is sent once the answer is here.
      if (upload) upload({ loaded: options.bytes!.length, total: options.bytes!.length });
      return res;
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError();
      // A kept-alive connection the server closed while this process was busy (a long
      // synchronous step such as generating 100 prekeys) fails at once on reuse; an idempotent
      // request is safe to send again, once, on a fresh connection.
      if (IDEMPOTENT.has(method)) {
        try {
          return await this.fetchImpl(url, init);
        } catch {
          // fall through: report the first failure
        }
      }
      throw new ApiError(0, 'network_error', `cannot reach ${service}-service`, undefined, {
        cause: err,
      });
    }
  }

  private async parse<T>(res: Response, options: RequestOptions<T>): Promise<T> {
    if (!res.ok) throw await this.toError(res);
    if (options.binary && options.onProgress) return (await readWithProgress(res, options.onProgress, options.signal)) as T;
    if (options.binary) return new Uint8Array(await res.arrayBuffer()) as T;
    const text = res.status === 204 ? '' : await res.text();
    if (text === '') {
      // Only a request that expects no answer may get none.
      if (options.schema) throw new ApiError(res.status, 'bad_response', 'empty answer');
      return undefined as T;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ApiError(res.status, 'bad_response', 'answer is not JSON', undefined, {
        cause: err,
      });
    }
    if (!options.schema) return data as T;
    const parsed = options.schema.safeParse(data);
    if (!parsed.success)
      throw new ApiError(
        res.status,
        'bad_response',
        'unexpected answer shape',
        parsed.error.issues,
      );
    return parsed.data;
  }

  private async toError(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    try {
      const body = ErrorBody.parse(JSON.parse(text));
      return new ApiError(res.status, body.error.code, body.error.message, body.error.details);
    } catch {
      // No error body: a proxy's own page (CipherChat's nginx answers JSON on /api/, but an
      // ingress controller or another proxy in front may not). The status still says enough.
      return new ApiError(res.status, codeForStatus(res.status), `The server answered ${res.status}.`);
    }
  }

  /** Refreshes the access token once; concurrent callers share one refresh. */
  private refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      try {
        const json = this.mode === 'bearer' ? { refreshToken: this.tokens?.refreshToken } : {};
        if (this.mode === 'bearer' && !this.tokens?.refreshToken) return false;
        const res = await this.send('user', 'POST', '/auth/refresh', { json, auth: false });
        if (!res.ok) return false;
        const result = AuthResult.parse(await res.json());
        this.setTokens({
          accessToken: result.accessToken,
          refreshToken: result.refreshToken ?? this.tokens?.refreshToken,
          accessTokenExpiresAt: result.accessTokenExpiresAt,
        });
        return true;
      } catch {
        return false;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /**
   * Forces a token refresh (e.g. before reconnecting a socket with an expired token).
   * @returns whether new tokens were obtained
   */
  refreshNow(): Promise<boolean> {
    return this.refresh();
  }
}

/**
 * The error code for an answer without the JSON error shape, from its status alone.
 * @param status HTTP status
 * @returns `unauthorized`, `payload_too_large`, `rate_limited`, `unavailable` or `http_error`
 */
function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'unavailable' : 'http_error';
}
