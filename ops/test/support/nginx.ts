import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor, request } from './net.js';

/** Repository root (ops/test/support -> ../../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Variables understood by scripts/nginx-render.sh. */
export type NginxVars = Record<string, string>;

/** A running Debian nginx with its own RUN_DIR under a temp dir. */
export interface NginxHandle {
  port: number;
  runDir: string;
  confPath: string;
  vars: NginxVars;
  /** Re-render with changed variables and `nginx -s reload`. */
  reload(changes: NginxVars): void;
  /** nginx's stderr (start-up notices, e.g. ModSecurity's rule count) plus logs/error.log. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Renders a template with the repository's render script. */
export function render(template: string, out: string, vars: NginxVars): void {
  execFileSync(
    'bash',
    [path.join(REPO_ROOT, 'scripts/nginx-render.sh'), path.join(REPO_ROOT, template), out],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/**
 * Starts nginx in the foreground (`daemon off`) as a child of the test, on a free port, so
 * that killing the child is all it takes to clean up. `port` is NGINX_PORT.
 */
export async function startNginx(template: string, vars: NginxVars): Promise<NginxHandle> {
  const base = mkdtempSync(path.join(tmpdir(), 'cc-nginx-'));
  // Started as root, nginx runs its workers as `nobody`: they must reach RUN_DIR/tmp.
  chmodSync(base, 0o755);
  const runDir = path.join(base, 'run');
  const confPath = path.join(base, 'nginx.conf');
  const port = vars.NGINX_PORT ? Number(vars.NGINX_PORT) : await freePort();
  const all: NginxVars = { RUN_DIR: runDir, ...vars, NGINX_PORT: String(port) };
  render(template, confPath, all);
  const child: ChildProcess = spawn('nginx', ['-p', runDir, '-c', confPath, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const tls = template.includes('prod');
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      try {
        await request(port, '/nginx-health', { tls, timeoutMs: 1000 });
        return true;
      } catch {
        return false;
      }
    },
    20_000,
    'nginx to listen',
  );
  const handle: NginxHandle = {
    port,
    runDir,
    confPath,
    vars: all,
    reload(changes) {
      handle.vars = { ...handle.vars, ...changes };
      render(template, confPath, handle.vars);
      execFileSync('nginx', ['-p', runDir, '-c', confPath, '-s', 'reload'], { stdio: 'pipe' });
    },
    errorLog() {
      const p = path.join(runDir, 'logs/error.log');
      return stderr + (existsSync(p) ? readFileSync(p, 'utf8') : '');
    },
    stop: () => stopNginx(child, base),
  };
  return handle;
}

/**
 * Stops an nginx started as a child (SIGTERM, SIGKILL after 5 s) and removes its directory.
 * @param child the nginx master
 * @param dir its temp directory (config, RUN_DIR)
 */
export async function stopNginx(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}
