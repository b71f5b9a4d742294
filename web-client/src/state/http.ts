/**
 * Same-origin JSON calls to the REST services behind nginx. URLs are relative (`/api/...`), the
 * httpOnly auth cookies ride along automatically, and nothing here touches keys or plaintext.
 */

/** An error answered by a service (`{error:{code,message,details}}`) or by the network. */
export class ApiError extends Error {
  /** snake_case error code (`network_error` when the request never got an answer). */
  readonly code: string;
  /** HTTP status (0 for network failures). */
  readonly status: number;
  /** Structured details, when the service gave any. */
  readonly details: unknown;

  /**
   * @param code error code
   * @param message human-readable text, safe to show
   * @param status HTTP status
   * @param details optional details
   */
  constructor(code: string, message: string, status: number, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** Options of {@link apiFetch}. */
export interface ApiFetchOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Called once on 401 to refresh the access token; true means "retry". */
  refresh?: () => Promise<boolean>;
  fetchImpl?: typeof fetch;
}

function readError(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (e && typeof e === 'object') {
      const { code, message, details } = e as {
        code?: unknown;
        message?: unknown;
        details?: unknown;
      };
      if (typeof code === 'string') {
        return new ApiError(code, typeof message === 'string' ? message : code, status, details);
      }
    }
  }
  return new ApiError(
    status >= 500 ? 'unavailable' : 'http_error',
    `The server answered ${status}.`,
    status,
  );
}

/**
 * Calls a JSON endpoint.
 * @param path relative URL (`/api/...`)
 * @param options method, JSON body, refresh hook
 * @returns the parsed JSON body (undefined for 204)
 * @throws {ApiError} for non-2xx answers and network failures
 */
export async function apiFetch<T = unknown>(
  path: string,
  options: ApiFetchOptions = {},
): Promise<T> {
  const doFetch = options.fetchImpl ?? fetch;
  const send = async (): Promise<Response> => {
    try {
      return await doFetch(path, {
        method: options.method ?? 'GET',
        credentials: 'same-origin',
        headers:
          options.body === undefined
            ? { accept: 'application/json' }
            : { 'content-type': 'application/json', accept: 'application/json' },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (cause) {
      throw new ApiError(
        'network_error',
        'Cannot reach the server. Check your connection.',
        0,
        String(cause),
      );
    }
  };
  let res = await send();
  if (res.status === 401 && options.refresh && (await options.refresh())) res = await send();
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) throw readError(res.status, body);
  return body as T;
}

/**
 * Turns anything thrown into a sentence for the user.
 * @param error what was thrown
 * @returns a short message
 */
export function describeError(error: unknown): string {
  // Duck-typed: the SDK throws its own ApiError class with the same `code` field.
  const code =
    error && typeof error === 'object' && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  if (code) {
    switch (code) {
      case 'invalid_credentials':
        return 'Wrong email or password.';
      case 'rate_limited':
        return 'Too many attempts. Wait a moment and try again.';
      case 'account_locked':
        return 'This account is locked for a while after too many failed logins.';
      case 'email_taken':
        return 'An account with this email already exists.';
      case 'username_taken':
        return 'This username is taken.';
      case 'network_error':
        return 'Cannot reach the server. Check your connection.';
      case 'unauthorized':
      case 'token_expired':
        return 'Your session has ended. Log in again.';
      case 'stale_devices':
        return 'The recipient’s devices changed. Retry to encrypt for the new list.';
      case 'too_many_devices':
        return 'Your account has reached its device limit. Remove a device and try again.';
      default:
        return error instanceof Error && error.message ? error.message : code;
    }
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
