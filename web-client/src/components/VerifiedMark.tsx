import { useTranslation } from 'react-i18next';

/** The "verified" mark next to a contact whose safety number I compared. */
export function VerifiedMark() {
  const { t } = useTranslation('safety');
  return (
    <span className="verified" title={t('verified.title')}>
      <span aria-hidden="true">✔</span> {t('verified.label')}
    </span>
  );
}
