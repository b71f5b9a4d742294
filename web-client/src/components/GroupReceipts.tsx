import { useTranslation } from 'react-i18next';
import type { GroupReadState } from '../state/read-state.js';
import { useApp } from '../state/store.js';

/**
 * "Read by 2 of 4" under my message in a group; opening it lists who read it and who has it
 * (from the members' encrypted receipts).
 * @param props.state the message's per-member state (state/read-state.ts)
 */
export function GroupReceipts({ state: read }: { state: GroupReadState }) {
  const { state } = useApp();
  const { t } = useTranslation('chat');
  const name = (id: string) => state.users[id]?.displayName ?? t('who.unknown');
  const waiting = read.deliveredTo.filter((id) => !read.readBy.includes(id));
  const summary =
    read.readBy.length > 0
      ? t('receipts.readBy', { count: read.readBy.length, total: read.total })
      : read.deliveredTo.length > 0
        ? t('receipts.deliveredTo', { count: read.deliveredTo.length, total: read.total })
        : t('receipts.sent');
  return (
    <details className="group-receipts" data-testid="group-receipts">
      <summary>
        <span aria-hidden="true">
          {read.readBy.length > 0 ? '✓✓' : read.deliveredTo.length > 0 ? '✓✓' : '✓'}
        </span>{' '}
        {summary}
      </summary>
      <div className="group-receipts-list" data-testid="group-receipts-list">
        {read.readBy.length > 0 && (
          <>
            <p className="small-heading">{t('receipts.readByHeading')}</p>
            <ul aria-label={t('receipts.readByHeading')}>
              {read.readBy.map((id) => (
                <li key={id}>{name(id)}</li>
              ))}
            </ul>
          </>
        )}
        {waiting.length > 0 && (
          <>
            <p className="small-heading">{t('receipts.deliveredToHeading')}</p>
            <ul aria-label={t('receipts.deliveredToHeading')}>
              {waiting.map((id) => (
                <li key={id}>{name(id)}</li>
              ))}
            </ul>
          </>
        )}
        {read.deliveredTo.length === 0 && <p className="muted small">{t('receipts.none')}</p>}
      </div>
    </details>
  );
}
