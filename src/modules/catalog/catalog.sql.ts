/** A hold whose deadline passed counts as AVAILABLE in every read, before the sweeper gets to it. */
const SEAT_IS_FREE = `(s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.hold_expires_at <= $2))`;

export const listEnabledEvents = `
  SELECT e.id, e.code, e.name, e.description, c.name AS category
  FROM events e LEFT JOIN categories c ON c.id = e.category_id
  WHERE e.enabled
  ORDER BY e.created_at, e.code`;

export const findEvent = `
  SELECT e.id, e.code, e.name, e.description, e.enabled, c.name AS category
  FROM events e LEFT JOIN categories c ON c.id = e.category_id
  WHERE e.id = $1`;

export const listSchedulesWithAvailability = `
  SELECT sc.id, sc.event_id, sc.start_at, sc.end_at,
         count(s.id) AS total_seats,
         count(s.id) FILTER (WHERE ${SEAT_IS_FREE}) AS available_seats
  FROM schedules sc LEFT JOIN seats s ON s.schedule_id = sc.id
  WHERE sc.event_id = $1
  GROUP BY sc.id
  ORDER BY sc.start_at`;

export const findScheduleEvent = `SELECT event_id FROM schedules WHERE id = $1`;

export const listSeats = `
  SELECT s.seat_number, s.seat_type, s.price,
         CASE WHEN ${SEAT_IS_FREE} THEN 'AVAILABLE' ELSE s.status END AS status
  FROM seats s
  WHERE s.schedule_id = $1
  ORDER BY s.seat_number`;

export const upsertCategory = `
  INSERT INTO categories (name) VALUES ($1)
  ON CONFLICT (name) DO UPDATE SET updated_at = categories.updated_at
  RETURNING id`;

export const insertEvent = `
  INSERT INTO events (category_id, code, name, description)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (code) DO NOTHING
  RETURNING id`;

export const insertSchedule = `
  INSERT INTO schedules (event_id, start_at, end_at) VALUES ($1, $2, $3)
  RETURNING id`;

/** All fifty seats in one statement, from parallel arrays. */
export const insertSeats = `
  INSERT INTO seats (schedule_id, seat_number, seat_type, price)
  SELECT $1, number, seat_type, price
  FROM unnest($2::smallint[], $3::text[], $4::bigint[]) AS plan(number, seat_type, price)`;
