import type { Logger } from '@cipherchat/service-kit';
import type { Redis } from 'ioredis';

/**
 * Knows the Redis adapter's publishes, so a send is acked only once its cross-process live
 * emits reached Redis. Without it, a process killed right after acking could take the emits
 * with it (ioredis writes them on a later tick than the socket ack): the recipient's device,
 * connected to another process, would then see the message only at its next reconnect.
 */
export class PublishTracker {
  private current: Promise<unknown>[] | undefined;

  /** @param logger for failed publishes */
  constructor(private readonly logger: Logger) {}

  /**
   * Wraps the adapter's `publish`: every call is recorded while {@link capture} runs, and a
   * rejection is handled here (the adapter fires PUBLISH and ignores the promise; during a Redis
   * outage that would be an unhandled rejection, and main.ts shuts down on those).
   * @param pub the adapter's publishing connection
   */
  wrap(pub: Redis): void {
    const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<number>;
    (pub as unknown as { publish: (...args: unknown[]) => Promise<number> }).publish = (
      ...args: unknown[]
    ) => {
      const p = publish(...args);
      p.catch((err: unknown) =>
        this.logger.warn({ err: (err as Error).message }, 'redis publish failed'),
      );
      this.current?.push(p);
      return p;
    };
  }

  /**
   * Runs `emit` (synchronous emits) and waits until every publish it made has Redis's answer,
   * or failed, or `maxWaitMs` passed (Redis slow or gone: the envelopes stay in the mailbox and
   * the pass after a Redis outage reads them).
   * @param emit the emits
   * @param maxWaitMs bound of the wait
   */
  async capture(emit: () => void, maxWaitMs: number): Promise<void> {
    const list: Promise<unknown>[] = [];
    this.current = list;
    try {
      emit();
    } finally {
      this.current = undefined;
    }
    if (list.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(list),
      new Promise((resolve) => {
        timer = setTimeout(resolve, maxWaitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
