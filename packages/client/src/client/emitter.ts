/** A tiny typed event emitter (browser and Node; no dependency on `node:events`). */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

  /**
   * Subscribes.
   * @param event name
   * @param handler handler
   * @returns an unsubscribe function
   */
  on<E extends keyof Events>(event: E, handler: Events[E]): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
    return () => this.off(event, handler);
  }

  /**
   * Unsubscribes.
   * @param event name
   * @param handler handler
   */
  off<E extends keyof Events>(event: E, handler: Events[E]): void {
    this.handlers.get(event)?.delete(handler);
  }

  /**
   * Resolves with the arguments of the next event that matches `predicate`.
   * @param event name
   * @param predicate filter
   * @returns first argument of the matching event
   */
  next<E extends keyof Events>(event: E, predicate: (...args: Parameters<Events[E]>) => boolean = () => true) {
    return new Promise<Parameters<Events[E]>[0]>((resolve) => {
      const off = this.on(event, ((...args: Parameters<Events[E]>) => {
        if (!predicate(...args)) return;
        off();
        resolve(args[0] as Parameters<Events[E]>[0]);
      }) as Events[E]);
    });
  }

  /**
   * Calls every handler; a throwing handler never breaks the client.
   * @param event name
   * @param args arguments
   */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) {
      try {
        (h as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        console.error(`chat client ${String(event)} handler failed`, err);
      }
    }
  }
}
