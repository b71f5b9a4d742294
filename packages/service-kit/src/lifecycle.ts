import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** Something to release on shutdown, in order. */
export type Closer = () => Promise<unknown> | unknown;

/**
 * Closes an HTTP server gracefully: stop accepting, let in-flight requests finish, then
 * close idle keep-alive sockets; force-close whatever remains after `graceMs`.
 * @param server the server
 * @param graceMs how long in-flight requests get
 */
export async function closeHttpServer(server: Server, graceMs = 10_000): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}

/**
 * Wires process signals for a service's `main.ts`: SIGTERM/SIGINT run `close` once and exit 0;
 * an unhandled rejection or exception is logged and triggers the same graceful shutdown with
 * exit code 1. Request and message errors never get here: they are answered where they occur.
 * @param logger the service logger
 * @param close the app's close function
 */
export function handleSignals(logger: Logger, close: () => Promise<void>): void {
  let shuttingDown = false;
  const shutdown = (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => process.exit(code || 1), 20_000);
    force.unref();
    close()
      .then(() => process.exit(code))
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    shutdown('unhandledRejection', 1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    shutdown('uncaughtException', 1);
  });
}

/**
 * Runs closers in order, logging (not throwing) failures, so one stuck dependency does not
 * keep the others open.
 * @param logger where failures go
 * @param closers in order: servers first, then consumers/relays, then connections
 */
export async function closeAll(logger: Logger, closers: Closer[]): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      logger.warn({ err }, 'close failed');
    }
  }
}

/**
 * Starts an HTTP server listening and logs the bound port.
 * @param server the server
 * @param port the port (0 picks a free one)
 * @param host interface to bind
 * @param logger logs `<name> listening`
 * @param name the service name for the log line
 * @returns the bound port
 */
export async function listenHttp(server: Server, port: number, host: string, logger: Logger, name: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ port: bound }, `${name} listening`);
  return bound;
}
