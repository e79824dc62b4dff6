import type { Logger } from 'pino';
import type { QueueEvents } from './queue-events.js';
import type { QueueView } from './queue.schemas.js';
import type { QueueService } from './queue.service.js';

export type StreamMessage = QueueView | { status: 'EXPIRED' };

export interface StreamClient {
  eventId: string;
  token: string;
  /** Sends one message; `final` ends the stream after it. */
  send(message: StreamMessage, final?: boolean): void;
  heartbeat(): void;
  /** Ends the stream without a message (shutdown); the browser reconnects to another instance. */
  end(): void;
}

/** Clients refreshed per queue-store round trip: big enough to amortize it, small enough not to stall Redis. */
const REFRESH_BATCH = 500;

/**
 * The stream clients of this instance, by event; it follows the queue events of exactly the events it
 * has clients for. When an event's line moves (a pub/sub message from any instance) its clients are
 * re-read and sent what changed; a heartbeat re-reads everyone, which also counts as their poll, so an
 * open stream keeps a waiter in line. That is why a stream must not outlive its connection, and why one
 * token may hold only a few: each one keeps the holder's slot alive.
 */
export class QueueStreamHub {
  readonly #clients = new Map<string, Map<StreamClient, string>>();
  /** Each token's open streams, oldest first. */
  readonly #byToken = new Map<string, StreamClient[]>();
  readonly #dirty = new Set<string>();
  #flushing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly queue: QueueService,
    private readonly events: QueueEvents,
    private readonly options: { heartbeatMs: number; streamsPerToken: number },
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.events.subscribe((eventId) => this.#markDirty(eventId));
    this.#heartbeat = setInterval(() => {
      for (const eventId of this.#clients.keys()) this.#markDirty(eventId);
      for (const clients of this.#clients.values()) for (const client of clients.keys()) client.heartbeat();
    }, this.options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Stops refreshing and ends every open stream, so a shutting-down server is not held open by them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    await this.#flushing;
    for (const clients of this.#clients.values()) for (const client of clients.keys()) client.end();
    this.#clients.clear();
    this.#byToken.clear();
  }

  /** False once stop() has begun: a stream set up from then on is ended at once. */
  get accepting(): boolean {
    return !this.#stopped;
  }

  get size(): number {
    let total = 0;
    for (const clients of this.#clients.values()) total += clients.size;
    return total;
  }

  /**
   * Follows a client from its first view on. Once stopped, the client is ended instead: its set-up
   * finished during shutdown and would hold the server open. A token past its share of streams loses
   * its oldest one (a tab left open, a client that reconnects without closing).
   */
  add(client: StreamClient, first: QueueView): void {
    if (this.#stopped) {
      client.end();
      return;
    }
    const open = [...(this.#byToken.get(client.token) ?? []), client];
    for (const oldest of open.splice(0, open.length - this.options.streamsPerToken)) {
      this.remove(oldest);
      oldest.end();
    }
    this.#byToken.set(client.token, open);
    let clients = this.#clients.get(client.eventId);
    if (!clients) {
      clients = new Map<StreamClient, string>();
      this.#clients.set(client.eventId, clients);
      // A move published before the subscription held was not heard: one re-read once it holds.
      void this.events.follow(client.eventId).then(() => this.#markDirty(client.eventId));
    }
    clients.set(client, JSON.stringify(first));
    if (first.status === 'SOLD_OUT') this.#finish(client, first);
    else client.send(first);
  }

  remove(client: StreamClient): void {
    const clients = this.#clients.get(client.eventId);
    clients?.delete(client);
    if (clients?.size === 0) {
      this.#clients.delete(client.eventId);
      void this.events.unfollow(client.eventId);
    }
    const open = this.#byToken.get(client.token)?.filter((other) => other !== client) ?? [];
    if (open.length > 0) this.#byToken.set(client.token, open);
    else this.#byToken.delete(client.token);
  }

  #markDirty(eventId: string): void {
    if (!this.#clients.has(eventId)) return;
    this.#dirty.add(eventId);
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
  }

  /** Refreshes dirty events until none are left; moves that arrive meanwhile coalesce into one pass. */
  async #flush(): Promise<void> {
    while (this.#dirty.size > 0) {
      const [eventId] = this.#dirty as Set<string>;
      this.#dirty.delete(eventId!);
      const clients = [...(this.#clients.get(eventId!)?.keys() ?? [])];
      for (let i = 0; i < clients.length; i += REFRESH_BATCH) {
        await this.#refresh(eventId!, clients.slice(i, i + REFRESH_BATCH));
      }
    }
  }

  async #refresh(eventId: string, batch: StreamClient[]): Promise<void> {
    let views: (QueueView | undefined)[];
    try {
      views = await this.queue.currentMany(eventId, batch.map((client) => client.token));
    } catch (error) {
      this.log.warn({ err: error, eventId }, 'queue stream refresh failed; retrying on the next heartbeat');
      return;
    }
    const clients = this.#clients.get(eventId);
    batch.forEach((client, i) => {
      const view = views[i];
      if (!clients?.has(client)) return;
      if (!view) {
        this.remove(client);
        client.send({ status: 'EXPIRED' }, true);
        return;
      }
      const encoded = JSON.stringify(view);
      if (clients.get(client) === encoded) return;
      clients.set(client, encoded);
      if (view.status === 'SOLD_OUT') this.#finish(client, view);
      else client.send(view);
    });
  }

  /** The last word of a stream: the line closed, nothing more will change for this holder. */
  #finish(client: StreamClient, view: QueueView): void {
    this.remove(client);
    client.send(view, true);
  }
}
