import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  browserTest,
  chattingPair,
  FAKE_MEDIA_ARGS,
  openConversation,
  shot,
  test as it,
  waitForResume,
} from './support/harness.js';

/** Every request a page makes, as `METHOD path`. */
function recordRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => seen.push(`${r.method()} ${new URL(r.url()).pathname}`));
  return seen;
}

/** Slows a page's network (Chrome DevTools protocol) so a transfer's progress can be seen. */
async function throttle(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: bytesPerSecond,
    uploadThroughput: bytesPerSecond,
  });
}

/**
 * Records every value the progress bar shows (a MutationObserver in the page), so a test can
 * check what the user saw after the fact.
 */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { progressSeen: string[] };
    w.progressSeen = [];
    const note = () => {
      for (const bar of Array.from(document.querySelectorAll('[role="progressbar"]')))
        w.progressSeen.push(bar.getAttribute('aria-valuenow') ?? 'unknown');
    };
    new MutationObserver(note).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
    });
  });
}

/** Makes a noisy (incompressible) PNG of about 2 MB in the page and pastes it into the composer. */
async function pasteImage(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 800;
    canvas.height = 600;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(canvas.width, canvas.height);
    const noise = new Uint8Array(img.data.length);
    for (let at = 0; at < noise.length; at += 65_536)
      crypto.getRandomValues(noise.subarray(at, at + 65_536));
    for (let i = 0; i < img.data.length; i += 4) {
      img.data[i] = noise[i]!;
      img.data[i + 1] = (i / 4000) % 256;
      img.data[i + 2] = noise[i + 2]!;
      img.data[i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const blob = await new Promise<Blob>((resolve) =>
      canvas.toBlob((b) => resolve(b!), 'image/png'),
    );
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
    const box = document.querySelector('textarea')!;
    box.focus();
    box.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
    );
  });
}

describe('attachments', () => {
  it("when Alice picks a 30 MB file, then it is refused before encryption with the server's limit, and nothing is uploaded", async ({
    browser,
  }) => {
    const { alice } = await chattingPair(browser, 'A big file is coming');
    const requests = recordRequests(alice.page);
    // The file is made in the page (handing 30 MB to the browser over the protocol is slow) and
    // given to the file input as a picked file would be.
    await alice.page.getByLabel('Attach a file').evaluate((input: HTMLInputElement) => {
      const dt = new DataTransfer();
      dt.items.add(
        new File([new Uint8Array(30 * 1024 * 1024)], 'big.bin', {
          type: 'application/octet-stream',
        }),
      );
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await alice.page
      .getByRole('alert')
      .filter({ hasText: 'This file is 30 MB; the server accepts files up to 25 MB.' })
      .waitFor();
    await shot(alice.page, 'att-01-too-large');
    expect(requests).toContain('GET /api/chat/config');
    expect(requests.filter((r) => r.startsWith('POST /api/chat/attachments'))).toEqual([]);
    expect(await alice.page.locator('li.message-out', { hasText: 'big.bin' }).count()).toBe(0);
  });

  it('when Alice pastes an image, then she sees upload progress, Bob sees its thumbnail at once and then the full image, and the image is downloaded once even after a reload', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'A photo is coming');
    await throttle(alice.page, 1_000_000);
    await throttle(bob.page, 600_000);
    const bobRequests = recordRequests(bob.page);
    await watchProgress(alice.page);
    await pasteImage(alice.page);
    await alice.page.getByRole('progressbar').waitFor();
    await expect(alice.page.getByTestId('transfer-bar').textContent()).resolves.toMatch(
      /Uploading pasted\.png.*%/,
    );
    await shot(alice.page, 'att-02-upload-progress');
    await alice.page.locator('li.message-out img[alt="pasted.png"]').waitFor({ timeout: 60_000 });
    const seen = await alice.page.evaluate(
      () => (window as unknown as { progressSeen: string[] }).progressSeen,
    );
    expect(seen.map(Number).some((p) => p > 0 && p <= 100)).toBe(true);

    // Bob: the thumbnail from inside the message first, then the decrypted image.
    const thumb = bob.page.locator('li.message-in [data-testid="attachment-thumbnail"]');
    await thumb.waitFor({ timeout: 60_000 });
    expect(await thumb.getAttribute('src')).toMatch(/^data:image\/(webp|jpeg);base64,/);
    await shot(bob.page, 'att-03-thumbnail-first');
    const full = bob.page.locator('li.message-in img[alt="pasted.png"]');
    await full.waitFor({ timeout: 60_000 });
    expect(await full.getAttribute('src')).toMatch(/^blob:/);
    expect(await thumb.count()).toBe(0);
    await shot(bob.page, 'att-04-full-image');
    const downloads = () =>
      bobRequests.filter((r) => /^GET \/api\/chat\/attachments\//.test(r)).length;
    expect(downloads()).toBe(1);

    // Shown again after a reload: from the sealed cache, no second download.
    await bob.page.reload();
    await waitForResume(bob);
    await openConversation(bob.page, alice.displayName);
    await bob.page.locator('li.message-in img[alt="pasted.png"]').waitFor();
    expect(downloads()).toBe(1);
  }, 300_000);

  it('when Alice drags a file onto the chat, then a drop zone shows and the dropped file reaches Bob', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Dropping a file');
    const drag = (type: 'dragenter' | 'drop') =>
      alice.page.evaluate((t) => {
        const dt = new DataTransfer();
        dt.items.add(new File(['meeting notes, end to end'], 'notes.txt', { type: 'text/plain' }));
        const pane = document.querySelector('.conversation-pane')!;
        pane.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, type);
    await drag('dragenter');
    await alice.page.getByTestId('drop-zone').waitFor();
    await shot(alice.page, 'att-05-drop-zone');
    await drag('drop');
    await alice.page.getByTestId('drop-zone').waitFor({ state: 'detached' });
    await alice.page.locator('li.message-out', { hasText: 'notes.txt' }).waitFor();
    await bob.page.locator('li.message-in', { hasText: 'notes.txt' }).waitFor();
  });
});

const withMicrophone = browserTest(FAKE_MEDIA_ARGS);

describe('voice notes', () => {
  withMicrophone(
    'when Alice records a voice note with the microphone, then Bob gets it and it plays inline',
    async ({ browser }) => {
      const { alice, bob } = await chattingPair(browser, 'Listen to this');
      await alice.page.getByRole('button', { name: 'Record a voice note' }).click();
      await alice.page
        .getByTestId('recording-time')
        .filter({ hasText: /Recording 0:0[2-9]/ })
        .waitFor();
      await shot(alice.page, 'att-06-recording');
      await alice.page.getByRole('button', { name: 'Send voice note' }).click();
      await alice.page.locator('li.message-out audio.voice-note').waitFor({ timeout: 60_000 });

      const audio = bob.page.locator('li.message-in audio.voice-note');
      await audio.waitFor({ timeout: 60_000 });
      expect(await audio.getAttribute('src')).toMatch(/^blob:/);
      await expect(
        bob.page.locator('li.message-in', { hasText: /Voice note \(0:0[2-9]\)/ }).count(),
      ).resolves.toBe(1);
      await audio.evaluate((a: HTMLAudioElement) => a.play());
      await bob.page.waitForFunction(() => {
        const a = document.querySelector<HTMLAudioElement>('li.message-in audio.voice-note');
        return !!a && a.currentTime > 0;
      });
      await shot(bob.page, 'att-07-voice-note');
    },
  );
});
