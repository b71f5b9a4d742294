import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

/** Shown for an address that is no screen of the app. */
export function NotFoundPage() {
  const { t } = useTranslation('route');
  return (
    <section className="center-page" aria-labelledby="not-found-title">
      <div className="card">
        <h1 id="not-found-title">{t('notFound.title')}</h1>
        <p>{t('notFound.text')}</p>
        <p>
          <Link to="/chats">{t('notFound.toChats')}</Link>
        </p>
      </div>
    </section>
  );
}
