import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/nginx.js';

/** Runs scripts/lib/summary.mjs (the last line of `npm test`) over a steps file. */
function summarise(steps: string[][]): { line: string; details: string } {
  const file = path.join(dir, `steps-${steps.length}-${steps.map((s) => s[2]).join('')}.tsv`);
  writeFileSync(file, steps.map((s) => s.join('\t') + '\n').join(''));
  const run = spawnSync('node', [path.join(REPO_ROOT, 'scripts/lib/summary.mjs'), file], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return { line: run.stdout.trim(), details: run.stderr };
}

const dir = mkdtempSync(path.join(tmpdir(), 'cc-summary-'));

describe('scripts/lib/summary.mjs (the "N passed, N failed" line of npm test)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A real vitest run over two files: one passing test, and a file that throws while it loads.
  const project = path.join(dir, 'ws');
  const report = path.join(dir, 'ws.json');
  const runVitest = () => {
    rmSync(project, { recursive: true, force: true });
    mkdirSync(project, { recursive: true });
    writeFileSync(path.join(project, 'good.test.js'), "it('passes', () => { expect(1).toBe(1); });\n");
    writeFileSync(path.join(project, 'broken.test.js'), "throw new Error('cannot load');\nit('never runs', () => {});\n");
    return spawnSync(
      path.join(REPO_ROOT, 'node_modules/.bin/vitest'),
      ['run', '--root', project, '--globals', '--reporter=json', `--outputFile.json=${report}`],
      { encoding: 'utf8' },
    );
  };

  it('when a test file fails while loading, then it counts as a failure although no test failed', () => {
    const vitest = runVitest();
    expect(vitest.status).not.toBe(0);
    const { line } = summarise([['vitest', 'tests: ws', String(vitest.status), report]]);
    expect(line).toBe('1 passed, 1 failed');
  });

  it('when lint, type-check or a runner without a report fails, then each counts as one failure; passing steps count as one pass', () => {
    const { line, details } = summarise([
      ['plain', 'lint', '0', '-'],
      ['plain', 'type-check', '2', '-'],
      ['vitest', 'tests: e2e', '1', path.join(dir, 'never-written.json')],
      ['vitest', 'tests: missing config', '1', '-'],
      ['plain', 'fault suite', '0', '-'],
    ]);
    expect(line).toBe('2 passed, 3 failed');
    expect(details).toContain('FAILED type-check');
  });

  it('when a runner exits non-zero although every reported test passed, then the step still counts as failed', () => {
    writeFileSync(
      path.join(dir, 'green.json'),
      JSON.stringify({ numPassedTests: 4, numFailedTests: 0, numPendingTests: 1, numTodoTests: 0, testResults: [] }),
    );
    expect(summarise([['vitest', 'tests: green but crashed', '1', path.join(dir, 'green.json')]]).line).toBe('4 passed, 1 failed, 1 skipped');
    expect(summarise([['vitest', 'tests: green', '0', path.join(dir, 'green.json')]]).line).toBe('4 passed, 0 failed, 1 skipped');
  });
});
