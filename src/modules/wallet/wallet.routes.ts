import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { userOf, type Guards } from '../../http/auth.js';
import { bearer, IdempotencyHeader, problems } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import { Balance, Charge, LedgerEntry } from './wallet.schemas.js';
import type { WalletService } from './wallet.service.js';

export interface WalletRoutesOptions {
  wallet: WalletService;
  guards: Guards;
  chargesPerMinute: number;
}

export const walletRoutes: FastifyPluginAsyncTypebox<WalletRoutesOptions> = async (app, { wallet, guards, chargesPerMinute }) => {
  app.get(
    '/users/me/balance',
    {
      preHandler: guards.user,
      schema: { tags: ['wallet'], summary: 'Your balance', security: bearer, response: { 200: Balance, ...problems(401) } },
    },
    async (request) => ({ balance: await wallet.balance(userOf(request)) }),
  );

  app.post(
    '/users/me/balance/charges',
    {
      config: limitPerMinute(chargesPerMinute),
      preHandler: guards.user,
      schema: {
        tags: ['wallet'],
        summary: 'Add money to your balance',
        security: bearer,
        headers: IdempotencyHeader,
        body: Charge,
        response: { 200: Balance, ...problems(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const { balance, replayed } = await wallet.charge(userOf(request), request.body.amount, request.headers['idempotency-key']);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return { balance };
    },
  );

  app.get(
    '/users/me/balance/history',
    {
      preHandler: guards.user,
      schema: {
        tags: ['wallet'],
        summary: 'Your ledger, newest first: every charge and payment',
        security: bearer,
        response: { 200: Type.Array(LedgerEntry), ...problems(401) },
      },
    },
    async (request) => wallet.history(userOf(request)),
  );
};
