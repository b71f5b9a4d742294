import { AuthResult, ErrorBody } from '@cipherchat/contracts';
import { z } from 'zod';
import { ApiError } from './api-error.js';

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
  /** fetch implementation (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /**
   * `bearer` (Node, CLI, tests): send `Authorization: Bearer`; keep the refresh token in memory.
   * `cookies` (browser): rely on the httpOnly cookies the services set.
   */
  auth?: 'bearer' | 'cookies';
}

/** Tokens held by a bearer-mode client. */
export interface Tokens {
  accessToken: string;
  refreshToken?: string | undefined;
  accessTokenExpiresAt?: string | undefined;
}

type Service = 'user' | 'chat';

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
}

/**
 * Minimal typed HTTP client for the public API: JSON in/out, `{error}` answers as `ApiError`,
 * and one transparent access-token refresh when a request answers 401 `token_expired`.
 */
export class ApiClient {
  private readonly userUrl: string;
  private readonly chatUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly mode: 'bearer' | 'cookies';
  private tokens: Tokens | undefined;
  private refreshing: Promise<boolean> | undefined;
  /** Called whenever tokens change (to persist or to reconnect the socket). */
  onTokens: ((tokens: Tokens | undefined) => void) | undefined;

  /** @param options endpoints and auth mode */
  constructor(options: ApiClientOptions) {
    const base = (options.baseUrl ?? '').replace(/\/$/, '');
    this.userUrl = (options.userApiUrl ?? `${base}/api/user`).replace(/\/$/, '');
    this.chatUrl = (options.chatApiUrl ?? `${base}/api/chat`).replace(/\/$/, '');
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
      if (err.code === 'token_expired' && (await this.refresh())) {
        return this.parse(await this.send(service, method, path, options), options);
      }
      throw err;
    }
    return this.parse(first, options);
  }

  private async send(service: Service, method: string, path: string, options: RequestOptions<unknown>) {
    const headers: Record<string, string> = { ...options.headers, accept: options.binary ? 'application/octet-stream' : 'application/json' };
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
      if (options.auth !== false && this.tokens) headers.authorization = `Bearer ${this.tokens.accessToken}`;
    }
    const url = `${service === 'user' ? this.userUrl : this.chatUrl}${path}`;
    const init: RequestInit = { method, headers, body, credentials: this.mode === 'cookies' ? 'include' : 'omit' };
    try {
      return await this.fetchImpl(url, init);
    } catch (err) {
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
      throw new ApiError(0, 'network_error', `cannot reach ${service}-service`, undefined, { cause: err });
    }
  }

  private async parse<T>(res: Response, options: RequestOptions<T>): Promise<T> {
    if (!res.ok) throw await this.toError(res);
    if (res.status === 204) return undefined as T;
    if (options.binary) return new Uint8Array(await res.arrayBuffer()) as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ApiError(res.status, 'bad_response', 'answer is not JSON', undefined, { cause: err });
    }
    if (!options.schema) return data as T;
    const parsed = options.schema.safeParse(data);
    if (!parsed.success) throw new ApiError(res.status, 'bad_response', 'unexpected answer shape', parsed.error.issues);
    return parsed.data;
  }

  private async toError(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    try {
      const body = ErrorBody.parse(JSON.parse(text));
      return new ApiError(res.status, body.error.code, body.error.message, body.error.details);
    } catch {
      return new ApiError(res.status, res.status === 401 ? 'unauthorized' : 'http_error', `HTTP ${res.status}`);
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
