import { useTranslation } from 'react-i18next';
import { exactTime, isoTime, relativeTime } from './time-format.js';
import { useNow } from './use-now.js';

/**
 * A time as words relative to now ("5 minutes ago", "yesterday") in the UI language, with the
 * exact date and time on hover and in `dateTime`; it updates once a minute (shared timer).
 * @param props.at epoch milliseconds
 */
export function RelativeTime({ at }: { at: number | undefined }) {
  const { i18n } = useTranslation();
  const now = useNow();
  const language = i18n.resolvedLanguage ?? i18n.language;
  return (
    <time dateTime={isoTime(at)} title={exactTime(at, language)}>
      {relativeTime(at, now, language)}
    </time>
  );
}
