import net from 'node:net';

/**
 * Finds a free TCP port on 127.0.0.1: the OS picks one, it is released again at once. Another
 * process may take it before the caller listens, so a caller that cannot listen on port 0
 * itself (a child process, nginx, a server started by a script) retries on `EADDRINUSE`.
 * @returns a port that was free a moment ago
 * @throws when no socket can be bound at all
 */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
