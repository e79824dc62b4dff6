import { NOW, statement } from '../../shared/sql.js';
import { effectiveSeatStatusSql } from '../catalog/catalog.rules.js';
import type { ScheduleStatus } from '../catalog/catalog.schemas.js';
import { eventsWithCategory } from '../catalog/catalog.sql.js';
import { adminEventColumns, type AdminEventRow } from '../operations/operations.sql.js';

interface SeatCounts {
  available: number;
  held: number;
  sold: number;
}

export interface ScheduleSeatsRow extends SeatCounts {
  id: string;
  eventId: string;
  startAt: Date;
  endAt: Date;
  status: ScheduleStatus;
}

export interface SalesTotalsRow {
  revenue: number;
  purchases: number;
  refunds: number;
}

/**
 * A date's seats as a buyer would count them now: a lapsed hold is available (catalog's rule), and a
 * canceled date has nothing available, as `availableSeats` in the public catalog says.
 */
const seatCounts = `
  count(s.id) FILTER (WHERE sc.status = 'OPEN' AND ${effectiveSeatStatusSql('s')} = 'AVAILABLE') AS available,
  count(s.id) FILTER (WHERE ${effectiveSeatStatusSql('s')} = 'HELD') AS held,
  count(s.id) FILTER (WHERE ${effectiveSeatStatusSql('s')} = 'SOLD') AS sold`;

const scheduleColumns = `sc.id, sc.event_id AS "eventId", sc.start_at AS "startAt", sc.end_at AS "endAt", sc.status`;

/** A payment that took money once: still standing, or refunded since (a FAILED one never did). */
const PAID = `p.status IN ('SUCCEEDED', 'REFUNDED')`;

/** The payments of one event's dates (index paths: schedules by event, payments by reservation). */
const eventPayments = `
  payments p
  JOIN reservations r ON r.id = p.reservation_id
  JOIN schedules sc ON sc.id = r.schedule_id`;

const totals = `
  coalesce(sum(p.amount) FILTER (WHERE p.status = 'SUCCEEDED'), 0) AS revenue,
  count(*) AS purchases,
  count(*) FILTER (WHERE p.status = 'REFUNDED') AS refunds`;

export const listAllEvents = statement<Record<never, never>, AdminEventRow>(`
  SELECT ${adminEventColumns} FROM ${eventsWithCategory}
  ORDER BY e.created_at, e.code`);

export const eventExists = statement<{ eventId: string }, { id: string }>(`SELECT id FROM events WHERE id = :eventId`);

export const schedulesOfEvent = statement<{ eventId: string; now: Date | null }, ScheduleSeatsRow>(`
  SELECT ${scheduleColumns}, ${seatCounts}
  FROM schedules sc LEFT JOIN seats s ON s.schedule_id = sc.id
  WHERE sc.event_id = :eventId
  GROUP BY sc.id
  ORDER BY sc.start_at, sc.id`);

export const totalsOfEvent = statement<{ eventId: string }, SalesTotalsRow>(`
  SELECT ${totals}
  FROM ${eventPayments}
  WHERE sc.event_id = :eventId AND ${PAID}`);

/**
 * The last `minutes` whole minutes up to the current one, by the database's clock, each with the seats
 * paid and refunded in it and the money that moved (a refund counts in the minute it happened, against it).
 */
export const perMinuteOfEvent = statement<{ eventId: string; now: Date | null; minutes: number }, { minute: Date } & SalesTotalsRow>(`
  WITH bounds AS (
    SELECT date_trunc('minute', ${NOW}) AS last,
           date_trunc('minute', ${NOW}) - (:minutes::int - 1) * interval '1 minute' AS first
  ),
  minutes AS (
    SELECT generate_series(first, last, interval '1 minute') AS minute FROM bounds
  ),
  moves AS (
    SELECT date_trunc('minute', p.paid_at) AS minute, 1 AS purchases, p.amount AS revenue, 0 AS refunds
    FROM ${eventPayments}
    WHERE sc.event_id = :eventId AND ${PAID} AND p.paid_at >= (SELECT first FROM bounds)
    UNION ALL
    SELECT date_trunc('minute', p.canceled_at), 0, -p.amount, 1
    FROM ${eventPayments}
    WHERE sc.event_id = :eventId AND p.status = 'REFUNDED' AND p.canceled_at >= (SELECT first FROM bounds)
  )
  SELECT m.minute,
         coalesce(sum(mv.purchases), 0)::bigint AS purchases,
         coalesce(sum(mv.revenue), 0)::bigint AS revenue,
         coalesce(sum(mv.refunds), 0)::bigint AS refunds
  FROM minutes m LEFT JOIN moves mv ON mv.minute = m.minute
  GROUP BY m.minute
  ORDER BY m.minute`);

/** Every date not yet over, of every event, in one read: what /metrics reports on each scrape. */
export const liveSchedules = statement<{ now: Date | null }, ScheduleSeatsRow>(`
  SELECT ${scheduleColumns}, ${seatCounts}
  FROM schedules sc JOIN seats s ON s.schedule_id = sc.id
  WHERE sc.end_at > ${NOW}
  GROUP BY sc.id`);

/**
 * Seats paid and refunded in the last minute by the database's clock, and the money that moved, per event
 * with any: what /metrics reports. Driven by the time indexes of migration 004, so it reads one minute of
 * payments however many there are in all.
 */
export const lastMinuteByEvent = statement<{ now: Date | null }, { eventId: string } & SalesTotalsRow>(`
  SELECT sc.event_id AS "eventId",
         sum(m.bought)::bigint AS purchases, sum(m.amount)::bigint AS revenue, sum(m.refunded)::bigint AS refunds
  FROM (
    SELECT p.reservation_id, p.amount, 1 AS bought, 0 AS refunded
    FROM payments p WHERE p.paid_at > ${NOW} - interval '1 minute' AND p.paid_at <= ${NOW} AND ${PAID}
    UNION ALL
    SELECT p.reservation_id, -p.amount, 0, 1
    FROM payments p WHERE p.status = 'REFUNDED' AND p.canceled_at > ${NOW} - interval '1 minute' AND p.canceled_at <= ${NOW}
  ) m
  JOIN reservations r ON r.id = m.reservation_id
  JOIN schedules sc ON sc.id = r.schedule_id
  GROUP BY sc.event_id`);
