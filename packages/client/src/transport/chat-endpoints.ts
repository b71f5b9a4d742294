import {
  AttachmentResult,
  ChatConfigResult,
  BackupResult,
  BlockList,
  Conversation as ConversationSchema,
  ConversationList,
  CreateConversationBody,
  CreateDeviceResult,
  DEVICE_ID_HEADER,
  DEVICE_SECRET_HEADER,
  KeyBundleResult,
  MyDevicesResult,
  PreKeyCountResult,
  PrivacySettings,
  UserDevicesResult,
  type PutBackupBody,
  type ReportBody,
  type UploadKeysBody,
} from '@cipherchat/contracts';
import type { z } from 'zod';
import type { ApiClient } from './api-client.js';
import type { TransferOptions } from './progress.js';

/**
 * A conversation as chat-service presents it (the contract's `Conversation`), plus `memberIds`:
 * the members' user ids, which fan-out and lookups use.
 */
export type Conversation = z.infer<typeof ConversationSchema> & {
  /** User ids of `members`, in the same order. */
  memberIds: string[];
};

/**
 * Proof that a request comes from one of the account's devices (`X-Device-Id` and
 * `X-Device-Secret`): required to remove a device or replace the key backup.
 */
export interface DeviceProof {
  /** The calling device. */
  deviceId: number;
  /** Its secret from `POST /devices`. */
  deviceSecret: string;
}

/**
 * @param proof the calling device, if set up
 * @returns the proof headers (none without a device)
 */
function proofHeaders(proof: DeviceProof | undefined): Record<string, string> {
  return proof ? { [DEVICE_ID_HEADER]: String(proof.deviceId), [DEVICE_SECRET_HEADER]: proof.deviceSecret } : {};
}

/** One of my devices (`GET /devices`). */
export type MyDevice = z.infer<typeof MyDevicesResult>['devices'][number];

/**
 * @param c a conversation as the contract parses it
 * @returns the same with `memberIds`
 */
function withMemberIds(c: z.infer<typeof ConversationSchema>): Conversation {
  return { ...c, memberIds: c.members.map((m) => m.userId) };
}

const seg = encodeURIComponent;

/**
 * chat-service's REST routes (`/api/chat`), typed and parsed with the contracts' schemas. Key
 * material passes here only as public keys and sealed blobs; nothing is decrypted here.
 */
export class ChatEndpoints {
  /** @param http the SDK's HTTP client (auth, refresh, errors) */
  constructor(private readonly http: ApiClient) {}

  /**
   * `POST /devices`: registers a device of mine. No name is sent: device names travel end to
   * end, in the device's announcement to my other devices.
   * @returns the device id and its secret (handed out this once)
   * @throws {ApiError} `too_many_devices`; 401 `fresh_login_required` when the last password
   *   login is too old
   */
  createDevice(): Promise<CreateDeviceResult> {
    return this.http.request('chat', 'POST', '/devices', { json: {}, schema: CreateDeviceResult });
  }

  /** @returns my devices (`GET /devices`) */
  async myDevices(): Promise<MyDevice[]> {
    return (await this.http.request('chat', 'GET', '/devices', { schema: MyDevicesResult })).devices;
  }

  /**
   * `DELETE /devices/:deviceId`: removes one of my devices (its sockets are disconnected).
   * @param deviceId the device
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   * @throws {ApiError} 403 `invalid_device_credentials` without a valid proof
   */
  async deleteDevice(deviceId: number, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'DELETE', `/devices/${deviceId}`, { headers: proofHeaders(proof) });
  }

  /**
   * `GET /devices/:deviceId/keys/count`, acting as that device.
   * @param deviceId this device
   * @param deviceSecret its secret
   * @returns how many one-time prekeys the server still holds for it
   */
  async preKeyCount(deviceId: number, deviceSecret: string): Promise<number> {
    const answer = await this.http.request('chat', 'GET', `/devices/${deviceId}/keys/count`, {
      schema: PreKeyCountResult,
      headers: { [DEVICE_SECRET_HEADER]: deviceSecret },
    });
    return answer.count;
  }

  /**
   * `PUT /devices/:deviceId/keys`, acting as that device: identity, signed prekey, one-time prekeys.
   * @param deviceId this device
   * @param deviceSecret its secret
   * @param keys the upload
   * @throws {ApiError} `invalid_signature`, `validation_error`
   */
  async uploadKeys(deviceId: number, deviceSecret: string, keys: UploadKeysBody): Promise<void> {
    await this.http.request('chat', 'PUT', `/devices/${deviceId}/keys`, {
      json: keys,
      headers: { [DEVICE_SECRET_HEADER]: deviceSecret },
    });
  }

  /**
   * `GET /users/:userId/keys`: takes one prekey bundle per device of a user.
   * @param userId whose devices
   * @returns the identity key and one bundle per device
   * @throws {ApiError} `not_found` when the user published no keys
   */
  keyBundle(userId: string): Promise<KeyBundleResult> {
    return this.http.request('chat', 'GET', `/users/${seg(userId)}/keys`, { schema: KeyBundleResult });
  }

  /**
   * `GET /users/:userId/devices`.
   * @param userId whose devices
   * @returns ids of the user's devices that published keys
   */
  async userDevices(userId: string): Promise<number[]> {
    return (await this.http.request('chat', 'GET', `/users/${seg(userId)}/devices`, { schema: UserDevicesResult })).deviceIds;
  }

  /**
   * `GET /backup`.
   * @returns my sealed key backup
   * @throws {ApiError} `not_found` when there is none yet
   */
  getBackup(): Promise<BackupResult> {
    return this.http.request('chat', 'GET', '/backup', { schema: BackupResult });
  }

  /**
   * `PUT /backup` (optimistic concurrency on `version`).
   * @param backup the next version and the sealed blob
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   * @throws {ApiError} `version_conflict` with `details.currentVersion`; 403 `invalid_device_credentials`
   */
  async putBackup(backup: PutBackupBody, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'PUT', '/backup', { json: backup, headers: proofHeaders(proof) });
  }

  /** @returns my conversations, most recently updated first (`GET /conversations`, first page) */
  async listConversations(): Promise<Conversation[]> {
    const page = await this.http.request('chat', 'GET', '/conversations', { schema: ConversationList });
    return page.conversations.map(withMemberIds);
  }

  /**
   * `GET /conversations/:id`.
   * @param id conversation id
   * @returns the conversation
   * @throws {ApiError} `not_found` (also when I am not a member)
   */
  async getConversation(id: string): Promise<Conversation> {
    return withMemberIds(await this.http.request('chat', 'GET', `/conversations/${seg(id)}`, { schema: ConversationSchema }));
  }

  // Creating a conversation and adding members carry the calling device's proof: either leaves
  // the conversation accepted for me (reopening a request or a declined chat accepts it), which a
  // stolen access token alone must not do (403 `invalid_device_credentials`).

  /**
   * `POST /conversations`: a direct chat (the existing one if there is one) or a group.
   * @param input kind, the other members, a group's title
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   * @returns the conversation
   * @throws {ApiError} 403 `invalid_device_credentials` without a valid proof
   */
  async createConversation(input: CreateConversationBody, proof?: DeviceProof): Promise<Conversation> {
    return withMemberIds(
      await this.http.request('chat', 'POST', '/conversations', { json: input, schema: ConversationSchema, headers: proofHeaders(proof) }),
    );
  }

  /**
   * `POST /conversations/:id/members` (owners and admins of a group).
   * @param id conversation id
   * @param userIds who to add
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   * @returns the conversation with its new members
   * @throws {ApiError} 403 `invalid_device_credentials` without a valid proof
   */
  async addMembers(id: string, userIds: string[], proof?: DeviceProof): Promise<Conversation> {
    return withMemberIds(
      await this.http.request('chat', 'POST', `/conversations/${seg(id)}/members`, {
        json: { userIds },
        schema: ConversationSchema,
        headers: proofHeaders(proof),
      }),
    );
  }

  /**
   * `PATCH /conversations/:id/members/:userId` (the owner only).
   * @param id conversation id
   * @param userId the member
   * @param role the new role
   * @returns the conversation
   */
  async setMemberRole(id: string, userId: string, role: 'admin' | 'member'): Promise<Conversation> {
    return withMemberIds(
      await this.http.request('chat', 'PATCH', `/conversations/${seg(id)}/members/${seg(userId)}`, {
        json: { role },
        schema: ConversationSchema,
      }),
    );
  }

  /**
   * `PATCH /conversations/:id` with `{title: null}`: clears a legacy group title on the server
   * (titles travel end to end now; any member may clear one).
   * @param id conversation id
   */
  async clearTitle(id: string): Promise<void> {
    await this.http.request('chat', 'PATCH', `/conversations/${seg(id)}`, { json: { title: null } });
  }

  /**
   * `DELETE /conversations/:id/members/:userId`: removes a member of a group, or leaves it (me).
   * @param id conversation id
   * @param userId the member
   */
  async removeMember(id: string, userId: string): Promise<void> {
    await this.http.request('chat', 'DELETE', `/conversations/${seg(id)}/members/${seg(userId)}`);
  }

  /**
   * `POST /attachments?conversationId=`: stores an encrypted attachment.
   * @param conversationId where it will be sent
   * @param ciphertext the encrypted bytes
   * @param options upload progress and cancel
   * @returns its id, size and expiry
   */
  uploadAttachment(conversationId: string, ciphertext: Uint8Array, options: TransferOptions = {}): Promise<AttachmentResult> {
    return this.http.request('chat', 'POST', `/attachments?conversationId=${seg(conversationId)}`, {
      bytes: ciphertext,
      schema: AttachmentResult,
      ...options,
    });
  }

  /**
   * `GET /attachments/:id`.
   * @param id attachment id
   * @param options download progress and cancel
   * @returns the encrypted bytes
   */
  downloadAttachment(id: string, options: TransferOptions = {}): Promise<Uint8Array> {
    return this.http.request<Uint8Array>('chat', 'GET', `/attachments/${seg(id)}`, { binary: true, ...options });
  }

  /**
   * `GET /config`: the service's limits (the largest attachment, in ciphertext bytes).
   * @returns the limits
   */
  config(): Promise<ChatConfigResult> {
    return this.http.request('chat', 'GET', '/config', { schema: ChatConfigResult });
  }

  /**
   * `DELETE /attachments/:id`: the uploader removes an attachment from the server.
   * @param id attachment id
   * @throws {ApiError} 404 `not_found` when it is not the caller's (or already gone)
   */
  async deleteAttachment(id: string): Promise<void> {
    await this.http.request('chat', 'DELETE', `/attachments/${seg(id)}`);
  }

  // ------------------------------------------------------------ requests, blocks, privacy (safety.http.ts)

  // Accept, decline, block, unblock, a report that blocks and PUT /privacy carry the calling device's proof: a stolen
  // access token alone must not lower the account's guard (403 `invalid_device_credentials`).

  /**
   * `POST /conversations/:id/accept` (204): a request becomes a normal conversation.
   * @param id conversation id
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   */
  async acceptRequest(id: string, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'POST', `/conversations/${seg(id)}/accept`, { json: {}, headers: proofHeaders(proof) });
  }

  /**
   * `POST /conversations/:id/decline` (204): the request leaves my list; the sender is not told.
   * @param id conversation id
   * @param proof the calling device
   */
  async declineRequest(id: string, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'POST', `/conversations/${seg(id)}/decline`, { json: {}, headers: proofHeaders(proof) });
  }

  /** `PUT /blocks/:userId`: their messages stop at the server, quietly. @param userId whom @param proof the calling device */
  async block(userId: string, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'PUT', `/blocks/${seg(userId)}`, { json: {}, headers: proofHeaders(proof) });
  }

  /** `DELETE /blocks/:userId`. @param userId whom @param proof the calling device */
  async unblock(userId: string, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'DELETE', `/blocks/${seg(userId)}`, { headers: proofHeaders(proof) });
  }

  /** @returns the people I blocked, most recent first (`GET /blocks`) */
  async blockedUsers(): Promise<string[]> {
    return (await this.http.request('chat', 'GET', '/blocks', { schema: BlockList })).userIds;
  }

  /**
   * `POST /reports` (202): tells the operators (the reported person is not told).
   * @param body who, why, and whether to block too
   * @param proof the calling device (needed with `block: true`)
   */
  async report(body: ReportBody, proof?: DeviceProof): Promise<void> {
    await this.http.request('chat', 'POST', '/reports', { json: body, headers: proofHeaders(proof) });
  }

  /** @returns what I share (`GET /privacy`) */
  privacy(): Promise<PrivacySettings> {
    return this.http.request('chat', 'GET', '/privacy', { schema: PrivacySettings });
  }

  /**
   * `PUT /privacy`.
   * @param settings the whole settings
   * @param proof the calling device (`X-Device-Id`, `X-Device-Secret`)
   * @returns the settings as stored
   */
  setPrivacy(settings: PrivacySettings, proof?: DeviceProof): Promise<PrivacySettings> {
    return this.http.request('chat', 'PUT', '/privacy', { json: settings, schema: PrivacySettings, headers: proofHeaders(proof) });
  }
}
