import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/** What an echo upstream saw of one request. */
export interface Seen {
  method: string;
  url: string;
  bytes: number;
  headers: http.IncomingHttpHeaders;
}

/** A stand-in service on 127.0.0.1 that says who it is, over HTTP and WebSocket. */
export interface EchoService {
  name: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP + WebSocket server that answers every request with
 * `{service, method, url, bytes, requestId}` (or, for `?status=NNN`, that status with an error
 * body of its own) and greets every WebSocket with `{service}`, echoing messages back. Used as the user/chat/notification upstream in nginx tests.
 */
export async function startEchoService(name: string): Promise<EchoService> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', bytes, headers: req.headers });
      res.setHeader('content-type', 'application/json');
      // `?status=NNN`: answer that status with the service's own error body.
      const status = /[?&]status=(\d{3})/.exec(req.url ?? '')?.[1];
      if (status) {
        res.statusCode = Number(status);
        res.end(
          JSON.stringify({ error: { code: 'from_service', message: name, details: { status } } }),
        );
        return;
      }
      res.end(
        JSON.stringify({
          service: name,
          method: req.method,
          url: req.url,
          bytes,
          requestId: req.headers['x-request-id'] ?? null,
        }),
      );
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(JSON.stringify({ service: name, url: req.url }));
    ws.on('message', (data) => ws.send(data));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    seen,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
