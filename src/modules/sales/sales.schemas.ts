import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../../shared/schemas.js';
import { ScheduleStatus } from '../catalog/catalog.schemas.js';

const Count = Type.Integer({ minimum: 0 });

/** An event as the operator sees it: one shape with what PATCH /admin/events/{id} answers. */
export { AdminEvent, type AdminEventView } from '../operations/operations.schemas.js';

/** One date's seats by what a buyer would see now: a lapsed hold counts as available, a canceled date has none. */
export const ScheduleSales = Type.Object({
  id: Uuid,
  startAt: Timestamp,
  endAt: Timestamp,
  status: ScheduleStatus,
  available: Count,
  held: Count,
  sold: Count,
});
export type ScheduleSalesView = Static<typeof ScheduleSales>;

export const MinuteSales = Type.Object({
  minute: Timestamp,
  purchases: Type.Integer({ minimum: 0, description: 'Seats paid in this minute.' }),
  revenue: Type.Integer({ description: 'Paid minus refunded in this minute, in minor units; negative when refunds outweigh sales.' }),
  refunds: Type.Integer({ minimum: 0, description: 'Seats refunded in this minute.' }),
});
export type MinuteSalesView = Static<typeof MinuteSales>;

export const EventSales = Type.Object({
  eventId: Uuid,
  schedules: Type.Array(ScheduleSales),
  revenue: Type.Integer({ minimum: 0, description: 'Every payment that stands (paid and not refunded), in minor units.' }),
  purchases: Type.Integer({ minimum: 0, description: 'Seats ever paid, refunded ones included.' }),
  refunds: Type.Integer({ minimum: 0, description: 'Seats refunded, by the buyer or by a canceled date.' }),
  perMinute: Type.Array(MinuteSales, { description: 'The last 30 minutes by the database clock, oldest first, the current minute last.' }),
});
export type EventSalesView = Static<typeof EventSales>;
