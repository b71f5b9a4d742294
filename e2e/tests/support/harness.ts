/**
 * The e2e harness, one import for the tests: browser and people (`browser.ts`), steps in the app
 * (`app.ts`), mail (`mail.ts`), shared scenarios (`scenarios.ts`) and socket cuts (`sockets.ts`).
 */
export * from './browser.js';
export * from './app.js';
export { diagnose } from './diagnostics.js';
export * from './mail.js';
export * from './scenarios.js';
export * from './sockets.js';
