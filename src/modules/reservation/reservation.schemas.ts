import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from '../../shared/schemas.js';
import { SeatNumber, SeatType } from '../catalog/catalog.schemas.js';

export const ReservationStatus = Type.Union([Type.Literal('PENDING'), Type.Literal('CONFIRMED'), Type.Literal('CANCELED'), Type.Literal('EXPIRED')]);
export type ReservationStatus = Static<typeof ReservationStatus>;

export const Reservation = Type.Object({
  id: Uuid,
  scheduleId: Uuid,
  seatNumber: Type.Integer(),
  seatType: SeatType,
  status: ReservationStatus,
  price: Money,
  reservedAt: Timestamp,
  expiresAt: Timestamp,
  confirmedAt: Nullable(Timestamp),
  canceledAt: Nullable(Timestamp),
});
export type ReservationView = Static<typeof Reservation>;

export const HoldRequest = Type.Object({ scheduleId: Uuid, seatNumber: SeatNumber }, { additionalProperties: false });
export type HoldRequestBody = Static<typeof HoldRequest>;
