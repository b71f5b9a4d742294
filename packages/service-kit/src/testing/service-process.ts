import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/service-kit/{src,dist}/testing/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** The Node flags every deployment of a service runs it with (Dockerfile.service's `NODE_OPTIONS` build argument). */
export const SERVICE_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  // a larger young generation for the message hot path (docs/chat-service.md, "Performance notes")
  'chat-service': ['--max-semi-space-size=64'],
};

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** Workspace directory name: `chat-service`, `user-service`, `notification-service`. */
  service: string;
  /** Its whole environment (nothing is inherited; `PORT` is set from {@link port}). */
  env: Record<string, string>;
  /** Port to listen on. */
  port: number;
  /** File the process's stdout and stderr are appended to. */
  logFile: string;
  /** `source`: `src/main.ts` through tsx (default); `dist`: the built `dist/main.js`. */
  from?: 'source' | 'dist';
  /** Another entry file instead of main (absolute). */
  entry?: string;
  /** Extra Node flags after {@link SERVICE_NODE_FLAGS}. */
  nodeArgs?: readonly string[];
  /**
   * Let the service outlive this process (`npm start`): its own process group (a terminal's
   * Ctrl-C reaches only the script that stops it), output written straight to the log file.
   */
  detach?: boolean;
}

/** One service in a child process. */
export interface ServiceChild {
  /** The node process. */
  child: ChildProcess;
  /** Base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** Resolves when it answers `/health` and `/ready`; rejects (quoting its log) if it exits first or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
}

/**
 * Starts a service as a child process, as a deployment runs it (its own Node flags, its
 * `main`, configuration from the environment only).
 * @param opts service, environment, port, log file
 * @returns the child and a readiness wait
 */
export function spawnService(opts: SpawnServiceOptions): ServiceChild {
  const cwd = path.join(REPO_ROOT, opts.service);
  const entry = opts.entry ?? path.join(cwd, opts.from === 'dist' ? 'dist/main.js' : 'src/main.ts');
  const loader = opts.from === 'dist' && !opts.entry ? [] : ['--conditions=source', '--import', 'tsx'];
  const args = [...(SERVICE_NODE_FLAGS[opts.service] ?? []), ...(opts.nodeArgs ?? []), ...loader, entry];
  const env = { ...opts.env, PORT: String(opts.port) };
  let child: ChildProcess;
  if (opts.detach) {
    const fd = openSync(opts.logFile, 'a');
    child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
  } else {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => log.end());
  }
  const url = `http://127.0.0.1:${opts.port}`;
  return { child, url, ready: (timeoutMs) => waitReady(child, url, opts.logFile, `${opts.service} on port ${opts.port}`, timeoutMs) };
}

/**
 * @param child a child process
 * @returns whether it has already exited (its 'exit' event will not come again)
 */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops a child: SIGTERM (the service drains and exits; CPU profiles get written), then SIGKILL
 * after `graceMs`.
 * @param child the process
 * @param graceMs how long SIGTERM may take (0: SIGKILL at once)
 */
export async function stopChild(child: ChildProcess, graceMs = 8000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  if (graceMs > 0) {
    child.kill('SIGTERM');
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
    if (await Promise.race([exited, timer])) return;
  }
  child.kill('SIGKILL');
  await exited;
}

/**
 * Waits until `/health` and `/ready` answer 200 (bounded: default `SERVICE_READY_TIMEOUT_MS` or
 * 120 s: tsx compiling a service on a 2-core machine shared with other suites can take ~40 s),
 * failing early if the process exits.
 */
async function waitReady(child: ChildProcess, url: string, logFile: string, what: string, timeoutMs?: number): Promise<void> {
  const deadline = Date.now() + (timeoutMs ?? Number(process.env.SERVICE_READY_TIMEOUT_MS ?? process.env.BENCH_READY_TIMEOUT_MS ?? 120_000));
  let exitCode: number | null = hasExited(child) ? (child.exitCode ?? -1) : null;
  child.once('exit', (code) => {
    exitCode = code ?? -1;
  });
  while (Date.now() < deadline && exitCode === null) {
    try {
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
      // /ready also needs the DB and the bus: the service is only usable when both are up
      const ready = health.ok ? await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined) : undefined;
      if (ready?.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    // no log written yet
  }
  throw new Error(`${what} did not become ready (exit ${exitCode}):\n${tail}`);
}
