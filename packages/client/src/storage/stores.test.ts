import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { fromUtf8, toBase64 } from '../protocol/bytes.js';
import { generateLocalIdentity, generatePreKeys, generateSignedPreKey } from '../protocol/keys.js';
import { createIndexedDbStore, IndexedDbKvBackend } from './indexeddb-backend.js';
import { createMemoryStore } from './kv-protocol-store.js';
import type { ProtocolStore } from './protocol-store.js';

async function fill(store: ProtocolStore) {
  const identity = await generateLocalIdentity();
  await store.setLocalIdentity(identity);
  await store.putPreKeys(await generatePreKeys(1, 3));
  await store.putSignedPreKey(await generateSignedPreKey(identity.identityKeyPair, 1, 1000));
  await store.putSession('u1.1', '{"sessions":{}}');
  await store.putSession('u1.2', '{"sessions":{}}');
  await store.putSession('u2.1', '{"sessions":{}}');
  await store.putIdentity({ userId: 'u1', publicKey: identity.identityKeyPair.pubKey, status: 'trusted', updatedAt: 1 });
  await store.setMeta('deviceId', 4);
  await store.putMessage({
    id: 'm1',
    conversationId: 'c1',
    senderUserId: 'u1',
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text: 'MARKER-plaintext-history',
    sentAt: 5,
    status: 'received',
  });
  return identity;
}

describe.each([
  ['memory', async () => createMemoryStore()],
  ['IndexedDB (fake-indexeddb)', async () => createIndexedDbStore('t', new IDBFactory())],
])('%s ProtocolStore', (_, make) => {
  it('when records are written, then they read back equal and lists are filtered', async () => {
    const store = await make();
    const identity = await fill(store);
    const local = await store.getLocalIdentity();
    expect(toBase64(local!.identityKeyPair.privKey)).toBe(toBase64(identity.identityKeyPair.privKey));
    expect(await store.listPreKeyIds()).toEqual([1, 2, 3]);
    await store.removePreKey(2);
    expect(await store.listPreKeyIds()).toEqual([1, 3]);
    expect((await store.getSignedPreKey(1))?.signature).toHaveLength(64);
    expect((await store.listSessionAddresses('u1')).sort()).toEqual(['u1.1', 'u1.2']);
    expect((await store.getIdentity('u1'))?.status).toBe('trusted');
    expect(await store.getMeta('deviceId')).toBe(4);
    expect((await store.listMessages('c1')).map((m) => m.text)).toEqual(['MARKER-plaintext-history']);
    expect(await store.listMessages('other')).toEqual([]);
  });

  it('when private state is exported and imported elsewhere, then the protocol state is identical', async () => {
    const a = await make();
    await fill(a);
    const state = await a.exportPrivateState();
    const b = createMemoryStore();
    await b.importPrivateState(JSON.parse(JSON.stringify(state)));
    expect(await b.exportPrivateState()).toEqual(state);
    // History and metadata are not part of the private protocol state.
    expect(await b.listMessages('c1')).toEqual([]);
  });

  it('when an outgoing message is saved with its job, then both land together, and saving it without one removes the job', async () => {
    const store = await make();
    const message = {
      id: 'out1',
      conversationId: 'c1',
      senderUserId: 'me',
      senderDeviceId: 1,
      direction: 'out' as const,
      kind: 'text' as const,
      text: 'queued',
      sentAt: 7,
      status: 'sending' as const,
    };
    await store.saveOutgoing(message, { id: 'out1', conversationId: 'c1', seq: 1, attempts: 0, notBefore: 0 });
    expect(await store.getMessage('out1')).toEqual(message);
    expect(await store.listOutgoingJobs()).toEqual([{ id: 'out1', conversationId: 'c1', seq: 1, attempts: 0, notBefore: 0 }]);
    const failed = { ...message, status: 'failed' as const, failure: { code: 'not_member' } };
    await store.saveOutgoing(failed, undefined);
    expect(await store.getMessage('out1')).toEqual(failed);
    expect(await store.listOutgoingJobs()).toEqual([]);
  });

  it('when cleared, then nothing remains', async () => {
    const store = await make();
    await fill(store);
    await store.clear();
    expect(await store.getLocalIdentity()).toBeUndefined();
    expect(await store.listSessionAddresses()).toEqual([]);
  });
});

describe('IndexedDB schema upgrade', () => {
  it('when a database from before the outgoing queue is opened, then the outbox store is added and the queue works', async () => {
    const factory = new IDBFactory();
    // What version 1 looked like: every store but `outbox`.
    const legacy = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open('legacy', 1);
      req.onupgradeneeded = () => {
        for (const ns of ['local', 'prekey', 'signed-prekey', 'session', 'identity', 'meta', 'message', 'keyring']) {
          req.result.createObjectStore(ns);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    expect(legacy.objectStoreNames.contains('outbox')).toBe(false);
    legacy.close();
    const store = await createIndexedDbStore('legacy', factory);
    expect(await store.listOutgoingJobs()).toEqual([]);
    await store.saveOutgoing(
      { id: 'm', conversationId: 'c', senderUserId: 'u', senderDeviceId: 1, direction: 'out', kind: 'text', sentAt: 1, status: 'sending' },
      { id: 'm', conversationId: 'c', seq: 1, attempts: 0, notBefore: 0 },
    );
    expect((await store.listOutgoingJobs()).map((j) => j.id)).toEqual(['m']);
  });
});

describe('IndexedDB encryption at rest', () => {
  it('when records are stored, then IndexedDB holds only AES-GCM ciphertext under a non-extractable key', async () => {
    const factory = new IDBFactory();
    const store = await createIndexedDbStore('at-rest', factory);
    const identity = await fill(store);
    const privB64 = toBase64(identity.identityKeyPair.privKey);

    // Read the raw database as an attacker with the profile would.
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = factory.open('at-rest');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const dump: string[] = [];
    let deviceKey: unknown;
    for (const name of Array.from(db.objectStoreNames)) {
      const all = await new Promise<unknown[]>((res, rej) => {
        const r = db.transaction(name).objectStore(name).getAll();
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      if (name === 'keyring') deviceKey = all[0];
      for (const v of all) {
        if (v && typeof v === 'object' && 'ct' in v) dump.push(fromUtf8Safe((v as { ct: ArrayBuffer }).ct));
        dump.push(JSON.stringify(v));
      }
    }
    db.close();
    const text = dump.join('\n');
    expect(text).not.toContain(privB64);
    expect(text).not.toContain('MARKER-plaintext-history');
    expect(deviceKey).toBeInstanceOf(CryptoKey);
    expect((deviceKey as CryptoKey).extractable).toBe(false);
    await expect(globalThis.crypto.subtle.exportKey('raw', deviceKey as CryptoKey)).rejects.toThrow();

    // Reopening the same database finds the same device key and decrypts.
    const again = await createIndexedDbStore('at-rest', factory);
    expect(toBase64((await again.getLocalIdentity())!.identityKeyPair.privKey)).toBe(privB64);
  });

  it('when the whole database is copied, keyring included (a copied profile), then the copy opens every record: the key is no lock', async () => {
    const factory = new IDBFactory();
    const store = await createIndexedDbStore('profile', factory);
    const identity = await fill(store);
    await store.setMeta('deviceSecret', 'SECRET-device');
    const original = await openRaw(factory, 'profile');
    const copyFactory = new IDBFactory();
    const names = Array.from(original.objectStoreNames);
    const copy = await new Promise<IDBDatabase>((res, rej) => {
      const r = copyFactory.open('profile', original.version);
      r.onupgradeneeded = () => {
        for (const n of names) r.result.createObjectStore(n);
      };
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    for (const n of names) {
      const [keys, values] = await Promise.all([
        idb(original.transaction(n).objectStore(n).getAllKeys()),
        idb(original.transaction(n).objectStore(n).getAll()),
      ]);
      const tx = copy.transaction(n, 'readwrite');
      keys.forEach((k, i) => tx.objectStore(n).put(values[i], k));
      await new Promise((res) => (tx.oncomplete = res));
    }
    original.close();
    copy.close();

    // Nothing but the copied files: the SDK opens them as it would on the victim's machine.
    const stolen = await createIndexedDbStore('profile', copyFactory);
    expect(toBase64((await stolen.getLocalIdentity())!.identityKeyPair.privKey)).toBe(
      toBase64(identity.identityKeyPair.privKey),
    );
    expect((await stolen.getMessage('m1'))?.text).toBe('MARKER-plaintext-history');
    expect(await stolen.getMeta('deviceSecret')).toBe('SECRET-device');
    expect(await stolen.getSession('u2.1')).toBe('{"sessions":{}}');
  });

  it('when a sealed value is moved to another record key, then reading it fails (key is associated data)', async () => {
    const factory = new IDBFactory();
    const backend = await IndexedDbKvBackend.open('swap', factory);
    await backend.putMany('meta', [['a', '"one"'], ['b', '"two"']]);
    const db = await new Promise<IDBDatabase>((res) => {
      const r = factory.open('swap');
      r.onsuccess = () => res(r.result);
    });
    const sealedA = await new Promise<unknown>((res) => {
      const r = db.transaction('meta').objectStore('meta').get('a');
      r.onsuccess = () => res(r.result);
    });
    await new Promise<void>((res) => {
      const tx = db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put(sealedA, 'b');
      tx.oncomplete = () => res();
    });
    db.close();
    expect(await backend.get('meta', 'a')).toBe('"one"');
    await expect(backend.get('meta', 'b')).rejects.toThrow();
  });
});

function fromUtf8Safe(buf: ArrayBuffer): string {
  try {
    return fromUtf8(buf);
  } catch {
    return '';
  }
}

function idb<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((res, rej) => {
    req.onsuccess = () => res(req.result);
    req.onerror = () => rej(req.error);
  });
}

function openRaw(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return idb(factory.open(name));
}
