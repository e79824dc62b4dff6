import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../../shared/schemas.js';

export const QueueToken = Type.Object({
  token: Type.String(),
  userId: Uuid,
  eventId: Uuid,
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE')]),
  position: Type.Integer({ minimum: 0, description: '1-based place in line while WAITING; 0 once ACTIVE.' }),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
  etaSeconds: Type.Integer({ minimum: 0 }),
});
export type QueueView = Static<typeof QueueToken>;

export const JoinRequest = Type.Object({ eventId: Uuid }, { additionalProperties: false });

export const StreamQuery = Type.Object({ token: Type.Optional(Type.String()) });
