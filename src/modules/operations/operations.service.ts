import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { SingleFlight } from '../../shared/single-flight.js';
import type { LineSettings, LineSettingsSource } from '../queue/line-settings.js';
import type { WaitingRoom } from '../queue/waiting-room.js';
import { commitmentOf, drawOrder, drawSeed, FAIRNESS_ALGORITHM } from './fairness.rules.js';
import type { AdminEventView, EventPatch, FairnessView, QueueControlsPatch, SaleControlsView } from './operations.schemas.js';
import * as sql from './operations.sql.js';

export interface OperationsDeps {
  db: Database;
  room: WaitingRoom;
  clock: Clock;
  /** Tells every instance's queue streams that a line changed (paused, opened, sold out…). */
  announce: (eventId: string) => Promise<void>;
  defaults: { maxActive: number; admitPerSecond: number; activePerSeat: number };
  /** How long an instance trusts its copy of a line's settings when no admission tick refreshed it. */
  settingsMaxAgeMs: number;
  log: Logger;
}

interface Cached {
  settings: LineSettings;
  controls: sql.ControlsRow;
  soldOut: boolean;
  loadedAt: number;
}

/** How long the sold-out mark lasts unless a tick renews it: a line nobody tends reopens by itself. */
const SOLD_OUT_MARK_MS = 30_000;

const iso = (date: Date | null) => date?.toISOString() ?? null;
const toAdminEvent = (row: sql.AdminEventRow): AdminEventView => ({
  ...row,
  salesStartAt: iso(row.salesStartAt),
  salesOpenedAt: iso(row.salesOpenedAt),
});

/**
 * Operating a live sale: the line's controls stored with the event, the scheduled opening and its draw,
 * and a line that knows the inventory. Every instance runs `tick` with its admission step; each decision
 * there is either idempotent (closing a sold-out line, placing a recorded draw) or made once in
 * PostgreSQL (recording the draw), so the fleet acts as one.
 */
export class SaleOperations implements LineSettingsSource {
  readonly #cache = new Map<string, Cached>();
  /**
   * Reloads in flight, by event: when a copy goes stale under load, every request of the next moments
   * asks at once, and one pair of queries (the inventory count reads every seat of the event) serves them all.
   */
  readonly #loading = new SingleFlight<void>();

  constructor(private readonly deps: OperationsDeps) {}

  async settingsOf(eventId: string): Promise<LineSettings> {
    const cached = this.#cache.get(eventId);
    if (cached && performance.now() - cached.loadedAt < this.deps.settingsMaxAgeMs) return cached.settings;
    await this.#loading.run(eventId, () => this.#refresh([eventId]));
    return this.#cache.get(eventId)?.settings ?? this.#settings(undefined, undefined);
  }

  /**
   * One pass over the events with a line and the openings that have come: reloads their settings
   * (announcing what waiters would see change), draws and places due openings, and closes or reopens
   * sold-out lines. Runs on every instance before each admission step.
   */
  async tick(lineEvents: readonly string[]): Promise<void> {
    const { db, clock } = this.deps;
    const due = await sql.dueOpenings.rows(db, { now: clock.pinned() });
    const eventIds = [...new Set([...lineEvents, ...due.map(({ id }) => id)])];
    if (eventIds.length === 0) return;
    const previous = new Map(eventIds.map((id) => [id, this.#cache.get(id)]));
    await this.#refresh(eventIds);
    for (const eventId of eventIds) {
      const now = this.#cache.get(eventId);
      if (!now) continue;
      try {
        if (now.controls.salesStartAt && !now.controls.salesOpenedAt && now.controls.salesStartAt.getTime() <= clock.now().getTime()) {
          await this.openingDue(eventId);
        }
        await this.#followInventory(eventId, now, previous.get(eventId));
      } catch (error) {
        this.deps.log.warn({ err: error, eventId }, 'sale operations step failed; the next tick tries again');
      }
    }
  }

  /**
   * Draws the pre-queue's order once for the fleet (the first instance to record it in PostgreSQL
   * wins; the others use its record) and places it at the head of the line. Safe to repeat: the draw is
   * recorded once and the placing happens once.
   */
  async openingDue(eventId: string): Promise<void> {
    const { db, room, clock } = this.deps;
    const record = await sql.fairnessOf.first(db, { eventId });
    if (!record?.salesStartAt || !record.seed) return;
    // The store's clock decides that the opening has come; from then on no join enters the pre-queue.
    const entries = await room.prequeue(eventId, record.salesStartAt.getTime(), clock.pinned()?.getTime());
    if (!entries) return;
    let order = record.order?.map(Number);
    if (!order) {
      const prequeue = entries.map(({ seq }) => seq).sort((a, b) => a - b);
      order = drawOrder(record.seed, prequeue);
      const won = await sql.recordOpening.first(db, { eventId, prequeue, order, now: clock.pinned() });
      if (!won) order = (await sql.fairnessOf.first(db, { eventId }))!.order!.map(Number);
      else this.deps.log.info({ eventId, prequeue: prequeue.length }, 'sale opened: pre-queue drawn');
    }
    const placed = await room.open(eventId, order);
    this.#cache.delete(eventId);
    if (placed || entries.length === 0) await this.deps.announce(eventId);
  }

  async updateEvent(eventId: string, patch: EventPatch): Promise<AdminEventView> {
    const { db, clock } = this.deps;
    const row = await db.withTx(async (tx) => {
      const current = await sql.lockEvent.first(tx, { eventId });
      if (!current) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
      let setSalesStart = false;
      let salesStartAt: Date | null = null;
      if (patch.salesStartAt !== undefined) {
        const wanted = patch.salesStartAt === null ? null : new Date(patch.salesStartAt);
        if (current.salesOpenedAt) {
          if (wanted?.getTime() !== current.salesStartAt?.getTime()) {
            throw new AppError('SALE_ALREADY_OPEN', 'The sale has opened and its pre-queue was drawn; the opening can no longer move.');
          }
        } else if (wanted !== null || current.salesStartAt !== null) {
          // Clearing a scheduled opening opens the sale now: the pre-queue is still drawn, never dropped.
          setSalesStart = true;
          salesStartAt = wanted ?? clock.pinned() ?? (await sql.databaseNow.first(tx, {}))!.now;
        }
      }
      await sql.updateEvent.count(tx, {
        eventId,
        name: patch.name ?? null,
        description: patch.description ?? null,
        enabled: patch.enabled ?? null,
        setSalesStart,
        salesStartAt,
        seed: setSalesStart ? (current.seed ?? drawSeed()) : null,
      });
      return (await sql.findAdminEvent.first(tx, { eventId }))!;
    });
    await this.#changed(eventId);
    return toAdminEvent(row);
  }

  async updateQueue(eventId: string, patch: QueueControlsPatch): Promise<SaleControlsView> {
    const updated = await sql.updateQueueControls.first(this.deps.db, {
      eventId,
      paused: patch.paused ?? null,
      maxActive: patch.maxActive ?? null,
      admitPerSecond: patch.admitPerSecond ?? null,
    });
    if (!updated) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    await this.#changed(eventId);
    return this.controls(eventId);
  }

  /** The operator's view of the line's controls, read fresh from the database. */
  async controls(eventId: string): Promise<SaleControlsView> {
    await this.#refresh([eventId]);
    const cached = this.#cache.get(eventId);
    if (!cached) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    const { controls, settings, soldOut } = cached;
    return {
      eventId,
      paused: controls.paused,
      maxActive: controls.maxActive ?? this.deps.defaults.maxActive,
      admitPerSecond: controls.admitPerSecond ?? this.deps.defaults.admitPerSecond,
      salesStartAt: iso(controls.salesStartAt),
      opened: controls.salesStartAt === null || controls.salesOpenedAt !== null,
      soldOut,
      seatsLeft: settings.seatsLeft,
      seatsAvailable: settings.seatsAvailable,
    };
  }

  async fairness(eventId: string): Promise<FairnessView> {
    const row = await sql.fairnessOf.first(this.deps.db, { eventId });
    if (!row) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    const opened = row.salesOpenedAt !== null;
    return {
      eventId,
      salesStartAt: iso(row.salesStartAt),
      commitment: row.seed ? commitmentOf(row.seed) : null,
      algorithm: FAIRNESS_ALGORITHM,
      opened,
      openedAt: iso(row.salesOpenedAt),
      seed: opened ? row.seed : null,
      prequeue: opened ? row.prequeue!.map(Number) : [],
      order: opened ? row.order!.map(Number) : [],
    };
  }

  async #changed(eventId: string): Promise<void> {
    this.#cache.delete(eventId);
    // A reload issued before the change must not answer the requests that come after it.
    this.#loading.forget(eventId);
    await this.deps.announce(eventId);
  }

  async #refresh(eventIds: string[]): Promise<void> {
    const { db, clock } = this.deps;
    const [controls, inventory] = await Promise.all([
      sql.controlsOf.rows(db, { eventIds }),
      sql.inventoryOf.rows(db, { eventIds, now: clock.pinned() }),
    ]);
    const stock = new Map(inventory.map((row) => [row.eventId, row]));
    const loadedAt = performance.now();
    for (const row of controls) {
      const seats = stock.get(row.id);
      const soldOut = seats !== undefined && seats.total > 0 && seats.left === 0;
      this.#cache.set(row.id, { controls: row, settings: this.#settings(row, seats), soldOut, loadedAt });
    }
  }

  #settings(controls: sql.ControlsRow | undefined, seats: sql.InventoryRow | undefined): LineSettings {
    const { maxActive, admitPerSecond, activePerSeat } = this.deps.defaults;
    const capacity = controls?.maxActive ?? maxActive;
    return {
      paused: controls?.paused ?? false,
      // Rule: admission never keeps more buyers active than can still find a seat.
      maxActive: seats ? Math.min(capacity, Math.max(1, seats.left) * activePerSeat) : capacity,
      admitPerSecond: controls?.admitPerSecond ?? admitPerSecond,
      opensAt: controls?.salesStartAt?.getTime() ?? null,
      seatsLeft: seats?.left ?? null,
      seatsAvailable: seats?.available ?? null,
    };
  }

  /** Closes the line once every seat is sold (renewing the mark each tick), reopens it when one comes back. */
  async #followInventory(eventId: string, now: Cached, before: Cached | undefined): Promise<void> {
    const { room, announce } = this.deps;
    if (now.soldOut) {
      if (await room.closeSoldOut(eventId, SOLD_OUT_MARK_MS)) await announce(eventId);
      return;
    }
    if ((before === undefined || before.soldOut) && (await room.reopen(eventId))) await announce(eventId);
    // What a waiter's view shows: availability matters only as "none free, some may come back".
    const seen = (s: LineSettings | undefined) => s && [s.paused, s.opensAt, s.seatsLeft, s.seatsAvailable === 0].join();
    if (before && seen(before.settings) !== seen(now.settings)) await announce(eventId);
  }
}
