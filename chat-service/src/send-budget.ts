import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '@cipherchat/service-kit';

/**
 * Counts one send against both per-sender budgets in ONE script call: the message count and
 * the envelope bytes, each a fixed window that starts at its first send (the windows and keys
 * of rate-limiter-flexible's `RateLimiterRedis`, so processes of the previous release count
 * into the same budgets during a rolling deploy). Returns `{count, countMs, bytes, bytesMs}`:
 * the totals after this send and the milliseconds left in each window.
 */
const SEND_BUDGET_LUA = `
local function hit(key, by, window)
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
  return { total, left }
end
local window = tonumber(ARGV[2])
local n = hit(KEYS[1], 1, window)
local b = hit(KEYS[2], tonumber(ARGV[1]), window)
return { n[1], n[2], b[1], b[2] }`;

/** The Redis client with the script defined on it (ioredis sends EVALSHA, EVAL once after a restart). */
interface BudgetRedis extends Redis {
  ccSendBudget(
    countKey: string,
    bytesKey: string,
    bytes: number,
    windowMs: number,
  ): Promise<[number, number, number, number]>;
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
 * through Redis. One round trip per send covers both budgets. While Redis is down, sends go on
 * (delivery falls back to this process) and each process counts its own senders in memory
 * instead (the insurance limiters): the budget then holds per process, never fails closed.
 */
export class SendBudget {
  private readonly redis: BudgetRedis;
  private readonly windowMs: number;
  private readonly memCount: RateLimiterMemory;
  private readonly memBytes: RateLimiterMemory;

  /**
   * @param redis client (the script is defined on it)
   * @param options limits and key prefix
   */
  constructor(
    redis: Redis,
    private readonly options: SendBudgetOptions,
  ) {
    if (!('ccSendBudget' in redis))
      redis.defineCommand('ccSendBudget', { numberOfKeys: 2, lua: SEND_BUDGET_LUA });
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
   * Counts one send of `bytes` envelope bytes for `userId`.
   * @param userId the sender
   * @param bytes decoded envelope bytes of the send (at least 1 is counted)
   * @throws {RateLimitedError} when either budget is spent (nothing of the send may be stored)
   */
  async consume(userId: string, bytes: number): Promise<void> {
    const by = Math.max(1, Math.ceil(bytes));
    const p = this.options.prefix;
    let r: [number, number, number, number];
    try {
      r = await this.redis.ccSendBudget(
        `${p}:rl:msg:${userId}`,
        `${p}:rl:msg-bytes:${userId}`,
        by,
        this.windowMs,
      );
    } catch {
      return this.consumeInMemory(userId, by);
    }
    const [count, countMs, total, bytesMs] = r;
    // every send is counted, refused ones too (as rate-limiter-flexible does): hammering does not pay
    const over = [
      count > this.options.messages ? countMs : -1,
      total > this.options.bytes ? bytesMs : -1,
    ].filter((ms) => ms >= 0);
    if (over.length > 0)
      throw new RateLimitedError(Math.max(1, Math.ceil(Math.max(...over) / 1000)));
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
