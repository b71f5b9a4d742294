import { useTranslation } from 'react-i18next';

/**
 * Shown on the login page when a new browser was refused because the account already has its
 * maximum of devices (`too_many_devices`): how many, and what to do. A new browser holds no
 * device proof, so it cannot remove a device itself (docs/web-client.md "Devices and logging out").
 * @param props `max` from the error's details (absent if the server did not say)
 */
export function DeviceLimitNotice({ max }: { max: number | undefined }) {
  const { t } = useTranslation('dev');
  return (
    <div className="notice notice-warning" role="alert">
      <p>
        <strong>{max ? t('limit.title', { max }) : t('limit.titleUnknown')}</strong>
      </p>
      <p>{t('limit.what')}</p>
      <p className="muted small">{t('limit.why')}</p>
    </div>
  );
}

/**
 * @param err what a login threw
 * @returns the device limit when it is a `too_many_devices` refusal (`max` may be unknown), else null
 */
export function deviceLimitOf(err: unknown): { max: number | undefined } | null {
  if (!err || typeof err !== 'object' || !('code' in err) || err.code !== 'too_many_devices')
    return null;
  const details = 'details' in err ? err.details : undefined;
  const max =
    details && typeof details === 'object' && 'max' in details && typeof details.max === 'number'
      ? details.max
      : undefined;
  return { max };
}
