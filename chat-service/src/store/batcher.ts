/**
 * Combines concurrent calls into batched calls: while `concurrency` batches are in flight,
 * new items queue up and go out together in the next batch. Nothing waits when idle (a batch
 * of one goes out at once). Used on the message hot path, where per-statement overhead on a
 * busy database costs more than the statements themselves.
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private active = 0;

  /**
   * @param run executes one batch; must return one output per input, in order
   * @param concurrency batches in flight at once
   * @param maxBatch most items per batch
   */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly concurrency: number,
    private readonly maxBatch: number,
  ) {}

  /**
   * @param item one input
   * @returns its output, once its batch ran
   */
  call(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.active++;
      this.run(batch.map((b) => b.item))
        .then(
          (out) => batch.forEach((b, i) => b.resolve(out[i] as O)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
