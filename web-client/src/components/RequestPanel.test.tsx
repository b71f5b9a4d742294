import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { ConversationView, MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const request: ConversationView = {
  id: '00000000-0000-4000-8000-0000000000d1',
  kind: 'direct',
  title: null,
  members: [
    { userId: alice.id, role: 'member' },
    { userId: bob.id, role: 'member' },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
  myState: 'request',
};
const friend: ConversationView = {
  ...request,
  id: '00000000-0000-4000-8000-0000000000d2',
  myState: 'accepted',
  members: [{ userId: alice.id, role: 'member' }],
};
const photo: MessageView = {
  id: 'p1',
  conversationId: request.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'attachment',
  attachment: { id: 'a1', contentType: 'image/png', size: 2048, fileName: 'prize.png' },
  sentAt: 1_000,
  status: 'received',
};

/** The app signed in as Alice with Bob's request (a photo in it) and one accepted chat. */
async function withRequest(overrides: Parameters<typeof stubApi>[0] = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [request, friend],
    history: async (id) => (id === request.id ? [photo] : []),
    ...overrides,
  });
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return { api, container };
}

const requestsRegion = (c: HTMLElement) =>
  c.querySelector<HTMLElement>('section[aria-labelledby="requests-title"]');

async function openRequest(container: HTMLElement) {
  const entry = requestsRegion(container)?.querySelector('.conversation-item');
  if (!entry) throw new Error('no request in the list');
  await click(entry);
  await settle();
}

describe('message requests', () => {
  it('when a stranger wrote, then the request is listed apart and opens with who it is from, the four choices and no composer', async () => {
    const markRead = vi.fn(async () => undefined);
    const downloadAttachment = vi.fn(async () => new Blob(['x']));
    const { container } = await withRequest({ markRead, downloadAttachment });
    expect(container.querySelector('#requests-title')?.textContent).toBe('Message requests (1)');
    // The accepted chat is not under the requests heading.
    expect(requestsRegion(container)?.querySelectorAll('.conversation-item').length).toBe(1);

    await openRequest(container);
    const panel = container.querySelector('[aria-labelledby="request-title"]');
    expect(panel?.textContent).toContain('Message request from Bob (@bob)');
    for (const b of ['Accept', 'Decline', 'Block', 'Report…'])
      expect(button(container, b)).toBeTruthy();
    expect(container.querySelector('textarea[aria-label="Message"], #composer-input')).toBeNull();
    expect([...container.querySelectorAll('label')].some((l) => l.textContent === 'Message')).toBe(
      false,
    );
    // Nothing fetched, nothing marked read: the sender learns nothing.
    expect(downloadAttachment).not.toHaveBeenCalled();
    expect(markRead).not.toHaveBeenCalled();
    expect(container.textContent).toContain('Not downloaded: this is a message request.');

    // The Download button asks for it, on purpose.
    await click(button(container, /Download prize\.png/));
    await settle();
    expect(downloadAttachment).toHaveBeenCalled();
  });

  it('when I accept, then the composer appears, the request heading goes and the messages are marked read', async () => {
    const acceptRequest = vi.fn(async () => undefined);
    const markRead = vi.fn(async () => undefined);
    const { container } = await withRequest({ acceptRequest, markRead });
    await openRequest(container);
    await click(button(container, 'Accept'));
    await settle();
    expect(acceptRequest).toHaveBeenCalledWith(request.id);
    expect(container.querySelector('#requests-title')).toBeNull();
    expect(container.querySelector('[aria-labelledby="request-title"]')).toBeNull();
    expect([...container.querySelectorAll('label')].some((l) => l.textContent === 'Message')).toBe(
      true,
    );
    expect(markRead).toHaveBeenCalledWith(request.id, ['p1']);
  });

  it('when I decline or block, then the request leaves the list; a failed decline says why and keeps it', async () => {
    const declineRequest = vi
      .fn<(id: string) => Promise<void>>()
      .mockRejectedValueOnce(new Error('Network down'))
      .mockResolvedValue(undefined);
    const block = vi.fn(async () => undefined);
    const { container } = await withRequest({ declineRequest, block });
    await openRequest(container);
    await click(button(container, 'Decline'));
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toContain('Network down');
    expect(requestsRegion(container)).not.toBeNull();

    await click(button(container, 'Block'));
    await settle();
    expect(block).toHaveBeenCalledWith(bob.id);
    expect(declineRequest).toHaveBeenLastCalledWith(request.id);
    expect(requestsRegion(container)).toBeNull();
  });

  it('when I report, then a reason is required, the note and "also block" are sent, and the request goes', async () => {
    const report = vi.fn(async () => undefined);
    const declineRequest = vi.fn(async () => undefined);
    const { container } = await withRequest({ report, declineRequest });
    await openRequest(container);
    await click(button(container, 'Report…'));
    const dialog = container.querySelector('dialog');
    expect(dialog?.getAttribute('aria-labelledby')).toBe('dialog-title');
    await click(button(container, 'Send report'));
    expect(dialog?.querySelector('[role="alert"]')?.textContent).toBe('Choose a reason.');
    expect(report).not.toHaveBeenCalled();

    const spam = [...dialog!.querySelectorAll('label')].find((l) => l.textContent === 'Spam');
    await click(document.getElementById(spam!.htmlFor)!);
    const note = [...dialog!.querySelectorAll('label')].find(
      (l) => l.textContent === 'Note (optional)',
    );
    await typeInto(
      document.getElementById(note!.htmlFor) as HTMLTextAreaElement,
      '  sells fake prizes ',
    );
    await click(button(container, 'Send report'));
    await settle();
    expect(report).toHaveBeenCalledWith({
      userId: bob.id,
      conversationId: request.id,
      reason: 'spam',
      note: 'sells fake prizes',
      block: true,
    });
    expect(requestsRegion(container)).toBeNull();
  });
});
