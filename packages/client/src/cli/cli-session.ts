import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { createFileStore, createFileStoreWithKey, deriveStateKey } from '../node/file-backend.js';
import { fromBase64, toBase64 } from '../protocol/bytes.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { Tokens } from '../transport/api-client.js';

/**
 * chat-cli's saved session, so that `login` happens once and later commands reuse it (no new
 * session, no "new sign-in" email, the same device):
 *
 * - `session-<hash>.json` (mode 0600, one per server and email) names the account and holds
 *   the **state key** (HKDF of the OPAQUE export key: the key that seals `<userId>.state`).
 *   While logged in, the state file is therefore protected by the file permissions of the
 *   state directory, like a browser profile; `logout` deletes the session file, after which the
 *   state file again opens only with the password.
 * - The tokens (refresh token, access token and its expiry) live inside the sealed state file
 *   (store meta `cliSession`), written whenever the SDK rotates them.
 */
const SessionFile = z.object({
  v: z.literal(1),
  server: z.string(),
  email: z.string(),
  userId: z.string(),
  stateKey: z.string(),
});
type SessionFile = z.infer<typeof SessionFile>;

const META_TOKENS = 'cliSession';
const SavedTokens = z.object({
  refreshToken: z.string(),
  accessToken: z.string().optional(),
  accessTokenExpiresAt: z.string().optional(),
});

/** A saved session found on disk. */
export interface SavedSession {
  path: string;
  file: SessionFile;
}

/** The saved session of one terminal account and the state store it opens. */
export class CliSession {
  /** The store opened by the current login or resume (the SDK's `openStore` hands it out). */
  store: ProtocolStore | undefined;
  private storeUser: string | undefined;
  private stateKey: Uint8Array<ArrayBuffer> | undefined;
  private writing: Promise<void> = Promise.resolve();

  /**
   * @param stateDir the state directory
   * @param server which server (the user API URL): sessions of different servers never mix
   */
  constructor(
    readonly stateDir: string,
    readonly server: string,
  ) {}

  /** @param userId account @returns its sealed state file */
  statePath(userId: string): string {
    return join(this.stateDir, `${userId}.state`);
  }

  private sessionPath(email: string): string {
    const hash = createHash('sha256').update(`${this.server}\n${email.trim().toLowerCase()}`).digest('hex').slice(0, 16);
    return join(this.stateDir, `session-${hash}.json`);
  }

  /**
   * The saved session of `email`, or without an email the only one saved for this server.
   * @param email the account's email, when given
   * @returns the session, or undefined (none, several without an email, unreadable)
   */
  async find(email: string | undefined): Promise<SavedSession | undefined> {
    if (email) return this.read(this.sessionPath(email));
    const names = await readdir(this.stateDir).catch(() => [] as string[]);
    const found: SavedSession[] = [];
    for (const n of names.filter((x) => /^session-[0-9a-f]{16}\.json$/.test(x))) {
      const s = await this.read(join(this.stateDir, n));
      if (s?.file.server === this.server) found.push(s);
    }
    return found.length === 1 ? found[0] : undefined;
  }

  private async read(path: string): Promise<SavedSession | undefined> {
    try {
      const parsed = SessionFile.safeParse(JSON.parse(await readFile(path, 'utf8')));
      return parsed.success && parsed.data.server === this.server ? { path, file: parsed.data } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Opens the state store for the SDK: with the export key after a password login (its state key
   * is kept for {@link save}), else with the saved session's state key.
   * @param userId account
   * @param exportKey OPAQUE export key (password logins only)
   * @returns the store
   */
  async open(userId: string, exportKey: string | undefined): Promise<ProtocolStore> {
    const file = this.statePath(userId);
    await this.flush();
    if (exportKey) {
      this.stateKey = await deriveStateKey(exportKey);
      this.store = await createFileStore(file, exportKey);
    } else if (!this.store || this.storeUser !== userId) {
      // a resume: the saved session's store (already opened by load) or its key
      if (!this.stateKey) throw new Error('the CLI state file opens only after a password login');
      this.store = await createFileStoreWithKey(file, this.stateKey);
    }
    this.storeUser = userId;
    return this.store;
  }

  /**
   * Opens a saved session's store and reads its tokens.
   * @param saved the session file
   * @returns the saved tokens, or undefined when the state does not open or holds none
   */
  async load(saved: SavedSession): Promise<Tokens | undefined> {
    try {
      this.stateKey = fromBase64(saved.file.stateKey);
      this.store = await createFileStoreWithKey(this.statePath(saved.file.userId), this.stateKey);
      this.storeUser = saved.file.userId;
      const tokens = SavedTokens.safeParse(await this.store.getMeta(META_TOKENS));
      return tokens.success ? tokens.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps the current tokens in the sealed state (called whenever the SDK rotates them).
   * @param tokens the tokens, undefined after a logout (nothing is written)
   */
  keepTokens(tokens: Tokens | undefined): void {
    const store = this.store;
    if (!store || !tokens?.refreshToken) return;
    const value = { refreshToken: tokens.refreshToken, accessToken: tokens.accessToken, accessTokenExpiresAt: tokens.accessTokenExpiresAt };
    this.writing = this.writing.then(() => store.setMeta(META_TOKENS, value)).catch(() => undefined);
  }

  /** @returns once every token write is on disk */
  flush(): Promise<void> {
    return this.writing;
  }

  /**
   * Writes the session file (0600, atomically) after a password login, with the tokens.
   * @param email the account's email
   * @param userId the account
   * @param tokens the login's tokens
   */
  async save(email: string, userId: string, tokens: Tokens | undefined): Promise<void> {
    if (!this.stateKey) throw new Error('no state key: log in with the password first');
    this.keepTokens(tokens);
    await this.flush();
    const path = this.sessionPath(email);
    const file: SessionFile = { v: 1, server: this.server, email, userId, stateKey: toBase64(this.stateKey) };
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  }

  /**
   * Forgets a saved session: its file, and with `state` the state file too.
   * @param saved the session
   * @param state also delete the sealed state file
   */
  async remove(saved: SavedSession, state: boolean): Promise<void> {
    await this.flush();
    await rm(saved.path, { force: true });
    if (state) await rm(this.statePath(saved.file.userId), { force: true });
    // a kept state file keeps no tokens of the ended session
    else if (this.store && this.storeUser === saved.file.userId) await this.store.setMeta(META_TOKENS, null).catch(() => undefined);
  }
}
