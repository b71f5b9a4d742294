import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { formatLocale } from '../i18n/format-locale.js';
import { describeError } from '../state/index.js';
import type { ForeignDeviceView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Dialog } from './Dialog.js';

/** "14:05" in the UI language. */
function hhmm(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(formatLocale(), {
    hour: '2-digit',
    minute: '2-digit',
  });
}

/**
 * Device alerts on the chats screen: a banner for each device on my account that did not come
 * from me (sending is paused until it is removed; one click removes it and the held messages go
 * out), a notice when a new device of mine was linked, and a dialog asking for the password when
 * this browser was removed from the account and must be linked again (history kept).
 */
export function DeviceAlerts() {
  const { api } = useApp();
  const { t } = useTranslation('safety');
  const [foreign, setForeign] = useState<ForeignDeviceView[]>([]);
  const [linked, setLinked] = useState<{ name: string; linkedAt: number } | null>(null);
  const [needsLogin, setNeedsLogin] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.deviceAlerts().then(
      (a) => {
        if (!live) return;
        setForeign(a.foreign);
        setNeedsLogin(a.needsLogin);
      },
      () => undefined,
    );
    const off = api.subscribe((e) => {
      if (e.type === 'foreignDevice') {
        setForeign((list) =>
          list.some((d) => d.deviceId === e.deviceId)
            ? list
            : [...list, { deviceId: e.deviceId, createdAt: e.createdAt }],
        );
      } else if (e.type === 'deviceLinked') {
        setLinked({ name: e.name, linkedAt: e.linkedAt });
      } else if (e.type === 'deviceRemoved') {
        setNeedsLogin(e.needsLogin);
      }
    });
    return () => {
      live = false;
      off();
    };
  }, [api]);

  const remove = async (deviceId: number) => {
    setBusy(true);
    setError(null);
    try {
      await api.removeDevice(deviceId);
      setForeign((list) => list.filter((d) => d.deviceId !== deviceId));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {foreign.map((d) => (
        <div key={d.deviceId} className="notice notice-danger device-banner" role="alert">
          <p>
            {t('devices.foreign', {
              date: new Date(d.createdAt).toLocaleString(formatLocale()),
            })}
          </p>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void remove(d.deviceId)}
          >
            {t('devices.remove')}
          </button>
          {error && <p className="error">{error}</p>}
        </div>
      ))}
      {linked && (
        <div className="notice device-linked" role="status">
          {t('devices.linked', { name: linked.name, time: hhmm(linked.linkedAt) })}{' '}
          <button type="button" className="link" onClick={() => setLinked(null)}>
            {t('devices.dismiss')}
          </button>
        </div>
      )}
      {needsLogin && <RelinkDialog onDone={() => setNeedsLogin(false)} />}
    </>
  );
}

/** Asks for the password to link this browser again after it was removed from the account. */
function RelinkDialog({ onDone }: { onDone: () => void }) {
  const { api } = useApp();
  const { t } = useTranslation('safety');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.relinkDevice(password);
      onDone();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('devices.relinkTitle')} onClose={() => undefined}>
      <form onSubmit={(e) => void submit(e)}>
        <p>{t('devices.relinkExplain')}</p>
        <label htmlFor="relink-password">{t('devices.password')}</label>
        <input
          id="relink-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={busy || password === ''}>
            {t('devices.relink')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
