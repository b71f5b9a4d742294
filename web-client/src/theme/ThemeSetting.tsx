import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { THEMES, setTheme, storedTheme } from './theme.js';
import type { Theme } from './theme.js';

/** Settings section: Theme System / Light / Dark (this browser only). */
export function ThemeSetting() {
  const { t } = useTranslation('route');
  const [theme, choose] = useState<Theme>(() => storedTheme());
  const name = useId();
  return (
    <section className="card" aria-labelledby={`${name}-title`}>
      <fieldset>
        <legend>
          <h2 id={`${name}-title`}>{t('theme.legend')}</h2>
        </legend>
        <div className="theme-choices">
          {THEMES.map((value) => (
            <label key={value} className="check">
              <input
                type="radio"
                name={name}
                value={value}
                checked={theme === value}
                onChange={() => {
                  setTheme(value);
                  choose(value);
                }}
              />
              {t(`theme.${value}`)}
            </label>
          ))}
        </div>
        <p className="muted small">{t('theme.hint')}</p>
      </fieldset>
    </section>
  );
}
