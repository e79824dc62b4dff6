import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authenticatedUser, queueTokenOf } from '../../http/auth.js';
import { limitPerMinute } from '../../http/security.js';
import { bearer, bearerAndQueue, IdempotencyHeader, Money, Nullable, problems, QueueTokenHeader, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';

const Payment = Type.Object({
  id: Uuid,
  reservationId: Uuid,
  amount: Money,
  status: Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]),
  failureCode: Nullable(Type.String()),
  paidAt: Nullable(Timestamp),
  createdAt: Timestamp,
});

export const paymentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { users, queue, payments } = services;

  app.post(
    '/payments',
    {
      config: limitPerMinute(services.config.RATE_LIMIT_PAYMENTS_PER_MINUTE),
      schema: {
        tags: ['payments'],
        summary: 'Pay a hold from your balance; confirms the reservation and sells the seat',
        security: bearerAndQueue,
        headers: Type.Composite([QueueTokenHeader, IdempotencyHeader]),
        body: Type.Object({ reservationId: Uuid }, { additionalProperties: false }),
        response: { 201: Payment, ...problems(400, 401, 402, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const userId = authenticatedUser(request, users);
      const key = request.headers['idempotency-key'];
      // A retry of a payment that went through is answered before the queue check: that payment ended the token.
      const earlier = await payments.replay(userId, request.body.reservationId, key);
      if (earlier) return reply.status(201).header('idempotent-replayed', 'true').send(earlier);
      const access = await queue.authorize(queueTokenOf(request), userId);
      const { payment, replayed } = await payments.pay(access, request.body.reservationId, key);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(payment);
    },
  );

  app.get(
    '/users/me/payments',
    {
      schema: {
        tags: ['payments'],
        summary: 'Your payments, newest first, with amount, time and status',
        security: bearer,
        response: { 200: Type.Array(Payment), ...problems(401) },
      },
    },
    async (request) => payments.history(authenticatedUser(request, users)),
  );
};
