/**
 * Load on user-service for the fault suite: sign-ups through OPAQUE, one after the other, as
 * the web client does them (`register/start`, then `register/finish`). Each accepted sign-up must
 * bring exactly one verification mail (its `user.email_verification_requested.v1` goes through
 * user-service's outbox, the bus and notification-service).
 *
 * A sign-up that fails (connection refused or reset while user-service is killed, a 5xx) is
 * retried from the start with the same address and username, like a person pressing the button
 * again; every failed attempt is counted by the fault phase it happened in. If the failed attempt
 * had committed before the process died, the retry finds the account: user-service answers
 * `username_taken` (or, for a taken address alone, mails its owner a `registration_attempt`
 * notice). Such an account still counts as registered, and that notice is expected for it (the
 * fault explains it); for any other account it is unexpected.
 */
import * as opaque from '@serenity-kit/opaque';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort, spawnService, stopChild } from '@cipherchat/service-kit/testing';
import { testEnv } from '@cipherchat/user-service/testing';

/** One account the load signs up. */
export interface SignUp {
  email: string;
  username: string;
  /** Accepted (202), or `username_taken` after an own failed attempt. */
  registered: boolean;
  /** An earlier attempt failed (so a retry may have found its own account). */
  hadFailedAttempt: boolean;
  attempts: number;
}

/** A sign-up still failing after this long is given up (and fails the suite). */
const GIVE_UP_MS = 120_000;
/**
 * The load generator's own OPAQUE key stretching, kept cheap: the server never sees it (it stores
 * the record), and full Argon2id would spend the suite's CPU on the client side instead.
 */
const KEY_STRETCHING = {
  'argon2id-custom': { iterations: 1, memory: 1024, parallelism: 1 },
} as const;

/** A user-service process of the fault suite (on 127.0.0.1, the suite's own servers). */
export interface UserServiceProcess {
  url: string;
  child: ChildProcess | undefined;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port (the same secrets) and wait until ready. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts user-service as deployed (its own process, from source), on the stack's database
 * (schema `users`), exchange and Redis.
 * @param o where it connects and logs
 * @returns the running process
 */
export async function startUserService(o: {
  databaseUrl: string;
  exchange: string;
  amqpUrl: string;
  redisUrl: string;
  redisPrefix: string;
  logDir: string;
}): Promise<UserServiceProcess> {
  const env = await testEnv({
    databaseUrl: o.databaseUrl,
    exchange: o.exchange,
    amqpUrl: o.amqpUrl,
    redisUrl: o.redisUrl,
    redisKeyPrefix: `${o.redisPrefix}:user:`,
    overrides: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_IP_POINTS: '1000000',
    },
  });
  const port = await freePort();
  const p: UserServiceProcess = {
    url: `http://127.0.0.1:${port}`,
    child: undefined,
    async kill() {
      if (p.child) await stopChild(p.child, 0);
      p.child = undefined;
    },
    async restart() {
      const s = spawnService({
        service: 'user-service',
        env,
        port,
        logFile: path.join(o.logDir, 'user.log'),
      });
      p.child = s.child;
      await s.ready();
    },
    async stop() {
      if (p.child) await stopChild(p.child);
      p.child = undefined;
    },
  };
  await p.restart();
  return p;
}

/** See the module comment. */
export class UserLoad {
  readonly signUps: SignUp[] = [];
  /** Failed attempts per fault phase and cause. */
  readonly failedAttempts: Record<string, Record<string, number>> = {};
  private running = false;
  private loop: Promise<void> | undefined;

  /**
   * @param baseUrl user-service's base URL
   * @param phase the current fault phase
   * @param nonce makes addresses unique to this run
   */
  constructor(
    private readonly baseUrl: string,
    private readonly phase: () => string,
    private readonly nonce: string,
  ) {}

  /**
   * Starts signing up, one at a time, until {@link stop} or `max` accounts.
   * @param max most accounts
   * @param pauseMs pause between two sign-ups
   */
  start(max: number, pauseMs: number): void {
    this.running = true;
    this.loop = (async () => {
      await opaque.ready;
      for (let i = 0; this.running && i < max; i++) {
        await this.signUp(i);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    })();
  }

  /** Stops after the sign-up in progress (which still retries until it is done). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private fail(cause: string): void {
    const byCause = (this.failedAttempts[this.phase()] ??= {});
    byCause[cause] = (byCause[cause] ?? 0) + 1;
  }

  private async signUp(i: number): Promise<void> {
    const username = `u${this.nonce}${i}`;
    const s: SignUp = {
      email: `${username}@bench.localhost`,
      username,
      registered: false,
      hadFailedAttempt: false,
      attempts: 0,
    };
    this.signUps.push(s);
    const password = randomBytes(12).toString('base64url');
    const giveUpAt = Date.now() + GIVE_UP_MS;
    while (!s.registered && Date.now() < giveUpAt) {
      s.attempts++;
      try {
        const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({
          password,
        });
        const start = await this.post('/auth/register/start', {
          email: s.email,
          username,
          registrationRequest,
        });
        if (start.status !== 200) throw new Error(`start ${start.status}`);
        const { registrationRecord } = opaque.client.finishRegistration({
          clientRegistrationState,
          registrationResponse: (start.body as { registrationResponse: string })
            .registrationResponse,
          password,
          keyStretching: KEY_STRETCHING,
        });
        const finish = await this.post('/auth/register/finish', {
          email: s.email,
          username,
          displayName: `Load ${i}`,
          registrationRecord,
        });
        const code = (finish.body as { error?: { code?: string } }).error?.code;
        if (
          finish.status === 202 ||
          (finish.status === 409 && code === 'username_taken' && s.hadFailedAttempt)
        )
          s.registered = true;
        else throw new Error(`finish ${finish.status} ${code ?? ''}`.trim());
      } catch (err) {
        s.hadFailedAttempt = true;
        const msg =
          err instanceof Error
            ? ((err.cause as { code?: string } | undefined)?.code ?? err.message)
            : String(err);
        this.fail(msg);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }

  private async post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.baseUrl}/api/user${path}`, {
      method: 'POST',
      headers: { 'x-client': 'cli', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : {} };
  }
}
