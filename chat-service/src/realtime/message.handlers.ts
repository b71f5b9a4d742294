import { MessageAckPayload, MessageSendPayload, PresenceGetPayload } from '@cipherchat/contracts';
import type { ChatDeps } from '../domain/deps.js';
import type { RateLimits } from '../rate-limits.js';
import { ackEnvelopes, sendMessage } from '../domain/send-message.js';
import { visiblePresence } from '../domain/presence.js';
import type { AckedEvents } from './acked-events.js';
import type { ChatSocket } from './chat-socket.js';
import type { MailboxDrain } from './mailbox-drain.js';
import type { RealtimeMetrics } from './realtime.metrics.js';

/**
 * Registers one socket's client events: each validates (in {@link AckedEvents}), calls a use
 * case and answers with its ack. `message:send` and `message:ack` are the hot path.
 * @param socket the authenticated socket (its `data` is the sending device)
 * @param events the ack wrapper
 * @param deps use-case dependencies
 * @param drain the socket's mailbox drain (`mailbox:sync`)
 * @param metrics send metrics
 * @param limits per-sender message rates (count and bytes per minute, across processes)
 */
export function registerMessageHandlers(
  socket: ChatSocket,
  events: AckedEvents,
  deps: ChatDeps,
  drain: MailboxDrain,
  metrics: RealtimeMetrics,
  limits: Pick<RateLimits, 'sends'>,
): void {
  const { userId, deviceId } = socket.data;
  const device = { userId, deviceId };
  const sendTurns = new Map<string, Promise<void>>();

  events.on(socket, 'message:send', MessageSendPayload, (p) => {
    // A socket may pipeline sends; those to one conversation keep their order (see SendTurn),
    // sends to different conversations are independent.
    const wait = sendTurns.get(p.conversationId) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    sendTurns.set(p.conversationId, mine);
    void mine.then(() => {
      if (sendTurns.get(p.conversationId) === mine) sendTurns.delete(p.conversationId);
    });
    const end = metrics.sendDuration.startTimer();
    // Per-sender rates first (nothing stored when over): count and bytes in one round trip.
    const bytes = p.envelopes.reduce((n, e) => n + Math.floor((e.body.length * 3) / 4), 0);
    const allowed = limits.sends.consume(userId, bytes);
    return allowed.then(() => sendMessage(deps, device, p, { wait, done })).then(
      (r) => {
        end({ outcome: r.duplicate ? 'duplicate' : 'stored' });
        if (!r.duplicate) metrics.envelopesStored.inc(p.envelopes.length);
        return r;
      },
      (err: unknown) => {
        done(); // a send refused before its turn must not hold the next one
        end({ outcome: 'refused' });
        throw err;
      },
    );
  });
  events.on(socket, 'message:ack', MessageAckPayload, (p) => ackEnvelopes(deps, device, p));
  events.on(socket, 'mailbox:sync', null, async () => {
    void drain.run();
    return { started: true as const };
  });
  events.on(socket, 'presence:get', PresenceGetPayload, (p) => visiblePresence(deps, userId, p.userIds));
}
