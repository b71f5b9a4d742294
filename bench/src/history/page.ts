/**
 * Runs inside Chromium (bundled by run-history.ts): seeds a real IndexedDB store through the
 * SDK's store API and times opening one conversation, through the history index and through
 * the old path (decrypt every message record, keep the conversation's, sort, take the page).
 */
import { IndexedDbKvBackend, KvProtocolStore, StoredMessage } from '@cipherchat/client';

const DB = 'bench-history';

function message(conversationId: string, i: number): StoredMessage {
  return {
    id: crypto.randomUUID(),
    conversationId,
    senderUserId: i % 2 ? 'bob' : 'alice',
    senderDeviceId: 1,
    direction: i % 2 ? 'in' : 'out',
    kind: 'text',
    text: `message ${i} `.padEnd(120, 'lorem ipsum '),
    sentAt: 1_700_000_000_000 + i * 1000,
    status: i % 2 ? 'read' : 'sent',
  };
}

async function seed(main: number, others: number, otherConversations: number): Promise<number> {
  const store = new KvProtocolStore(await IndexedDbKvBackend.open(DB));
  const started = performance.now();
  for (let i = 0; i < main; i++) await store.putMessage(message('main', i));
  for (let c = 0; c < otherConversations; c++)
    for (let i = 0; i < others; i++) await store.putMessage(message(`other-${c}`, i));
  return performance.now() - started;
}

/** A fresh store (as after a reload), then the latest page of the main conversation. */
async function openIndexed(limit: number): Promise<{ ms: number; count: number; newest: number }> {
  const started = performance.now();
  const store = new KvProtocolStore(await IndexedDbKvBackend.open(DB));
  const page = await store.pageMessages('main', { limit });
  return { ms: performance.now() - started, count: page.length, newest: page.at(-1)?.sentAt ?? 0 };
}

/** The code of `listMessages` before the index (and the web adapter's slice of it). */
async function openOld(limit: number): Promise<{ ms: number; count: number; newest: number }> {
  const started = performance.now();
  const backend = await IndexedDbKvBackend.open(DB);
  const page = (await backend.list('message'))
    .map(([, v]) => StoredMessage.parse(JSON.parse(v)))
    .filter((m) => m.conversationId === 'main')
    .sort((a, b) => a.sentAt - b.sentAt || a.id.localeCompare(b.id))
    .slice(-limit);
  return { ms: performance.now() - started, count: page.length, newest: page.at(-1)?.sentAt ?? 0 };
}

(globalThis as Record<string, unknown>).benchHistory = { seed, openIndexed, openOld };
