import type { AdmissionPolicy } from './waiting-room.js';

/**
 * What one event's line runs by right now: the operator's controls (stored with the event) and what the
 * inventory allows. The operations module provides it, cached per instance and refreshed every
 * admission tick, so a change reaches every instance within one tick.
 */
export interface LineSettings {
  paused: boolean;
  /** The operator's capacity, capped by the seats still to sell (QUEUE_ACTIVE_PER_SEAT per seat). */
  maxActive: number;
  admitPerSecond: number;
  /** The scheduled opening (epoch ms), or null when the line is simply open. */
  opensAt: number | null;
  /** Seats not yet sold across the event's open dates; null until counted. */
  seatsLeft: number | null;
  /** Of those, seats nobody holds. */
  seatsAvailable: number | null;
}

export interface LineSettingsSource {
  settingsOf(eventId: string): Promise<LineSettings>;
  /** An admission step found a pre-queue still to place: the opening is due, or was drawn and not placed. */
  openingDue(eventId: string): Promise<void>;
}

/** The configured defaults, for a line nobody configured (and for tests of the queue alone). */
export const fixedSettings = (settings: Pick<LineSettings, 'maxActive' | 'admitPerSecond'>): LineSettingsSource => ({
  settingsOf: async () => ({ ...settings, paused: false, opensAt: null, seatsLeft: null, seatsAvailable: null }),
  openingDue: async () => undefined,
});

/**
 * A line's admission policy: its lifetimes and its current settings, copied field by field. As an object
 * spread (`{ ...lifetimes, ...settings }`) it made V8 build a new hidden class on every call: 6% of the
 * server's CPU per join in perf.
 */
export const policyOf = (lifetimes: Pick<AdmissionPolicy, 'activeTtlMs' | 'waitingGraceMs'>, settings: LineSettings): AdmissionPolicy => ({
  maxActive: settings.maxActive,
  admitPerSecond: settings.admitPerSecond,
  activeTtlMs: lifetimes.activeTtlMs,
  waitingGraceMs: lifetimes.waitingGraceMs,
  paused: settings.paused,
  opensAt: settings.opensAt,
});
