import { pino, type Logger } from 'pino';

/**
 * Paths pino replaces with `[redacted]`: credentials, tokens, OPAQUE messages, key material
 * and ciphertext bodies must never reach a log line.
 */
export const redactPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.registrationRequest',
  '*.registrationResponse',
  '*.registrationRecord',
  '*.startLoginRequest',
  '*.finishLoginRequest',
  '*.loginResponse',
  '*.serverSetup',
  '*.privateKey',
  '*.blob',
  '*.body',
  '*.envelopes',
  '*.verifyUrl',
  '*.resetUrl',
  '*.unsubscribeUrl',
];

/**
 * Creates the service's JSON logger.
 * @param service service name, added to every line
 * @param level pino level
 * @param destination optional stream (tests capture logs to scan them for secrets)
 * @returns a pino logger with redaction
 */
export function createLogger(
  service: string,
  level = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level,
    base: { service },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

export type { Logger } from 'pino';
