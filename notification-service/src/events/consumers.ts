import type { DataSource, EntityManager } from 'typeorm';
import { withInbox, type Bus, type ConsumerSpec } from '@cipherchat/service-kit';
import type { EventPayload, EventType, TypedEvent } from '@cipherchat/contracts';
import { getPreferences } from '../store/preferences.repository.js';
import { applyUserFacts, findUser, forgetUser, markWelcomed, type KnownUser } from '../store/user.repository.js';
import { addDigestItem, drainDigest } from '../store/digest.repository.js';
import { deliver, type Notifier } from './notifier.js';

/** The schema this service owns. */
export const SCHEMA = 'notify';

/** Queue names, one per purpose (each event type is bound to exactly one: the inbox dedupes by event id). */
export interface QueueNames {
  /** Directory copy: registered, profile updated, deleted (and the welcome mail). */
  users: string;
  /** Mails the user asked for or must see soon: verification, reset, new sign-in. */
  accountMail: string;
  /** Unread-message digests: message queued, mailbox drained. */
  digest: string;
}

/**
 * Derives queue names from QUEUE_PREFIX.
 * @param prefix QUEUE_PREFIX
 * @returns the names
 */
export function queueNames(prefix: string): QueueNames {
  return { users: `${prefix}.users`, accountMail: `${prefix}.account-mail`, digest: `${prefix}.digest` };
}

/**
 * Sends the one welcome mail once the address is verified (never to an unverified address,
 * so it cannot go out at registration). The row lock taken by applyUserFacts serialises this
 * between the two queues that can observe verification.
 */
async function welcomeIfDue(n: Notifier, m: EntityManager, eventId: string, user: KnownUser): Promise<void> {
  if (!user.emailVerified || user.welcomedAt) return;
  const prefs = await getPreferences(m, user.userId);
  await deliver(n, m, {
    eventId,
    userId: user.userId,
    to: user.email,
    input: { kind: 'welcome', displayName: user.displayName, username: user.username },
    emailVerified: true,
    prefs,
  });
  await markWelcomed(m, user.userId);
}

/** Handle on the registered consumers. */
export interface Consumers {
  /** Resolves when every handler in flight has settled (for graceful shutdown). */
  drain(): Promise<void>;
}

/**
 * Registers the three consumers.
 * @param deps data source, bus, notifier, queue names
 * @returns a handle to wait for handlers in flight
 */
export async function registerConsumers(deps: {
  ds: DataSource;
  bus: Bus;
  notifier: Notifier;
  queues: QueueNames;
}): Promise<Consumers> {
  const { ds, bus: realBus, notifier: n, queues } = deps;
  const { config } = n;
  const inflight = new Set<Promise<unknown>>();
  // Wraps consume() so every handler run is tracked until it settles.
  const bus = {
    consume: <T extends EventType>(spec: ConsumerSpec<T>) =>
      realBus.consume({
        ...spec,
        handler: (event, ctx) => {
          const run = spec.handler(event, ctx);
          inflight.add(run);
          void run.catch(() => undefined).finally(() => inflight.delete(run));
          return run;
        },
      }),
  };

  await bus.consume({
    queue: queues.users,
    types: ['user.registered.v1', 'user.profile_updated.v1', 'user.deleted.v1'] as const,
    handler: withInbox(ds, SCHEMA, queues.users, async (event, m) => {
      switch (event.type) {
        case 'user.registered.v1': {
          const p = (event as TypedEvent<'user.registered.v1', EventPayload<'user.registered.v1'>>).payload;
          // remember who they are; no mail: the address is unverified (the verification mail
          // comes from its own event)
          await applyUserFacts(m, { userId: p.userId, email: p.email, username: p.username, displayName: p.displayName, emailVerified: false, at: event.occurredAt });
          return;
        }
        case 'user.profile_updated.v1': {
          const p = (event as TypedEvent<'user.profile_updated.v1', EventPayload<'user.profile_updated.v1'>>).payload;
          const { user } = await applyUserFacts(m, { ...p, at: event.occurredAt });
          await welcomeIfDue(n, m, event.id, user);
          return;
        }
        case 'user.deleted.v1': {
          const p = (event as TypedEvent<'user.deleted.v1', EventPayload<'user.deleted.v1'>>).payload;
          await forgetUser(m, p.userId);
          n.logger.info({ userId: p.userId }, 'user forgotten');
          return;
        }
      }
    }),
  });

  await bus.consume({
    queue: queues.accountMail,
    types: ['user.email_verification_requested.v1', 'user.password_reset_requested.v1', 'user.new_login.v1'] as const,
    handler: withInbox(ds, SCHEMA, queues.accountMail, async (event, m) => {
      switch (event.type) {
        case 'user.email_verification_requested.v1': {
          const p = (event as TypedEvent<'user.email_verification_requested.v1', EventPayload<'user.email_verification_requested.v1'>>).payload;
          if (p.reason === 'registration_attempt') {
            // Only an older user-service sends this: a verification link handed to whoever tried
            // to sign up would verify a squatter's account. Not mailed (user-service now sends a
            // reset link instead).
            n.logger.warn({ eventId: event.id, userId: p.userId }, 'registration attempt with a verification link not mailed');
            return;
          }
          await deliver(n, m, {
            eventId: event.id,
            userId: p.userId,
            to: p.email,
            input: { kind: 'verify_email', displayName: p.displayName, verifyUrl: p.verifyUrl, expiresAt: p.expiresAt },
            emailVerified: undefined,
            prefs: await getPreferences(m, p.userId),
          });
          return;
        }
        case 'user.password_reset_requested.v1': {
          const p = (event as TypedEvent<'user.password_reset_requested.v1', EventPayload<'user.password_reset_requested.v1'>>).payload;
          const known = await findUser(m, p.userId);
          await deliver(n, m, {
            eventId: event.id,
            userId: p.userId,
            to: p.email,
            input:
              p.reason === 'registration_attempt'
                ? { kind: 'registration_attempt', displayName: p.displayName, url: p.resetUrl, expiresAt: p.expiresAt, unconfirmed: known?.emailVerified === false }
                : { kind: 'password_reset', displayName: p.displayName, resetUrl: p.resetUrl, expiresAt: p.expiresAt },
            emailVerified: known?.emailVerified,
            prefs: await getPreferences(m, p.userId),
          });
          return;
        }
        case 'user.new_login.v1': {
          const p = (event as TypedEvent<'user.new_login.v1', EventPayload<'user.new_login.v1'>>).payload;
          const { user } = await applyUserFacts(m, { userId: p.userId, email: p.email, displayName: p.displayName, emailVerified: p.emailVerified, at: event.occurredAt });
          await welcomeIfDue(n, m, event.id, user);
          await deliver(n, m, {
            eventId: event.id,
            userId: p.userId,
            to: p.email,
            input: { kind: 'new_login', displayName: p.displayName, userAgent: p.userAgent, ip: p.ip, at: p.at },
            emailVerified: p.emailVerified,
            prefs: await getPreferences(m, p.userId),
          });
          return;
        }
      }
    }),
  });

  await bus.consume({
    queue: queues.digest,
    types: ['chat.message_queued.v1', 'chat.mailbox_drained.v1'] as const,
    handler: withInbox(ds, SCHEMA, queues.digest, async (event, m) => {
      switch (event.type) {
        case 'chat.message_queued.v1': {
          const p = (event as TypedEvent<'chat.message_queued.v1', EventPayload<'chat.message_queued.v1'>>).payload;
          const prefs = await getPreferences(m, p.recipientUserId);
          if (!prefs.digest) return; // switched off: don't even keep the metadata
          await addDigestItem(
            m,
            p.recipientUserId,
            { messageId: p.messageId, senderUserId: p.senderUserId, queuedAt: new Date(p.queuedAt) },
            prefs.digestDelayMinutes ?? config.DIGEST_DELAY_MINUTES,
            config.DIGEST_REPEAT_HOURS,
          );
          return;
        }
        case 'chat.mailbox_drained.v1': {
          const p = (event as TypedEvent<'chat.mailbox_drained.v1', EventPayload<'chat.mailbox_drained.v1'>>).payload;
          const prefs = await getPreferences(m, p.userId);
          await drainDigest(m, p.userId, new Date(p.at), prefs.digestDelayMinutes ?? config.DIGEST_DELAY_MINUTES);
          return;
        }
      }
    }),
  });

  return {
    async drain() {
      await Promise.allSettled([...inflight]);
    },
  };
}
