import type { GroupReadState } from '../state/read-state.js';
import { useApp } from '../state/store.js';

/**
 * "Read by 2 of 4" under my message in a group; opening it lists who read it and who has it
 * (from the members' encrypted receipts).
 * @param props.state the message's per-member state (state/read-state.ts)
 */
export function GroupReceipts({ state: read }: { state: GroupReadState }) {
  const { state } = useApp();
  const name = (id: string) => state.users[id]?.displayName ?? 'Unknown';
  const waiting = read.deliveredTo.filter((id) => !read.readBy.includes(id));
  const summary =
    read.readBy.length > 0
      ? `Read by ${read.readBy.length} of ${read.total}`
      : read.deliveredTo.length > 0
        ? `Delivered to ${read.deliveredTo.length} of ${read.total}`
        : 'Sent';
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
            <p className="small-heading">Read by</p>
            <ul aria-label="Read by">
              {read.readBy.map((id) => (
                <li key={id}>{name(id)}</li>
              ))}
            </ul>
          </>
        )}
        {waiting.length > 0 && (
          <>
            <p className="small-heading">Delivered to</p>
            <ul aria-label="Delivered to">
              {waiting.map((id) => (
                <li key={id}>{name(id)}</li>
              ))}
            </ul>
          </>
        )}
        {read.deliveredTo.length === 0 && <p className="muted small">No receipts yet.</p>}
      </div>
    </details>
  );
}
