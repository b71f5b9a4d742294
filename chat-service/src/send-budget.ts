import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '@cipherchat/service-kit';

/**
 * Counts sends against both per-sender budgets, the message count and the envelope bytes, each
 * a fixed window that starts at its first send (the windows and keys of rate-limiter-flexible's
 * `RateLimiterRedis`, so processes of the previous release count into the same budgets during a
 * rolling deploy). KEYS are (count key, bytes key) per send, ARGV[1] the window in ms, then the
 * bytes of each send. Returns per send: count and ms left in its window, bytes and ms left.
 * One call covers every send of one event-loop turn (in order: a user's second send in the
 * call sees the first).
 */
const SEND_BUDGET_LUA = `
local window = tonumber(ARGV[1])
local function hit(key, by)
  local total = redis.call('INCRBY', key, by)
  local left
  if total == by then
    redis.call('PEXPIRE', key, window)
    left = window
  else
    left = redis.call('PTTL', key)
    if left < 0 then
      redis.call('PEXPIRE', key, window)
      left = window
    end
  end
  return total, left
end
local out = {}
for i = 1, #KEYS, 2 do
  local n, nl = hit(KEYS[i], 1)
  local b, bl = hit(KEYS[i + 1], tonumber(ARGV[(i + 1) / 2 + 1]))
  out[#out + 1] = n
  out[#out + 1] = nl
  out[#out + 1] = b
  out[#out + 1] = bl
end
return out`;

/** The Redis client with the script defined on it (ioredis sends EVALSHA, EVAL once after a restart). */
interface BudgetRedis extends Redis {
  ccSendBudget(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
}

/** Most sends counted in one script call (more go into further calls of the same turn). */
const MAX_PER_CALL = 256;

interface PendingSend {
  userId: string;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Limits of {@link SendBudget}. */
export interface SendBudgetOptions {
  /** Key prefix (`<prefix>:rl:msg:<user>` and `<prefix>:rl:msg-bytes:<user>`). */
  prefix: string;
  /** Messages per user per window. */
  messages: number;
  /** Envelope bytes per user per window. */
  bytes: number;
  /** Window in seconds (60: per minute). */
  windowSeconds: number;
}

/**
 * Per-sender message budgets (count and bytes per minute), shared by every socket and process
 * through Redis. One script call covers both budgets of every send of an event-loop turn (one
 * round trip, however many sends arrived together). While Redis is down, sends go on
 * (delivery falls back to this process) and each process counts its own senders in memory
 * instead (the insurance limiters): the budget then holds per process, never fails closed.
 */
export class SendBudget {
  private readonly redis: BudgetRedis;
  private readonly windowMs: number;
  private readonly memCount: RateLimiterMemory;
  private readonly memBytes: RateLimiterMemory;
  private pending: PendingSend[] = [];

  /**
   * @param redis client (the script is defined on it)
   * @param options limits and key prefix
   */
  constructor(
    redis: Redis,
    private readonly options: SendBudgetOptions,
  ) {
    // numberOfKeys is passed per call (it varies with the sends of a turn)
    if (!('ccSendBudget' in redis)) redis.defineCommand('ccSendBudget', { lua: SEND_BUDGET_LUA });
    this.redis = redis as BudgetRedis;
    this.windowMs = options.windowSeconds * 1000;
    this.memCount = new RateLimiterMemory({
      keyPrefix: 'msg',
      points: options.messages,
      duration: options.windowSeconds,
    });
    this.memBytes = new RateLimiterMemory({
      keyPrefix: 'msg-bytes',
      points: options.bytes,
      duration: options.windowSeconds,
    });
  }

  /**
   * Counts one send of `bytes` envelope bytes for `userId`. The sends of one event-loop turn
   * share one script call (one round trip, one reply to parse).
   * @param userId the sender
   * @param bytes decoded envelope bytes of the send (at least 1 is counted)
   * @returns when the send is within both budgets
   * @throws {RateLimitedError} when either budget is spent (nothing of the send may be stored)
   */
  consume(userId: string, bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // after this turn's I/O callbacks: every send that arrived in them shares the call
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ userId, bytes: Math.max(1, Math.ceil(bytes)), resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_PER_CALL)
      void this.count(all.slice(i, i + MAX_PER_CALL));
  }

  private async count(sends: PendingSend[]): Promise<void> {
    const p = this.options.prefix;
    const keys = sends.flatMap((s) => [`${p}:rl:msg:${s.userId}`, `${p}:rl:msg-bytes:${s.userId}`]);
    let r: number[];
    try {
      r = await this.redis.ccSendBudget(
        keys.length,
        ...keys,
        this.windowMs,
        ...sends.map((s) => s.bytes),
      );
    } catch {
      for (const s of sends) this.consumeInMemory(s.userId, s.bytes).then(s.resolve, s.reject);
      return;
    }
    sends.forEach((s, i) => {
      const [count, countMs, total, bytesMs] = r.slice(i * 4, i * 4 + 4) as [
        number,
        number,
        number,
        number,
      ];
      // every send is counted, refused ones too (as rate-limiter-flexible does): hammering does not pay
      const over = [
        count > this.options.messages ? countMs : -1,
        total > this.options.bytes ? bytesMs : -1,
      ].filter((ms) => ms >= 0);
      if (over.length > 0)
        s.reject(new RateLimitedError(Math.max(1, Math.ceil(Math.max(...over) / 1000))));
      else s.resolve();
    });
  }

  /** The insurance: both budgets counted by this process alone (Redis is unreachable). */
  private async consumeInMemory(userId: string, bytes: number): Promise<void> {
    const [count, total] = await Promise.allSettled([
      this.memCount.consume(userId),
      this.memBytes.consume(userId, bytes),
    ]);
    const refused = [count, total].flatMap((x) =>
      x.status === 'rejected' ? [x.reason as unknown] : [],
    );
    if (refused.length === 0) return;
    const waitMs = Math.max(
      0,
      ...refused.map((e) => (e instanceof RateLimiterRes ? e.msBeforeNext : 0)),
    );
    throw new RateLimitedError(Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
