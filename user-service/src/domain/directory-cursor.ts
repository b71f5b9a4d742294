/** Position in a directory listing: the sort key of the last row shown. */
export interface DirectoryCursor {
  /** Match rank of the last row (0 = exact username ... 3 = fuzzy). */
  rank: number;
  /** Username of the last row (unique, so the order is total). */
  username: string;
}

/**
 * Encodes a cursor as opaque base64url text.
 * @param cursor position
 * @returns the cursor string for `nextCursor`
 */
export function encodeDirectoryCursor(cursor: DirectoryCursor): string {
  return Buffer.from(JSON.stringify([cursor.rank, cursor.username]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor from a client; anything malformed gives undefined (the caller answers 400).
 * @param text the `cursor` query parameter
 * @returns the position or undefined
 */
export function decodeDirectoryCursor(text: string): DirectoryCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [rank, username] = value as unknown[];
    if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0 || rank > 3) return undefined;
    if (typeof username !== 'string' || username.length > 64) return undefined;
    return { rank, username };
  } catch {
    return undefined;
  }
}

/**
 * Escapes LIKE wildcards so a search for `a_b` or `100%` matches literally.
 * @param text user input
 * @returns text safe inside a LIKE pattern (escape character `\`)
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
