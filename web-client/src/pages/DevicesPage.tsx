import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { describeError } from '../state/index.js';
import type { DeviceView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { Dialog } from '../components/Dialog.js';

/** Catalogue keys (namespace `account`) of the device states. */
const STATUS_KEY: Record<DeviceView['status'], string> = {
  linked: 'devices.linked',
  unknown: 'devices.notAnnounced',
  foreign: 'devices.foreign',
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
  const { t: ta } = useTranslation('account');
  const nameOf = (d: DeviceView) => d.name ?? ta('devices.fallbackName', { id: d.deviceId });
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
      setNotice(ta('devices.othersLoggedOut'));
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
      setNotice(ta('devices.removed', { name: nameOf(d) }));
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
      <h1 id="devices-title">{ta('devices.title')}</h1>
      <p className="muted">{ta('devices.intro')}</p>
      {error && (
        <p className="error" role="alert">
          {error}{' '}
          <button type="button" className="link" onClick={load}>
            {ta('devices.retry')}
          </button>
        </p>
      )}
      {notice && <p role="status">{notice}</p>}
      {!devices && !error && <p role="status">{ta('devices.loading')}</p>}
      {devices && (
        <ul className="device-list" aria-label={ta('devices.label')}>
          {devices.map((d) => (
            <li key={d.deviceId} className={`device-row device-${d.status}`}>
              <span>{nameOf(d)}</span>
              {d.current ? (
                <span className="chip">{ta('devices.thisBrowser')}</span>
              ) : (
                <span className={d.status === 'foreign' ? 'chip chip-danger' : 'muted small'}>
                  {ta(STATUS_KEY[d.status])}
                </span>
              )}
              {d.createdAt && (
                <span className="muted small">
                  {ta('devices.added', { when: new Date(d.createdAt).toLocaleString() })}
                </span>
              )}
              <span className="muted small device-last-active">
                {lastActiveText(d.lastActiveAt, t)}
              </span>
              {!d.current && (
                <button type="button" className="secondary small" onClick={() => setRemoving(d)}>
                  {ta('devices.remove')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <Dialog title={ta('devices.removeTitle')} onClose={() => setRemoving(null)}>
          <p>
            {ta('devices.removeConfirm', {
              name: removing.name ?? ta('devices.fallbackNameLower', { id: removing.deviceId }),
            })}
          </p>
          <ConfirmActions
            busy={busy}
            onCancel={() => setRemoving(null)}
            onConfirm={() => void remove(removing)}
            label={ta('devices.remove')}
          />
        </Dialog>
      )}
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          {ta('devices.logOutOthers')}
        </button>
      ) : (
        <div className="notice notice-warning" role="alertdialog" aria-labelledby="confirm-others">
          <p id="confirm-others">
            {ta('devices.logOutOthersConfirm')}
          </p>
          <ConfirmActions
            busy={busy}
            onCancel={() => setConfirming(false)}
            onConfirm={() => void logOutOthers()}
            label={ta('devices.logOutOthersYes')}
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
  const { t } = useTranslation('account');
  return (
    <div className="actions">
      <button type="button" className="secondary" onClick={props.onCancel} disabled={props.busy}>
        {t('devices.cancel')}
      </button>
      <button type="button" className="danger" onClick={props.onConfirm} disabled={props.busy}>
        {props.label}
      </button>
    </div>
  );
}
