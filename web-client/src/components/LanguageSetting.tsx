import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage, type Language } from '../i18n/index.js';

/** Settings › Language: the UI switches at once and this browser remembers the choice. */
export function LanguageSetting() {
  const { t, i18n } = useTranslation('avatar');
  const id = useId();
  const current = LANGUAGES.find((l) => l.code === i18n.resolvedLanguage)?.code ?? 'en';
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('language.title')}</h2>
      <div className="field">
        <label htmlFor={id}>{t('language.label')}</label>
        <select
          id={id}
          value={current}
          aria-describedby={`${id}-hint`}
          onChange={(e) => void setLanguage(e.target.value as Language)}
        >
          {LANGUAGES.map((l) => (
            <option key={l.code} value={l.code} lang={l.code}>
              {l.name}
            </option>
          ))}
        </select>
        <p className="muted small" id={`${id}-hint`}>
          {t('language.hint')}
        </p>
      </div>
    </section>
  );
}
