import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Timestamp, Uuid } from '../../shared/schemas.js';

export const QueueToken = Type.Object({
  token: Type.String(),
  userId: Uuid,
  eventId: Uuid,
  joinNumber: Type.Integer({ minimum: 1, description: "The join sequence number; with GET /events/{id}/fairness a buyer recomputes the opening's draw and finds their place." }),
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE'), Type.Literal('SOLD_OUT')], {
    description: 'SOLD_OUT: every seat is sold; the line is closed (a stream ends after it).',
  }),
  position: Nullable(
    Type.Integer({ minimum: 0, description: '1-based place in line while WAITING; 0 once ACTIVE; null in the pre-queue before the opening, and when SOLD_OUT.' }),
  ),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
  etaSeconds: Type.Integer({ minimum: 0, description: 'Seconds until admission; in the pre-queue, until the opening.' }),
  opensAt: Nullable(Timestamp, { description: 'The scheduled opening; joins before it are placed by a random draw at that moment.' }),
  paused: Type.Boolean({ description: 'The operator paused admissions: nobody is admitted until resumed.' }),
  seatsLeft: Nullable(
    Type.Integer({
      minimum: 1,
      description: 'Set only while every seat not yet sold is held by someone: how many, since some may come back. Null otherwise.',
    }),
  ),
});
export type QueueView = Static<typeof QueueToken>;

export const JoinRequest = Type.Object({ eventId: Uuid }, { additionalProperties: false });

export const StreamQuery = Type.Object({ token: Type.Optional(Type.String()) });
