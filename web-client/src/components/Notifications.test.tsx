import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MessageView } from '../state/index.js';
import { initialState } from '../state/reducer.js';
import type { AppState, View } from '../state/reducer.js';
import { resetPrefsForTests } from '../state/notification-prefs.js';
import { AppProvider, useApp } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { button, click, field, render, settle } from '../testing/render.js';
import { NotificationSettings } from './NotificationSettings.js';
import { Notifications } from './Notifications.js';

/** jsdom has no Notification API: a stand-in that records what the app shows. */
class FakeNotification extends EventTarget {
  static permission: NotificationPermission = 'default';
  static shown: FakeNotification[] = [];
  static requestPermission = vi.fn(async () => FakeNotification.permission);
  closed = false;
  constructor(
    readonly title: string,
    readonly options: NotificationOptions,
  ) {
    super();
    FakeNotification.shown.push(this);
  }
  close() {
    this.closed = true;
  }
}

const direct = {
  id: 'c-bob',
  kind: 'direct' as const,
  title: null,
  members: [
    { userId: alice.id, role: 'member' as const },
    { userId: bob.id, role: 'member' as const },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};
const incoming = (text: string): MessageView => ({
  id: `m-${text}`,
  conversationId: direct.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text,
  sentAt: 1000,
  status: 'received',
});

/** Shows which screen the app is on. */
function ViewProbe() {
  const { view } = useApp().state;
  return (
    <span data-testid="view">
      {view.name}:{view.name === 'chats' ? (view.conversationId ?? '') : ''}
    </span>
  );
}

let cleanup: (() => void) | undefined;
let play: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  localStorage.clear();
  resetPrefsForTests();
  FakeNotification.permission = 'default';
  FakeNotification.shown = [];
  vi.stubGlobal('Notification', FakeNotification);
  play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
  document.title = 'CipherChat';
});
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

async function show(view: View = { name: 'chats' }, ui = <Notifications />) {
  const api = stubApi({ history: async () => [] });
  const state: AppState = {
    ...initialState,
    phase: 'signedIn',
    me: alice,
    view,
    conversations: { [direct.id]: direct },
    messages: { [direct.id]: [] },
    users: { [bob.id]: bob },
  };
  const { container, unmount } = await render(
    <AppProvider api={api} initial={state}>
      {ui}
      <ViewProbe />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return { container, api };
}

describe('the notification prompt on the chats screen', () => {
  it('when the browser has not decided, then it asks; "Not now" is remembered on this browser', async () => {
    const first = await show();
    expect(first.container.textContent).toContain('Get notified of new messages?');
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled();
    await click(button(first.container, 'Not now'));
    expect(first.container.textContent).not.toContain('Get notified');
    cleanup?.();
    resetPrefsForTests();
    const again = await show();
    expect(again.container.textContent).not.toContain('Get notified');
  });

  it('when "Turn on" is answered with Allow, then the prompt goes; a block says where to undo it', async () => {
    FakeNotification.requestPermission.mockImplementationOnce(async () => {
      FakeNotification.permission = 'granted';
      return 'granted';
    });
    const { container } = await show();
    await click(button(container, 'Turn on'));
    await settle();
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    expect(container.textContent).not.toContain('Get notified');
    cleanup?.();
    FakeNotification.permission = 'default';
    FakeNotification.requestPermission.mockImplementationOnce(async () => {
      FakeNotification.permission = 'denied';
      return 'denied';
    });
    const blocked = await show();
    await click(button(blocked.container, 'Turn on'));
    await settle();
    expect(blocked.container.textContent).toContain('Your browser blocked notifications');
  });

  it('when another screen is shown, then it does not ask', async () => {
    const { container } = await show({ name: 'settings' });
    expect(container.textContent).not.toContain('Get notified');
  });
});

describe('a new message while the tab is in the background', () => {
  it('when it arrives, then a notification without content replaces the last one, the sound plays, the title counts it, and a click opens the chat', async () => {
    FakeNotification.permission = 'granted';
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    const { container, api } = await show();
    api.emit({ type: 'message', message: incoming('first secret'), arrival: true });
    await settle();
    api.emit({ type: 'message', message: incoming('second secret'), arrival: true });
    // An edit or a reaction of a message is not an arrival.
    api.emit({
      type: 'message',
      message: { ...incoming('second secret'), text: 'edited secret', editedAt: 5 },
    });
    await settle();
    expect(FakeNotification.shown.map((n) => [n.title, n.options.body, n.options.tag])).toEqual([
      ['CipherChat', 'New message', `conversation:${direct.id}`],
      ['CipherChat', 'New message', `conversation:${direct.id}`],
    ]);
    expect(FakeNotification.shown[0]!.closed).toBe(true);
    expect(play).toHaveBeenCalledTimes(1); // a burst plays it once
    expect(document.title).toBe('(2) CipherChat');

    expect(container.querySelector('[data-testid="view"]')?.textContent).toBe('chats:');
    const focus = vi.spyOn(window, 'focus').mockImplementation(() => undefined);
    FakeNotification.shown[1]!.dispatchEvent(new Event('click'));
    await settle();
    expect(focus).toHaveBeenCalled();
    expect(FakeNotification.shown[1]!.closed).toBe(true);
    expect(container.querySelector('[data-testid="view"]')?.textContent).toBe(`chats:${direct.id}`);
  });

  it('when the message is for a conversation not loaded yet, then it notifies once the list has it', async () => {
    FakeNotification.permission = 'granted';
    localStorage.setItem('cipherchat.notifications', JSON.stringify({ previews: true }));
    resetPrefsForTests();
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    const other = { ...direct, id: 'c-new', myState: 'request' as const };
    const api = stubApi({
      history: async () => [],
      listConversations: async () => [direct, other],
    });
    const state: AppState = {
      ...initialState,
      phase: 'signedIn',
      me: alice,
      conversations: { [direct.id]: direct },
      users: { [bob.id]: bob },
    };
    const r = await render(
      <AppProvider api={api} initial={state}>
        <Notifications />
      </AppProvider>,
    );
    cleanup = r.unmount;
    api.emit({
      type: 'message',
      message: { ...incoming('hello stranger'), conversationId: 'c-new' },
      arrival: true,
    });
    await settle(10);
    expect(FakeNotification.shown.map((n) => n.options.body)).toEqual(['New message request']);
  });
});

describe('Settings › Notifications on this browser', () => {
  it('when previews and sound are switched, then they are kept; previews start off', async () => {
    FakeNotification.permission = 'granted';
    const { container } = await show({ name: 'settings' }, <NotificationSettings />);
    expect(field(container, 'Show notifications').checked).toBe(true);
    const previews = field(container, 'Show name and message in notifications');
    expect(previews.checked).toBe(false);
    await click(previews);
    await click(field(container, 'Play a sound for new messages'));
    expect(JSON.parse(localStorage.getItem('cipherchat.notifications') ?? '{}')).toMatchObject({
      previews: true,
      sound: false,
    });
    const push = field(container, 'Notify me while CipherChat is closed (Web Push)');
    expect(push.disabled).toBe(true);
  });

  it('when the browser blocked notifications, then the switch is off and it says how to allow them again', async () => {
    FakeNotification.permission = 'denied';
    const { container } = await show({ name: 'settings' }, <NotificationSettings />);
    expect(field(container, 'Show notifications').checked).toBe(false);
    expect(field(container, 'Show notifications').disabled).toBe(true);
    expect(container.textContent).toContain('set Notifications to Allow');
  });

  it('when notifications are turned on, then the browser is asked', async () => {
    FakeNotification.requestPermission.mockImplementationOnce(async () => {
      FakeNotification.permission = 'granted';
      return 'granted';
    });
    const { container } = await show({ name: 'settings' }, <NotificationSettings />);
    expect(field(container, 'Show notifications').checked).toBe(false);
    await click(field(container, 'Show notifications'));
    await settle();
    expect(field(container, 'Show notifications').checked).toBe(true);
  });
});
