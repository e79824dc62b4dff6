import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { seatPlan, type SeatPrices, type SeatStatus, type SeatType } from './catalog.rules.js';
import * as sql from './catalog.sql.js';

export interface EventView {
  id: string;
  code: string;
  name: string;
  description: string;
  category: string | null;
}

export interface ScheduleView {
  id: string;
  eventId: string;
  startAt: string;
  endAt: string;
  totalSeats: number;
  availableSeats: number;
}

export interface SeatView {
  seatNumber: number;
  seatType: SeatType;
  price: number;
  status: SeatStatus;
}

interface ScheduleRow {
  id: string;
  event_id: string;
  start_at: Date;
  end_at: Date;
  total_seats: number;
  available_seats: number;
}

const toScheduleView = (row: ScheduleRow): ScheduleView => ({
  id: row.id,
  eventId: row.event_id,
  startAt: row.start_at.toISOString(),
  endAt: row.end_at.toISOString(),
  totalSeats: row.total_seats,
  availableSeats: row.available_seats,
});

/** How long "this event exists and is on sale" is trusted without asking the database again. */
const OPEN_EVENT_CACHE_MS = 5_000;

export class CatalogService {
  /** A schedule never moves to another event, so this mapping is cached for the process's life. */
  readonly #scheduleEvent = new Map<string, string>();
  readonly #openEvents = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async listEvents(): Promise<EventView[]> {
    return (await this.db.query<EventView>(sql.listEnabledEvents)).rows;
  }

  async listSchedules(eventId: string): Promise<ScheduleView[]> {
    await this.ensureEventOpen(eventId);
    const { rows } = await this.db.query<ScheduleRow>(sql.listSchedulesWithAvailability, [eventId, this.clock.now()]);
    return rows.map(toScheduleView);
  }

  async listSeats(scheduleId: string): Promise<SeatView[]> {
    const { rows } = await this.db.query<{ seat_number: number; seat_type: SeatType; price: number; status: SeatStatus }>(
      sql.listSeats,
      [scheduleId, this.clock.now()],
    );
    return rows.map((row) => ({ seatNumber: row.seat_number, seatType: row.seat_type, price: row.price, status: row.status }));
  }

  /** Throws NOT_FOUND unless the event exists and is enabled. */
  async ensureEventOpen(eventId: string): Promise<void> {
    const now = Date.now();
    if ((this.#openEvents.get(eventId) ?? 0) > now) return;
    const { rows } = await this.db.query<{ enabled: boolean }>(sql.findEvent, [eventId]);
    if (!rows[0]?.enabled) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    this.#openEvents.set(eventId, now + OPEN_EVENT_CACHE_MS);
  }

  /** The event a schedule belongs to; NOT_FOUND for an unknown schedule. */
  async eventOfSchedule(scheduleId: string): Promise<string> {
    const cached = this.#scheduleEvent.get(scheduleId);
    if (cached) return cached;
    const { rows } = await this.db.query<{ event_id: string }>(sql.findScheduleEvent, [scheduleId]);
    const eventId = rows[0]?.event_id;
    if (!eventId) throw new AppError('NOT_FOUND', `Schedule ${scheduleId} was not found.`);
    this.#scheduleEvent.set(scheduleId, eventId);
    return eventId;
  }

  async createEvent(input: { code: string; name: string; description?: string; category?: string }): Promise<EventView> {
    return this.db.withTx(async (tx) => {
      const categoryId = input.category
        ? (await tx.query<{ id: number }>(sql.upsertCategory, [input.category])).rows[0]!.id
        : null;
      const inserted = await tx.query<{ id: string }>(sql.insertEvent, [categoryId, input.code, input.name, input.description ?? '']);
      if (inserted.rowCount === 0) throw new AppError('EVENT_CODE_TAKEN', `An event with code "${input.code}" already exists.`);
      const { rows } = await tx.query<EventView>(sql.findEvent, [inserted.rows[0]!.id]);
      const { id, code, name, description, category } = rows[0]!;
      return { id, code, name, description, category };
    });
  }

  /** Creates a schedule and its fifty seats in one transaction: a schedule never exists half-seated. */
  async createSchedule(eventId: string, input: { startAt: string; endAt: string; prices: SeatPrices }): Promise<ScheduleView> {
    const startAt = new Date(input.startAt);
    const endAt = new Date(input.endAt);
    if (Number.isNaN(startAt.getTime()) || Number.isNaN(endAt.getTime())) {
      throw new AppError('VALIDATION_FAILED', 'startAt and endAt must be real instants.');
    }
    if (!(endAt > startAt)) throw new AppError('VALIDATION_FAILED', 'endAt must be after startAt.');
    const { rows: events } = await this.db.query(sql.findEvent, [eventId]);
    if (events.length === 0) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    const plan = seatPlan(input.prices);
    const scheduleId = await this.db.withTx(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(sql.insertSchedule, [eventId, startAt, endAt]);
      const id = rows[0]!.id;
      await tx.query(sql.insertSeats, [
        id,
        plan.map((seat) => seat.seatNumber),
        plan.map((seat) => seat.seatType),
        plan.map((seat) => seat.price),
      ]);
      return id;
    });
    this.#scheduleEvent.set(scheduleId, eventId);
    return {
      id: scheduleId,
      eventId,
      startAt: startAt.toISOString(),
      endAt: endAt.toISOString(),
      totalSeats: plan.length,
      availableSeats: plan.length,
    };
  }
}
