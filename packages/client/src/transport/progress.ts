import { ApiError } from './api-error.js';

/** Progress of one transfer: bytes moved so far and the total when known. */
export interface TransferProgress {
  /** Bytes sent (upload) or received (download) so far. */
  loaded: number;
  /** Total bytes, when known (the body's length, or the answer's `Content-Length`). */
  total: number | undefined;
}

/** Options of a transfer that reports progress and can be cancelled. */
export interface TransferOptions {
  /** Called as bytes move (upload: as the request body is sent; download: as the answer arrives). */
  onProgress?: (p: TransferProgress) => void;
  /** Cancels the transfer: it then rejects with `ApiError` code `cancelled`. */
  signal?: AbortSignal;
}

/** The error of a cancelled transfer. */
export function cancelledError(): ApiError {
  return new ApiError(0, 'cancelled', 'the transfer was cancelled');
}

/**
 * Sends a request with `XMLHttpRequest`, reporting upload progress (`fetch` has none in
 * browsers), and returns the answer as a `Response`. XHR follows redirects on its own: an
 * answer that came from another URL is refused (`bad_response`); only ciphertext travels this way.
 * @param url the request URL
 * @param init method, headers, body and credentials, as for `fetch`
 * @param onProgress upload progress
 * @param signal cancels the request
 * @returns the answer
 * @throws {ApiError} `network_error`, `cancelled`, `bad_response`
 */
export function xhrSend(
  url: string,
  init: RequestInit,
  onProgress: (p: TransferProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const xhr = new XMLHttpRequest();
    xhr.open(init.method ?? 'GET', url);
    xhr.responseType = 'arraybuffer';
    xhr.withCredentials = init.credentials === 'include';
    for (const [k, v] of Object.entries((init.headers ?? {}) as Record<string, string>))
      xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) =>
      onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : undefined });
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    xhr.onabort = () => reject(cancelledError());
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'cannot reach the server'));
    xhr.onload = () => {
      signal?.removeEventListener('abort', abort);
      // The SDK's URLs are relative in browsers (`/api/chat/...`); XHR reports the absolute one.
      const asked = new URL(url, globalThis.location?.href).href;
      if (xhr.responseURL && xhr.responseURL !== asked) {
        return reject(new ApiError(xhr.status, 'bad_response', 'the server redirected the upload'));
      }
      const headers = new Headers();
      for (const line of xhr
        .getAllResponseHeaders()
        .trim()
        .split(/[\r\n]+/)) {
        const at = line.indexOf(':');
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      const body = xhr.status === 204 || xhr.status === 304 ? null : (xhr.response as ArrayBuffer);
      resolve(new Response(body, { status: xhr.status, headers }));
    };
    xhr.send(init.body as XMLHttpRequestBodyInit | null);
  });
}

/**
 * Reads an answer's body to the end, reporting progress against its `Content-Length`.
 * @param res the answer
 * @param onProgress download progress
 * @param signal cancels the read
 * @returns the body bytes
 * @throws {ApiError} `cancelled`
 */
export async function readWithProgress(
  res: Response,
  onProgress: (p: TransferProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const length = Number(res.headers.get('content-length'));
  const total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw cancelledError();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress({ loaded, total });
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    if (signal?.aborted) throw cancelledError();
    throw err;
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
