// The last line of `npm test`: "N passed, N failed[, N skipped]", counting every step.
// Reads the steps file scripts/test.sh writes, one line per step:
//   <kind>\t<name>\t<exit code>\t<vitest JSON report or ->
// - a `plain` step (lint, type-check, build, fault suite) counts as one test, passed or failed;
// - a `vitest` step counts its tests, plus one failure per test file that failed outside any
//   test (an import error, a failing hook), plus one failure if the runner exited non-zero
//   without reporting a failure (a crash, a missing config, a stack that did not start, no report).
// Prints the per-step counts to stderr and the summary line to stdout.
import { existsSync, readFileSync } from 'node:fs';

const [stepsFile] = process.argv.slice(2);
if (!stepsFile) throw new Error('usage: summary.mjs <steps.tsv>');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of readFileSync(stepsFile, 'utf8').split('\n')) {
  if (!line) continue;
  const [kind, name, code, report] = line.split('\t');
  const ok = code === '0';
  let p = 0;
  let f = 0;
  let s = 0;
  if (kind === 'vitest' && report && existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    p = r.numPassedTests;
    f = r.numFailedTests;
    s = r.numPendingTests + (r.numTodoTests ?? 0);
    // A file whose status is failed while none of its tests failed broke outside the tests.
    for (const file of r.testResults ?? []) {
      const testFailed = (file.assertionResults ?? []).some((a) => a.status === 'failed');
      if (file.status === 'failed' && !testFailed) f += 1;
    }
  }
  if (!ok && f === 0) f = 1;
  passed += kind === 'plain' ? (ok ? 1 : 0) : p;
  failed += f;
  skipped += s;
  process.stderr.write(`  ${ok ? 'ok    ' : 'FAILED'} ${name}: ${kind === 'plain' ? (ok ? 1 : 0) : p} passed, ${f} failed${s ? `, ${s} skipped` : ''}\n`);
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
