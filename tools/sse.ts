/** Server-Sent Events readers: the queue's live position and the seat map, as a browser's EventSource would see them. */

/** The JSON `data:` payloads of a Server-Sent Events body, in order; frames without data (heartbeats) are skipped. */
export async function* sseData<T = any>(body: ReadableStream<Uint8Array> | null): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = buffer.slice(0, end).split('\n').find((line) => line.startsWith('data: '));
      buffer = buffer.slice(end + 2);
      if (data) yield JSON.parse(data.slice(6));
    }
  }
}

export interface QueueMessage {
  status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
  position?: number;
}

/** One buyer's event stream (queue messages unless told), read until it ends or is closed. */
export class Stream<M = QueueMessage> {
  readonly messages: M[] = [];
  readonly #controller = new AbortController();
  readonly #waiters: { test: (m: M) => boolean; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Settles when the stream ends; rejects if it failed (a non-200 answer, a broken connection). */
  readonly done: Promise<void>;

  constructor(url: string) {
    // Whoever still waits for a message when the stream ends will not get it.
    const fail = (error: Error) => {
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    };
    this.done = this.#read(url).then(
      () => fail(new Error(`stream ended after ${JSON.stringify(this.messages.map((m) => (Array.isArray(m) ? 'seat map' : (m as { status?: string }).status)))}`)),
      (error: Error) => {
        fail(error);
        throw error;
      },
    );
    this.done.catch(() => undefined); // reported through until() and awaits of done, not as unhandled
  }

  /** Resolves at the first message (already received or future) that `test` accepts; rejects if the stream ends first. */
  until(test: (m: M) => boolean): Promise<void> {
    if (this.messages.some(test)) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ test, resolve, reject }));
  }

  close() {
    this.#controller.abort();
  }

  async #read(url: string) {
    try {
      const response = await fetch(url, { signal: this.#controller.signal });
      if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
      for await (const message of sseData<M>(response.body)) {
        this.messages.push(message);
        for (const waiter of this.#waiters.filter((w) => w.test(message))) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    } catch (error) {
      if (!this.#controller.signal.aborted) throw error;
    }
  }
}
