import type { ChatClient } from '@cipherchat/client';
import type { MessageActionsApi } from './message-actions.js';
import { toView } from './sdk-views.js';

/**
 * The SDK side of {@link MessageActionsApi} (sdk-adapter.ts spreads it into the `ChatApi`). Sends
 * return once queued: the SDK applies the change locally first and the queue sends it.
 * @param client the SDK client
 * @returns the actions
 */
export function sdkMessageActions(client: ChatClient): MessageActionsApi {
  return {
    reactToMessage: async (id, emoji) =>
      toView(await client.actions.react(id, emoji, { wait: false })),
    editMessage: async (id, text) => toView(await client.actions.edit(id, text, { wait: false })),
    deleteForEveryone: async (id) =>
      toView(await client.actions.deleteForEveryone(id, { wait: false })),
    deleteForMe: (id) => client.actions.deleteForMe(id),
  };
}
