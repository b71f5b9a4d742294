import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes, toBase64, toBase64Url } from '../protocol/bytes.js';
import { generateLocalIdentity } from '../protocol/keys.js';
import { createFileStore, createFileStoreWithKey, deriveStateKey } from './file-backend.js';

describe('file store (CLI)', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('when written, then it persists across opens, sealed (0600) and unreadable with another export key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-cli-'));
    dirs.push(dir);
    const path = join(dir, 'u.state');
    const exportKey = toBase64Url(randomBytes(64));
    const store = await createFileStore(path, exportKey);
    const identity = await generateLocalIdentity();
    await store.setLocalIdentity(identity);
    await store.setMeta('deviceId', 3);

    const raw = await readFile(path, 'utf8');
    expect(raw).not.toContain(toBase64(identity.identityKeyPair.privKey));
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const again = await createFileStore(path, exportKey);
    expect(await again.getMeta('deviceId')).toBe(3);
    expect(toBase64((await again.getLocalIdentity())!.identityKeyPair.privKey)).toBe(
      toBase64(identity.identityKeyPair.privKey),
    );
    await expect(createFileStore(path, toBase64Url(randomBytes(64)))).rejects.toThrow();
    // a saved session's state key (derived from the same export key) opens the same file
    const byKey = await createFileStoreWithKey(path, await deriveStateKey(exportKey));
    expect(await byKey.getMeta('deviceId')).toBe(3);
    await expect(createFileStoreWithKey(path, randomBytes(32))).rejects.toThrow();
  });
});
