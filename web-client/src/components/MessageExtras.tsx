import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MessageView } from '../state/index.js';
import { EditHistory } from './EditHistory.js';
import { MessageActions } from './MessageActions.js';
import { MessageEditor } from './MessageEditor.js';
import { Reactions } from './Reactions.js';

/**
 * What reactions, edits and deletes add to a bubble: the tombstone, the inline editor, the
 * "edited" marker with its history, the reaction chips and the actions menu.
 * @param props.message the message
 */
export function MessageExtras({ message }: { message: MessageView }) {
  const { t } = useTranslation('chat');
  const [editing, setEditing] = useState(false);
  return (
    <>
      {message.deletedAt !== undefined && (
        <p className="message-deleted" data-testid="message-deleted">
          {t('tombstone')}
        </p>
      )}
      {editing && message.deletedAt === undefined && (
        <MessageEditor message={message} onDone={() => setEditing(false)} />
      )}
      <EditHistory message={message} />
      <Reactions message={message} />
      <MessageActions message={message} onEdit={() => setEditing(true)} />
    </>
  );
}
