import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { expect } from 'vitest';
import type { Reply } from './net.js';

/** Asserts nginx's own error answer on an API route: the project's JSON error shape. */
export function expectJsonError(res: Reply, status: number, code: string, what: string): void {
  expect(res.status, what).toBe(status);
  expect(res.headers['content-type'], what).toBe('application/json');
  const body = JSON.parse(res.text) as { error: { code: string; message: string } };
  expect(body.error.code, what).toBe(code);
  expect(body.error.message, what).toMatch(/\w/);
  // Still an answer of this edge: the security headers are on errors too.
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
}

/**
 * A service that takes no connection: a listener with a backlog of one (accept queue of two)
 * whose process is stopped and whose queue is full, so nginx's connect times out
 * (proxy_connect_timeout, 5 s).
 */
export async function startStuckService(): Promise<{ port: number; close(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('node:net').createServer(); s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => console.log(s.address().port));",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', () => reject(new Error('stuck service exited')));
  });
  child.kill('SIGSTOP');
  const fillers = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1'));
  for (const f of fillers) f.on('error', () => undefined);
  // The first two complete into the queue; the third, like nginx, waits for a SYN-ACK.
  await Promise.all(fillers.slice(0, 2).map((f) => new Promise((r) => f.once('connect', r))));
  return {
    port,
    close() {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    },
  };
}
