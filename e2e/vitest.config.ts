import { defineConfig } from 'vitest/config';

/**
 * Browser end-to-end tests: playwright-core drives Debian's Chromium against the real stack
 * behind nginx (`E2E_BASE_URL`, default http://localhost:8080; mail catcher at
 * `E2E_MAILDEV_URL`). The root `npm test` starts the stack first. Files run one at a time:
 * each opens several browser contexts, and the machine has two cores.
 */
export default defineConfig({
  test: {
    include: ['tests/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One retry, for one known intermittent defect (about 1 run in 10 of restore.e2e): a freshly
    // restored browser sometimes never finishes logging in, or its first reply never shows at
    // Alice's. It is an open bug in the client's restore/receive path, tracked in docs/web-client.md;
    // remove this retry when it is fixed. A test that fails twice still fails the suite.
    retry: 1,
  },
});
