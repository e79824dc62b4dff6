import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buyerOf, userOf, type Guards } from '../../http/auth.js';
import { bearer, bearerAndQueue, IdempotencyHeader, problems, QueueTokenHeader } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import { Payment, PaymentRequest, Purchase, type PaymentRequestBody, type PurchaseView } from './payment.schemas.js';
import type { PaymentService } from './payment.service.js';

const reservationIdsOf = (body: PaymentRequestBody) => ('reservationId' in body ? [body.reservationId] : body.reservationIds);

export interface PaymentRoutesOptions {
  payments: PaymentService;
  guards: Guards;
  paymentsPerMinute: number;
}

export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, { payments, guards, paymentsPerMinute }) => {
  const keyOf = (request: FastifyRequest) => request.headers['idempotency-key'] as string | undefined;

  /** `{reservationId}` is answered with its payment, `{reservationIds}` with the purchase: the shape asked for. */
  const answer = (body: PaymentRequestBody, purchase: PurchaseView) => ('reservationId' in body ? purchase.payments[0]! : purchase);

  /** A retry of a payment that went through is answered before the queue check: that payment may have ended the token. */
  const replayEarlier = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body as PaymentRequestBody;
    const earlier = await payments.replay(userOf(request), reservationIdsOf(body), keyOf(request));
    if (earlier) return reply.status(201).header('idempotent-replayed', 'true').send(answer(body, earlier));
  };

  app.post(
    '/payments',
    {
      config: limitPerMinute(paymentsPerMinute),
      preHandler: [guards.user, replayEarlier, guards.buyer()],
      schema: {
        tags: ['payments'],
        summary: 'Pay one hold, or several of one event with one debit of the total; confirms the reservations and sells the seats',
        description:
          '`{reservationId}` answers with the payment; `{reservationIds}` (1..HOLD_MAX_PER_USER of your own pending holds of one event) with `{payments, amount}`. All or nothing: a short balance records a FAILED payment per hold and releases them all (402); any lapsed hold is marked EXPIRED and nothing is paid (410). The queue token ends once you have no live hold left in the event.',
        security: bearerAndQueue,
        headers: Type.Composite([QueueTokenHeader, IdempotencyHeader]),
        body: PaymentRequest,
        response: { 201: Type.Union([Payment, Purchase]), ...problems(400, 401, 402, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const { replayed, ...purchase } = await payments.pay(buyerOf(request), reservationIdsOf(request.body), keyOf(request));
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(answer(request.body, purchase));
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
