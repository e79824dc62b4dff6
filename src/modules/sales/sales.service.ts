import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import type { AdminEventView, EventSalesView, ScheduleSalesView } from './sales.schemas.js';
import * as sql from './sales.sql.js';

/** How far back the per-minute figures reach. */
export const SALES_WINDOW_MINUTES = 30;

/** One date's seats, with the event it belongs to: what the seat gauges report. */
export interface LiveScheduleSeats {
  eventId: string;
  scheduleId: string;
  available: number;
  held: number;
  sold: number;
}

export interface LiveEventSales {
  eventId: string;
  revenue: number;
  purchases: number;
  refunds: number;
}

const iso = (at: Date | null) => at?.toISOString() ?? null;

const toScheduleSales = ({ id, startAt, endAt, status, available, held, sold }: sql.ScheduleSeatsRow): ScheduleSalesView => ({
  id,
  startAt: startAt.toISOString(),
  endAt: endAt.toISOString(),
  status,
  available,
  held,
  sold,
});

/** The operator's figures: every event, and per event its seats, money and the last half hour of sales. */
export class SalesService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async listEvents(): Promise<AdminEventView[]> {
    const rows = await sql.listAllEvents.rows(this.db, {});
    return rows.map((row) => ({ ...row, salesStartAt: iso(row.salesStartAt), salesOpenedAt: iso(row.salesOpenedAt) }));
  }

  /**
   * Seats, totals and minutes read in one snapshot at one instant (the transaction's `now()`), so the
   * figures on one answer always add up: a purchase is in the sold seats and the revenue, or in neither.
   */
  async eventSales(eventId: string): Promise<EventSalesView> {
    const now = this.clock.pinned();
    return this.db.withTx(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      if (!(await sql.eventExists.first(tx, { eventId }))) throw new AppError('NOT_FOUND', `Event ${eventId} was not found.`);
      const schedules = await sql.schedulesOfEvent.rows(tx, { eventId, now });
      const totals = (await sql.totalsOfEvent.first(tx, { eventId }))!;
      const minutes = await sql.perMinuteOfEvent.rows(tx, { eventId, now, minutes: SALES_WINDOW_MINUTES });
      return {
        eventId,
        schedules: schedules.map(toScheduleSales),
        revenue: totals.revenue,
        purchases: totals.purchases,
        refunds: totals.refunds,
        perMinute: minutes.map(({ minute, purchases, revenue, refunds }) => ({ minute: minute.toISOString(), purchases, revenue, refunds })),
      };
    });
  }

  /** Seats of every date not yet over, across events: one statement however many events there are. */
  async liveSeats(): Promise<LiveScheduleSeats[]> {
    const rows = await sql.liveSchedules.rows(this.db, { now: this.clock.pinned() });
    return rows.map(({ eventId, id, available, held, sold }) => ({ eventId, scheduleId: id, available, held, sold }));
  }

  /** Seats paid and refunded, and the money that moved, in the last minute, per event with any. */
  async lastMinuteSales(): Promise<LiveEventSales[]> {
    return sql.lastMinuteByEvent.rows(this.db, { now: this.clock.pinned() });
  }
}
