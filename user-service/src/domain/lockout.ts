/**
 * How long an account stays locked after its `lockouts`-th lockout in a row: the base doubles
 * each time (1, 2, 4... times base), capped. Growing backoff makes online guessing hopeless while
 * a legitimate user who fat-fingers ten times waits only a minute.
 * @param lockouts how many lockouts (including this one) the account had recently, >= 1
 * @param baseSeconds first lockout length
 * @param maxSeconds cap
 * @returns lockout length in seconds
 */
export function lockoutSeconds(lockouts: number, baseSeconds: number, maxSeconds: number): number {
  const n = Math.max(1, Math.floor(lockouts));
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(n - 1, 30));
}
