import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../transport/api-error.js';
import {
  configureOutput,
  failWith,
  printError,
  printEvent,
  printResult,
  printWarning,
  toJson,
} from './output.js';

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Captures what the helpers write, and the exit code they ask for. */
function capture(json: boolean) {
  const out = { stdout: '', stderr: '' };
  configureOutput(json, {
    stdout: (c) => void (out.stdout += c),
    stderr: (c) => void (out.stderr += c),
    exit: (code) => {
      throw new Exited(code);
    },
  });
  return out;
}

afterEach(() => configureOutput(false));

describe('chat-cli output', () => {
  it('when --json is off, then results, events and errors print the human text unchanged', () => {
    const out = capture(false);
    printResult({ sent: 1 }, 'sent m1 at 2026');
    printEvent({ type: 'message' }, '[t] c1 bob: hi');
    printEvent({ type: 'messageUpdated' });
    printWarning('identity_changed', '! the safety number changed');
    expect(out.stdout).toBe('sent m1 at 2026\n[t] c1 bob: hi\n');
    expect(out.stderr).toBe('! the safety number changed\n');
    expect(() => failWith('usage_error', 'usage: chat-cli send <username> <text>')).toThrow(
      new Exited(2),
    );
    expect(out.stderr).toMatch(/usage: chat-cli send <username> <text>\n$/);
  });

  it('when --json is on, then every result and event is one parseable JSON line, and multi-line human text never leaks', () => {
    const out = capture(true);
    printResult(
      { user: { id: 'u1' }, recoveryKey: 'AAAA-BBBB' },
      'signed up\nRECOVERY KEY:\n  AAAA-BBBB',
    );
    printEvent({ type: 'message', message: { text: 'line one\nline two' } }, 'human');
    printEvent({ type: 'messageUpdated', message: { readBy: ['b', 'c'] } });
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { user: { id: 'u1' }, recoveryKey: 'AAAA-BBBB' },
      { type: 'message', message: { text: 'line one\nline two' } },
      { type: 'messageUpdated', message: { readBy: ['b', 'c'] } },
    ]);
    expect(out.stderr).toBe('');
  });

  it('when --json is on and something fails, then stderr gets {"error":{code,message}} and the exit code is non-zero', () => {
    const out = capture(true);
    expect(() => failWith('not_found', 'no user named zed', 1)).toThrow(new Exited(1));
    expect(printError(new ApiError(403, 'forbidden', 'only owners and admins can do this'))).toBe(
      1,
    );
    expect(printError(new Error('boom'))).toBe(1);
    printWarning('identity_changed', '! changed');
    expect(
      out.stderr
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { error: { code: 'not_found', message: 'no user named zed' } },
      { error: { code: 'forbidden', message: 'only owners and admins can do this' } },
      { error: { code: 'internal_error', message: 'boom' } },
      { warning: { code: 'identity_changed', message: '! changed' } },
    ]);
    expect(out.stdout).toBe('');
  });

  it('when a value holds bytes, sets, maps or undefined, then the JSON is still plain data', () => {
    expect(
      JSON.parse(
        toJson({
          b: new Uint8Array([1, 2, 3]),
          s: new Set(['x']),
          m: new Map([['k', 1]]),
          u: undefined,
        }),
      ),
    ).toEqual({
      b: 'AQID',
      s: ['x'],
      m: { k: 1 },
    });
  });
});
