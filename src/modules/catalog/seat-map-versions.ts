/**
 * A version per date's seat map, shared by every instance, and the fan-out that tells the instances it
 * moved. Whoever commits a change to a seat bumps the date's version before answering; a reader asks for
 * the current version first, and an instance's cached map is good only for the version it was read
 * under. A version is `epoch.counter`: the counter moves on every bump, and the epoch is new whenever the
 * store lost the record (a restart without persistence, an expiry), so a version is never given out twice
 * for different contents.
 * Adapters: Redis (seat-map-versions.redis.ts: one hash per date under the date's `{scheduleId}` hash tag,
 * changes on the date's sharded channel) and in-process (seat-map-versions.memory.ts, one instance);
 * test/contract/seat-map-versions.contract.test.ts runs the same checks against both.
 */
export interface SeatMapVersions {
  /** The date's version now; the first read (or the first after the store lost it) starts a new epoch. */
  current(scheduleId: string): Promise<string>;
  /**
   * Moves the date's version on and tells every instance that follows the date. Once it resolves, every
   * instance's current() answers the new version; the message may arrive later, or not at all.
   */
  bump(scheduleId: string): Promise<string>;
  /** Adds a listener for the changes of every followed date. */
  subscribe(listener: (scheduleId: string) => void): Promise<void>;
  /** Starts hearing the date's changes; never rejects (an instance that cannot subscribe yet keeps trying). */
  follow(scheduleId: string): Promise<void>;
  unfollow(scheduleId: string): Promise<void>;
  close(): Promise<void>;
}

/** Every key and channel of a date carries its `{scheduleId}` hash tag: one Redis Cluster slot per date. */
export const seatMapVersionKey = (scheduleId: string) => `seatmap:{${scheduleId}}:version`;
export const seatMapChannel = (scheduleId: string) => `seatmap:changed:{${scheduleId}}`;

/**
 * How long a date's version record outlives its last bump. Losing it only starts a new epoch (every
 * instance reads the map from PostgreSQL once more), so past dates need not keep keys.
 */
export const SEAT_MAP_VERSION_TTL_MS = 86_400_000;

/** The two parts of a version, to tell which of two versions of one epoch is newer. */
export function parseVersion(version: string): { epoch: string; counter: number } {
  const dot = version.lastIndexOf('.');
  return { epoch: version.slice(0, dot), counter: Number(version.slice(dot + 1)) };
}
