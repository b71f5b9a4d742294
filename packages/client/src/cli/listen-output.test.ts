/** The CLI's human output and terminal control sequences in other people's text. */
import { describe, expect, it } from 'vitest';
import { describeChange } from './message-action-commands.js';
import { configureOutput, printEvent, safeText } from './output.js';

describe('chat-cli listen output', () => {
  it('when a contact edits a message to text with terminal escape sequences, then listen does not print them raw (no clipboard write, no fake lines)', () => {
    const line = describeChange({
      id: 'm1',
      conversationId: 'c1',
      senderUserId: 'u1',
      senderDeviceId: 1,
      direction: 'in',
      kind: 'text',
      // OSC 52 (set clipboard), then a fake "deleted" line of another chat.
      text: 'hi\u001b]52;c;cm0gLXJmIH4=\u0007\n[deleted] other-chat m2: This message was deleted',
      editedAt: 2,
      sentAt: 1,
      status: 'received',
    });
    expect(line).not.toContain('\u001b');
    expect(line).not.toContain('\n');
    expect(line).toContain('hi\\x1b]52;c;cm0gLXJmIH4=\\x07\\n[deleted]');
  });

  it('when text holds C1 controls, DEL or bidi overrides, then they are shown as escapes; emoji and accents stay', () => {
    expect(safeText('a\u009bb\u007fc\u202eevil\u2066d')).toBe('a\\x9bb\\x7fc\\u202eevil\\u2066d');
    expect(safeText('héllo 👍 日本')).toBe('héllo 👍 日本');
  });

  it('when listen prints an event, then the human line is made safe and --json keeps the text as is', () => {
    const out: string[] = [];
    const sink = {
      stdout: (c: string) => void out.push(c),
      stderr: () => undefined,
      exit: (): never => {
        throw new Error('exit');
      },
    };
    configureOutput(false, sink);
    printEvent({ type: 'message', text: 'x\u001b[2Jy' }, 'u1: x\u001b[2Jy');
    configureOutput(true, sink);
    printEvent({ type: 'message', text: 'x\u001b[2Jy' }, 'u1: x\u001b[2Jy');
    configureOutput(false);
    expect(out[0]).toBe('u1: x\\x1b[2Jy\n');
    expect(JSON.parse(out[1] ?? '')).toEqual({ type: 'message', text: 'x\u001b[2Jy' });
  });
});
