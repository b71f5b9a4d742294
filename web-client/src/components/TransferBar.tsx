import { useTranslation } from 'react-i18next';

/**
 * A transfer's progress: a bar with its percentage and a Cancel button.
 * @param props.label what is moving ("Uploading photo.png")
 * @param props.percent 0–100, or null while the total is unknown
 * @param props.onCancel stops the transfer
 */
export function TransferBar({
  label,
  percent,
  onCancel,
}: {
  label: string;
  percent: number | null;
  onCancel: () => void;
}) {
  const { t } = useTranslation('att');
  return (
    <div className="transfer-bar" data-testid="transfer-bar">
      <span className="small muted">{label}</span>
      <div
        className="transfer-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
      >
        <div className="transfer-fill" style={{ width: `${percent ?? 0}%` }} />
      </div>
      <span className="small transfer-percent">
        {percent === null ? '' : t('percent', { percent })}
      </span>
      <button type="button" className="link small" onClick={onCancel}>
        {t('cancel')}
      </button>
    </div>
  );
}

/**
 * "25 MB", "12.5 MB", "800 KB": a size as the limit message says it (binary megabytes, like
 * the SDK's wording).
 * @param bytes a size
 * @returns the size for people
 */
export function formatFileSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 10) return `${Math.round(mb)} MB`;
  if (mb >= 1) return `${Math.round(mb * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * A progress callback's numbers as a percentage.
 * @param p bytes moved and the total
 * @returns 0–100, or null when the total is unknown
 */
export function percentOf(p: { loaded: number; total: number | undefined }): number | null {
  return p.total ? Math.min(100, Math.round((100 * p.loaded) / p.total)) : null;
}
