import type { z } from 'zod';
import type { Ack, ClientToServerEvents } from '@cipherchat/contracts';
import { AppError, toAppError, ValidationError, type Logger } from '@cipherchat/service-kit';
import { consumeOrThrow, type RateLimits } from '../rate-limits.js';
import type { ChatSocket } from './chat-socket.js';

/**
 * Whether an error means a dependency (PostgreSQL, Redis) is unreachable right now, so the
 * client should retry the same request later rather than treat it as a bug.
 */
function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001'].includes(e.code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|ECONNREFUSED/.test(msg);
}

/**
 * The ack wrapper of every client event: validation, per-user rate limit and a uniform
 * `Ack<T>`. Bad input gets an error ack (or is dropped when there is no callback); nothing a
 * client sends can throw out of here, so one client never disturbs the process or another
 * connection. It also tracks the events being handled, so shutdown can refuse new ones and
 * wait for those in flight.
 */
export class AckedEvents {
  /** Client events being handled (their acks not sent yet). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private shuttingDown = false;

  /**
   * @param limiter per-user socket event limit
   * @param logger for handler failures (5xx)
   */
  constructor(
    private readonly limiter: RateLimits['socket'],
    private readonly logger: Logger,
  ) {}

  /**
   * Registers a client event.
   * @param socket the socket
   * @param event the client event
   * @param schema its payload schema (null: no payload)
   * @param run the handler: calls a use case and returns the ack's data
   */
  on<S extends z.ZodType | null, R>(
    socket: ChatSocket,
    event: keyof ClientToServerEvents,
    schema: S,
    run: (payload: S extends z.ZodType ? z.infer<S> : undefined) => Promise<R>,
  ): void {
    (socket as unknown as { on(e: string, l: (...args: unknown[]) => void): void }).on(event, (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (res: Ack<R>) => void) : undefined;
      if (ack) args.pop();
      const work = async () => {
        // Shutting down: refuse new work so the client retries on another process.
        if (this.shuttingDown) throw new AppError(503, 'unavailable', 'server is restarting, try again');
        await consumeOrThrow(this.limiter, socket.data.userId);
        let payload: unknown = undefined;
        if (schema) {
          const parsed = schema.safeParse(args[0]);
          if (!parsed.success) {
            const details = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
            throw new ValidationError(`invalid ${event} payload: ${details.slice(0, 3).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
          }
          payload = parsed.data;
        }
        return run(payload as S extends z.ZodType ? z.infer<S> : undefined);
      };
      const settled = work().then(
        (data) => ack?.({ ok: true, data }),
        (err: unknown) => {
          const e = isTransient(err) ? new AppError(503, 'unavailable', 'temporarily unavailable, try again') : toAppError(err);
          if (e.status >= 500) this.logger.error({ err: (err as Error)?.message ?? String(err), event }, 'socket handler failed');
          ack?.({ ok: false, error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
        },
      );
      this.inFlight.add(settled);
      void settled.finally(() => this.inFlight.delete(settled));
    });
  }

  /**
   * Refuses new events from now on and waits (at most `timeoutMs`) for those in flight to
   * commit and ack.
   * @param timeoutMs bound on the wait
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
