import { useId, useRef } from 'react';
import { useFormStatus } from './useFormStatus.js';
import type { ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Avatar, useAvatarUrl } from './Avatar.js';

/** Side of the square picture that is sent, in pixels. */
export const AVATAR_SIDE = 256;
/** Largest file accepted from the picker before it is made small (MB). */
export const AVATAR_INPUT_MAX_MB = 20;

/** The picked file is not something this browser can decode as an image. */
class NotAnImage extends Error {}
/** The picked file is over {@link AVATAR_INPUT_MAX_MB}. */
class PickedTooLarge extends Error {}

/**
 * Crops an image to its centred square and scales it to {@link AVATAR_SIDE} px, as a JPEG (on a
 * white background, so transparent parts do not turn black).
 * @param file the picked file
 * @returns the picture to send
 * @throws {NotAnImage} when the browser cannot decode it
 */
export async function squarePicture(file: Blob): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new NotAnImage();
  }
  const side = Math.min(bitmap.width, bitmap.height);
  if (side === 0) throw new NotAnImage();
  const canvas = document.createElement('canvas');
  canvas.width = AVATAR_SIDE;
  canvas.height = AVATAR_SIDE;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new NotAnImage();
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, AVATAR_SIDE, AVATAR_SIDE);
  const sx = (bitmap.width - side) / 2;
  const sy = (bitmap.height - side) / 2;
  ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, AVATAR_SIDE, AVATAR_SIDE);
  bitmap.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new NotAnImage())), 'image/jpeg', 0.88),
  );
}

/**
 * Settings › Profile picture: pick an image (made square and small here), see it, remove it.
 * The SDK encrypts it and shares it end to end with my contacts.
 */
export function AvatarSettings() {
  const { api, state } = useApp();
  const { t } = useTranslation('avatar');
  const me = state.me;
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const hintId = useId();
  // Kept current by the SDK's events (a picture set on another device of mine shows here too).
  const hasPicture = useAvatarUrl(me?.id) !== null;

  const explain = (e: unknown): string => {
    if (e instanceof NotAnImage) return t('settings.errors.notImage');
    if (e instanceof PickedTooLarge)
      return t('settings.errors.inputTooLarge', { max: AVATAR_INPUT_MAX_MB });
    // The SDK's ApiError codes (duck-typed: the UI does not import the SDK).
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'avatar_not_image' || code === 'avatar_empty')
      return t('settings.errors.notImage');
    if (code === 'avatar_too_large') return t('settings.errors.tooLarge');
    if (code === 'quota_exceeded') return t('settings.errors.quota');
    return t('settings.errors.failed', { reason: describeError(e) });
  };
  const { busy, run, status } = useFormStatus(explain);
  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    void run(async () => {
      if (file.size > AVATAR_INPUT_MAX_MB * 1024 * 1024) throw new PickedTooLarge();
      await api.setAvatar(await squarePicture(file));
      return t('settings.saved');
    }).then(() => {
      if (input.current) input.current.value = ''; // the same file may be picked again
    });
  };
  const remove = () =>
    void run(async () => {
      await api.removeAvatar();
      return t('settings.removed');
    });

  return (
    <section className="card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>{t('settings.title')}</h2>
      <p className="muted small" id={hintId}>
        {t('settings.hint')}
      </p>
      <div className="avatar-settings-row">
        {me && <Avatar userId={me.id} name={me.displayName} size="large" />}
        <div>
          {!hasPicture && <p className="muted small">{t('settings.none')}</p>}
          <label htmlFor={inputId} className="field-label">
            {t('settings.choose')}
          </label>
          <input
            ref={input}
            id={inputId}
            type="file"
            accept="image/png,image/jpeg,image/webp,image/gif"
            aria-describedby={hintId}
            disabled={busy}
            onChange={pick}
          />
          {hasPicture && (
            <button type="button" className="secondary" disabled={busy} onClick={remove}>
              {t('settings.remove')}
            </button>
          )}
        </div>
      </div>
      {busy && <p role="status">{t('settings.saving')}</p>}
      {status}
    </section>
  );
}
