import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startStack, type Stack } from './stack.js';

const cliPath = path.resolve(import.meta.dirname, '../../src/cli/chat-cli.ts');
const tsx = createRequire(import.meta.url).resolve('tsx');

/** What a finished chat-cli run printed. */
export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** chat-cli from source against a real stack, with its own state directory. */
export interface CliHarness {
  /** The stack (started in `beforeAll`). */
  readonly stack: Stack;
  /** chat-cli's state directory (`--state-dir`). */
  readonly stateDir: string;
  /** Starts chat-cli (the password comes from the environment, so it never shows in `ps`). */
  start(args: string[], password: string): ChildProcessWithoutNullStreams;
  /** Runs chat-cli to its end. */
  run(args: string[], password: string): Promise<CliResult>;
  /** Runs chat-cli to its end and returns its stdout; a non-zero exit throws with its stderr. */
  runOk(args: string[], password: string): Promise<string>;
}

/**
 * Starts a stack and a state directory for the file's tests (`beforeAll`) and removes them
 * (`afterAll`).
 * @param prefix the state directory's name prefix
 * @returns the harness
 */
export function useCli(prefix: string): CliHarness {
  let stack: Stack | undefined;
  let stateDir = '';
  beforeAll(async () => {
    stack = await startStack();
    stateDir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  });
  afterAll(async () => {
    await stack?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });
  const started = (): Stack => {
    if (!stack) throw new Error('the stack is not started yet');
    return stack;
  };
  const h: CliHarness = {
    get stack() {
      return started();
    },
    get stateDir() {
      return stateDir;
    },
    start(args, password) {
      const s = started();
      const services = [
        '--user-api',
        `${s.userUrl}/api/user`,
        '--chat-api',
        `${s.chatUrl}/api/chat`,
        '--socket',
        s.chatUrl,
      ];
      return spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          tsx,
          cliPath,
          ...args,
          ...services,
          '--state-dir',
          stateDir,
        ],
        {
          env: { ...process.env, CHAT_PASSWORD: password },
        },
      );
    },
    async run(args, password) {
      const child = h.start(args, password);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, out, err };
    },
    async runOk(args, password) {
      const r = await h.run(args, password);
      if (r.code !== 0) throw new Error(`chat-cli ${args[0]} exited ${r.code}: ${r.err}`);
      return r.out;
    },
  };
  return h;
}
