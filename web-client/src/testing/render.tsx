import { act } from 'react';
import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryRouter } from 'react-router';

// React's act() warns unless the environment says it supports it.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/**
 * Renders into a fresh container (jsdom) inside act(), inside a MemoryRouter (the app's pages
 * and links need a router; main.tsx uses a BrowserRouter).
 * @param ui the element
 * @param options.path the address the router starts at (default `/`, which shows the chats)
 * @returns the container and an unmount function
 */
export async function render(
  ui: ReactNode,
  options: { path?: string } = {},
): Promise<{ container: HTMLElement; unmount: () => void }> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () =>
    root.render(<MemoryRouter initialEntries={[options.path ?? '/']}>{ui}</MemoryRouter>),
  );
  return {
    container,
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    },
  };
}

/** Lets pending promises and effects settle. */
export async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

/**
 * Sets an input's value the way React notices (through the native setter) and fires `input`.
 * @param el the input or textarea
 * @param value new value
 */
export async function typeInto(
  el: HTMLInputElement | HTMLTextAreaElement,
  value: string,
): Promise<void> {
  const proto =
    el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  await act(async () => {
    Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(el, value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

/** Clicks inside act(). */
export async function click(el: Element): Promise<void> {
  await act(async () => {
    (el as HTMLElement).click();
  });
}

/** Finds a button, or a link (navigation, conversation list), by its visible text. */
export function button(container: HTMLElement, text: string | RegExp): HTMLButtonElement {
  const found = [...container.querySelectorAll<HTMLButtonElement>('button, a[href]')].find((b) =>
    typeof text === 'string' ? b.textContent?.trim() === text : text.test(b.textContent ?? ''),
  );
  if (!found) throw new Error(`no button ${String(text)}`);
  return found;
}

/** Finds an input by its label text. */
export function field(container: HTMLElement, label: string): HTMLInputElement {
  const l = [...container.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
  const el = l ? (document.getElementById(l.htmlFor) as HTMLInputElement | null) : null;
  if (!el) throw new Error(`no field ${label}`);
  return el;
}
