/**
 * Which account is signed in on this browser, kept in its own small IndexedDB database
 * (`cipherchat-device`) so a reload without the server can open that account's local store
 * (docs/web-client.md "Offline, install and updates"). It holds the user id only: no secret (the
 * account's store, `cipherchat-<userId>`, already carries the id in its name). It is set when a
 * session starts and cleared at log-out and when the server ends the session, so an account
 * whose session ended does not open offline.
 */
const DB = 'cipherchat-device';
const STORE = 'kv';
const KEY = 'signedInAccount';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('indexedDB open failed'));
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  work: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('indexedDB transaction failed'));
    });
  } finally {
    db.close();
  }
}

/** The account signed in on this browser. */
export const lastAccount = {
  /** @returns its user id, if one is signed in */
  async get(): Promise<string | undefined> {
    const v = await run('readonly', (s) => s.get(KEY) as IDBRequest<unknown>);
    return typeof v === 'string' ? v : undefined;
  },
  /** @param userId the account whose session just started (confirmed by the server) */
  async set(userId: string): Promise<void> {
    await run('readwrite', (s) => s.put(userId, KEY));
  },
  /** Forgets it (log-out, session ended). */
  async clear(): Promise<void> {
    await run('readwrite', (s) => s.delete(KEY));
  },
};
