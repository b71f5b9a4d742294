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

/**
 * The unit a client address is counted in: an IPv4 address as is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single v6 addresses would hand an
 * attacker billions of fresh budgets). IPv4-mapped IPv6 counts as the IPv4 address.
 * @param ip `req.ip`
 * @returns the bucket, e.g. `203.0.113.9` or `2001:db8:1:2::/64`
 */
export function ipBucket(ip: string): string {
  const v = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (mapped?.[1]) return mapped[1];
  if (!v.includes(':')) return v;
  const [head = '', tail] = v.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
