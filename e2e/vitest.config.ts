import { defineConfig } from 'vitest/config';

/**
 * Browser end-to-end tests: playwright-core drives Debian's Chromium against the real stack
 * behind nginx (`E2E_BASE_URL`, default http://localhost:8080; mail catcher at
 * `E2E_MAILDEV_URL`). The root `npm test` starts the stack first. Files run one at a time:
 * each test launches its own Chromium with several contexts, and the machine has two cores.
 * No retry: every test signs up its own people, so it can run alone, and a test that fails
 * once is a bug to fix (docs/web-client.md, "Intermittent e2e failures").
 */
export default defineConfig({
  test: {
    include: ['tests/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
