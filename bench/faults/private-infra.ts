/**
 * Throwaway PostgreSQL, Redis and RabbitMQ servers owned by the fault suite, so it can really
 * stop and start them without touching the machine's shared servers (other test runs and an
 * `npm start` stack use those). Each lives in its own temp directory on free ports, runs in its
 * own process group, and is removed at the end, also on failure, SIGINT or SIGTERM.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { freePort } from '@cipherchat/service-kit/testing';
import { groupPids, procStat } from './proc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One private server: started once, then stopped and started again on the same port. */
export interface PrivateServer {
  /** `postgres`, `redis` or `rabbitmq`. */
  readonly name: string;
  /** Port clients connect to. */
  readonly port: number;
  /** Connection URL (admin/guest). */
  readonly url: string;
  /** Temp directory holding its data and log. */
  readonly dir: string;
  /** Starts the server and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and waits for the process group to be gone. */
  stop(): Promise<void>;
  /**
   * kill -9 of the server's main process (PostgreSQL's postmaster, RabbitMQ's Erlang VM, Redis),
   * then SIGKILL of whatever it left in its process group (orphaned backends), waiting until the
   * group is gone so the next start finds nothing still holding the data directory.
   * @returns the process that got the SIGKILL
   */
  kill9(): Promise<{ pid: number; comm: string }>;
  /** Milliseconds each start / stop / kill -9 (until its process group was gone) took. */
  readonly timings: { startMs: number[]; stopMs: number[]; killMs: number[] };
  /** Stops it (hard) and removes its directory. */
  destroy(): Promise<void>;
}

const live = new Set<Base>();
const cleanups: (() => Promise<void>)[] = [];
let handlersInstalled = false;

/**
 * Registers work to run when the suite is interrupted (SIGINT/SIGTERM), before the private
 * servers are destroyed: e.g. stopping the chat-service processes.
 * @param fn cleanup
 */
export function onAbort(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Destroys every private server still alive (idempotent). */
export async function destroyAll(): Promise<void> {
  await Promise.all([...live].map((s) => s.destroy().catch(() => undefined)));
}

/**
 * SIGINT/SIGTERM: run the abort hooks (bounded), destroy the servers, exit 130/143. On any exit
 * (even `process.exit` from a crash path) the process groups still alive are SIGKILLed and the
 * directories removed synchronously.
 */
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`[faults] ${sig}: stopping the suite's own servers\n`);
    const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), sleep(10_000)]);
    void (async () => {
      for (const fn of cleanups.reverse()) await bounded(fn());
      await bounded(destroyAll());
      process.exit(sig === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const s of live) s.killSync();
  });
}

abstract class Base implements PrivateServer {
  abstract readonly name: string;
  abstract readonly url: string;
  readonly timings = { startMs: [] as number[], stopMs: [] as number[], killMs: [] as number[] };
  protected child: ChildProcess | undefined;
  private destroyed = false;

  /**
   * Starts a server just made; if it does not come up, its process and temp dir go too.
   * @param s the new server
   * @param prepare one-off set-up before the first start (e.g. initdb)
   * @returns it, started
   */
  protected static async started<T extends Base>(s: T, prepare?: () => void): Promise<T> {
    try {
      prepare?.();
      await s.start();
    } catch (err) {
      await s.destroy();
      throw err;
    }
    return s;
  }

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    installHandlers();
    live.add(this);
  }

  /** Spawns the server in its own process group, output appended to `<dir>/server.log`. */
  protected spawnServer(cmd: string, args: string[], opts: { env?: Record<string, string>; uid?: number; gid?: number; cwd?: string } = {}): ChildProcess {
    const log = createWriteStream(path.join(this.dir, 'server.log'), { flags: 'a' });
    const child = spawn(cmd, args, { cwd: opts.cwd ?? this.dir, env: opts.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' }, uid: opts.uid, gid: opts.gid, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => log.end());
    this.child = child;
    return child;
  }

  protected abstract launch(): void;
  protected abstract ready(): Promise<boolean>;
  /** Signal that stops it (to the main process). */
  protected abstract readonly stopSignal: NodeJS.Signals;

  async start(): Promise<void> {
    const t0 = performance.now();
    this.launch();
    const child = this.child as ChildProcess;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await this.ready().catch(() => false)) {
        this.timings.startMs.push(Math.round(performance.now() - t0));
        return;
      }
      await sleep(100);
    }
    throw new Error(`private ${this.name} on port ${this.port} did not start (exit ${child.exitCode ?? child.signalCode}); log:\n${this.logTail()}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const t0 = performance.now();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(this.stopSignal);
    const stopped = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!stopped) this.killGroup('SIGKILL');
    await exited;
    // helpers of the server (erl_child_setup, PostgreSQL backends) go with the group
    this.killGroup('SIGKILL');
    this.timings.stopMs.push(Math.round(performance.now() - t0));
    this.child = undefined;
  }

  /** @returns the pid that a kill -9 of this server targets (default: the spawned process) */
  protected killTarget(): number | undefined {
    return this.child?.pid;
  }

  async kill9(): Promise<{ pid: number; comm: string }> {
    const child = this.child;
    const pid = this.killTarget();
    if (!child?.pid || !pid) throw new Error(`private ${this.name} is not running`);
    const t0 = performance.now();
    const comm = procStat(pid)?.comm ?? '?';
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    process.kill(pid, 'SIGKILL');
    await Promise.race([exited, sleep(10_000)]);
    const pgid = child.pid;
    this.killGroup('SIGKILL');
    await exited;
    const deadline = Date.now() + 10_000;
    while (groupPids(pgid).length > 0 && Date.now() < deadline) await sleep(20);
    this.timings.killMs.push(Math.round(performance.now() - t0));
    this.child = undefined;
    return { pid, comm };
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await this.stop().catch(() => this.killGroup('SIGKILL'));
    this.killSync();
  }

  /** SIGKILLs the group and removes the directory (synchronous: usable in an 'exit' handler). */
  killSync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.killGroup('SIGKILL');
    live.delete(this);
    if (process.env.BENCH_KEEP_LOGS) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }

  private killGroup(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  }

  logTail(): string {
    const f = path.join(this.dir, 'server.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
  }
}

/**
 * A private PostgreSQL 15+ cluster (Debian layout): initdb in a temp dir (trust auth, fsync on,
 * unix socket in the temp dir), `postgres` run directly as a child on 127.0.0.1:port. As root,
 * the binaries run as the `postgres` user (initdb refuses root). `stop()` is an **immediate**
 * shutdown (SIGQUIT: no checkpoint), so the next start goes through WAL crash recovery.
 */
export class PrivatePostgres extends Base {
  readonly name = 'postgres';
  readonly url: string;
  protected readonly stopSignal = 'SIGQUIT' as const;
  private readonly bin: string;
  private readonly owner: { uid: number; gid: number } | undefined;

  private constructor(port: number, dir: string) {
    super(port, dir);
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    if (!newest) throw new Error('no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)');
    this.bin = `/usr/lib/postgresql/${newest}/bin`;
    if (process.getuid?.() === 0) {
      this.owner = { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
      chownSync(dir, this.owner.uid, this.owner.gid);
    }
  }

  /** @returns an initialised, started cluster */
  static async create(): Promise<PrivatePostgres> {
    const s = new PrivatePostgres(await freePort(), mkdtempSync(path.join(tmpdir(), 'faults-pg-')));
    return Base.started(s, () =>
      execFileSync(`${s.bin}/initdb`, ['-D', path.join(s.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: s.dir, uid: s.owner?.uid, gid: s.owner?.gid, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  protected launch(): void {
    this.spawnServer(
      `${this.bin}/postgres`,
      ['-D', path.join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'max_connections=200', '-c', 'shared_buffers=64MB', '-c', 'logging_collector=off'],
      { uid: this.owner?.uid, gid: this.owner?.gid },
    );
  }

  protected async ready(): Promise<boolean> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

/** A private `redis-server` (no persistence: a restart comes back empty, like a cache node). */
export class PrivateRedis extends Base {
  readonly name = 'redis';
  readonly url: string;
  protected readonly stopSignal = 'SIGTERM' as const;

  private constructor(port: number, dir: string) {
    super(port, dir);
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** @returns a started server */
  static async create(): Promise<PrivateRedis> {
    const s = new PrivateRedis(await freePort(), mkdtempSync(path.join(tmpdir(), 'faults-redis-')));
    return Base.started(s);
  }

  protected launch(): void {
    this.spawnServer('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', this.dir]);
  }

  protected async ready(): Promise<boolean> {
    const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  }
}

/**
 * A private RabbitMQ node `faults-<rand>@localhost` (its own AMQP and distribution ports, Mnesia,
 * logs, config and Erlang cookie in a temp dir, no plugins; the machine's epmd only gets one
 * more name registered). `stop()` is a graceful broker stop (SIGTERM to rabbitmq-server):
 * durable queues and persistent messages must survive it.
 */
export class PrivateRabbit extends Base {
  readonly name = 'rabbitmq';
  readonly url: string;
  readonly nodeName: string;
  protected readonly stopSignal = 'SIGTERM' as const;

  private constructor(
    port: number,
    private readonly distPort: number,
    dir: string,
  ) {
    super(port, dir);
    this.url = `amqp://guest:guest@127.0.0.1:${port}`;
    this.nodeName = `faults-${randomBytes(4).toString('hex')}@localhost`;
    writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nlog.console = true\nlog.file = false\n`);
    writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
  }

  /** @returns a started node */
  static async create(): Promise<PrivateRabbit> {
    const port = await freePort();
    let dist = await freePort();
    while (dist === port) dist = await freePort();
    const s = new PrivateRabbit(port, dist, mkdtempSync(path.join(tmpdir(), 'faults-rabbit-')));
    return Base.started(s);
  }

  protected launch(): void {
    const d = this.dir;
    this.spawnServer('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: d, // the node's own Erlang cookie
        LANG: 'C.UTF-8',
        RABBITMQ_CONF_ENV_FILE: path.join(d, 'rabbitmq-env.conf'), // not /etc/rabbitmq's (it names the shared node)
        RABBITMQ_NODENAME: this.nodeName,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.distPort),
        RABBITMQ_MNESIA_BASE: path.join(d, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(d, 'log'),
        RABBITMQ_CONFIG_FILE: path.join(d, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, 'enabled_plugins'),
        RABBITMQ_PLUGINS_EXPAND_DIR: path.join(d, 'plugins-expand'),
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    });
  }

  /** The node's Erlang VM (`beam.smp`), not the `rabbitmq-server` shell script that started it. */
  protected override killTarget(): number | undefined {
    const pgid = this.child?.pid;
    if (!pgid) return undefined;
    return groupPids(pgid).find((pid) => procStat(pid)?.comm === 'beam.smp') ?? pgid;
  }

  protected async ready(): Promise<boolean> {
    const c = await amqp.connect(this.url, { timeout: 1000 });
    c.on('error', () => undefined);
    await c.close().catch(() => undefined);
    return true;
  }
}
