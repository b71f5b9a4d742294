import { defaultClientConditions, defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

/**
 * Shared Vitest settings: resolve workspace packages (`@cipherchat/*`) to their
 * TypeScript sources through the `source` export condition, so tests never need a build.
 */
export const sharedConfig: ViteUserConfig = {
  resolve: { conditions: ['source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions], externalConditions: ['source'] } },
};
