import type { Conversations } from './conversations.js';
import type { GroupViews } from './group-views.js';
import type { Safety } from './safety.js';

/**
 * Whether a retry request may be sent: `ok`; `hold` (not now: a message request not accepted
 * yet, a blocked member, the conversation or the group's state not at hand), asked again later;
 * `left` (the sender is not in the conversation in my view: it is never asked).
 */
export type RetryGate = 'ok' | 'hold' | 'left';

/**
 * The rules a retry request follows before anything is done for it (no fresh session, no
 * bundle fetch): those of a delivered receipt (`Safety.mayShare(…, 'delivered')`: never into a
 * message request I have not accepted, never with someone I blocked), and the sender must be in
 * the conversation's audience in my view.
 * @param deps safety, conversations, group views and my user id
 * @param conversationId the placeholder's conversation
 * @param sender the user whose message failed
 * @returns ok, hold or left
 */
export async function retryGate(
  deps: {
    safety: Pick<Safety, 'mayShare'>;
    conversations: Pick<Conversations, 'get'>;
    views: Pick<GroupViews, 'mayPost' | 'audience'>;
    me: () => string;
  },
  conversationId: string,
  sender: string,
): Promise<RetryGate> {
  if (!(await deps.safety.mayShare(conversationId, 'delivered').catch(() => false))) return 'hold';
  const me = deps.me();
  if (!deps.views.mayPost(conversationId, me, sender)) return 'left';
  const conversation = await deps.conversations.get(conversationId).catch(() => undefined);
  if (!conversation) return 'hold';
  const audience = await deps.views.audience(conversation, me).catch(() => undefined);
  if (!audience) return 'hold';
  return audience.includes(sender) ? 'ok' : 'left';
}
