import { IDBKeyRange } from 'fake-indexeddb';

/**
 * Test setup (vitest `setupFiles`): Node has no IndexedDB, tests use fake-indexeddb factories,
 * and the IndexedDB backend builds its key ranges with the global `IDBKeyRange` (always there in
 * browsers). fake-indexeddb only accepts its own ranges, so its class becomes the global.
 */
(globalThis as { IDBKeyRange?: unknown }).IDBKeyRange ??= IDBKeyRange;
