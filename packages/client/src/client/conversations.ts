import type { PublicUser } from '@cipherchat/contracts';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { Conversation, DeviceProof } from '../transport/chat-endpoints.js';

/**
 * Conversations and the user directory over HTTP, with a member-list cache that the sender's
 * fan-out reads (dropped on `conversation:updated` and on stale-device answers).
 */
export class Conversations {
  private readonly cache = new Map<string, Conversation>();
  /** Called with every conversation the server returns (the group views pin direct chats at first sight). */
  onSeen: ((c: Conversation) => void) | undefined;

  /**
   * @param api HTTP client
   * @param proof this device's proof, sent when creating a conversation (a token alone may not)
   */
  constructor(
    private readonly api: ApiClient,
    private readonly proof: () => Promise<DeviceProof | undefined> = () => Promise.resolve(undefined),
  ) {}

  /**
   * Creates a direct (or self) conversation on the server; groups go through `Groups.create`.
   * @param input kind and the other member
   * @returns the conversation
   * @throws {ApiError} `bad_response` when the server answers with another kind or other members
   *   than asked for (me and `memberIds`): a reader slipped in at creation
   */
  async create(input: { kind: 'direct' | 'group'; memberIds: string[] }): Promise<Conversation> {
    const c = await this.api.chat.createConversation(input, await this.proof());
    const asked = new Set(input.memberIds);
    const extra = c.memberIds.filter((m) => !asked.has(m));
    // Everyone asked for, plus at most one more: me (a direct chat's peer pin checks which).
    if (c.kind !== input.kind || [...asked].some((m) => !c.memberIds.includes(m)) || new Set(extra).size > 1) {
      throw new ApiError(0, 'bad_response', 'the server created another conversation than asked for');
    }
    this.seen(c);
    return c;
  }

  /** @param c a conversation the server just returned (after a member change): cache it */
  remember(c: Conversation): void {
    this.seen(c);
  }

  /** @returns my conversations */
  async list(): Promise<Conversation[]> {
    const list = await this.api.chat.listConversations();
    for (const c of list) this.seen(c);
    return list;
  }

  /**
   * @param id conversation id
   * @param refresh bypass the cache
   * @returns the conversation
   */
  async get(id: string, refresh = false): Promise<Conversation> {
    const cached = this.cache.get(id);
    if (cached && !refresh) return cached;
    const c = await this.api.chat.getConversation(id);
    // A hostile server must not slip another conversation's member list in under this id.
    if (c.id !== id) throw new ApiError(0, 'bad_response', 'the server answered with another conversation');
    this.seen(c);
    return c;
  }

  /**
   * Directory lookup by username (exact match preferred).
   * @param username handle
   * @returns the user, if found
   */
  async findUser(username: string): Promise<PublicUser | undefined> {
    const page = await this.api.user.searchUsers(username);
    return page.users.find((u) => u.username === username.toLowerCase()) ?? page.users[0];
  }

  /** @param id conversation whose cached member list is outdated */
  invalidate(id: string): void {
    this.cache.delete(id);
  }

  private seen(c: Conversation): void {
    this.cache.set(c.id, c);
    this.onSeen?.(c);
  }

  /** Forgets every cached conversation (log out). */
  clear(): void {
    this.cache.clear();
  }
}
