import type { z } from 'zod';
import { ValidationError } from '../errors.js';

/**
 * Parses untrusted input once, at the edge, and lists every issue on failure.
 * @param schema the contracts schema
 * @param input the raw value (`req.body`, `req.query`, a socket payload...)
 * @param where what the input is, for the message (`body`, `query`, `params`)
 * @returns the typed value
 * @throws {ValidationError} with `details: [{path, message}]`
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const summary = details
    .slice(0, 5)
    .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
    .join('; ');
  throw new ValidationError(`invalid ${where}: ${summary}`, details);
}
