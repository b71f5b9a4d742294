import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * The group name field: the name travels end to end only. Disabled (with the reason) for members
 * whose role may not rename.
 * @param props.current the current name
 * @param props.busy whether another change is running
 * @param props.allowed whether my role may rename (the SDK's group rules)
 * @param props.onRename saves a new name
 */
export function GroupRenameForm({
  current,
  busy,
  allowed,
  onRename,
}: {
  current: string;
  busy: boolean;
  allowed: boolean;
  onRename: (title: string) => Promise<void>;
}) {
  const { t } = useTranslation('groups');
  const [title, setTitle] = useState(current);
  const id = useId();
  const hint = useId();
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onRename(title);
      }}
    >
      <label htmlFor={id}>{t('groupName')}</label>
      <input
        id={id}
        value={title}
        maxLength={128}
        disabled={!allowed}
        aria-describedby={allowed ? undefined : hint}
        onChange={(e) => setTitle(e.target.value)}
      />
      <button
        type="submit"
        className="small"
        disabled={!allowed || busy || title.trim() === current}
      >
        {t('rename.submit')}
      </button>
      {!allowed && (
        <span id={hint} className="muted small">
          {t('rename.notAllowed')}
        </span>
      )}
    </form>
  );
}
