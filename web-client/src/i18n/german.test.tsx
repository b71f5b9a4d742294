import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { previewOf } from '../components/ConversationList.js';
import { GroupReceipts } from '../components/GroupReceipts.js';
import { LogOutDialog } from '../components/LogOutDialog.js';
import { ReportDialog } from '../components/ReportDialog.js';
import { RecoveryKeyPage } from '../pages/RecoveryKeyPage.js';
import type { ConversationView, MessageView } from '../state/index.js';
import {
  conversationTitle,
  describeError,
  describeGroupEvent,
  initialState,
  membershipWarningText,
  reducer,
} from '../state/index.js';
import { timerLabel, timerShortLabel } from '../state/disappearing.js';
import { groupReadState } from '../state/read-state.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';
import { i18next } from './index.js';

let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await i18next.changeLanguage('en');
});

const carol = {
  id: '00000000-0000-4000-8000-00000000000c',
  username: 'carol',
  displayName: 'Carol',
};

/** Signed in as Alice, knowing Bob and Carol. */
function signedIn() {
  let s = reducer(initialState, { type: 'signedUp', me: alice, recoveryKey: 'ABCD-EFGH-IJKL' });
  s = reducer(s, { type: 'usersLoaded', users: [bob, carol] });
  return s;
}

describe('the UI in German', () => {
  it('when the language switches to German, then an open page rewords itself, markup and all', async () => {
    const { container, unmount } = await render(
      <AppProvider api={stubApi()} initial={signedIn()}>
        <RecoveryKeyPage />
      </AppProvider>,
    );
    cleanup = unmount;
    expect(container.querySelector('h1')?.textContent).toBe('Save your recovery key');
    expect(container.querySelector('strong')?.textContent).toBe('only once');

    await act(async () => {
      await i18next.changeLanguage('de');
    });
    expect(container.querySelector('h1')?.textContent).toBe(
      'Sichere deinen Wiederherstellungsschlüssel',
    );
    expect(container.querySelector('strong')?.textContent).toBe('nur ein einziges Mal');
    expect(button(container, 'Weiter').disabled).toBe(true);
    expect(document.documentElement.lang).toBe('de');
  });

  it('when a report is sent without a reason in German, then the dialog and its error are German', async () => {
    await i18next.changeLanguage('de');
    const { container, unmount } = await render(
      <ReportDialog name="Bob" onSubmit={async () => undefined} onClose={() => undefined} />,
    );
    cleanup = unmount;
    expect(container.querySelector('h2')?.textContent).toBe('Bob melden');
    expect(container.textContent).toContain('Beleidigung oder Belästigung');
    expect(container.textContent).toContain('Bob auch blockieren');
    await click(button(container, 'Meldung senden'));
    expect(container.querySelector('[role="alert"]')?.textContent).toBe('Wähle einen Grund.');
  });

  it('when my group message was delivered to some members, then the German summary counts them', async () => {
    await i18next.changeLanguage('de');
    const group: ConversationView = {
      id: 'g1',
      kind: 'group',
      title: 'Plans',
      members: [alice, bob, carol].map((u) => ({ userId: u.id, role: 'member' as const })),
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const mine: MessageView = {
      id: 'm1',
      conversationId: 'g1',
      senderUserId: alice.id,
      direction: 'out',
      kind: 'text',
      text: 'hi',
      sentAt: 1_000,
      status: 'delivered',
      deliveredTo: [bob.id],
      readBy: [bob.id],
    };
    const read = groupReadState(mine, group, alice.id)!;
    const { container, unmount } = await render(
      <AppProvider api={stubApi()} initial={signedIn()}>
        <GroupReceipts state={read} />
      </AppProvider>,
    );
    cleanup = unmount;
    expect(container.querySelector('summary')?.textContent).toContain('Gelesen: 1 von 2');
    expect(container.querySelector('ul')?.getAttribute('aria-label')).toBe('Gelesen von');
  });

  it('when group changes are worded in German, then "you" is conjugated and plurals follow the count', async () => {
    const s = signedIn();
    await i18next.changeLanguage('de');
    const line = (e: Parameters<typeof describeGroupEvent>[1]) => describeGroupEvent(s, e);
    expect(line({ type: 'added', actorUserId: bob.id, userIds: [carol.id] })).toBe(
      'Bob hat Carol hinzugefügt',
    );
    expect(line({ type: 'removed', actorUserId: alice.id, userIds: [carol.id] })).toBe(
      'Du hast Carol entfernt',
    );
    expect(line({ type: 'role', actorUserId: bob.id, userIds: [alice.id], role: 'admin' })).toBe(
      'Bob hat dich zum Admin gemacht',
    );
    expect(
      line({ type: 'role', actorUserId: bob.id, userIds: [alice.id, carol.id], role: 'member' }),
    ).toBe('Bob hat dich, Carol zu Mitgliedern gemacht');
    expect(line({ type: 'timer', actorUserId: bob.id, timerS: 300 })).toBe(
      'Bob hat verschwindende Nachrichten auf 5 Minuten gestellt',
    );
    expect(line({ type: 'left', actorUserId: alice.id })).toBe('Du hast die Gruppe verlassen');
    expect(membershipWarningText(s, ['nobody'])).toContain('eine unbekannte Person');
    expect([timerLabel(3600), timerLabel(2 * 86_400), timerShortLabel(300)]).toEqual([
      '1 Stunde',
      '2 Tage',
      '5 Min.',
    ]);
    expect(describeError(Object.assign(new Error('x'), { code: 'rate_limited' }))).toBe(
      'Zu viele Versuche. Warte einen Moment und versuche es dann erneut.',
    );

    await i18next.changeLanguage('en');
    expect(line({ type: 'role', actorUserId: alice.id, userIds: [bob.id], role: 'admin' })).toBe(
      'You made Bob an admin',
    );
    expect([timerLabel(60), timerLabel(14 * 86_400), timerShortLabel(86_400)]).toEqual([
      '1 minute',
      '2 weeks',
      '1d',
    ]);
  });

  it('when the log-out dialog opens in German with a stale backup and unsent messages, then it warns in German', async () => {
    await i18next.changeLanguage('de');
    const api = stubApi({ isBackupUpToDate: async () => false, unsentCount: async () => 2 });
    const { container, unmount } = await render(
      <AppProvider api={api} initial={signedIn()}>
        <LogOutDialog onClose={() => undefined} />
      </AppProvider>,
    );
    cleanup = unmount;
    await settle();
    expect(container.querySelector('h2')?.textContent).toBe('Abmelden?');
    expect(container.querySelector('.notice strong')?.textContent).toBe(
      'Deine Schlüsselsicherung ist nicht aktuell.',
    );
    expect(container.textContent).toContain('2 Nachrichten wurden noch nicht gesendet.');
    expect(button(container, 'Trotzdem abmelden').disabled).toBe(false);
    expect(button(container, 'Jetzt sichern')).toBeTruthy();
  });

  it('when a conversation has no title or no message yet, then its German fallbacks show', async () => {
    const s = signedIn();
    await i18next.changeLanguage('de');
    const group: ConversationView = {
      id: 'g2',
      kind: 'group',
      title: null,
      members: [{ userId: alice.id, role: 'admin' }],
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect(conversationTitle(s, group)).toBe('Gruppe');
    expect(conversationTitle(s, { ...group, kind: 'direct' })).toBe('Notiz an mich');
    expect(previewOf(undefined, alice.id)).toBe('Noch keine Nachrichten');
    await i18next.changeLanguage('en');
    expect(conversationTitle(s, group)).toBe('Group');
    expect(previewOf(undefined, alice.id)).toBe('No messages yet');
  });

  it('when a name looks like a translation key or placeholder, then it is shown as typed', async () => {
    let s = signedIn();
    s = reducer(s, {
      type: 'usersLoaded',
      users: [{ ...carol, displayName: '$t(chat:tombstone) {{names}}' }],
    });
    expect(describeGroupEvent(s, { type: 'left', actorUserId: carol.id })).toBe(
      '$t(chat:tombstone) {{names}} left',
    );
  });
});
