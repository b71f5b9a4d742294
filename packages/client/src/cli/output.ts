/**
 * Output of chat-cli, in one of two modes chosen once per run by the global `--json` flag:
 *
 * - human (default): the text each command always printed, unchanged.
 * - JSON: every result is ONE JSON object on ONE line of stdout; a stream (`listen`) prints one
 *   object per line as events come; every error is `{"error":{"code","message"}}` on one line of
 *   stderr and the process exits non-zero; warnings and notes are `{"warning":{"code","message"}}`
 *   lines on stderr. Nothing else is written, so `chat-cli --json … | jq` always parses.
 *
 * How a command uses it (new commands such as `reply`, `react`, `edit`, `delete` do the same):
 *
 * ```ts
 * case 'react': {
 *   const [messageId, emoji] = args;
 *   if (!messageId || !emoji) failWith('usage_error', 'usage: chat-cli react <message-id> <emoji>');
 *   await login(true);
 *   await client.react(messageId, emoji);
 *   printResult({ reacted: { messageId, emoji } }, `reacted ${emoji} to ${messageId}`);
 *   break;
 * }
 * ```
 *
 * - {@link printResult}`(value, human)`: a command's result (human text may span lines; a
 *   trailing newline is added).
 * - {@link printEvent}`(value, human?)`: one item of a stream; `human` undefined prints nothing
 *   in human mode (events only JSON readers want).
 * - {@link printWarning}`(code, message)`: something the user should know, not a failure.
 * - {@link failWith}`(code, message, exitCode = 2)`: prints the error and exits (never returns);
 *   2 for usage errors, 1 for failures at run time.
 * - {@link printError}`(err)`: prints any thrown value as an error (`ApiError` keeps its code)
 *   and returns the exit code to use (the CLI's last-resort handler).
 * - {@link toJson}: how values become JSON (`Uint8Array` as base64, `Set`/`Map` as arrays/objects,
 *   `undefined` fields dropped).
 *
 * Codes are snake_case like the services' (`usage_error`, `not_found`, `invalid_credentials`,
 * `forbidden`...); an `ApiError` or `SocketAckError` keeps the server's code.
 */

/**
 * Characters a terminal may act on instead of showing: C0 controls (line breaks and ESC
 * included), DEL, C1 controls, line/paragraph separators and bidi overrides/isolates/marks.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Text from other people made safe for a terminal: every {@link UNSAFE} character is shown as
 * its escape (`\x1b`, `\n`, `\u202e`), so a message cannot move the cursor, fake lines, set the
 * clipboard (OSC 52) or reorder what follows. Human output only; `--json` prints values as is.
 * @param text anything
 * @returns one line, with nothing a terminal would interpret
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Where output goes (tests pass their own). */
export interface OutputSink {
  stdout: (chunk: string) => void;
  stderr: (chunk: string) => void;
  exit: (code: number) => never;
}

const processSink: OutputSink = {
  stdout: (chunk) => void process.stdout.write(chunk),
  stderr: (chunk) => void process.stderr.write(chunk),
  exit: (code) => process.exit(code),
};

let json = false;
let sink: OutputSink = processSink;

/**
 * Chooses the mode for the rest of the run (chat-cli calls it once, from `--json`).
 * @param on true for JSON lines
 * @param to where to write (default: the process's stdout, stderr and exit)
 */
export function configureOutput(on: boolean, to: OutputSink = processSink): void {
  json = on;
  sink = to;
}

/** @returns whether `--json` is on */
export function jsonOutput(): boolean {
  return json;
}

/**
 * A value as JSON text on one line: `Uint8Array` becomes base64, `Set` an array, `Map` an
 * object, `bigint` a string; `undefined` fields are dropped (as `JSON.stringify` does).
 * @param value anything
 * @returns one line of JSON
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (v instanceof Set) return [...(v as Set<unknown>)];
    if (v instanceof Map) return Object.fromEntries(v as Map<string, unknown>);
    if (typeof v === 'bigint') return v.toString();
    return v;
  });
}

/**
 * Prints a command's result: `value` as one JSON line with `--json`, `human` otherwise.
 * @param value the machine-readable result (an object, by convention)
 * @param human what a person reads (a newline is added)
 */
export function printResult(value: unknown, human: string): void {
  sink.stdout(json ? `${toJson(value)}\n` : `${human}\n`);
}

/**
 * Prints one item of a stream (`listen`): one JSON line with `--json`, `human` otherwise (passed
 * through {@link safeText}: an event is one line, whatever its text holds).
 * @param value the event (by convention `{ type, ... }`)
 * @param human what a person reads; undefined prints nothing in human mode
 */
export function printEvent(value: unknown, human?: string): void {
  if (json) sink.stdout(`${toJson(value)}\n`);
  else if (human !== undefined) sink.stdout(`${safeText(human)}\n`);
}

/**
 * Prints a warning or note on stderr (`{"warning":{"code","message"}}` with `--json`).
 * @param code snake_case reason
 * @param message what a person reads (also the human output, as is)
 */
export function printWarning(code: string, message: string): void {
  sink.stderr(json ? `${toJson({ warning: { code, message } })}\n` : `${message}\n`);
}

/**
 * Prints an error and exits.
 * @param code snake_case reason (`usage_error`, `not_found`...)
 * @param message what went wrong (the human output, as is)
 * @param exitCode the process's exit code (2: usage; 1: failed at run time)
 * @returns never
 */
export function failWith(code: string, message: string, exitCode = 2): never {
  sink.stderr(json ? `${toJson({ error: { code, message } })}\n` : `${message}\n`);
  return sink.exit(exitCode);
}

/**
 * Prints any thrown value as an error: its `code` when it has one (`ApiError`,
 * `SocketAckError`), `internal_error` otherwise.
 * @param err what was thrown
 * @returns the exit code to use (1)
 */
export function printError(err: unknown): number {
  const code =
    err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code
      ? err.code
      : 'internal_error';
  const message = err instanceof Error ? err.message : String(err);
  const human = `error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  sink.stderr(json ? `${toJson({ error: { code, message } })}\n` : `${human}\n`);
  return 1;
}
