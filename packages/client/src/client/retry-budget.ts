/** Retry requests this device sends to one peer device per hour, at most. */
export const REQUESTS_PER_DEVICE_PER_HOUR = 20;
/** Retry requests this device sends in all per hour, at most. */
export const REQUESTS_PER_HOUR = 100;
const HOUR_MS = 60 * 60 * 1000;

/**
 * The budget of outgoing retry requests (and of the fresh sessions and bundle fetches before
 * them): at most {@link REQUESTS_PER_DEVICE_PER_HOUR} to one peer device and
 * {@link REQUESTS_PER_HOUR} in all, over a sliding hour. A server that garbles every envelope
 * (each failure a new placeholder and new requests) thus gets a bounded number of sends out of
 * this device; placeholders over the budget keep waiting and ask when it frees (or give up), and
 * no new placeholder is asked for while that device leaves that many requests unanswered.
 */
export class RequestBudget {
  private readonly sent = new Map<string, number[]>();
  private all: number[] = [];

  /**
   * @param device the peer device (`userId.deviceId`)
   * @param now clock
   * @param unanswered when this is a placeholder's first request: how many placeholders of that
   *   device were asked for and are still waiting (a first request waits while they are
   *   {@link REQUESTS_PER_DEVICE_PER_HOUR} or more; asking again for one of them does not)
   * @returns whether a request to it may go now
   */
  allows(device: string, now: number, unanswered = 0): boolean {
    if (unanswered >= REQUESTS_PER_DEVICE_PER_HOUR) return false;
    this.all = this.all.filter((t) => now - t < HOUR_MS);
    const mine = (this.sent.get(device) ?? []).filter((t) => now - t < HOUR_MS);
    if (mine.length > 0) this.sent.set(device, mine);
    else this.sent.delete(device);
    return mine.length < REQUESTS_PER_DEVICE_PER_HOUR && this.all.length < REQUESTS_PER_HOUR;
  }

  /**
   * Counts a request (also one that was tried and not addressed: its session work was done).
   * @param device the peer device
   * @param now clock
   */
  spend(device: string, now: number): void {
    this.all.push(now);
    this.sent.set(device, [...(this.sent.get(device) ?? []), now]);
  }
}
