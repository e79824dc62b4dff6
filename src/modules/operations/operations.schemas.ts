import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Timestamp, Uuid } from '../../shared/schemas.js';

export const AdminEvent = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Nullable(Type.String()),
  enabled: Type.Boolean(),
  salesStartAt: Nullable(Timestamp, { description: 'When the sale opens (or opened); null for a sale open since its creation.' }),
  salesOpenedAt: Nullable(Timestamp, { description: 'When the pre-queue was drawn; null until then.' }),
});
export type AdminEventView = Static<typeof AdminEvent>;

export const EventPatch = Type.Object(
  {
    salesStartAt: Type.Optional(
      Nullable(Timestamp, {
        description: 'Schedule the opening; joins before it wait in a pre-queue drawn at random at that moment. Null opens a scheduled sale now. Fixed once the sale opened.',
      }),
    ),
    enabled: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type EventPatch = Static<typeof EventPatch>;

const Limit = Type.Integer({ minimum: 1, maximum: 100_000 });

export const QueueControlsPatch = Type.Object(
  {
    paused: Type.Optional(Type.Boolean({ description: 'Nobody is admitted while paused; the line keeps its order.' })),
    maxActive: Type.Optional(Limit),
    admitPerSecond: Type.Optional(Limit),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type QueueControlsPatch = Static<typeof QueueControlsPatch>;

/** The controls and inventory part of the operator's queue view; the live figures come from the queue. */
export const SaleControls = Type.Object({
  eventId: Uuid,
  paused: Type.Boolean(),
  maxActive: Type.Integer({ minimum: 1, description: "The operator's capacity (QUEUE_MAX_ACTIVE unless set); admission also keeps it within QUEUE_ACTIVE_PER_SEAT per seat left." }),
  admitPerSecond: Type.Integer({ minimum: 1 }),
  salesStartAt: Nullable(Timestamp),
  opened: Type.Boolean({ description: 'The sale is open: no opening was scheduled, or it happened and its draw is placed.' }),
  soldOut: Type.Boolean(),
  seatsLeft: Nullable(Type.Integer({ minimum: 0 })),
  seatsAvailable: Nullable(Type.Integer({ minimum: 0 })),
});
export type SaleControlsView = Static<typeof SaleControls>;

export const QueueControlView = Type.Composite([
  SaleControls,
  Type.Object({
    waiting: Type.Integer({ minimum: 0, description: 'In line, the pre-queue included.' }),
    active: Type.Integer({ minimum: 0 }),
    admittedTotal: Type.Integer({ minimum: 0 }),
    admissionsPerSecond: Type.Number({ minimum: 0 }),
  }),
]);
export type QueueControlViewType = Static<typeof QueueControlView>;

export const Fairness = Type.Object({
  eventId: Uuid,
  salesStartAt: Nullable(Timestamp),
  commitment: Nullable(Type.String({ description: 'sha256 (hex) of the seed, published before the opening.' })),
  algorithm: Type.String(),
  opened: Type.Boolean(),
  openedAt: Nullable(Timestamp),
  seed: Nullable(Type.String({ description: 'Revealed once the sale opened.' })),
  prequeue: Type.Array(Type.Integer(), { description: 'Join sequence numbers of the pre-queue, ascending.' }),
  order: Type.Array(Type.Integer(), { description: 'The same numbers in the order the draw placed them.' }),
});
export type FairnessView = Static<typeof Fairness>;
