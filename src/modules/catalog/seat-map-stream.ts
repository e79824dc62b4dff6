import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { StreamRegistry } from '../../shared/stream-registry.js';
import type { SeatMapSnapshot } from './seat-map-cache.js';
import type { SeatMapVersions } from './seat-map-versions.js';

export interface SeatMapStreamClient {
  scheduleId: string;
  eventId: string;
  token: string;
  send(snapshot: SeatMapSnapshot): void;
  /** The token's turn is over: a last message says so and the stream ends. */
  expire(): void;
  heartbeat(): void;
  /** Ends the stream without a message (shutdown); the browser reconnects to another instance. */
  end(): void;
}

/** Whether queue tokens still hold an admitted turn (the queue module); each check counts as the holder's activity. */
export interface TurnCheck {
  admitted(eventId: string, tokens: readonly string[]): Promise<boolean[]>;
}

export interface SeatMapStreamSettings {
  heartbeatMs: number;
  streamsPerToken: number;
}

/**
 * The seat-map streams of this instance, by date; it follows the changes of exactly the dates it has
 * clients for. When a date changes (a bump from any instance) or its first hold lapses, its map is read
 * once through the cache and sent to every client that has not seen it. A heartbeat re-reads every
 * date, which catches a lost message, and re-checks every token: a stream ends with its buyer's turn,
 * and, like the polling it replaces, an open stream counts as the buyer's activity.
 */
export class SeatMapStreamHub {
  /** Each date's clients, with the ETag each was last sent. */
  readonly #streams: StreamRegistry<SeatMapStreamClient, string>;
  readonly #dirty = new Set<string>();
  readonly #lapses = new Map<string, NodeJS.Timeout>();
  #flushing: Promise<void> | undefined;
  #checking: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly seatMaps: { read(scheduleId: string): Promise<SeatMapSnapshot> },
    private readonly versions: Pick<SeatMapVersions, 'subscribe' | 'follow' | 'unfollow'>,
    private readonly turns: TurnCheck,
    private readonly clock: Clock,
    private readonly settings: SeatMapStreamSettings,
    private readonly log: Logger,
  ) {
    this.#streams = new StreamRegistry<SeatMapStreamClient, string>({
      topicOf: (client) => client.scheduleId,
      perToken: settings.streamsPerToken,
      // A change published before the subscription held was not heard: one re-read once it holds.
      onFirst: (scheduleId) => void this.versions.follow(scheduleId).then(() => this.#markDirty(scheduleId)),
      onLast: (scheduleId) => {
        clearTimeout(this.#lapses.get(scheduleId));
        this.#lapses.delete(scheduleId);
        void this.versions.unfollow(scheduleId);
      },
    });
  }

  async start(): Promise<void> {
    await this.versions.subscribe((scheduleId) => this.#markDirty(scheduleId));
    this.#heartbeat = setInterval(() => this.#beat(), this.settings.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Stops refreshing and ends every open stream, so a shutting-down server is not held open by them. */
  async stop(): Promise<void> {
    this.#streams.close();
    clearInterval(this.#heartbeat);
    await Promise.all([this.#flushing, this.#checking]);
    this.#streams.endAll();
    for (const timer of this.#lapses.values()) clearTimeout(timer);
    this.#lapses.clear();
  }

  /** False once stop() has begun: a stream set up from then on is ended at once. */
  get accepting(): boolean {
    return this.#streams.accepting;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Follows a client from its first map on (see StreamRegistry.add for shutdown and the per-token cap). */
  add(client: SeatMapStreamClient, first: SeatMapSnapshot): void {
    if (!this.#streams.add(client, first.etag)) return;
    client.send(first);
    this.#watchLapse(client.scheduleId, first);
  }

  remove(client: SeatMapStreamClient): void {
    this.#streams.remove(client);
  }

  #beat(): void {
    for (const [scheduleId, clients] of this.#streams.topics()) {
      for (const client of clients.keys()) client.heartbeat();
      this.#markDirty(scheduleId);
    }
    this.#checking ??= this.#checkTurns().finally(() => {
      this.#checking = undefined;
    });
  }

  #markDirty(scheduleId: string): void {
    if (!this.#streams.has(scheduleId) || !this.#streams.accepting) return;
    this.#dirty.add(scheduleId);
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
  }

  /** Sends every dirty date's map to its clients; changes that arrive meanwhile coalesce into one more pass. */
  async #flush(): Promise<void> {
    while (this.#dirty.size > 0) {
      const [scheduleId] = this.#dirty as Set<string>;
      this.#dirty.delete(scheduleId!);
      await this.#refresh(scheduleId!);
    }
  }

  /** Reads the date's map and sends it to each of its clients that has not seen it yet. */
  async #refresh(scheduleId: string): Promise<void> {
    let snapshot: SeatMapSnapshot;
    try {
      snapshot = await this.seatMaps.read(scheduleId);
    } catch (error) {
      this.log.warn({ err: error, scheduleId }, 'seat map stream refresh failed; retrying on the next heartbeat');
      return;
    }
    const clients = this.#streams.of(scheduleId);
    if (!clients) return;
    for (const [client, sent] of clients) {
      if (sent === snapshot.etag) continue;
      clients.set(client, snapshot.etag);
      client.send(snapshot);
    }
    this.#watchLapse(scheduleId, snapshot);
  }

  /** A hold lapses without a write, so nothing is published: the date is re-read when its first hold's time is up. */
  #watchLapse(scheduleId: string, snapshot: SeatMapSnapshot): void {
    clearTimeout(this.#lapses.get(scheduleId));
    this.#lapses.delete(scheduleId);
    if (!Number.isFinite(snapshot.lapsesAt)) return;
    const timer = setTimeout(() => {
      this.#lapses.delete(scheduleId);
      this.#markDirty(scheduleId);
    }, Math.max(0, snapshot.lapsesAt - this.clock.now().getTime()));
    timer.unref();
    this.#lapses.set(scheduleId, timer);
  }

  /** Ends the streams of tokens whose turn is over (a purchase, idling out), one queue-store round trip per event. */
  async #checkTurns(): Promise<void> {
    const byEvent = new Map<string, SeatMapStreamClient[]>();
    for (const client of this.#streams.clients()) {
      const ofEvent = byEvent.get(client.eventId);
      if (ofEvent) ofEvent.push(client);
      else byEvent.set(client.eventId, [client]);
    }
    for (const [eventId, clients] of byEvent) {
      const tokens = [...new Set(clients.map((client) => client.token))];
      let admitted: boolean[];
      try {
        admitted = await this.turns.admitted(eventId, tokens);
      } catch (error) {
        this.log.warn({ err: error, eventId }, 'could not check the seat map streams\' turns; checking on the next heartbeat');
        continue;
      }
      const over = new Set(tokens.filter((_, i) => !admitted[i]));
      // A turn ends after the purchase that ended it has bumped its date's map, and the change's message
      // may still be on its way: the map is read once more, so a stream's last map shows the purchase.
      const ending = new Set(clients.filter((client) => over.has(client.token)).map((client) => client.scheduleId));
      await Promise.all([...ending].map((scheduleId) => this.#refresh(scheduleId)));
      for (const client of clients) {
        if (!over.has(client.token) || !this.#streams.of(client.scheduleId)?.has(client)) continue;
        this.remove(client);
        client.expire();
      }
    }
  }
}
