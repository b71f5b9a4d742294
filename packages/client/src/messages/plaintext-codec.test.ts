import { describe, expect, it } from 'vitest';
import { utf8 } from '../protocol/bytes.js';
import { FORMAT_VERSION, type PlaintextMessage } from './message.schema.js';
import { decodePlaintext, encodePlaintext, formatVersionOf, readPlaintextJson } from './plaintext-codec.js';
import { pad } from './padding.js';

const id = '3f2a8c1e-1b2c-4d5e-8f90-123456789abc';
const other = '9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
const conversationId = '0b6b3f8e-6c1d-4b8e-9a55-0d2f1f4b9e21';
const base = { v: FORMAT_VERSION, id, conversationId, sentAt: 1_765_000_000_000 };

describe('an open message format', () => {
  it('when every kind this version writes is encoded, then it decodes back whole', () => {
    const all: PlaintextMessage[] = [
      { ...base, kind: 'text', text: 'hi @bob', mentions: [other], replyTo: { id: other, authorUserId: other, excerpt: 'lunch?' }, expiresInS: 3600 },
      { ...base, kind: 'reaction', reaction: { messageId: other, emoji: '👍' } },
      { ...base, kind: 'reaction', reaction: { messageId: other, emoji: null } },
      { ...base, kind: 'edit', edit: { messageId: other, text: 'fixed' } },
      { ...base, kind: 'delete', delete: { messageIds: [other] } },
      { ...base, kind: 'timer', timer: { seconds: 300 } },
      { ...base, kind: 'group', group: { op: 'timer', timerS: null } },
    ];
    for (const plain of all) expect(decodePlaintext(encodePlaintext(plain))).toMatchObject({ type: 'known', plain, unknownFields: [] });
    expect(all.map(formatVersionOf)).toEqual(all.map(() => 2));
  });

  it('when a message uses nothing new, then it is written as version 1, which a client from before open kinds still reads', () => {
    const plain: PlaintextMessage = { ...base, kind: 'text', text: 'plain' };
    const decoded = decodePlaintext(encodePlaintext(plain));
    expect(decoded.type === 'known' && JSON.parse(decoded.raw)).toMatchObject({ v: 1, kind: 'text' });
    expect(formatVersionOf({ ...base, kind: 'group', group: { op: 'rename', title: 'x' } })).toBe(1);
    expect(formatVersionOf({ ...base, kind: 'group', group: { op: 'create', state: { members: [{ userId: other, role: 'owner' }], title: null, timerS: 300 } } })).toBe(2);
  });

  it('when a newer client sends a kind this one does not know, then it is kept with its header and raw JSON, not refused', () => {
    const newer = { ...base, v: 7, kind: 'poll', poll: { question: 'Pizza?', options: ['yes', 'no'] }, fallback: 'Poll: Pizza?' };
    const decoded = decodePlaintext(pad(utf8(JSON.stringify(newer))));
    expect(decoded.type).toBe('unknown');
    if (decoded.type !== 'unknown') return;
    expect(decoded.header).toMatchObject({ kind: 'poll', id, conversationId, fallback: 'Poll: Pizza?' });
    expect(JSON.parse(decoded.raw)).toEqual(newer);
  });

  it('when a known kind carries fields this client does not know (also nested), then the rest is read and the new fields are named', () => {
    const newer = { ...base, v: 3, kind: 'text', text: 'see link', linkPreview: { url: 'https://x' }, replyTo: { id: other, authorUserId: other, excerpt: 'q', quoteStart: 3 } };
    const decoded = readPlaintextJson(JSON.stringify(newer));
    expect(decoded).toMatchObject({ type: 'known', plain: { kind: 'text', text: 'see link', replyTo: { id: other, excerpt: 'q' } } });
    if (decoded.type !== 'known') return;
    expect(decoded.unknownFields.sort()).toEqual(['linkPreview', 'replyTo.quoteStart']);
    expect(decoded.plain).not.toHaveProperty('linkPreview');
    expect(JSON.parse(decoded.raw)).toEqual(newer);
  });

  it('when the header is broken or a known field has a wrong value, then it is refused (not mistaken for newer)', () => {
    expect(() => readPlaintextJson(JSON.stringify({ ...base, id: 'nope', kind: 'poll' }))).toThrow();
    expect(() => readPlaintextJson(JSON.stringify({ ...base, kind: '' }))).toThrow();
    expect(() => readPlaintextJson(JSON.stringify({ ...base, kind: 'reaction', reaction: { messageId: other, emoji: 5 } }))).toThrow();
    expect(() => readPlaintextJson('[1]')).toThrow();
  });
});
