import type { Logger } from 'pino';
import { StreamRegistry } from '../../shared/stream-registry.js';
import type { LineChange, QueueEvents } from './queue-events.js';
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
/** Waiters this close to the front are read exactly on every move; behind them, places are worked out. */
export const EXACT_NEAR_FRONT = 1_000;
/** A waiter further back hears a new place at most this often: a step of 1 in 50,000 is news for no one. */
export const FAR_PUSH_INTERVAL_MS = 2_000;

/** What the hub knows of one stream: the last view sent, and the exact place it was worked out from. */
interface Follower {
  encoded: string;
  view: QueueView;
  /** The last exact place and the line's admitted total read with it; undefined until read, or not waiting. */
  base: { position: number; admittedTotal: number } | undefined;
  pushedAt: number;
}

/**
 * The stream clients of this instance, by event; it follows the queue events of exactly the events it
 * has clients for. A heartbeat re-reads everyone exactly (batched, one round trip per 500), which also
 * counts as their poll, so an open stream keeps a waiter in line: that is why a stream must not outlive
 * its connection, and why one token may hold only a few. Between heartbeats, a move of the line's head
 * costs a constant number of store calls per instance, however long the line: one read of the line's
 * admitted total, from which every waiter's place is worked out (their last exact place less the
 * admissions since: never ahead of the truth, since admissions come from the front), plus exact reads of
 * the actives and of the waiters near the front. Waiters further back are sent a new place at most every
 * FAR_PUSH_INTERVAL_MS. Any other change of the line (an opening placed, a close) re-reads everyone.
 */
export class QueueStreamHub {
  readonly #streams: StreamRegistry<StreamClient, Follower>;
  readonly #dirty = new Map<string, LineChange>();
  /** Events with far waiters held back by FAR_PUSH_INTERVAL_MS, and the timer that lets them hear. */
  readonly #deferred = new Map<string, NodeJS.Timeout>();
  #flushing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: QueueService,
    private readonly events: QueueEvents,
    private readonly options: { heartbeatMs: number; streamsPerToken: number; exactNearFront?: number; farPushIntervalMs?: number },
    private readonly log: Logger,
  ) {
    this.#streams = new StreamRegistry<StreamClient, Follower>({
      topicOf: (client) => client.eventId,
      perToken: options.streamsPerToken,
      // A move published before the subscription held was not heard: one re-read once it holds.
      onFirst: (eventId) => void this.events.follow(eventId).then(() => this.#markDirty(eventId, 'line')),
      onLast: (eventId) => void this.events.unfollow(eventId),
    });
  }

  async start(): Promise<void> {
    await this.events.subscribe((eventId, change) => this.#markDirty(eventId, change));
    this.#heartbeat = setInterval(() => {
      for (const [eventId] of this.#streams.topics()) this.#markDirty(eventId, 'line');
      for (const client of this.#streams.clients()) client.heartbeat();
    }, this.options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Stops refreshing and ends every open stream, so a shutting-down server is not held open by them. */
  async stop(): Promise<void> {
    this.#streams.close();
    clearInterval(this.#heartbeat);
    for (const timer of this.#deferred.values()) clearTimeout(timer);
    this.#deferred.clear();
    await this.#flushing;
    this.#streams.endAll();
  }

  /** False once stop() has begun: a stream set up from then on is ended at once. */
  get accepting(): boolean {
    return this.#streams.accepting;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Follows a client from its first view on (see StreamRegistry.add for shutdown and the per-token cap). */
  add(client: StreamClient, first: QueueView): void {
    if (!this.#streams.add(client, { encoded: JSON.stringify(first), view: first, base: undefined, pushedAt: performance.now() })) return;
    if (first.status === 'SOLD_OUT') this.#finish(client, first);
    else client.send(first);
  }

  remove(client: StreamClient): void {
    this.#streams.remove(client);
  }

  #markDirty(eventId: string, change: LineChange): void {
    if (!this.#streams.has(eventId)) return;
    if (this.#dirty.get(eventId) !== 'line') this.#dirty.set(eventId, change);
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
  }

  /** Refreshes dirty events until none are left; moves that arrive meanwhile coalesce into one pass. */
  async #flush(): Promise<void> {
    while (this.#dirty.size > 0) {
      const [eventId, change] = this.#dirty.entries().next().value as [string, LineChange];
      this.#dirty.delete(eventId);
      const clients = this.#streams.of(eventId);
      if (!clients) continue;
      if (change === 'line') await this.#refreshAll(eventId, [...clients.keys()]);
      else await this.#followHead(eventId, clients);
    }
  }

  async #refreshAll(eventId: string, clients: StreamClient[]): Promise<void> {
    for (let i = 0; i < clients.length; i += REFRESH_BATCH) await this.#refresh(eventId, clients.slice(i, i + REFRESH_BATCH));
  }

  /** The head moved: exact reads near the front and for actives, worked-out places behind. */
  async #followHead(eventId: string, clients: Map<StreamClient, Follower>): Promise<void> {
    let admittedTotal: number;
    try {
      admittedTotal = await this.queue.admittedTotal(eventId);
    } catch (error) {
      this.log.warn({ err: error, eventId }, 'queue stream refresh failed; retrying on the next heartbeat');
      return;
    }
    const { exactNearFront: nearFront = EXACT_NEAR_FRONT, farPushIntervalMs = FAR_PUSH_INTERVAL_MS } = this.options;
    let nextPush = Infinity;
    const exact: StreamClient[] = [];
    const far: { client: StreamClient; follower: Follower; position: number }[] = [];
    const now = performance.now();
    for (const [client, follower] of clients) {
      // The pre-queue has no places to move until the opening, which re-reads everyone.
      if (follower.view.status === 'WAITING' && follower.view.position === null) continue;
      if (!follower.base) {
        exact.push(client);
        continue;
      }
      const position = follower.base.position - (admittedTotal - follower.base.admittedTotal);
      if (position <= nearFront) exact.push(client);
      else if (position === follower.view.position) continue;
      else if (now - follower.pushedAt >= farPushIntervalMs) far.push({ client, follower, position });
      else nextPush = Math.min(nextPush, follower.pushedAt + farPushIntervalMs - now);
    }
    // A waiter held back by the interval still hears the place it reached, once the interval is over.
    if (nextPush < Infinity) this.#later(eventId, nextPush);
    await this.#refreshAll(eventId, exact);
    if (far.length === 0) return;
    const views = await this.queue.movedViews(eventId, far.map(({ follower, position }) => ({ view: follower.view, position })));
    far.forEach(({ client, follower }, i) => {
      if (clients.get(client) === follower) this.#push(client, follower, views[i]!);
    });
  }

  #later(eventId: string, delayMs: number): void {
    if (this.#deferred.has(eventId)) return;
    const timer = setTimeout(() => {
      this.#deferred.delete(eventId);
      this.#markDirty(eventId, 'head');
    }, delayMs);
    timer.unref();
    this.#deferred.set(eventId, timer);
  }

  async #refresh(eventId: string, batch: StreamClient[]): Promise<void> {
    let read: Awaited<ReturnType<QueueService['currentMany']>>;
    try {
      read = await this.queue.currentMany(eventId, batch.map((client) => client.token));
    } catch (error) {
      this.log.warn({ err: error, eventId }, 'queue stream refresh failed; retrying on the next heartbeat');
      return;
    }
    const clients = this.#streams.of(eventId);
    batch.forEach((client, i) => {
      const view = read.views[i];
      const follower = clients?.get(client);
      if (!follower) return;
      if (!view) {
        this.remove(client);
        client.send({ status: 'EXPIRED' }, true);
        return;
      }
      follower.base = view.status === 'WAITING' && view.position !== null ? { position: view.position, admittedTotal: read.admittedTotal } : undefined;
      this.#push(client, follower, view);
    });
  }

  /** Sends a view that differs from the last one sent; SOLD_OUT is the stream's last word. */
  #push(client: StreamClient, follower: Follower, view: QueueView): void {
    const encoded = JSON.stringify(view);
    if (follower.encoded === encoded) return;
    follower.encoded = encoded;
    follower.view = view;
    follower.pushedAt = performance.now();
    if (view.status === 'SOLD_OUT') this.#finish(client, view);
    else client.send(view);
  }

  /** The last word of a stream: the line closed, nothing more will change for this holder. */
  #finish(client: StreamClient, view: QueueView): void {
    this.remove(client);
    client.send(view, true);
  }
}
