import { statement } from '../../shared/sql.js';
import { effectiveSeatStatusSql } from '../catalog/catalog.rules.js';
import { eventColumns, eventsWithCategory, type EventRow } from '../catalog/catalog.sql.js';

/** One event's controls and opening as stored; NULL limits mean the configured defaults. */
export interface ControlsRow {
  id: string;
  enabled: boolean;
  paused: boolean;
  maxActive: number | null;
  admitPerSecond: number | null;
  salesStartAt: Date | null;
  salesOpenedAt: Date | null;
}

/** Seats of the event's open dates: all of them, those not sold, and those free to hold right now. */
export interface InventoryRow {
  eventId: string;
  total: number;
  left: number;
  available: number;
}

const controlColumns = `e.id, e.enabled, e.queue_paused AS paused, e.queue_max_active AS "maxActive",
  e.queue_admit_per_second AS "admitPerSecond", e.sales_start_at AS "salesStartAt", e.sales_opened_at AS "salesOpenedAt"`;

export const controlsOf = statement<{ eventIds: string[] }, ControlsRow>(`
  SELECT ${controlColumns} FROM events e WHERE e.id = ANY(:eventIds::uuid[])`, { prepared: 'line_controls' });

/** Openings that have come by the database's clock and are not recorded yet. */
export const dueOpenings = statement<{ now: Date | null }, { id: string }>(`
  SELECT id FROM events
  WHERE sales_start_at <= coalesce(:now::timestamptz, now()) AND sales_opened_at IS NULL AND enabled`);

export const inventoryOf = statement<{ eventIds: string[]; now: Date | null }, InventoryRow>(`
  SELECT sc.event_id AS "eventId", count(*)::int AS total,
         count(*) FILTER (WHERE s.status <> 'SOLD')::int AS left,
         count(*) FILTER (WHERE ${effectiveSeatStatusSql('s')} = 'AVAILABLE')::int AS available
  FROM schedules sc JOIN seats s ON s.schedule_id = sc.id
  WHERE sc.event_id = ANY(:eventIds::uuid[]) AND sc.status = 'OPEN'
  GROUP BY sc.event_id`,
  { prepared: 'line_inventory' },
);

export const updateQueueControls = statement<
  { eventId: string; paused: boolean | null; maxActive: number | null; admitPerSecond: number | null },
  ControlsRow
>(`
  UPDATE events e SET
    queue_paused = coalesce(:paused::boolean, e.queue_paused),
    queue_max_active = coalesce(:maxActive::int, e.queue_max_active),
    queue_admit_per_second = coalesce(:admitPerSecond::int, e.queue_admit_per_second),
    updated_at = now()
  WHERE e.id = :eventId
  RETURNING ${controlColumns}`);

export interface AdminEventRow extends EventRow {
  salesStartAt: Date | null;
  salesOpenedAt: Date | null;
}

/** An AdminEventRow's columns, of catalog's `eventsWithCategory`. */
export const adminEventColumns = `${eventColumns}, e.sales_start_at AS "salesStartAt", e.sales_opened_at AS "salesOpenedAt"`;

export const findAdminEvent = statement<{ eventId: string }, AdminEventRow>(`
  SELECT ${adminEventColumns} FROM ${eventsWithCategory} WHERE e.id = :eventId`);

/**
 * Row-locked, so two operators' edits of one event apply one after the other and the "already opened"
 * check holds at the moment of the write.
 */
export const lockEvent = statement<{ eventId: string }, { salesStartAt: Date | null; salesOpenedAt: Date | null; seed: string | null }>(`
  SELECT sales_start_at AS "salesStartAt", sales_opened_at AS "salesOpenedAt", fairness_seed AS seed
  FROM events WHERE id = :eventId FOR UPDATE`);

export const updateEvent = statement<{
  eventId: string;
  name: string | null;
  description: string | null;
  enabled: boolean | null;
  setSalesStart: boolean;
  salesStartAt: Date | null;
  seed: string | null;
}>(`
  UPDATE events SET
    name = coalesce(:name::text, name),
    description = coalesce(:description::text, description),
    enabled = coalesce(:enabled::boolean, enabled),
    sales_start_at = CASE WHEN :setSalesStart::boolean THEN :salesStartAt::timestamptz ELSE sales_start_at END,
    fairness_seed = coalesce(fairness_seed, :seed::text),
    updated_at = now()
  WHERE id = :eventId`);

/**
 * Rule: the opening is drawn once. The first instance to get here wins, the others read its result.
 */
export const recordOpening = statement<{ eventId: string; prequeue: number[]; order: number[]; now: Date | null }, { id: string }>(`
  UPDATE events SET sales_opened_at = coalesce(:now::timestamptz, now()), prequeue_seqs = :prequeue::bigint[],
    opening_order = :order::bigint[], updated_at = now()
  WHERE id = :eventId AND sales_opened_at IS NULL AND sales_start_at IS NOT NULL
  RETURNING id`);

export interface FairnessRow {
  salesStartAt: Date | null;
  salesOpenedAt: Date | null;
  seed: string | null;
  prequeue: string[] | null;
  order: string[] | null;
}

export const fairnessOf = statement<{ eventId: string }, FairnessRow>(`
  SELECT sales_start_at AS "salesStartAt", sales_opened_at AS "salesOpenedAt", fairness_seed AS seed,
         prequeue_seqs AS prequeue, opening_order AS "order"
  FROM events WHERE id = :eventId`);

export const databaseNow = statement<Record<never, never>, { now: Date }>(`SELECT now() AS now`);
