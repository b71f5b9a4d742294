import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../App.js';
import type { MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, directConversation, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';
import { isoTime, localDateTime, localTime } from './time-format.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const conversation = directConversation('00000000-0000-4000-8000-0000000000c4');
const BEYOND_DATE = 9_000_000_000_000_000;

describe('message times that a Date cannot hold', () => {
  it('when formatted, then the helpers give an empty string instead of throwing', () => {
    expect(isoTime(BEYOND_DATE)).toBe('');
    expect(localTime(BEYOND_DATE)).toBe('');
    expect(localDateTime(Number.NaN)).toBe('');
    expect(isoTime(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00.000Z');
  });

  it('when a stored message and its edit history carry such times, then the chat still shows them', async () => {
    const odd: MessageView = {
      id: 'odd',
      conversationId: conversation.id,
      kind: 'text',
      senderUserId: bob.id,
      direction: 'in',
      text: 'from the far future',
      sentAt: BEYOND_DATE,
      status: 'received',
      editedAt: BEYOND_DATE,
      edits: [{ text: 'first words', at: BEYOND_DATE }],
    };
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [conversation],
      history: async () => [odd],
    });
    const { container, unmount } = await render(
      <AppProvider api={api}>
        <App />
      </AppProvider>,
    );
    cleanup = unmount;
    await settle();
    await click(container.querySelector('.conversation-item')!);
    await settle();
    const bubble = container.querySelector<HTMLElement>('li[data-message-id="odd"]')!;
    expect(bubble.textContent).toContain('from the far future');
    await click(button(bubble, 'edited'));
    expect(bubble.querySelector('[aria-label="Edit history"]')?.textContent).toContain(
      'first words',
    );
  });
});
