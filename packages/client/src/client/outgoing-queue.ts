import { FORMAT_VERSION, PlaintextMessage, STATUS_ORDER, type OutgoingJob, type StoredMessage } from '../messages/message.schema.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import { ApiError } from '../transport/api-error.js';
import type { EmitFn, SendOptions } from './client-types.js';
import type { EnvelopeMutator, MessageSender } from './message-sender.js';
import { backoffDelay, classifySendError, DEFAULT_RETRY_POLICY, UNEXPECTED_MEMBER_ATTEMPTS, type RetryPolicy } from './retry-policy.js';
import type { SessionSlot } from './session.js';

/** What {@link OutgoingQueue} needs. */
export interface OutgoingQueueDeps {
  session: SessionSlot;
  sender: MessageSender;
  /** The member list at queue time (cached normally; undefined when it cannot be had). */
  membersOf: (conversationId: string) => Promise<readonly string[] | undefined>;
  /** Whether the socket is up right now. */
  isOnline: () => boolean;
  emit: EmitFn;
  policy?: Partial<RetryPolicy> | undefined;
}

interface Waiter {
  /** A control job settles with no message. */
  resolve: (m: StoredMessage | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * The persisted outgoing queue (Signal's `JobQueue` idea): a send stores the message as
 * `sending` and its job in one store transaction, then returns; each conversation's jobs go out
 * one at a time in the order they were queued (a job waiting out its backoff holds back the
 * later ones, so a chat's order holds). Transient failures retry with capped exponential
 * backoff; a permanent error or a spent retry budget marks the message `failed` with a reason
 * code. Time offline costs no attempt: jobs wait for the socket and go out when it is back
 * ({@link kick}). Jobs survive a reload or a crash: {@link resume} picks them up at the next
 * login.
 */
export class OutgoingQueue {
  private readonly policy: RetryPolicy;
  /** One lane per conversation: its pumps run one after another. */
  private readonly lanes = new KeyedSerialQueue();
  /** Backoff timers, one per conversation (its head job's). */
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly waiters = new Map<string, Waiter[]>();
  /** Envelope rewriters of diagnostic sends (memory only: lost on reload, by design). */
  private readonly mutators = new Map<string, EnvelopeMutator>();
  /** Bumped by {@link stop}: pumps of an older session do nothing. */
  private generation = 0;
  /** Last queue position handed out (see {@link OutgoingJob.seq}). */
  private lastSeq = 0;

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
   * @throws the last attempt's error when it failed for good, or `not_connected` while offline
   *   (waiting mode; the message stays queued and goes out once connected)
   */
  async send(message: StoredMessage, options: SendOptions, mutate?: EnvelopeMutator): Promise<StoredMessage> {
    if (mutate) this.mutators.set(message.id, mutate);
    return this.enqueue(message, options);
  }

  /**
   * Queues a control message (reaction, edit, delete, timer) behind the conversation's earlier
   * sends: it is persisted and retried like a message, but has no history entry of its own
   * (the caller has already applied its effect locally).
   * @param control the plaintext to send
   * @param options `wait: false` to return once queued
   * @throws the last attempt's error when it failed for good, or `not_connected` while offline
   *   (waiting mode; it stays queued and goes out once connected)
   */
  async sendControl(control: PlaintextMessage, options: SendOptions = {}): Promise<void> {
    const s = this.deps.session.require();
    const generation = this.generation;
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    const job: OutgoingJob = { id: control.id, conversationId: control.conversationId, seq: this.lastSeq, attempts: 0, notBefore: 0, control };
    await s.store.putOutgoingJob(job);
    if (generation !== this.generation) throw loggedOut();
    const settled = options.wait === false ? undefined : this.settled(control.id);
    this.pump(control.conversationId);
    await settled;
  }

  /**
   * Puts a `failed` outgoing message back into the queue under the same id (Retry); it goes to
   * the end of its conversation's queue.
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
    const result = this.enqueue(queued, options);
    this.deps.emit('messageUpdated', queued);
    return result;
  }

  private async enqueue(message: StoredMessage, options: SendOptions): Promise<StoredMessage> {
    const s = this.deps.session.require();
    const generation = this.generation;
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    const recipients = await this.deps.membersOf(message.conversationId);
    const job: OutgoingJob = {
      id: message.id,
      conversationId: message.conversationId,
      seq: this.lastSeq,
      ...(recipients ? { recipients: [...recipients] } : {}),
      attempts: 0,
      notBefore: 0,
    };
    await s.store.saveOutgoing(message, job);
    if (generation !== this.generation) throw loggedOut();
    // Listen before the pump can run, so the outcome cannot be missed.
    const settled = options.wait === false ? undefined : this.settled(message.id);
    this.pump(message.conversationId);
    return (await settled) ?? message;
  }

  /**
   * Waits for a queued message's final outcome.
   * @param messageId client message id
   * @returns the message once the server accepted it
   * @throws the last attempt's error when the message failed for good
   */
  private settled(messageId: string): Promise<StoredMessage | undefined> {
    return new Promise((resolve, reject) => {
      this.waiters.set(messageId, [...(this.waiters.get(messageId) ?? []), { resolve, reject }]);
    });
  }

  /** Starts every conversation that has persisted jobs (after login or resume, like a reconnection). */
  async resume(): Promise<void> {
    await this.kick();
  }

  /**
   * Tries every conversation's waiting jobs now (the socket is back, or a new login): backoff
   * waits are for the offline time, and a new start does not wait out an earlier process's.
   * The attempts already made still count against the budget.
   */
  async kick(): Promise<void> {
    const s = this.deps.session.current;
    if (!s) return;
    const conversations = new Set((await s.store.listOutgoingJobs()).map((j) => j.conversationId));
    for (const id of conversations) this.pump(id);
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
    this.rejectWaiters([...this.waiters.keys()], loggedOut());
  }

  /** Runs the conversation's pump in its lane now (cancelling a pending backoff timer). */
  private pump(conversationId: string): void {
    this.schedule(conversationId, 0);
  }

  /** Runs the conversation's pump after `delayMs`; one timer per conversation. */
  private schedule(conversationId: string, delayMs: number): void {
    const generation = this.generation;
    const previous = this.timers.get(conversationId);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => {
      if (this.timers.get(conversationId) === timer) this.timers.delete(conversationId);
      if (generation !== this.generation) return;
      this.lanes.run(conversationId, () => this.drain(conversationId, generation)).catch((err: unknown) => {
        // A store failure: report it, and try again later (the jobs are still persisted).
        this.deps.emit('error', err);
        if (generation === this.generation) this.schedule(conversationId, backoffDelay(1, this.policy));
      });
    }, delayMs);
    (timer as { unref?: () => void }).unref?.();
    this.timers.set(conversationId, timer);
  }

  /**
   * Sends a conversation's jobs in queue order until none is left, the head job must wait out
   * its backoff (a timer resumes it), or the socket is down ({@link kick} resumes it).
   */
  private async drain(conversationId: string, generation: number): Promise<void> {
    for (;;) {
      const s = this.deps.session.current;
      if (!s || generation !== this.generation) return;
      const jobs = (await s.store.listOutgoingJobs()).filter((j) => j.conversationId === conversationId).sort((a, b) => a.seq - b.seq);
      const job = jobs[0];
      if (!job) return;
      const wait = job.notBefore - Date.now();
      if (wait > 0) return this.schedule(conversationId, wait);
      const outcome = await this.attempt(job, generation);
      if (outcome === 'offline') {
        // Waiting callers learn it now (as before the queue); the jobs stay queued for kick().
        this.rejectWaiters(jobs.map((j) => j.id), new ApiError(0, 'not_connected', 'not connected; the message stays queued and goes out once connected'));
        return;
      }
      if (outcome === 'deferred' || outcome === 'stopped') return;
    }
  }

  /**
   * One attempt at the head job.
   * @returns `done` (sent, failed for good, or nothing to send), `deferred` (backoff timer set),
   *   `offline` (socket down; no attempt counted), or `stopped` (logged out meanwhile)
   */
  private async attempt(job: OutgoingJob, generation: number): Promise<'done' | 'deferred' | 'offline' | 'stopped'> {
    const s = this.deps.session.require();
    if (job.control) return this.attemptControl(job, job.control, generation);
    const message = await s.store.getMessage(job.id);
    if (!message) {
      // Gone from history: nothing left to send.
      await s.store.deleteOutgoingJob(job.id);
      return 'done';
    }
    if (message.status !== 'sending' || message.kind === 'event') return this.alreadyThere(job, message);
    // Fail fast while disconnected: Socket.IO would buffer the emit and time out 15 s later.
    if (!this.deps.isOnline()) return 'offline';
    const plaintext: PlaintextMessage = {
      v: FORMAT_VERSION,
      kind: message.kind === 'attachment' ? 'attachment' : 'text',
      id: message.id,
      conversationId: message.conversationId,
      sentAt: message.sentAt,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.attachment ? { attachment: message.attachment } : {}),
      ...(message.expiresInS ? { expiresInS: message.expiresInS } : {}),
      ...(message.replyTo ? { replyTo: message.replyTo } : {}),
      ...(message.mentions ? { mentions: message.mentions } : {}),
    };
    let ack: Awaited<ReturnType<MessageSender['fanOut']>>;
    try {
      ack = await this.deps.sender.fanOut(message.conversationId, plaintext, this.mutators.get(job.id), job.recipients);
    } catch (err) {
      if (generation !== this.generation || this.deps.session.current !== s) return 'stopped';
      // A receipt for it arrived meanwhile (its ack was lost): it is there, do not send it again.
      const now = await s.store.getMessage(job.id);
      if (now && now.status !== 'sending') return this.alreadyThere(job, now);
      const { code, transient, unreachable } = classifySendError(err);
      if (code === 'not_connected' || (unreachable && !this.deps.isOnline())) return 'offline';
      if (unreachable) return this.waitForServer(job, code, (j) => s.store.saveOutgoing(message, j));
      const attempts = job.attempts + 1;
      const budget = code === 'unexpected_member' ? Math.min(UNEXPECTED_MEMBER_ATTEMPTS, this.policy.maxAttempts) : this.policy.maxAttempts;
      if (transient && attempts < budget) {
        const delay = backoffDelay(attempts, this.policy);
        await s.store.saveOutgoing(message, { ...job, attempts, notBefore: Date.now() + delay, lastError: code });
        this.schedule(job.conversationId, delay);
        this.deps.emit('sendDeferred', { messageId: job.id, conversationId: job.conversationId, attempts, code, retryInMs: delay });
        return 'deferred';
      }
      const failed: StoredMessage = {
        ...message,
        status: 'failed',
        failure: { code, ...(err instanceof Error && err.message ? { message: err.message } : {}) },
      };
      await s.store.saveOutgoing(failed, undefined);
      if (code === 'unexpected_member' && err instanceof ApiError) {
        const d = err.details as { userIds?: unknown } | undefined;
        const userIds = Array.isArray(d?.userIds) ? d.userIds.filter((u): u is string => typeof u === 'string') : [];
        this.deps.emit('membershipWarning', { conversationId: job.conversationId, userIds });
      }
      this.settle(job.id, failed, err);
      this.deps.emit('sendFailed', { message: failed, code, error: err });
      return 'done';
    }
    // The server has the message. If storing that fails, the job stays: its next attempt is
    // answered as a duplicate (the server dedupes on the client message id) and settles it.
    const current = (await s.store.getMessage(job.id)) ?? message;
    const sent: StoredMessage = {
      ...current,
      status: STATUS_ORDER[current.status] > STATUS_ORDER.sent ? current.status : 'sent',
      serverMessageId: ack.messageId,
      serverTimestamp: ack.serverTimestamp,
    };
    await s.store.saveOutgoing(sent, undefined);
    this.settle(job.id, sent, undefined);
    return 'done';
  }

  /** One attempt at a control job: sent (job removed), deferred with backoff, or failed for good (removed, reported). */
  private async attemptControl(job: OutgoingJob, control: PlaintextMessage, generation: number): Promise<'done' | 'deferred' | 'offline' | 'stopped'> {
    const s = this.deps.session.require();
    if (!this.deps.isOnline()) return 'offline';
    try {
      await this.deps.sender.fanOut(job.conversationId, control, this.mutators.get(job.id));
    } catch (err) {
      if (generation !== this.generation || this.deps.session.current !== s) return 'stopped';
      const { code, transient, unreachable } = classifySendError(err);
      if (code === 'not_connected' || (unreachable && !this.deps.isOnline())) return 'offline';
      if (unreachable) return this.waitForServer(job, code, (j) => s.store.putOutgoingJob(j));
      const attempts = job.attempts + 1;
      if (transient && attempts < this.policy.maxAttempts) {
        const delay = backoffDelay(attempts, this.policy);
        await s.store.putOutgoingJob({ ...job, attempts, notBefore: Date.now() + delay, lastError: code });
        this.schedule(job.conversationId, delay);
        return 'deferred';
      }
      await s.store.deleteOutgoingJob(job.id);
      this.mutators.delete(job.id);
      this.rejectWaiters([job.id], err);
      this.deps.emit('controlFailed', { conversationId: job.conversationId, kind: control.kind, id: control.id, code, error: err });
      return 'done';
    }
    await s.store.deleteOutgoingJob(job.id);
    this.settle(job.id, undefined, undefined);
    return 'done';
  }

  /**
   * The server did not answer (half-open socket, network gone, 502/503/504) while the socket
   * still looked connected: no attempt counted, the job waits with its own backoff (never failed
   * for this; a reconnection tries it at once).
   */
  private async waitForServer(job: OutgoingJob, code: string, save: (job: OutgoingJob) => Promise<void>): Promise<'deferred'> {
    const unreachable = (job.unreachable ?? 0) + 1;
    const delay = backoffDelay(unreachable, this.policy);
    await save({ ...job, unreachable, notBefore: Date.now() + delay, lastError: code });
    this.schedule(job.conversationId, delay);
    if (!job.control) this.deps.emit('sendDeferred', { messageId: job.id, conversationId: job.conversationId, attempts: job.attempts, code, retryInMs: delay });
    return 'deferred';
  }

  /**
   * The message moved past `sending` without this queue (a receipt for it came first): it
   * reached its recipients, so the job ends and waiting callers get it as it is now.
   */
  private async alreadyThere(job: OutgoingJob, message: StoredMessage): Promise<'done'> {
    await this.deps.session.require().store.deleteOutgoingJob(job.id);
    if (message.status === 'failed') {
      this.rejectWaiters([job.id], new ApiError(0, message.failure?.code ?? 'send_failed', message.failure?.message ?? 'failed'));
    } else {
      this.settle(job.id, message, undefined);
    }
    return 'done';
  }

  private rejectWaiters(ids: readonly string[], err: unknown): void {
    for (const id of ids) {
      const waiting = this.waiters.get(id);
      if (!waiting) continue;
      this.waiters.delete(id);
      for (const w of waiting) w.reject(err);
    }
  }

  private settle(id: string, message: StoredMessage | undefined, err: unknown): void {
    this.mutators.delete(id);
    if (message) this.deps.emit('messageUpdated', message);
    const waiters = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    for (const w of waiters) {
      if (err === undefined) w.resolve(message);
      else w.reject(err);
    }
  }
}

/** What a waiting caller gets when the session ends (the message stays queued). */
function loggedOut(): ApiError {
  return new ApiError(0, 'not_connected', 'logged out; the message stays queued for the next login');
}
