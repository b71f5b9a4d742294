import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.js';

/**
 * Ops integration tests run real Debian nginx processes; files run one after another so
 * two nginx fleets never compete for the machine's two cores.
 */
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      include: ['test/**/*.int.test.ts'],
      globalSetup: ['test/global-setup.ts'],
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 300_000,
    },
  }),
);
