import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { SingleFlight } from '../../shared/single-flight.js';
import { seatPlan } from './catalog.rules.js';
import type { EventView, NewEventInput, NewScheduleInput, ScheduleStatus, ScheduleView } from './catalog.schemas.js';
import * as sql from './catalog.sql.js';

const toScheduleView = (row: { id: string; eventId: string; startAt: Date; endAt: Date; totalSeats: number; availableSeats: number; status: ScheduleStatus }): ScheduleView => ({
  ...row,
  startAt: row.startAt.toISOString(),
  endAt: row.endAt.toISOString(),
});

const toEventView = ({ id, code, name, description, category }: EventView): EventView => ({ id, code, name, description, category });

/** How long "this event exists and is on sale" is trusted without asking the database again. */
const OPEN_EVENT_CACHE_MS = 5_000;

export class CatalogService {
  /** A schedule never moves to another event, so this mapping is cached for the process's life. */
  readonly #scheduleEvent = new Map<string, string>();
  readonly #openEvents = new Map<string, number>();
  /** Look-ups in flight: a crowd joining a line whose entry just lapsed asks the database once. */
  readonly #checking = new SingleFlight<void>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async listEvents(): Promise<EventView[]> {
    return (await sql.listEnabledEvents.rows(this.db, {})).map(toEventView);
  }

  async listSchedules(eventId: string): Promise<ScheduleView[]> {
    await this.ensureEventOpen(eventId);
    const rows = await sql.listSchedulesWithAvailability.rows(this.db, { eventId, now: this.clock.pinned() });
    return rows.map(toScheduleView);
  }

  /** Throws NOT_FOUND unless the event exists and is enabled. */
  async ensureEventOpen(eventId: string): Promise<void> {
    const now = this.clock.now().getTime();
    if ((this.#openEvents.get(eventId) ?? 0) > now) return;
    await this.#checking.run(eventId, () => this.#checkOpen(eventId));
  }

  async #checkOpen(eventId: string): Promise<void> {
    const askedAt = this.clock.now().getTime();
    const event = await sql.findEvent.first(this.db, { eventId });
    if (!event?.enabled) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    this.#openEvents.set(eventId, askedAt + OPEN_EVENT_CACHE_MS);
  }

  /** The event a schedule belongs to; NOT_FOUND for an unknown schedule. */
  async eventOfSchedule(scheduleId: string): Promise<string> {
    const cached = this.#scheduleEvent.get(scheduleId);
    if (cached) return cached;
    const eventId = (await sql.findScheduleEvent.first(this.db, { scheduleId }))?.eventId;
    if (!eventId) throw new AppError('NOT_FOUND', `Schedule ${scheduleId} was not found.`);
    this.#scheduleEvent.set(scheduleId, eventId);
    return eventId;
  }

  async findEventByCode(code: string): Promise<string | undefined> {
    return (await sql.findEventByCode.first(this.db, { code }))?.id;
  }

  async createEvent(input: NewEventInput): Promise<EventView> {
    return this.db.withTx(async (tx) => {
      const categoryId = input.category ? (await sql.upsertCategory.first(tx, { name: input.category }))!.id : null;
      const inserted = await sql.insertEvent.first(tx, { categoryId, code: input.code, name: input.name, description: input.description ?? '' });
      if (!inserted) throw new AppError('EVENT_CODE_TAKEN', `An event with code "${input.code}" already exists.`);
      return toEventView((await sql.findEvent.first(tx, { eventId: inserted.id }))!);
    });
  }

  /** Creates a schedule and all its seats in one transaction: a schedule never exists half-seated. */
  async createSchedule(eventId: string, input: NewScheduleInput): Promise<ScheduleView> {
    const startAt = new Date(input.startAt);
    const endAt = new Date(input.endAt);
    if (Number.isNaN(startAt.getTime()) || Number.isNaN(endAt.getTime())) {
      throw new AppError('VALIDATION_FAILED', 'startAt and endAt must be real instants.');
    }
    if (!(endAt > startAt)) throw new AppError('VALIDATION_FAILED', 'endAt must be after startAt.');
    if (!(await sql.findEvent.first(this.db, { eventId }))) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
    const plan = seatPlan(input.prices);
    const scheduleId = await this.db.withTx(async (tx) => {
      const { id } = (await sql.insertSchedule.first(tx, { eventId, startAt, endAt }))!;
      await sql.insertSeats.count(tx, {
        scheduleId: id,
        numbers: plan.map((seat) => seat.seatNumber),
        types: plan.map((seat) => seat.seatType),
        prices: plan.map((seat) => seat.price),
      });
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
      status: 'OPEN',
    };
  }
}
