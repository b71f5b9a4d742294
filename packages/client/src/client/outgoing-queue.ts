import { PlaintextMessage, type OutgoingJob, type StoredMessage } from '../messages/message.schema.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import { ApiError } from '../transport/api-error.js';
import type { EmitFn, SendOptions } from './client-types.js';
import type { EnvelopeMutator, MessageSender } from './message-sender.js';
import { backoffDelay, classifySendError, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import type { SessionSlot } from './session.js';

/** What {@link OutgoingQueue} needs. */
export interface OutgoingQueueDeps {
  session: SessionSlot;
  sender: MessageSender;
  /** Whether the socket is up right now. */
  isOnline: () => boolean;
  emit: EmitFn;
  policy?: Partial<RetryPolicy> | undefined;
}

/** Status order: an attempt's result never moves a message back (a receipt may come first). */
const ORDER = { sending: 0, failed: 0, sent: 1, received: 1, delivered: 2, read: 3 } as const;

interface Waiter {
  resolve: (m: StoredMessage) => void;
  reject: (err: unknown) => void;
}

/**
 * The persisted outgoing queue (Signal's `JobQueue` idea): a send stores the message as
 * `sending` and its job in one store transaction, then returns; the queue sends jobs one at a
 * time per conversation (so a chat's order holds), retries transient failures with capped
 * exponential backoff, and marks the message `failed` with a reason code on a permanent error
 * or when the retry budget is spent. Jobs survive a reload or a crash: {@link resume} picks
 * them up on the next login, and a (re)connection tries every waiting job at once.
 */
export class OutgoingQueue {
  private readonly policy: RetryPolicy;
  private readonly lanes = new KeyedSerialQueue();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly waiters = new Map<string, Waiter[]>();
  /** Envelope rewriters of diagnostic sends (memory only: lost on reload, by design). */
  private readonly mutators = new Map<string, EnvelopeMutator>();
  /** Bumped by {@link stop}: attempts of an older session do not reschedule. */
  private generation = 0;

  /** @param deps collaborators and retry policy */
  constructor(private readonly deps: OutgoingQueueDeps) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...deps.policy };
  }

  /**
   * Stores a new outgoing message (status `sending`) with its job, atomically, and starts it.
   * @param message the message as it goes into history
   * @param options `wait: false` to return once queued
   * @param mutate rewrites the envelopes (diagnostics)
   * @returns the message: `sent` (or `sending` with `wait: false`)
   * @throws the last attempt's error when it failed for good (waiting mode)
   */
  async send(message: StoredMessage, options: SendOptions, mutate?: EnvelopeMutator): Promise<StoredMessage> {
    const s = this.deps.session.require();
    const job: OutgoingJob = { id: message.id, conversationId: message.conversationId, attempts: 0, notBefore: 0 };
    await s.store.saveOutgoing(message, job);
    if (mutate) this.mutators.set(message.id, mutate);
    // Listen before the first attempt is scheduled, so its outcome cannot be missed.
    const settled = options.wait === false ? undefined : this.settled(message.id);
    this.schedule(job, 0);
    return settled ?? message;
  }

  /**
   * Puts a `failed` outgoing message back into the queue under the same id (Retry).
   * @param messageId client message id
   * @param options `wait: false` to return once queued
   * @returns the message: `sent` (or `sending` with `wait: false`)
   * @throws {Error} when the message is not a failed outgoing message of this device's history
   */
  async retry(messageId: string, options: SendOptions): Promise<StoredMessage> {
    const s = this.deps.session.require();
    const m = await s.store.getMessage(messageId);
    if (!m || m.direction !== 'out' || m.status !== 'failed') throw new Error(`message ${messageId} is not a failed outgoing message`);
    const { failure: _failure, ...rest } = m;
    const queued: StoredMessage = { ...rest, status: 'sending' };
    const job: OutgoingJob = { id: m.id, conversationId: m.conversationId, attempts: 0, notBefore: 0 };
    await s.store.saveOutgoing(queued, job);
    this.deps.emit('messageUpdated', queued);
    const settled = options.wait === false ? undefined : this.settled(messageId);
    this.schedule(job, 0);
    return settled ?? queued;
  }

  /**
   * Waits for a queued message's final outcome.
   * @param messageId client message id
   * @returns the message once the server accepted it
   * @throws the last attempt's error when the message failed for good
   */
  private settled(messageId: string): Promise<StoredMessage> {
    return new Promise((resolve, reject) => {
      this.waiters.set(messageId, [...(this.waiters.get(messageId) ?? []), { resolve, reject }]);
    });
  }

  /**
   * Loads every persisted job of the session's store and tries it now (after login or resume:
   * like a reconnection, a new start does not wait out the backoff of an earlier process; the
   * attempts already made still count against the budget).
   */
  async resume(): Promise<void> {
    const s = this.deps.session.current;
    if (!s) return;
    for (const job of await s.store.listOutgoingJobs()) {
      if (!this.timers.has(job.id)) this.schedule(job, 0);
    }
  }

  /** Tries every waiting job now (the socket is back): backoff waits are for the offline time. */
  async kick(): Promise<void> {
    const s = this.deps.session.current;
    if (!s) return;
    for (const job of await s.store.listOutgoingJobs()) {
      const timer = this.timers.get(job.id);
      if (!timer) continue; // running now, or not ours
      clearTimeout(timer);
      this.schedule(job, 0);
    }
  }

  /**
   * Stops every timer (log out); the persisted jobs stay for the next login. Callers still
   * waiting for a message get `not_connected` (the message stays queued).
   */
  stop(): void {
    this.generation += 1;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.mutators.clear();
    const waiting = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const w of waiting) w.reject(new ApiError(0, 'not_connected', 'logged out; the message stays queued for the next login'));
  }

  private schedule(job: OutgoingJob, delayMs: number): void {
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(job.id);
      if (generation !== this.generation) return;
      // A store failure (the job stays as it was) is reported, never left unhandled.
      this.lanes.run(job.conversationId, () => this.attempt(job.id, generation)).catch((err: unknown) => this.deps.emit('error', err));
    }, delayMs);
    (timer as { unref?: () => void }).unref?.();
    this.timers.set(job.id, timer);
  }

  private async attempt(jobId: string, generation: number): Promise<void> {
    const s = this.deps.session.current;
    if (!s || generation !== this.generation) return;
    const job = (await s.store.listOutgoingJobs()).find((j) => j.id === jobId);
    const message = await s.store.getMessage(jobId);
    if (!job) return;
    if (!message || message.status !== 'sending') {
      // Nothing left to send (history cleared, or already settled): drop the job.
      if (message) await s.store.saveOutgoing(message, undefined);
      return;
    }
    const plaintext: PlaintextMessage = {
      v: 1,
      kind: message.kind,
      id: message.id,
      conversationId: message.conversationId,
      sentAt: message.sentAt,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.attachment ? { attachment: message.attachment } : {}),
    };
    try {
      // Fail fast while disconnected: Socket.IO would buffer the emit and time out 15 s later;
      // the queue tries again as soon as the socket is back (see kick).
      if (!this.deps.isOnline()) throw new ApiError(0, 'not_connected', 'socket not connected');
      const ack = await this.deps.sender.fanOut(message.conversationId, plaintext, this.mutators.get(jobId));
      const current = (await s.store.getMessage(jobId)) ?? message;
      const sent: StoredMessage = {
        ...current,
        status: ORDER[current.status] > ORDER.sent ? current.status : 'sent',
        serverMessageId: ack.messageId,
        serverTimestamp: ack.serverTimestamp,
      };
      await s.store.saveOutgoing(sent, undefined);
      this.settle(jobId, sent, undefined);
    } catch (err) {
      if (generation !== this.generation || this.deps.session.current !== s) return; // logged out meanwhile
      const { code, transient } = classifySendError(err);
      const attempts = job.attempts + 1;
      if (transient && attempts < this.policy.maxAttempts) {
        const delay = backoffDelay(attempts, this.policy);
        const next: OutgoingJob = { ...job, attempts, notBefore: Date.now() + delay, lastError: code };
        await s.store.saveOutgoing(message, next);
        this.schedule(next, delay);
        this.deps.emit('sendDeferred', { messageId: jobId, conversationId: job.conversationId, attempts, code, retryInMs: delay });
        return;
      }
      const failed: StoredMessage = {
        ...message,
        status: 'failed',
        failure: { code, ...(err instanceof Error && err.message ? { message: err.message } : {}) },
      };
      await s.store.saveOutgoing(failed, undefined);
      this.settle(jobId, failed, err);
      this.deps.emit('sendFailed', { message: failed, code, error: err });
    }
  }

  private settle(id: string, message: StoredMessage, err: unknown): void {
    this.mutators.delete(id);
    this.deps.emit('messageUpdated', message);
    const waiters = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    for (const w of waiters) {
      if (err === undefined) w.resolve(message);
      else w.reject(err);
    }
  }
}
