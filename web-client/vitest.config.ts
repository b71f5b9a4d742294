import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.js';

/**
 * Unit and UI tests of the web client: pure state tests and small React renders in jsdom,
 * against a stub {@link ChatApi} (the protocol itself is tested in packages/client; the real
 * browser flows are the e2e suite in /e2e).
 */
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
      environment: 'jsdom',
      // The string catalogue (English under jsdom), as main.tsx loads it in the app.
      setupFiles: ['src/i18n/index.ts'],
      testTimeout: 15_000,
    },
  }),
);
