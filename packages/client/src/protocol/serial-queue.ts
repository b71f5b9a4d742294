/**
 * Runs async jobs one at a time per key (for example per remote Signal address), in call order.
 * Different keys run concurrently. Session state is read, ratcheted and written back inside one
 * job, so two messages for the same address can never interleave and lose a ratchet step
 * (Signal-Desktop's `sessionQueues`).
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * Queues `job` behind every earlier job with the same key.
   * @param key the serialisation key
   * @param job the work; its failure does not block later jobs
   * @returns the job's result
   */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(job, job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      // Drop finished chains so the map does not grow with every address ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /**
   * Runs `job` while holding every key in `keys` (taken in sorted order to avoid deadlocks).
   * @param keys keys to hold
   * @param job the work
   */
  runAll<T>(keys: readonly string[], job: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => {
      const key = sorted[i];
      if (key === undefined) return job();
      return this.run(key, () => step(i + 1));
    };
    return step(0);
  }
}
