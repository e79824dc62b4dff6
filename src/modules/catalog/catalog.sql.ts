import { NOW, statement } from '../../shared/sql.js';
import { effectiveSeatStatusSql } from './catalog.rules.js';
import type { ScheduleStatus, SeatStatus, SeatType } from './catalog.schemas.js';

export interface EventRow {
  id: string;
  code: string;
  name: string;
  description: string;
  category: string | null;
  enabled: boolean;
}

interface ScheduleRow {
  id: string;
  eventId: string;
  startAt: Date;
  endAt: Date;
  totalSeats: number;
  availableSeats: number;
  status: ScheduleStatus;
}

/** An EventRow's columns, of `eventsWithCategory`; the operator's views add their own to them. */
export const eventColumns = `e.id, e.code, e.name, e.description, e.enabled, c.name AS category`;
export const eventsWithCategory = `events e LEFT JOIN categories c ON c.id = e.category_id`;

export const listEnabledEvents = statement<Record<never, never>, EventRow>(`
  SELECT ${eventColumns} FROM ${eventsWithCategory}
  WHERE e.enabled
  ORDER BY e.created_at, e.code`);

export const findEvent = statement<{ eventId: string }, EventRow>(`SELECT ${eventColumns} FROM ${eventsWithCategory} WHERE e.id = :eventId`);

export const findEventByCode = statement<{ code: string }, { id: string }>(`SELECT id FROM events WHERE code = :code`);

export const listSchedulesWithAvailability = statement<{ eventId: string; now: Date | null }, ScheduleRow>(`
  SELECT sc.id, sc.event_id AS "eventId", sc.start_at AS "startAt", sc.end_at AS "endAt", sc.status,
         count(s.id) AS "totalSeats",
         count(s.id) FILTER (WHERE sc.status = 'OPEN' AND ${effectiveSeatStatusSql('s')} = 'AVAILABLE') AS "availableSeats"
  FROM schedules sc LEFT JOIN seats s ON s.schedule_id = sc.id
  WHERE sc.event_id = :eventId
  GROUP BY sc.id
  ORDER BY sc.start_at`);

export const findScheduleEvent = statement<{ scheduleId: string }, { eventId: string }>(
  `SELECT event_id AS "eventId" FROM schedules WHERE id = :scheduleId`,
);

/** The plain seat map: the benchmark's reference server and its pgbench figure run this one statement. */
export const listSeats = statement<
  { scheduleId: string; now: Date | null },
  { seatNumber: number; seatType: SeatType; price: number; status: SeatStatus }
>(`
  SELECT s.seat_number AS "seatNumber", s.seat_type AS "seatType", s.price, ${effectiveSeatStatusSql('s')} AS status
  FROM seats s
  WHERE s.schedule_id = :scheduleId
  ORDER BY s.seat_number`);

/**
 * The seat map as the service caches it: each seat as a buyer sees it, and for each hold still live the
 * milliseconds it has left by the database's clock (the map changes when the first of them lapses, with
 * no write). A number rather than two timestamps per row: in a sale the map is read again after most
 * changes, and parsing fifty timestamps into Dates each time showed in the service's profile.
 */
export const seatMap = statement<
  { scheduleId: string; now: Date | null },
  { seatNumber: number; seatType: SeatType; price: number; status: SeatStatus; holdLeftMs: number | null }
>(`
  SELECT s.seat_number AS "seatNumber", s.seat_type AS "seatType", s.price, ${effectiveSeatStatusSql('s')} AS status,
         CASE WHEN ${effectiveSeatStatusSql('s')} = 'HELD' THEN extract(epoch FROM s.hold_expires_at - ${NOW}) * 1000 END AS "holdLeftMs"
  FROM seats s
  WHERE s.schedule_id = :scheduleId
  ORDER BY s.seat_number`,
  { prepared: 'seat_map' },
);

export const upsertCategory = statement<{ name: string }, { id: number }>(`
  INSERT INTO categories (name) VALUES (:name)
  ON CONFLICT (name) DO UPDATE SET updated_at = categories.updated_at
  RETURNING id`);

export const insertEvent = statement<{ categoryId: number | null; code: string; name: string; description: string }, { id: string }>(`
  INSERT INTO events (category_id, code, name, description)
  VALUES (:categoryId, :code, :name, :description)
  ON CONFLICT (code) DO NOTHING
  RETURNING id`);

export const insertSchedule = statement<{ eventId: string; startAt: Date; endAt: Date }, { id: string }>(`
  INSERT INTO schedules (event_id, start_at, end_at) VALUES (:eventId, :startAt, :endAt)
  RETURNING id`);

/** All of a date's seats in one statement, from parallel arrays. */
export const insertSeats = statement<{ scheduleId: string; numbers: number[]; types: SeatType[]; prices: number[] }>(`
  INSERT INTO seats (schedule_id, seat_number, seat_type, price)
  SELECT :scheduleId, number, seat_type, price
  FROM unnest(:numbers::smallint[], :types::text[], :prices::bigint[]) AS plan(number, seat_type, price)`);
