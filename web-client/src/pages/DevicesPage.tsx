import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { describeError } from '../state/index.js';
import type { DeviceView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Dialog } from '../components/Dialog.js';

const STATUS_TEXT: Record<DeviceView['status'], string> = {
  linked: 'Linked',
  unknown: 'Not announced yet',
  foreign: 'Not yours: another identity key',
};

/**
 * "Last active" in words: today, yesterday, else the date (the server keeps only the hour).
 * @param iso the device's `lastActiveAt`
 * @param t the `dev` namespace
 * @param now the current time
 * @returns e.g. "last active today"
 */
export function lastActiveText(iso: string | undefined, t: TFunction<'dev'>, now = new Date()): string {
  if (!iso) return t('devices.unknown');
  const at = new Date(iso);
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(now) - day(at)) / 86_400_000);
  const when = days <= 0 ? t('devices.today') : days === 1 ? t('devices.yesterday') : at.toLocaleDateString();
  return t('devices.lastActive', { when });
}

/** My devices (each browser install is one) and "log out other devices". */
export function DevicesPage() {
  const { api } = useApp();
  const { t } = useTranslation('dev');
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<DeviceView | null>(null);

  const load = useCallback(() => {
    setError(null);
    api.listDevices().then(setDevices, (e: unknown) => setError(describeError(e)));
  }, [api]);
  useEffect(load, [load]);

  const logOutOthers = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.logOutOtherDevices();
      setNotice('Every other device has been logged out.');
      setConfirming(false);
      load();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (d: DeviceView) => {
    setBusy(true);
    setError(null);
    try {
      await api.removeDevice(d.deviceId);
      setNotice(`${d.name ?? `Device ${d.deviceId}`} has been removed.`);
      setRemoving(null);
      load();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page" aria-labelledby="devices-title">
      <h1 id="devices-title">My devices</h1>
      <p className="muted">
        Every browser where you logged in holds its own keys. Messages are encrypted for each of
        them. Names come from the devices themselves, end to end: the server does not know them.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}{' '}
          <button type="button" className="link" onClick={load}>
            Retry
          </button>
        </p>
      )}
      {notice && <p role="status">{notice}</p>}
      {!devices && !error && <p role="status">Loading devices…</p>}
      {devices && (
        <ul className="device-list" aria-label="Devices">
          {devices.map((d) => (
            <li key={d.deviceId} className={`device-row device-${d.status}`}>
              <span>{d.name ?? `Device ${d.deviceId}`}</span>
              {d.current ? (
                <span className="chip">This browser</span>
              ) : (
                <span className={d.status === 'foreign' ? 'chip chip-danger' : 'muted small'}>
                  {STATUS_TEXT[d.status]}
                </span>
              )}
              {d.createdAt && (
                <span className="muted small">added {new Date(d.createdAt).toLocaleString()}</span>
              )}
              <span className="muted small device-last-active">
                {lastActiveText(d.lastActiveAt, t)}
              </span>
              {!d.current && (
                <button type="button" className="secondary small" onClick={() => setRemoving(d)}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <Dialog title="Remove this device?" onClose={() => setRemoving(null)}>
          <p>
            Remove {removing.name ?? `device ${removing.deviceId}`} from your account? It will no
            longer receive your messages.
          </p>
          <ConfirmActions
            busy={busy}
            onCancel={() => setRemoving(null)}
            onConfirm={() => void remove(removing)}
            label="Remove"
          />
        </Dialog>
      )}
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Log out other devices
        </button>
      ) : (
        <div className="notice notice-warning" role="alertdialog" aria-labelledby="confirm-others">
          <p id="confirm-others">
            Log out every other browser and app of your account? They need your password to come
            back.
          </p>
          <ConfirmActions
            busy={busy}
            onCancel={() => setConfirming(false)}
            onConfirm={() => void logOutOthers()}
            label="Yes, log them out"
          />
        </div>
      )}
    </section>
  );
}

/** Cancel and a red confirm button, both disabled while the action runs. */
function ConfirmActions(props: {
  busy: boolean;
  onCancel: () => void;
  onConfirm: () => void;
  label: string;
}) {
  return (
    <div className="actions">
      <button type="button" className="secondary" onClick={props.onCancel} disabled={props.busy}>
        Cancel
      </button>
      <button type="button" className="danger" onClick={props.onConfirm} disabled={props.busy}>
        {props.label}
      </button>
    </div>
  );
}
