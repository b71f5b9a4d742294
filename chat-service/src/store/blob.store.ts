import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { v2 as cloudinary } from 'cloudinary';
import type { BlobStore } from '../domain/ports.js';

export type { BlobStore };


const SAFE_ID = /^[0-9a-f-]{36}$/;

/**
 * Local disk store: one file per attachment, named by its random UUID inside `dir` (the id is
 * checked against a UUID pattern, so no user-controlled path can ever reach the filesystem).
 * @param dir directory (created if missing)
 * @returns the store
 */
export function createLocalBlobStore(dir: string): BlobStore {
  const root = path.resolve(dir);
  const fileOf = (key: string) => {
    if (!SAFE_ID.test(key)) throw new Error('invalid blob key');
    return path.join(root, key);
  };
  return {
    kind: 'local',
    async put(id, data) {
      await mkdir(root, { recursive: true, mode: 0o700 });
      await writeFile(fileOf(id), data, { mode: 0o600, flag: 'wx' });
      return id;
    },
    async open(key) {
      const stream = createReadStream(fileOf(key));
      // surface ENOENT as a rejected promise rather than a stream error after headers went out
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      return stream;
    },
    async remove(key) {
      await rm(fileOf(key), { force: true });
    },
  };
}

/**
 * Cloudinary store: raw, `private` uploads (not reachable by public URL); reads go through a
 * short-lived signed download URL fetched by the server, so clients only ever talk to us and
 * the membership check stays here. Not exercised by the tests (no internet in CI).
 * @param url `cloudinary://key:secret@cloud`
 * @param folder folder for the uploads
 * @returns the store
 */
export function createCloudinaryBlobStore(url: string, folder = 'cipherchat-attachments'): BlobStore {
  const u = new URL(url);
  cloudinary.config({
    cloud_name: u.hostname,
    api_key: decodeURIComponent(u.username),
    api_secret: decodeURIComponent(u.password),
    secure: true,
  });
  return {
    kind: 'cloudinary',
    put(id, data) {
      return new Promise((resolve, reject) => {
        const stream = cloudinary.uploader.upload_stream(
          { resource_type: 'raw', type: 'private', public_id: id, folder, overwrite: false },
          (err, result) => (err || !result ? reject(err ?? new Error('upload failed')) : resolve(result.public_id)),
        );
        stream.end(data);
      });
    },
    async open(key) {
      const signed = cloudinary.utils.private_download_url(key, '', {
        resource_type: 'raw',
        type: 'private',
        expires_at: Math.floor(Date.now() / 1000) + 60,
      });
      const res = await fetch(signed);
      if (!res.ok || !res.body) throw new Error(`cloudinary download failed: ${res.status}`);
      return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    },
    async remove(key) {
      await cloudinary.uploader.destroy(key, { resource_type: 'raw', type: 'private', invalidate: true });
    },
  };
}
