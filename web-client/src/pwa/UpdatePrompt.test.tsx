import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { render } from '../testing/render.js';
import { UpdatePrompt } from './UpdatePrompt.js';
import { updateState } from './update-state.js';

describe('UpdatePrompt', () => {
  afterEach(() => updateState.set(null));

  it('when no new version waits, then nothing is shown', async () => {
    const { container, unmount } = await render(<UpdatePrompt />);
    expect(container.textContent).toBe('');
    unmount();
  });

  it('when a new version waits, then it says so and Reload applies it', async () => {
    const apply = vi.fn(() => Promise.resolve());
    const { container, unmount } = await render(<UpdatePrompt />);
    await act(async () => updateState.set(apply));
    expect(container.textContent).toContain('A new version is available.');
    const button = container.querySelector('button');
    expect(button?.textContent).toBe('Reload');
    await act(async () => button?.click());
    expect(apply).toHaveBeenCalledOnce();
    unmount();
  });
});
