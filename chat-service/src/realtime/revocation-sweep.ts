import type { Logger, RevocationList } from '@cipherchat/service-kit';
import type { ChatServer } from './chat-socket.js';

/**
 * Checks every socket of this process against the revocation list every `intervalMs`: one
 * MGET (per 1000 keys) per tick for all connected sessions, nothing per message. A socket of a
 * revoked session (or of a revoked user) gets `session:revoked` and is disconnected, so a
 * logged-out or revoked device loses its socket within about one interval.
 * @param io the Socket.IO server (its local sockets are checked)
 * @param revocations the revocation list
 * @param intervalMs tick
 * @param logger for Redis failures (the sweep then retries on the next tick)
 * @returns stops the timer
 */
export function startRevocationSweep(
  io: ChatServer,
  revocations: RevocationList,
  intervalMs: number,
  logger: Logger,
): () => void {
  let running = false;
  const tick = async () => {
    const sockets = [...io.of('/').sockets.values()].filter((s) => s.data.sessionId);
    if (!sockets.length) return;
    const revoked = await revocations.revokedAmong(
      sockets.map((s) => ({ sessionId: s.data.sessionId, userId: s.data.userId })),
    );
    for (const s of sockets) {
      if (!revoked.has(s.data.sessionId) || !s.connected) continue;
      s.emit('session:revoked');
      s.disconnect(true);
    }
  };
  const timer = setInterval(() => {
    // A slow Redis must not stack up sweeps: skip a tick while one is still running.
    if (running) return;
    running = true;
    tick()
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'revocation sweep failed'),
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
