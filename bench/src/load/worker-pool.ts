import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientSpec, DrainResult, RunResult, RunSpec } from './client-host.js';
import type { WorkerCommand, WorkerReply } from './worker-protocol.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The runner's handle on the load-generator processes. */
export class WorkerPool {
  private readonly workers: ChildProcess[] = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** @param size number of worker processes */
  constructor(readonly size: number) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-worker.ts');
    for (let i = 0; i < size; i++) {
      const w = fork(file, [], {
        execArgv: ['--conditions=source', '--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      w.on('message', (m) => {
        const r = m as WorkerReply;
        const p = this.pending.get(r.reqId);
        if (!p) return;
        this.pending.delete(r.reqId);
        if (r.ok) p.resolve(r.data);
        else p.reject(new Error(`worker ${i}: ${r.error}`));
      });
      w.on('exit', (code) => {
        if (code) for (const p of this.pending.values()) p.reject(new Error(`worker ${i} exited with ${code}`));
      });
      this.workers.push(w);
    }
  }

  /** @returns pids of the worker processes */
  pids(): number[] {
    return this.workers.map((w) => w.pid ?? 0);
  }

  /**
   * Sends one command to worker `i` and waits for its answer.
   * @param i worker index
   * @param cmd the command (without reqId)
   * @returns the answer's data
   */
  call<T>(i: number, cmd: DistributiveOmit<WorkerCommand, 'reqId'>): Promise<T> {
    const w = this.workers[i];
    if (!w) throw new Error(`no worker ${i}`);
    const reqId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(reqId, { resolve: resolve as (v: unknown) => void, reject });
      w.send({ ...cmd, reqId } as WorkerCommand);
    });
  }

  /**
   * @param i worker
   * @param clients devices to connect there
   * @param concurrency parallel handshakes
   */
  connect(i: number, clients: ClientSpec[], concurrency = 50) {
    return this.call<{ connected: number; failed: number; errors: string[] }>(i, { t: 'connect', clients, concurrency });
  }

  /**
   * Runs a step in every worker at once (spec per worker).
   * @param specs one spec per worker (undefined = that worker idles)
   * @returns results of the workers that ran
   */
  async run(specs: (RunSpec | undefined)[]): Promise<RunResult[]> {
    const runs = specs.map((s, i) => (s ? this.call<RunResult>(i, { t: 'run', spec: s }) : undefined)).filter((p) => p !== undefined);
    return Promise.all(runs);
  }

  /**
   * @param i worker
   * @param client device to connect
   * @param expect envelopes waiting for it
   * @param timeoutMs limit
   */
  drain(i: number, client: ClientSpec, expect: number, timeoutMs: number) {
    return this.call<DrainResult>(i, { t: 'drain', client, expect, timeoutMs });
  }

  /** @returns connected sockets over all workers */
  async connectedCount(): Promise<number> {
    const counts = await Promise.all(this.workers.map((_, i) => this.call<{ connected: number }>(i, { t: 'count' })));
    return counts.reduce((a, c) => a + c.connected, 0);
  }

  /** Disconnects every client in every worker. */
  async disconnectAll(): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.call(i, { t: 'disconnect' })));
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve();
            w.once('exit', () => resolve());
            this.call(i, { t: 'exit' }).catch(() => undefined);
            setTimeout(() => {
              w.kill('SIGKILL');
              resolve();
            }, 3000).unref();
          }),
      ),
    );
  }
}
