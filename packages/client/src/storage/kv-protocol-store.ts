import { z } from 'zod';
import { fromBase64, toBase64 } from '../protocol/bytes.js';
import { OutgoingJob, StoredMessage } from '../messages/message.schema.js';
import { HistoryIndex, readMessage, type HistoryCursor } from './history-index.js';
import { MemoryKvBackend, type KvBackend, type KvWrite, type Namespace } from './kv-backend.js';
import { MediaCache, mediaKey } from './media-cache.js';
import { SearchIndex, type SearchHit, type SearchOptions, type SearchProgress, type SearchWrites } from './search-index.js';
import type {
  IdentityRecord,
  LocalIdentity,
  PreKeyRecord,
  PrivateState,
  ProtocolStore,
  SignedPreKeyRecord,
} from './protocol-store.js';

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const KeyPairJson = z.object({ pubKey: B64, privKey: B64 });
const LocalIdentityJson = z.object({ identityKeyPair: KeyPairJson, registrationId: z.number().int() });
const PreKeyJson = z.object({ keyId: z.number().int(), pubKey: B64, privKey: B64 });
const SignedPreKeyJson = PreKeyJson.extend({ signature: B64, createdAt: z.number() });
const IdentityJson = z.object({
  userId: z.string(),
  publicKey: B64,
  status: z.enum(['trusted', 'verified', 'untrusted']),
  previousKey: B64.optional(),
  updatedAt: z.number(),
});
/** Schema of the private state carried by the key backup (validated when restoring). */
export const PrivateStateSchema = z.object({
  identity: LocalIdentityJson.optional(),
  preKeys: z.array(PreKeyJson),
  signedPreKeys: z.array(SignedPreKeyJson),
  sessions: z.record(z.string(), z.string()),
  identities: z.array(IdentityJson),
});

const PROTOCOL_NAMESPACES: readonly Namespace[] = ['local', 'prekey', 'signed-prekey', 'session', 'identity'];

/** Parses a stored JSON value with a schema: what rests on disk is untrusted input too. */
function parse<T>(schema: z.ZodType<T>, text: string): T {
  return schema.parse(JSON.parse(text));
}

function kpToJson(kp: { pubKey: Uint8Array; privKey: Uint8Array }) {
  return { pubKey: toBase64(kp.pubKey), privKey: toBase64(kp.privKey) };
}
function kpFromJson(kp: { pubKey: string; privKey: string }) {
  return { pubKey: fromBase64(kp.pubKey), privKey: fromBase64(kp.privKey) };
}
function identityToJson(r: IdentityRecord): z.infer<typeof IdentityJson> {
  return {
    userId: r.userId,
    publicKey: toBase64(r.publicKey),
    status: r.status,
    ...(r.previousKey ? { previousKey: toBase64(r.previousKey) } : {}),
    updatedAt: r.updatedAt,
  };
}
function identityFromJson(j: z.infer<typeof IdentityJson>): IdentityRecord {
  return {
    userId: j.userId,
    publicKey: fromBase64(j.publicKey),
    status: j.status,
    previousKey: j.previousKey === undefined ? undefined : fromBase64(j.previousKey),
    updatedAt: j.updatedAt,
  };
}
function signedToJson(r: SignedPreKeyRecord): z.infer<typeof SignedPreKeyJson> {
  return { keyId: r.keyId, ...kpToJson(r.keyPair), signature: toBase64(r.signature), createdAt: r.createdAt };
}
function signedFromJson(j: z.infer<typeof SignedPreKeyJson>): SignedPreKeyRecord {
  return { keyId: j.keyId, keyPair: kpFromJson(j), signature: fromBase64(j.signature), createdAt: j.createdAt };
}

/**
 * `ProtocolStore` over any `KvBackend`: one implementation of the record layout, so memory,
 * IndexedDB and file stores behave identically. Every read is schema-checked.
 */
export class KvProtocolStore implements ProtocolStore {
  private readonly index: HistoryIndex;
  private readonly media: MediaCache;
  private readonly search: SearchIndex;

  /** @param backend where the records rest */
  constructor(private readonly backend: KvBackend) {
    this.index = new HistoryIndex(backend);
    this.media = new MediaCache(backend);
    this.search = new SearchIndex(backend, (work) => this.index.serialized(work));
  }

  /**
   * Writes (or deletes) a message with its index entries, and `extra` writes, in one atomic
   * batch, one at a time (the index entries depend on the version stored before).
   */
  private writeMessage(id: string, next: StoredMessage | undefined, extra: KvWrite[] = []): Promise<void> {
    return this.index.serialized(async () => {
      const raw = await this.backend.get('message', id);
      const old = raw === undefined ? undefined : readMessage(raw);
      const value = next === undefined ? undefined : JSON.stringify(next);
      // A search index that cannot be updated (a damaged record) never blocks the message: it is
      // marked incomplete in the same batch and the next query rebuilds it.
      const search: SearchWrites = await this.search.writesFor(old, next).catch(() => this.search.staleWrite());
      await this.backend.batch([
        { ns: 'message', key: id, value },
        ...extra,
        ...(await this.index.writesFor(old, next)),
        ...search.writes,
      ]);
      search.commit();
    });
  }

  /** Opens the messages of `ids` in one read (those gone meanwhile are left out), in that order. */
  private async messages(ids: readonly string[]): Promise<StoredMessage[]> {
    const values = await this.backend.getMany('message', ids);
    return values.flatMap((v) => (v === undefined ? [] : [parse(StoredMessage, v)]));
  }

  /** @inheritdoc */
  async getLocalIdentity(): Promise<LocalIdentity | undefined> {
    const raw = await this.backend.get('local', 'identity');
    if (raw === undefined) return undefined;
    const j = parse(LocalIdentityJson, raw);
    return { identityKeyPair: kpFromJson(j.identityKeyPair), registrationId: j.registrationId };
  }

  /** @inheritdoc */
  async setLocalIdentity(identity: LocalIdentity): Promise<void> {
    const j = { identityKeyPair: kpToJson(identity.identityKeyPair), registrationId: identity.registrationId };
    await this.backend.putMany('local', [['identity', JSON.stringify(j)]]);
  }

  /** @inheritdoc */
  async getPreKey(keyId: number): Promise<PreKeyRecord | undefined> {
    const raw = await this.backend.get('prekey', String(keyId));
    if (raw === undefined) return undefined;
    const j = parse(PreKeyJson, raw);
    return { keyId: j.keyId, keyPair: kpFromJson(j) };
  }

  /** @inheritdoc */
  async putPreKeys(records: readonly PreKeyRecord[]): Promise<void> {
    await this.backend.putMany(
      'prekey',
      records.map((r) => [String(r.keyId), JSON.stringify({ keyId: r.keyId, ...kpToJson(r.keyPair) })] as const),
    );
  }

  /** @inheritdoc */
  async removePreKey(keyId: number): Promise<void> {
    await this.backend.delete('prekey', String(keyId));
  }

  /** @inheritdoc */
  async listPreKeyIds(): Promise<number[]> {
    return (await this.backend.list('prekey')).map(([k]) => Number(k)).sort((a, b) => a - b);
  }

  /** @inheritdoc */
  async getSignedPreKey(keyId: number): Promise<SignedPreKeyRecord | undefined> {
    const raw = await this.backend.get('signed-prekey', String(keyId));
    return raw === undefined ? undefined : signedFromJson(parse(SignedPreKeyJson, raw));
  }

  /** @inheritdoc */
  async putSignedPreKey(record: SignedPreKeyRecord): Promise<void> {
    await this.backend.putMany('signed-prekey', [[String(record.keyId), JSON.stringify(signedToJson(record))]]);
  }

  /** @inheritdoc */
  async removeSignedPreKey(keyId: number): Promise<void> {
    await this.backend.delete('signed-prekey', String(keyId));
  }

  /** @inheritdoc */
  async listSignedPreKeys(): Promise<SignedPreKeyRecord[]> {
    return (await this.backend.list('signed-prekey'))
      .map(([, v]) => signedFromJson(parse(SignedPreKeyJson, v)))
      .sort((a, b) => a.keyId - b.keyId);
  }

  /** @inheritdoc */
  async getSession(address: string): Promise<string | undefined> {
    return this.backend.get('session', address);
  }

  /** @inheritdoc */
  async putSession(address: string, record: string): Promise<void> {
    await this.backend.putMany('session', [[address, record]]);
  }

  /** @inheritdoc */
  async removeSession(address: string): Promise<void> {
    await this.backend.delete('session', address);
  }

  /** @inheritdoc */
  async listSessionAddresses(userId?: string): Promise<string[]> {
    const keys = (await this.backend.list('session')).map(([k]) => k);
    return userId === undefined ? keys : keys.filter((k) => k.slice(0, k.lastIndexOf('.')) === userId);
  }

  /** @inheritdoc */
  async getIdentity(userId: string): Promise<IdentityRecord | undefined> {
    const raw = await this.backend.get('identity', userId);
    return raw === undefined ? undefined : identityFromJson(parse(IdentityJson, raw));
  }

  /** @inheritdoc */
  async putIdentity(record: IdentityRecord): Promise<void> {
    await this.backend.putMany('identity', [[record.userId, JSON.stringify(identityToJson(record))]]);
  }

  /** @inheritdoc */
  async listIdentities(): Promise<IdentityRecord[]> {
    return (await this.backend.list('identity')).map(([, v]) => identityFromJson(parse(IdentityJson, v)));
  }

  /** @inheritdoc */
  async getMeta(key: string): Promise<unknown> {
    const raw = await this.backend.get('meta', key);
    return raw === undefined ? undefined : (JSON.parse(raw) as unknown);
  }

  /** @inheritdoc */
  async setMeta(key: string, value: unknown): Promise<void> {
    if (value === undefined) await this.backend.delete('meta', key);
    else await this.backend.putMany('meta', [[key, JSON.stringify(value)]]);
  }

  /** @inheritdoc */
  async putMessage(message: StoredMessage): Promise<void> {
    // A tombstone (deleted for everyone) takes the cached file with it.
    if (message.deletedAt !== undefined) await this.dropMediaOf(message.id);
    await this.writeMessage(message.id, StoredMessage.parse(message));
  }

  /** @inheritdoc */
  async getMessage(id: string): Promise<StoredMessage | undefined> {
    const raw = await this.backend.get('message', id);
    return raw === undefined ? undefined : parse(StoredMessage, raw);
  }

  /** @inheritdoc */
  async deleteMessage(id: string): Promise<void> {
    await this.dropMediaOf(id);
    await this.writeMessage(id, undefined, [{ ns: 'outbox', key: id, value: undefined }]);
  }

  private async dropMediaOf(messageId: string): Promise<void> {
    const old = await this.getMessage(messageId);
    // (The bare id: how entries were keyed before the digest was part of the key.)
    if (old?.attachment) await this.media.delete([mediaKey(old.attachment), old.attachment.id]);
  }

  /** @inheritdoc */
  getMedia(id: string): Promise<Uint8Array | undefined> {
    return this.media.get(id);
  }

  /** @inheritdoc */
  putMedia(id: string, bytes: Uint8Array, capBytes: number): Promise<void> {
    return this.media.put(id, bytes, capBytes);
  }

  /** @inheritdoc */
  deleteMedia(ids: readonly string[]): Promise<void> {
    return this.media.delete(ids);
  }

  /** @inheritdoc */
  async listMessages(conversationId: string): Promise<StoredMessage[]> {
    return this.messages(await this.index.ids(conversationId));
  }

  /** @inheritdoc */
  async pageMessages(conversationId: string, options: { before?: HistoryCursor; limit: number }): Promise<StoredMessage[]> {
    return this.messages(await this.index.ids(conversationId, options));
  }

  /** @inheritdoc */
  async unreadSummary(conversationId: string, mentionOf?: string): Promise<{ count: number; mentions: number }> {
    const count = await this.index.unreadCount(conversationId);
    const mentions = mentionOf === undefined || count === 0 ? 0 : await this.index.unreadMentions(conversationId, mentionOf);
    return { count, mentions };
  }

  /** @inheritdoc */
  unreadMessageIds(conversationId: string): Promise<string[]> {
    return this.index.unreadIds(conversationId);
  }

  /** @inheritdoc */
  searchMessages(query: string, options?: SearchOptions): Promise<SearchHit[]> {
    return this.search.query(query, options);
  }

  /** @inheritdoc */
  rebuildSearch(
    onProgress?: (p: SearchProgress) => void,
    source?: AsyncIterable<readonly StoredMessage[]>,
  ): Promise<number> {
    return this.search.rebuild(onProgress, source);
  }

  /** @inheritdoc */
  async prepareSearch(onProgress?: (p: SearchProgress) => void): Promise<void> {
    await this.search.ensure(onProgress);
  }

  /** @inheritdoc */
  async saveOutgoing(message: StoredMessage, job: OutgoingJob | undefined): Promise<void> {
    const parsed = StoredMessage.parse(message);
    const value = job === undefined ? undefined : JSON.stringify(OutgoingJob.parse(job));
    await this.writeMessage(parsed.id, parsed, [{ ns: 'outbox', key: message.id, value }]);
  }

  /** @inheritdoc */
  async listOutgoingJobs(): Promise<OutgoingJob[]> {
    return (await this.backend.list('outbox')).map(([, v]) => parse(OutgoingJob, v));
  }

  /** @inheritdoc */
  async putOutgoingJob(job: OutgoingJob): Promise<void> {
    await this.backend.batch([{ ns: 'outbox', key: job.id, value: JSON.stringify(OutgoingJob.parse(job)) }]);
  }

  /** @inheritdoc */
  async deleteOutgoingJob(id: string): Promise<void> {
    await this.backend.batch([{ ns: 'outbox', key: id, value: undefined }]);
  }

  /** @inheritdoc */
  async exportPrivateState(): Promise<PrivateState> {
    const local = await this.backend.get('local', 'identity');
    const preKeys = (await this.backend.list('prekey')).map(([, v]) => parse(PreKeyJson, v));
    const signedPreKeys = (await this.backend.list('signed-prekey')).map(([, v]) => parse(SignedPreKeyJson, v));
    const sessions = Object.fromEntries(await this.backend.list('session'));
    const identities = (await this.backend.list('identity')).map(([, v]) => parse(IdentityJson, v));
    return {
      identity: local === undefined ? undefined : parse(LocalIdentityJson, local),
      preKeys,
      signedPreKeys,
      sessions,
      identities,
    };
  }

  /** @inheritdoc */
  async importPrivateState(state: PrivateState): Promise<void> {
    const s = PrivateStateSchema.parse(state);
    await this.backend.clear(PROTOCOL_NAMESPACES);
    if (s.identity) await this.backend.putMany('local', [['identity', JSON.stringify(s.identity)]]);
    await this.backend.putMany('prekey', s.preKeys.map((p) => [String(p.keyId), JSON.stringify(p)] as const));
    await this.backend.putMany(
      'signed-prekey',
      s.signedPreKeys.map((p) => [String(p.keyId), JSON.stringify(p)] as const),
    );
    await this.backend.putMany('session', Object.entries(s.sessions));
    await this.backend.putMany('identity', s.identities.map((i) => [i.userId, JSON.stringify(i)] as const));
  }

  /** @inheritdoc */
  async clear(): Promise<void> {
    await this.index.serialized(() => this.backend.clear());
    this.index.reset();
    this.search.reset();
  }
}

/**
 * A store that lives in memory only (Node processes, tests).
 * @returns a fresh empty store
 */
export function createMemoryStore(): ProtocolStore {
  return new KvProtocolStore(new MemoryKvBackend());
}
