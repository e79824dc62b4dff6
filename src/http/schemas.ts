import { Type } from '@sinclair/typebox';
import { Uuid } from '../shared/schemas.js';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
    instance: Type.String(),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details with a stable `code`.' },
);


export const IdParams = Type.Object({ id: Uuid });

export const QueueTokenHeader = Type.Object({
  'x-queue-token': Type.Optional(Type.String({ description: 'Admitted queue token for the event.' })),
});

export const IdempotencyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$', description: 'Retries with the same key return the first result.' }),
  ),
});

export const bearer = [{ bearerAuth: [] }];
export const bearerAndQueue = [{ bearerAuth: [], queueToken: [] }];

/** Problem responses for the given statuses, for the OpenAPI document. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref(Problem)]));
