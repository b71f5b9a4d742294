// Starts built services for scripts/lib/stack.sh (`npm start`, the e2e step of `npm test`) with
// the same spawnService the benchmark uses, and stays their parent (it reaps them) until they
// have all exited; the script stops them by pid.
//
//   node packages/service-kit/dist/testing/stack-cli.js NAME=SERVICE:PORT[,NAME=SERVICE:PORT]... ...
//
// Each argument is a group started together, after the previous group is ready. The environment
// is passed on as is (plus PORT). STACK_LOG_DIR/<NAME>.log gets a service's output,
// STACK_PID_DIR/<NAME>.pid its pid (written at spawn, so the script can stop what started even if
// a later one fails); STACK_STATUS_FILE gets `ready` once every service answers /ready, or
// `failed`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnService, type ServiceChild } from './service-process.js';

const logDir = process.env.STACK_LOG_DIR;
const pidDir = process.env.STACK_PID_DIR;
const statusFile = process.env.STACK_STATUS_FILE;
const timeoutMs = Number(process.env.STACK_READY_TIMEOUT_S ?? 60) * 1000;
const say = (msg: string) => process.stderr.write(`\x1b[1m==>\x1b[0m ${msg}\n`);

/** One `NAME=SERVICE:PORT`. */
function parse(spec: string): { name: string; service: string; port: number } {
  const m = /^([\w.-]+)=([\w-]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`expected NAME=SERVICE:PORT, got ${spec}`);
  return { name: m[1] as string, service: m[2] as string, port: Number(m[3]) };
}

// The script signals the services themselves (a second SIGTERM would cut their graceful drain
// short); this process only waits for them to exit.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);

const children: ServiceChild[] = [];
try {
  if (!logDir || !pidDir || !statusFile) throw new Error('STACK_LOG_DIR, STACK_PID_DIR and STACK_STATUS_FILE must be set');
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  for (const group of process.argv.slice(2).map((g) => g.split(',').map(parse))) {
    say(`starting ${group.map((s) => `${s.name} :${s.port}`).join(' and ')}`);
    const started = group.map((s) => {
      // detached: its own process group, so a terminal's Ctrl-C reaches only the script
      const svc = spawnService({ service: s.service, env, port: s.port, logFile: path.join(logDir, `${s.name}.log`), from: 'dist', detach: true });
      writeFileSync(path.join(pidDir, `${s.name}.pid`), `${svc.child.pid}\n`);
      children.push(svc);
      return svc;
    });
    await Promise.all(started.map((svc) => svc.ready(timeoutMs)));
  }
  writeFileSync(statusFile, 'ready\n');
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (statusFile) writeFileSync(statusFile, 'failed\n');
  for (const c of children) c.child.kill('SIGTERM');
  process.exitCode = 1;
}
