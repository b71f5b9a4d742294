import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.js';

/**
 * Unit tests (`src/**\/*.test.ts`) run in Node against in-memory stores; integration tests
 * (`test/**\/*.int.test.ts`) boot the real services and need PostgreSQL, RabbitMQ and Redis.
 */
export default mergeConfig(
  sharedConfig,
  defineConfig({
    // Pin the TS config used to transform sources: with a solution-style root tsconfig, Vite
    // otherwise walks up to it and fails while a referenced workspace has no tsconfig yet.
    tsconfig: 'tsconfig.json',
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.int.test.ts'],
      // fake-indexeddb's IDBKeyRange as the global one (the IndexedDB backend's history ranges).
      setupFiles: ['src/testing/idb-key-range.ts'],
      // Whole multi-device flows (OPAQUE, 100 prekeys per device, restores) take seconds each on two
      // busy cores; this is a hang guard, not a speed check.
      testTimeout: 90_000,
      hookTimeout: 60_000,
    },
  }),
);
