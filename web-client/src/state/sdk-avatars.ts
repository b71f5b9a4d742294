import type { ChatClient } from '@cipherchat/client';
import type { AvatarApi } from './avatars.js';

/**
 * The SDK side of {@link AvatarApi} (sdk-adapter.ts spreads it into the `ChatApi`).
 * @param client the SDK client
 * @returns the profile-picture calls
 */
export function sdkAvatars(client: ChatClient): AvatarApi {
  return {
    async avatarImage(userId) {
      // Logged out (no store): no picture, not an error.
      const image = await client.avatars.image(userId).catch(() => undefined);
      return image ? new Blob([image.bytes], { type: image.contentType }) : undefined;
    },
    setAvatar: async (image) => client.avatars.set(new Uint8Array(await image.arrayBuffer())),
    removeAvatar: () => client.avatars.remove(),
    onAvatarChanged: (listener) => client.on('avatarChanged', (a) => listener(a.userId)),
  };
}
