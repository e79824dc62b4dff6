import { NOW, statement } from '../../shared/sql.js';
import { scheduleMachine } from '../catalog/catalog.rules.js';

/** The operator's cancel: the date stops taking holds at once; its purchases are refunded in batches. */
export const cancelSchedule = statement<{ scheduleId: string; now: Date | null }, { eventId: string }>(`
  UPDATE schedules SET status = 'CANCELED', canceled_at = ${NOW}, updated_at = ${NOW}
  WHERE id = :scheduleId AND ${scheduleMachine.guard('status', 'CANCELED')}
  RETURNING event_id AS "eventId"`);

export const findSchedule = statement<{ scheduleId: string }, { eventId: string; status: string }>(
  `SELECT event_id AS "eventId", status FROM schedules WHERE id = :scheduleId`,
);

/** The next batch of live reservations of a canceled date, oldest first; each is then locked seat first. */
export const liveReservationsOf = statement<{ scheduleId: string; status: 'CONFIRMED' | 'PENDING'; limit: number }, { id: string; userId: string }>(`
  SELECT id, user_id AS "userId" FROM reservations
  WHERE schedule_id = :scheduleId AND status = :status
  ORDER BY reserved_at, id
  LIMIT :limit`);

/** Canceled dates that still have a live reservation: a cancel the process did not finish. */
export const unfinishedCancels = statement<{ limit: number }, { scheduleId: string }>(`
  SELECT DISTINCT r.schedule_id AS "scheduleId"
  FROM reservations r JOIN schedules sc ON sc.id = r.schedule_id
  WHERE sc.status = 'CANCELED' AND r.status IN ('PENDING', 'CONFIRMED')
  LIMIT :limit`);
