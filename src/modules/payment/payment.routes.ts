import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buyerOf, userOf, type Guards } from '../../http/auth.js';
import { bearer, bearerAndQueue, IdempotencyHeader, problems, QueueTokenHeader } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import { Payment, PaymentRequest } from './payment.schemas.js';
import type { PaymentService } from './payment.service.js';

export interface PaymentRoutesOptions {
  payments: PaymentService;
  guards: Guards;
  paymentsPerMinute: number;
}

export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, { payments, guards, paymentsPerMinute }) => {
  const keyOf = (request: FastifyRequest) => request.headers['idempotency-key'] as string | undefined;

  /** A retry of a payment that went through is answered before the queue check: that payment ended the token. */
  const replayEarlier = async (request: FastifyRequest, reply: FastifyReply) => {
    const { reservationId } = request.body as { reservationId: string };
    const earlier = await payments.replay(userOf(request), reservationId, keyOf(request));
    if (earlier) return reply.status(201).header('idempotent-replayed', 'true').send(earlier);
  };

  app.post(
    '/payments',
    {
      config: limitPerMinute(paymentsPerMinute),
      preHandler: [guards.user, replayEarlier, guards.buyer()],
      schema: {
        tags: ['payments'],
        summary: 'Pay a hold from your balance; confirms the reservation and sells the seat',
        security: bearerAndQueue,
        headers: Type.Composite([QueueTokenHeader, IdempotencyHeader]),
        body: PaymentRequest,
        response: { 201: Payment, ...problems(400, 401, 402, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const { payment, replayed } = await payments.pay(buyerOf(request), request.body.reservationId, keyOf(request));
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(payment);
    },
  );

  app.get(
    '/users/me/payments',
    {
      preHandler: guards.user,
      schema: {
        tags: ['payments'],
        summary: 'Your payments, newest first, with amount, time and status',
        security: bearer,
        response: { 200: Type.Array(Payment), ...problems(401) },
      },
    },
    async (request) => payments.history(userOf(request)),
  );
};
