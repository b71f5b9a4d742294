import type { PrivacySettings, ReportBody } from '@cipherchat/contracts';
import type { ApiClient } from '../transport/api-client.js';
import type { Conversation, DeviceProof } from '../transport/chat-endpoints.js';
import type { Conversations } from './conversations.js';
import type { SessionSlot } from './session.js';

/** What my clients may tell the others in a conversation (receipts and typing). */
export type Shared = 'typing' | 'read' | 'delivered';

/** What {@link Safety} needs. */
export interface SafetyDeps {
  api: ApiClient;
  session: SessionSlot;
  /** The conversation cache (its `myState` decides what is shared). */
  conversations: Pick<Conversations, 'get' | 'invalidate'>;
  /**
   * This device's proof (`X-Device-Id` + `X-Device-Secret`): accepting, declining, blocking
   * (a report that blocks too), unblocking and changing the privacy settings need it, so a stolen token alone cannot.
   */
  proof: () => Promise<DeviceProof | undefined>;
}

/**
 * Message requests, blocking and privacy, as this device enforces them. The server hides my
 * presence and last seen from strangers and from people I blocked, and stops a blocked person's
 * messages; typing and receipts travel end to end, so only my own clients can hold them back.
 * This part knows my privacy settings and whom I blocked (read from the server at login, at
 * every connection and after every change made here; settings changed on another device of mine
 * arrive as `privacy:changed` while connected) and answers {@link mayShare} for the
 * receipts and typing (`receipts.ts`). Until the settings are known, nothing is shared.
 */
export class Safety {
  private settings: PrivacySettings | undefined;
  private blocked = new Set<string>();
  /** The load on its way, so concurrent callers wait for one. */
  private loading: Promise<void> | undefined;
  /** Counts settings applied from elsewhere (a push, a save), so an older read does not undo them. */
  private changes = 0;

  /** @param deps collaborators */
  constructor(private readonly deps: SafetyDeps) {}

  /**
   * Reads my privacy settings and block list from the server (login, every connection).
   * @throws {ApiError} when the server cannot be reached (what was known before stays)
   */
  load(): Promise<void> {
    const run = (async () => {
      const changes = this.changes;
      const [settings, blocked] = await Promise.all([
        this.deps.api.chat.privacy(),
        this.deps.api.chat.blockedUsers(),
      ]);
      // settings pushed or saved while this read was on its way are newer than what it read
      if (this.changes === changes) this.settings = settings;
      this.blocked = new Set(blocked);
    })();
    const settled = run.finally(() => {
      if (this.loading === settled) this.loading = undefined;
    });
    this.loading = settled;
    return settled;
  }

  /** Forgets the settings and the block list (log out). */
  clear(): void {
    this.changes += 1;
    this.settings = undefined;
    this.blocked = new Set();
    this.loading = undefined;
  }

  /** @returns my privacy settings (read from the server when not known yet) */
  async privacy(): Promise<PrivacySettings> {
    if (!this.settings) await (this.loading ?? this.load());
    return { ...this.settings! };
  }

  /**
   * Saves my privacy settings; they apply to this device at once.
   * @param settings the whole settings
   * @returns the settings as the server stored them
   */
  async setPrivacy(settings: PrivacySettings): Promise<PrivacySettings> {
    const stored = await this.deps.api.chat.setPrivacy(settings, await this.deps.proof());
    this.apply(stored);
    return { ...stored };
  }

  /**
   * Applies settings saved on another device of mine (the server's `privacy:changed` push), at
   * once: a receipt or typing turned off there is not sent from here either.
   * @param settings the whole settings, as the server stored them
   */
  apply(settings: PrivacySettings): void {
    this.changes += 1;
    this.settings = { ...settings };
  }

  /** @returns the people I blocked (from the server) */
  async blockedUsers(): Promise<string[]> {
    const ids = await this.deps.api.chat.blockedUsers();
    this.blocked = new Set(ids);
    return ids;
  }

  /**
   * Blocks a person: the server stops their messages (quietly) and hides each of us from the
   * other's presence; my clients send them no receipts or typing.
   * @param userId whom
   */
  async block(userId: string): Promise<void> {
    this.blocked.add(userId);
    try {
      await this.deps.api.chat.block(userId, await this.deps.proof());
    } catch (err) {
      await this.blockedUsers().catch(() => undefined);
      throw err;
    }
  }

  /** @param userId whom to unblock */
  async unblock(userId: string): Promise<void> {
    await this.deps.api.chat.unblock(userId, await this.deps.proof());
    this.blocked.delete(userId);
  }

  /**
   * Reports a person to the operators (they are not told), optionally blocking them too.
   * @param report who, why, an optional note, the conversation, `block`
   */
  async report(report: ReportBody): Promise<void> {
    await this.deps.api.chat.report(report, await this.deps.proof());
    if (report.block) this.blocked.add(report.userId);
  }

  /** Accepts a message request: it becomes a normal conversation. @param conversationId conversation */
  async accept(conversationId: string): Promise<void> {
    await this.deps.api.chat.acceptRequest(conversationId, await this.deps.proof());
    await this.deps.conversations
      .get(conversationId, true)
      .catch(() => this.deps.conversations.invalidate(conversationId));
  }

  /** Declines a message request: it leaves my list; the sender is not told. @param conversationId conversation */
  async decline(conversationId: string): Promise<void> {
    await this.deps.api.chat.declineRequest(conversationId, await this.deps.proof());
    this.deps.conversations.invalidate(conversationId);
  }

  /** @param userId someone @returns whether I blocked them (as last read from the server) */
  isBlocked(userId: string): boolean {
    return this.blocked.has(userId);
  }

  /**
   * Whether my clients may send a receipt or typing into a conversation: never into a request
   * I have not accepted, never to a person I blocked, and never what my privacy settings turn off
   * (`typing`, `readReceipts`; delivered receipts follow only the first two rules). Unknown
   * settings (not read yet, server unreachable) share nothing.
   * @param conversationId conversation
   * @param what typing, a read or a delivered receipt
   * @returns whether it may be sent
   */
  async mayShare(conversationId: string, what: Shared): Promise<boolean> {
    const conversation = await this.deps.conversations.get(conversationId);
    if (!this.allowedIn(conversation)) return false;
    if (what === 'delivered') return true;
    const settings = await this.privacy().catch(() => undefined);
    if (!settings) return false;
    return what === 'typing' ? settings.typing : settings.readReceipts;
  }

  private allowedIn(conversation: Conversation): boolean {
    if (conversation.myState === 'request') return false;
    const me = this.deps.session.current?.user.id;
    return !conversation.memberIds.some((id) => id !== me && this.blocked.has(id));
  }
}
