/**
 * Work in flight by key: callers asking for a key while its work runs share that work instead of starting
 * their own (a crowd finding the same cached copy lapsed asks the database once).
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /** The work running for `key`, if any. */
  running(key: string): Promise<T> | undefined {
    return this.#running.get(key);
  }

  /** The work running for `key`, or `work()` started now and shared until it settles. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = work().finally(() => {
      if (this.#running.get(key) === started) this.#running.delete(key);
    });
    this.#running.set(key, started);
    return started;
  }

  /** The next caller starts afresh: work begun before a change must not answer those who come after it. */
  forget(key: string): void {
    this.#running.delete(key);
  }
}
