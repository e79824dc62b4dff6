import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authenticatedUser } from '../../http/auth.js';
import { limitPerMinute } from '../../http/security.js';
import { bearer, IdempotencyHeader, Money, Nullable, problems, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';
import { MAX_CHARGE_AMOUNT } from './wallet.service.js';

const Balance = Type.Object({ balance: Money });

const LedgerEntry = Type.Object({
  id: Type.Integer(),
  amount: Type.Integer({ description: 'Positive for charges and refunds, negative for payments.' }),
  kind: Type.Union([Type.Literal('CHARGE'), Type.Literal('PAYMENT'), Type.Literal('REFUND')]),
  reference: Nullable(Uuid),
  createdAt: Timestamp,
});

export const walletRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { users, wallet } = services;

  app.get(
    '/users/me/balance',
    { schema: { tags: ['wallet'], summary: 'Your balance', security: bearer, response: { 200: Balance, ...problems(401) } } },
    async (request) => ({ balance: await wallet.balance(authenticatedUser(request, users)) }),
  );

  app.post(
    '/users/me/balance/charges',
    {
      config: limitPerMinute(services.config.RATE_LIMIT_CHARGES_PER_MINUTE),
      schema: {
        tags: ['wallet'],
        summary: 'Add money to your balance',
        security: bearer,
        headers: IdempotencyHeader,
        body: Type.Object({ amount: Type.Integer({ minimum: 1, maximum: MAX_CHARGE_AMOUNT }) }, { additionalProperties: false }),
        response: { 200: Balance, ...problems(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const userId = authenticatedUser(request, users);
      const { balance, replayed } = await wallet.charge(userId, request.body.amount, request.headers['idempotency-key']);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return { balance };
    },
  );

  app.get(
    '/users/me/balance/history',
    {
      schema: {
        tags: ['wallet'],
        summary: 'Your ledger, newest first: every charge and payment',
        security: bearer,
        response: { 200: Type.Array(LedgerEntry), ...problems(401) },
      },
    },
    async (request) => wallet.history(authenticatedUser(request, users)),
  );
};
