import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from '../../shared/schemas.js';
import { SEATS_PER_SCHEDULE } from './catalog.rules.js';

export const SeatType = Type.Union([Type.Literal('STANDARD'), Type.Literal('VIP'), Type.Literal('STANDING')]);
export type SeatType = Static<typeof SeatType>;

export const SeatStatus = Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]);
export type SeatStatus = Static<typeof SeatStatus>;

export const SeatNumber = Type.Integer({ minimum: 1, maximum: SEATS_PER_SCHEDULE });

export const ScheduleStatus = Type.Union([Type.Literal('OPEN'), Type.Literal('CANCELED')]);
export type ScheduleStatus = Static<typeof ScheduleStatus>;

export const Event = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Nullable(Type.String()),
});
export type EventView = Static<typeof Event>;

export const Schedule = Type.Object({
  id: Uuid,
  eventId: Uuid,
  startAt: Timestamp,
  endAt: Timestamp,
  totalSeats: Type.Integer(),
  availableSeats: Type.Integer(),
  status: ScheduleStatus,
});
export type ScheduleView = Static<typeof Schedule>;

export const Seat = Type.Object({ seatNumber: SeatNumber, seatType: SeatType, price: Money, status: SeatStatus });
export type SeatView = Static<typeof Seat>;

const Price = Type.Integer({ minimum: 0, maximum: 10_000_000 });

export const NewEvent = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type NewEventInput = Static<typeof NewEvent>;

export const NewSchedule = Type.Object(
  {
    startAt: Timestamp,
    endAt: Timestamp,
    prices: Type.Object({ STANDARD: Price, VIP: Price, STANDING: Price }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type NewScheduleInput = Static<typeof NewSchedule>;

/** EventSource cannot set headers: the seat-map stream takes the queue token as `?token=` too. */
export const SeatMapStreamQuery = Type.Object({ token: Type.Optional(Type.String()) });
