/** What every open stream has: the token that opened it (which caps how many one holder keeps), and an end. */
export interface TokenStream {
  token: string;
  /** Ends the stream without a message (pushed out, or shutdown); the browser reconnects. */
  end(): void;
}

export interface StreamRegistryOptions<Client> {
  topicOf(client: Client): string;
  /** Streams one token keeps at most; a newer one ends the oldest (a tab left open, a client that reconnects without closing). */
  perToken: number;
  /** A topic got its first stream: start following its changes. */
  onFirst(topic: string): void;
  /** A topic lost its last stream: stop following it. */
  onLast(topic: string): void;
}

/**
 * The open streams of one instance, by topic (an event's line, a date's seat map) with what the hub
 * keeps of each, and by the token that opened them, oldest first. The queue's and the seat map's hubs
 * keep their bookkeeping here and their refreshing to themselves.
 */
export class StreamRegistry<Client extends TokenStream, State> {
  readonly #byTopic = new Map<string, Map<Client, State>>();
  readonly #byToken = new Map<string, Client[]>();
  #closed = false;

  constructor(private readonly options: StreamRegistryOptions<Client>) {}

  /** False once closing has begun: a stream set up from then on is ended at once. */
  get accepting(): boolean {
    return !this.#closed;
  }

  get size(): number {
    let total = 0;
    for (const clients of this.#byTopic.values()) total += clients.size;
    return total;
  }

  /**
   * Adds a stream and ends the oldest of its token's past the cap; false when closing, and the stream is
   * ended instead (its set-up finished during shutdown and would hold the server open).
   */
  add(client: Client, state: State): boolean {
    if (this.#closed) {
      client.end();
      return false;
    }
    const open = this.#byToken.get(client.token) ?? [];
    for (const oldest of open.slice(0, Math.max(0, open.length + 1 - this.options.perToken))) {
      this.remove(oldest);
      oldest.end();
    }
    this.#byToken.set(client.token, [...(this.#byToken.get(client.token) ?? []), client]);
    const topic = this.options.topicOf(client);
    const clients = this.#byTopic.get(topic);
    if (clients) clients.set(client, state);
    else {
      this.#byTopic.set(topic, new Map([[client, state]]));
      this.options.onFirst(topic);
    }
    return true;
  }

  remove(client: Client): void {
    const open = this.#byToken.get(client.token)?.filter((other) => other !== client) ?? [];
    if (open.length > 0) this.#byToken.set(client.token, open);
    else this.#byToken.delete(client.token);
    const topic = this.options.topicOf(client);
    const clients = this.#byTopic.get(topic);
    if (!clients?.delete(client) || clients.size > 0) return;
    this.#byTopic.delete(topic);
    this.options.onLast(topic);
  }

  /** A topic's streams with their state; undefined once it has none. */
  of(topic: string): Map<Client, State> | undefined {
    return this.#byTopic.get(topic);
  }

  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  topics(): IterableIterator<[string, Map<Client, State>]> {
    return this.#byTopic.entries();
  }

  *clients(): Generator<Client> {
    for (const clients of this.#byTopic.values()) yield* clients.keys();
  }

  /** Refuses new streams from now on; endAll() then ends the open ones, once the hub has finished its work. */
  close(): void {
    this.#closed = true;
  }

  endAll(): void {
    for (const client of this.clients()) client.end();
    this.#byTopic.clear();
    this.#byToken.clear();
  }
}
