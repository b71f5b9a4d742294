import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { KNOWN_KINDS, PlaintextHeader, PlaintextMessage } from './message.schema.js';
import { PADDING_BLOCK, pad, unpad } from './padding.js';

/**
 * The fewest padding blocks of a plaintext. The smallest receipt or typing plaintext is already
 * longer than one block (the JSON carries two UUIDs and a timestamp), so a one-block ciphertext
 * could only be a text of a few characters: every kind starts at two blocks (320 bytes).
 */
export const MIN_PADDED_BLOCKS = 2;

/** `}`: the last byte of an unpadded JSON plaintext, as older clients sent it. */
const JSON_END = 0x7d;

/**
 * A decoded plaintext. `known`: every part understood, or the understood part of a known kind
 * with `unknownFields` naming what was left out (a newer writer added them). `unknown`: a kind
 * this client does not know; only the header is read, and `raw` keeps the whole JSON.
 */
export type DecodedPlaintext =
  | { type: 'known'; plain: PlaintextMessage; unknownFields: string[]; raw: string }
  | { type: 'unknown'; header: PlaintextHeader; raw: string };

/** Kinds and fields a version-1 reader (closed kinds, strict fields) understands. */
const V1_KINDS: readonly string[] = ['text', 'attachment', 'receipt', 'typing', 'group', 'device'];
const V2_FIELDS = ['fallback', 'replyTo', 'mentions', 'expiresInS'] as const;

/**
 * The lowest format version that describes a plaintext: 1 when a client from before open kinds
 * reads all of it (so it keeps reading plain texts, receipts and group changes), 2 otherwise.
 * @param p the plaintext
 * @returns 1 or 2
 */
export function formatVersionOf(p: PlaintextMessage): 1 | 2 {
  const v2 =
    !V1_KINDS.includes(p.kind) ||
    V2_FIELDS.some((f) => p[f] !== undefined) ||
    p.attachment?.thumbnail !== undefined ||
    p.attachment?.voice !== undefined ||
    p.group?.op === 'timer' ||
    p.group?.timerS !== undefined ||
    p.group?.state?.timerS !== undefined;
  return v2 ? 2 : 1;
}

/**
 * Serialises a plaintext for encryption: schema-checked JSON with `v` set by
 * {@link formatVersionOf}, UTF-8, Signal padding to a multiple of 160 bytes (at least 320).
 * @param plaintext the message (any kind)
 * @returns the padded bytes
 * @throws {z.ZodError} the plaintext breaks the schema
 */
export function encodePlaintext(plaintext: PlaintextMessage): Uint8Array<ArrayBuffer> {
  const checked = PlaintextMessage.parse(plaintext);
  return pad(utf8(JSON.stringify({ ...checked, v: formatVersionOf(checked) })), PADDING_BLOCK, MIN_PADDED_BLOCKS);
}

/**
 * Reads a plaintext's JSON. The set of kinds and fields is open: a kind this client does not
 * know is returned as `unknown` (kept, never dropped), and fields it does not know are left out
 * of a known kind and named in `unknownFields`. Only a broken header or a known field with a
 * wrong value is an error.
 * @param raw the JSON text
 * @returns the decoded plaintext
 * @throws {SyntaxError} not JSON
 * @throws {z.ZodError} the header or a known field breaks the schema
 */
export function readPlaintextJson(raw: string): DecodedPlaintext {
  const json: unknown = JSON.parse(raw);
  const header = PlaintextHeader.parse(json);
  if (!(KNOWN_KINDS as readonly string[]).includes(header.kind)) return { type: 'unknown', header, raw };
  const first = PlaintextMessage.safeParse(json);
  if (first.success) return { type: 'known', plain: first.data, unknownFields: [], raw };
  // Only keys this version does not know: drop them and read the rest.
  if (!first.error.issues.every((i) => i.code === 'unrecognized_keys')) throw first.error;
  const copy = structuredClone(json) as Record<string, unknown>;
  const unknownFields: string[] = [];
  for (const issue of first.error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const parent = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)[k], copy) as Record<string, unknown>;
    for (const key of issue.keys) {
      delete parent[key];
      unknownFields.push([...issue.path, key].join('.'));
    }
  }
  return { type: 'known', plain: PlaintextMessage.parse(copy), unknownFields, raw };
}

/**
 * Parses decrypted bytes: removes the padding (an unpadded JSON plaintext from an older client
 * is accepted as it is), then reads the JSON with {@link readPlaintextJson}.
 * @param bytes decrypted bytes
 * @returns the decoded plaintext
 * @throws {PaddingError} neither padded nor legacy JSON
 * @throws {SyntaxError} not JSON
 * @throws {z.ZodError} the header or a known field breaks the schema
 */
export function decodePlaintext(bytes: Uint8Array): DecodedPlaintext {
  const legacy = bytes.length > 0 && bytes[bytes.length - 1] === JSON_END;
  return readPlaintextJson(fromUtf8(legacy ? bytes : unpad(bytes)));
}
