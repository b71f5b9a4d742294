/**
 * Runs inside Chromium (bundled by run-search.ts): seeds a real IndexedDB store with mixed
 * English, German, Japanese, Chinese and Korean messages, builds the local search index from it
 * (`rebuildSearch`, what a browser from before search or a restored archive runs), times
 * queries, checks recall against a brute-force scan, and times live writes that keep it in step.
 */
import { IndexedDbKvBackend, KvProtocolStore, type StoredMessage } from '@cipherchat/client';
import { normalize } from '../../../packages/client/src/storage/search-text.js';

const DB = 'bench-search';
const WORDS = (
  'meet tomorrow lunch office project deadline coffee weekend train station airport ticket ' +
  'dinner birthday present meeting report budget holiday beach mountain river bridge market ' +
  'café crème brûlée naïve résumé Straße Grüße Mädchen Übung schön München Köln Zürich über ' +
  'morgen Treffen Bahnhof Wochenende Geschenk Bericht Urlaub'
).split(' ');
const CJK = [
  '東京タワー',
  '新宿駅',
  '明日',
  '会議',
  'ラーメン',
  '北京大学',
  '上海',
  '图书馆',
  '朋友',
  '서울역',
  '부산',
  '회의',
  '내일',
  '커피',
  '大阪城',
  '京都',
  '学生',
  '先生',
];

/** A deterministic generator, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

let texts: string[] = [];
let ids: string[] = [];

function textOf(r: () => number): string {
  const n = 4 + Math.floor(r() * 14);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.2) parts.push(CJK[Math.floor(r() * CJK.length)]!);
    else parts.push(WORDS[Math.floor(r() * WORDS.length)]!);
    if (r() < 0.1) parts.push(String(Math.floor(r() * 10_000)));
  }
  return parts.join(' ');
}

function message(i: number, text: string): StoredMessage {
  return {
    id: `msg-${String(i).padStart(7, '0')}`,
    conversationId: `conv-${i % 40}`,
    senderUserId: i % 2 ? 'bob' : 'alice',
    senderDeviceId: 1,
    direction: i % 2 ? 'in' : 'out',
    kind: 'text',
    text,
    sentAt: 1_700_000_000_000 + i * 1000,
    status: i % 2 ? 'read' : 'sent',
  };
}

/** Writes `count` messages straight into history (as a restore does), in atomic chunks. */
async function seed(count: number): Promise<number> {
  const backend = await IndexedDbKvBackend.open(DB);
  await backend.clear();
  const r = rng(42);
  texts = [];
  ids = [];
  const started = performance.now();
  for (let i = 0; i < count; i += 1000) {
    const writes = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const m = message(j, textOf(r));
      texts.push(m.text!);
      ids.push(m.id);
      writes.push({ ns: 'message' as const, key: m.id, value: JSON.stringify(m) });
    }
    await backend.batch(writes);
  }
  backend.close();
  return performance.now() - started;
}

/** Builds the index from local history (a fresh store object, as after a reload). */
async function build(): Promise<{ ms: number; indexed: number }> {
  const store = new KvProtocolStore(await IndexedDbKvBackend.open(DB));
  const started = performance.now();
  const indexed = await store.rebuildSearch();
  return { ms: performance.now() - started, indexed };
}

/** The query set: substrings of messages, the same with accents dropped, CJK phrases. */
function queries(n: number): string[] {
  const r = rng(7);
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const t = texts[Math.floor(r() * texts.length)]!;
    const kind = i % 4;
    if (kind === 3) {
      const cjk = CJK[Math.floor(r() * CJK.length)]!;
      const from = Math.floor(r() * (cjk.length - 1));
      out.push(cjk.slice(from, from + 1 + Math.floor(r() * (cjk.length - from))));
      continue;
    }
    const len = 5 + Math.floor(r() * 12);
    const from = Math.floor(r() * Math.max(1, t.length - len));
    let q = t.slice(from, from + len).trim();
    if (Array.from(q).length < 3) continue;
    if (kind === 1) q = q.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    if (kind === 2) q = q.toUpperCase();
    out.push(q);
  }
  return out;
}

/** Times each query (limit 50, as the app asks) and checks recall (limit 500, the most a query returns) against a scan. */
async function run(n: number): Promise<{ ms: number[]; recallChecked: number; missed: string[] }> {
  const store = new KvProtocolStore(await IndexedDbKvBackend.open(DB));
  await store.searchMessages('warm up the index');
  const ms: number[] = [];
  const missed: string[] = [];
  let recallChecked = 0;
  const normTexts = texts.map((t) => normalize(t).text);
  for (const q of queries(n)) {
    const started = performance.now();
    await store.searchMessages(q, { limit: 50 });
    ms.push(performance.now() - started);
    const nq = normalize(q).text;
    const expected = new Set<string>();
    normTexts.forEach((t, i) => {
      if (t.includes(nq)) expected.add(ids[i]!);
    });
    if (expected.size > 500) continue;
    const got = new Set((await store.searchMessages(q, { limit: 500 })).map((h) => h.messageId));
    recallChecked += 1;
    if (got.size !== expected.size || [...expected].some((id) => !got.has(id))) missed.push(q);
  }
  return { ms, recallChecked, missed };
}

/** Times writes of new messages while the index is complete (each updates it in the same batch). */
async function live(n: number): Promise<number[]> {
  const store = new KvProtocolStore(await IndexedDbKvBackend.open(DB));
  const r = rng(99);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = message(10_000_000 + i, textOf(r));
    const started = performance.now();
    await store.putMessage(m);
    ms.push(performance.now() - started);
  }
  return ms;
}

(globalThis as Record<string, unknown>).benchSearch = { seed, build, run, live };
