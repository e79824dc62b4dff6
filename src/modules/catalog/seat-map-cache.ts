import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { SingleFlight } from '../../shared/single-flight.js';
import { seatMachine } from './catalog.rules.js';
import type { SeatStatus, SeatView } from './catalog.schemas.js';
import * as sql from './catalog.sql.js';
import { parseVersion, type SeatMapVersions } from './seat-map-versions.js';

/** A date's seat map, ready to send. */
export interface SeatMapSnapshot {
  /** The seats as JSON, encoded once for every reader of this version. */
  body: Buffer;
  /** A strong ETag of exactly these bytes: equal maps have equal tags, on every instance. */
  etag: string;
  /** This instance's clock (ms) when the first hold in the map lapses; Infinity when nothing is held. */
  lapsesAt: number;
}

/** A seat as a committed change left it. */
export interface SeatChange {
  scheduleId: string;
  seatNumber: number;
  status: SeatStatus;
  /** For a HELD seat: when its hold lapses on this instance's clock (ms), or earlier, never later. */
  lapsesAt?: number;
}

/** Told after every commit that changed a seat, before the request that made it is answered. */
export interface SeatMapChanges {
  /** Seats of these dates changed in ways the caller does not spell out (a sweep, a refund, a canceled date). */
  changed(scheduleIds: Iterable<string>): Promise<void>;
  /** Exactly these seats changed, to these states; per date, they are the whole of the change. */
  seatsChanged(seats: readonly SeatChange[]): Promise<void>;
}

export type SeatMapReadSource = 'cache' | 'shared' | 'database';

export interface SeatMapCacheSettings {
  /** How long an entry is trusted at most, whatever its version says: the bound on staleness when a bump was lost. 0 turns the cache off. */
  maxAgeMs: number;
  /** Dates kept at once; the least recently loaded goes first. */
  maxDates: number;
}

/**
 * A copy of a date's map. Its bytes and ETag are made on the first read that needs them: at a rush a
 * date changes more often than it is read, and each hold or payment taken in makes a new copy.
 */
class Entry implements SeatMapSnapshot {
  #body: Buffer | undefined;
  #etag: string | undefined;

  constructor(
    readonly seats: readonly SeatView[],
    readonly lapsesAt: number,
    readonly version: string | undefined,
    readonly validUntil: number,
  ) {}

  get body(): Buffer {
    return (this.#body ??= Buffer.from(JSON.stringify(this.seats)));
  }

  get etag(): string {
    return (this.#etag ??= `"${createHash('sha1').update(this.body).digest('base64url')}"`);
  }
}

/**
 * How many changes version `b` counts past `a` (negative when `b` is the older), or undefined when the
 * two cannot be compared: either is unknown, or they belong to different epochs of the version store.
 */
const changesBetween = (a: string | undefined, b: string | undefined): number | undefined => {
  if (a === undefined || b === undefined) return undefined;
  const [x, y] = [parseVersion(a), parseVersion(b)];
  return x.epoch === y.epoch ? y.counter - x.counter : undefined;
};
/** Whether version `a` is known to come before `b`. */
const isOlder = (a: string | undefined, b: string | undefined) => (changesBetween(a, b) ?? 0) > 0;

/** Groups changed seats by date, in first-seen order. */
const byDate = (seats: readonly SeatChange[]) => {
  const dates = new Map<string, SeatChange[]>();
  for (const seat of seats) {
    const changes = dates.get(seat.scheduleId);
    if (changes) changes.push(seat);
    else dates.set(seat.scheduleId, [seat]);
  }
  return dates;
};

/**
 * Rule: a seat map is never served older than an answered change. Every committed change bumps
 * the date's shared version after its commit and before its answer; a reader asks for the version first
 * and serves its cached map only if it stands for that same version (read from PostgreSQL under it, or
 * taken in as below), before the first hold in it lapses (a lapse is a change without a write), and
 * within maxAgeMs of its read from PostgreSQL. When the version store cannot be read, the reader goes to
 * PostgreSQL. When a bump fails after its commit, the write still succeeds; this instance then serves
 * that date from PostgreSQL until a retried bump lands (retryOwedBumps), and other instances may serve
 * their copy for at most maxAgeMs.
 *
 * A change that spells out its seats (a hold, a payment) is applied to this instance's copy in place of a
 * new read when its bump moved the version exactly one past the copy's: then no other change was counted
 * between them, and the copy, read after every change up to its own version, plus this change is the map
 * at the new version. A seat whose copy shows a state the change could not have come from (a later,
 * unanswered change is in the copy) drops the copy instead.
 */
export class SeatMapCache implements SeatMapChanges {
  readonly #entries = new Map<string, Entry>();
  /** Reads of PostgreSQL in flight, by date and version: the readers of one version share one query. */
  readonly #loading = new SingleFlight<Entry>();
  /** Dates changed here whose bump has not landed yet. */
  readonly #owed = new Set<string>();
  /** The latest version read of each date still in flight, with when it was issued (performance.now()). */
  readonly #versionReads = new Map<string, { issuedAt: number; read: Promise<string> }>();
  /** Reads answered so far: from the copy, by joining a read of PostgreSQL in flight, by a read of their own. */
  readonly reads: Record<SeatMapReadSource, number> = { cache: 0, shared: 0, database: 0 };

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly versions: SeatMapVersions,
    private readonly settings: SeatMapCacheSettings,
    private readonly log: Logger,
  ) {}

  /**
   * The date's map as of a moment after `arrivedAt` (performance.now(); by default, now): a request passes
   * when it arrived, so the requests that arrived before a version read was sent can share it.
   */
  async read(scheduleId: string, arrivedAt = performance.now()): Promise<SeatMapSnapshot> {
    if (this.settings.maxAgeMs === 0 || this.#owed.has(scheduleId)) return this.#load(scheduleId, undefined);
    let version: string;
    try {
      version = await this.#currentVersion(scheduleId, arrivedAt);
    } catch (error) {
      this.log.warn({ err: error, scheduleId }, 'seat map version unavailable; reading the map from the database');
      return this.#load(scheduleId, undefined);
    }
    const cached = this.#entries.get(scheduleId);
    if (cached?.version === version && this.#now() < cached.validUntil) {
      this.reads.cache++;
      return cached;
    }
    const key = `${scheduleId} ${version}`;
    const shared = this.#loading.running(key);
    if (shared) {
      const entry = await shared;
      // A read that began before a hold in it lapsed may be over by now; then this reader asks itself.
      if (this.#now() < entry.validUntil) {
        this.reads.shared++;
        return entry;
      }
      return this.#load(scheduleId, version);
    }
    return this.#loading.run(key, () => this.#load(scheduleId, version));
  }

  async changed(scheduleIds: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(scheduleIds)].map((scheduleId) => {
        this.#entries.delete(scheduleId);
        return this.#bump(scheduleId);
      }),
    );
  }

  async seatsChanged(seats: readonly SeatChange[]): Promise<void> {
    await Promise.all(
      [...byDate(seats)].map(async ([scheduleId, changes]) => {
        const version = await this.#bump(scheduleId);
        const cached = this.#entries.get(scheduleId);
        if (!cached) return;
        // One past the copy's: no other change was counted between them.
        const patched = version !== undefined && changesBetween(cached.version, version) === 1 ? applied(cached, changes, version) : undefined;
        if (patched) this.#entries.set(scheduleId, patched);
        else if (cached.version !== version && !isOlder(version, cached.version)) this.#entries.delete(scheduleId);
      }),
    );
  }

  /** Bumps the versions a failed bump still owes (the background job runs this); returns how many are still owed. */
  async retryOwedBumps(): Promise<number> {
    await Promise.all([...this.#owed].map((scheduleId) => this.#bump(scheduleId)));
    return this.#owed.size;
  }

  /** Dates whose change is not yet visible to other instances through the version store. */
  get owed(): number {
    return this.#owed.size;
  }

  /**
   * The date's version, by a read issued after the reader arrived: any change answered before the reader
   * sent its request had bumped the version before that read reaches the store. So every reader that
   * arrived before the latest read in flight was issued shares it, and under load one read serves a crowd.
   */
  #currentVersion(scheduleId: string, arrivedAt: number): Promise<string> {
    const latest = this.#versionReads.get(scheduleId);
    if (latest && latest.issuedAt >= arrivedAt) return latest.read;
    const issued = { issuedAt: performance.now(), read: this.versions.current(scheduleId) };
    this.#versionReads.set(scheduleId, issued);
    const settled = () => {
      if (this.#versionReads.get(scheduleId) === issued) this.#versionReads.delete(scheduleId);
    };
    issued.read.then(settled, settled);
    return issued.read;
  }

  /** The date's new version, or undefined when the bump failed (then it is owed). */
  async #bump(scheduleId: string): Promise<string | undefined> {
    try {
      const version = await this.versions.bump(scheduleId);
      this.#owed.delete(scheduleId);
      return version;
    } catch (error) {
      this.#entries.delete(scheduleId);
      this.#owed.add(scheduleId);
      this.log.warn({ err: error, scheduleId }, 'could not bump the seat map version; serving this date from the database until a retry lands');
    }
  }

  /** Reads the map under `version` (undefined: for this reader alone, not cached). */
  async #load(scheduleId: string, version: string | undefined): Promise<Entry> {
    this.reads.database++;
    const started = this.#now();
    const rows = await sql.seatMap.rows(this.db, { scheduleId, now: this.clock.pinned() });
    const seats: SeatView[] = rows.map(({ seatNumber, seatType, price, status }) => ({ seatNumber, seatType, price, status }));
    // Deadlines are on the database's clock; measured from this instance's clock before the query, the
    // lapse can only come early, never late, whatever the two clocks say.
    let lapsesAt = Number.POSITIVE_INFINITY;
    for (const { holdLeftMs } of rows) {
      if (holdLeftMs !== null) lapsesAt = Math.min(lapsesAt, started + holdLeftMs);
    }
    const entry = new Entry(seats, lapsesAt, version, Math.min(lapsesAt, started + this.settings.maxAgeMs));
    if (version !== undefined) this.#store(scheduleId, entry);
    return entry;
  }

  #store(scheduleId: string, entry: Entry): void {
    // A read that was in flight when a bump failed may predate that change, which no version counts: kept,
    // the next change's bump would be one past it, and the change would be taken into a copy without the
    // failed one. Until the owed bump lands, this date is read from PostgreSQL and nothing is kept.
    if (this.#owed.has(scheduleId)) return;
    // A slow read of an older version must not push out a newer one.
    if (isOlder(entry.version, this.#entries.get(scheduleId)?.version)) return;
    this.#entries.delete(scheduleId);
    this.#entries.set(scheduleId, entry);
    if (this.#entries.size > this.settings.maxDates) this.#entries.delete(this.#entries.keys().next().value!);
  }

  #now(): number {
    return this.clock.now().getTime();
  }
}

/**
 * The copy at `version`: this one with the changed seats in their new states, or undefined when a seat is
 * not in it or shows a state the change could not have come from. The copy's age limit stays; a new hold can only bring its
 * lapse closer.
 */
function applied(entry: Entry, changes: readonly SeatChange[], version: string): Entry | undefined {
  const seats = [...entry.seats];
  let lapsesAt = entry.lapsesAt;
  for (const change of changes) {
    const at = seats.findIndex((seat) => seat.seatNumber === change.seatNumber);
    const seat = seats[at];
    if (!seat || (seat.status !== change.status && !seatMachine.can(seat.status, change.status))) return undefined;
    seats[at] = { ...seat, status: change.status };
    if (change.status === 'HELD') lapsesAt = Math.min(lapsesAt, change.lapsesAt ?? Number.NEGATIVE_INFINITY);
  }
  return new Entry(seats, lapsesAt, version, Math.min(entry.validUntil, lapsesAt));
}
