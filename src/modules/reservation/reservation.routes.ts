import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { buyerOf, userOf, type Guards } from '../../http/auth.js';
import { bearer, bearerAndQueue, IdempotencyHeader, IdParams, problems, QueueTokenHeader } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import { HoldRequest, Reservation, type HoldRequestBody, type ReservationView } from './reservation.schemas.js';
import { seatTaken, type ReservationService } from './reservation.service.js';

/** Ends a reservation: releases a pending hold or refunds a purchase (the refund module). */
export interface Cancellations {
  cancel(userId: string, reservationId: string, idempotencyKey?: string): Promise<ReservationView>;
}

export interface ReservationRoutesOptions {
  reservations: ReservationService;
  cancellations: Cancellations;
  catalog: Pick<CatalogService, 'eventOfSchedule'>;
  guards: Guards;
  holdsPerMinute: number;
  cancelsPerMinute: number;
}

export const reservationRoutes: FastifyPluginAsyncTypebox<ReservationRoutesOptions> = async (app, options) => {
  const { reservations, cancellations, catalog, guards } = options;

  /**
   * A hold storm is nearly all refusals, so a seat the lock store says is taken is refused before the
   * queue-token check (its signature and its script) and the hold itself, with no database call. The
   * lookup starts as soon as the body is parsed, checked against the route's schema and the bearer token
   * verified, so it shares its round trip to Redis with the rate limiter's count (refused attempts still
   * count: hammering a taken seat ends in 429); the refusal comes after that count and after the schema
   * validation. It tells a signed-in user only that a seat is taken, which the seat map shows any admitted
   * buyer. Without a valid bearer nothing is looked up (the guard answers 401 as before); a free seat, or
   * a lock store that cannot say, goes the full way.
   */
  const seatLookups = new WeakMap<FastifyRequest, Promise<boolean>>();
  const lookUpSeat = async (request: FastifyRequest) => {
    if (!request.validateInput(request.body, 'body') || guards.signedIn(request) === undefined) return;
    const { scheduleId, seatNumber } = request.body as HoldRequestBody;
    seatLookups.set(request, reservations.isSeatTaken(scheduleId, seatNumber));
  };
  const refuseTakenSeat = async (request: FastifyRequest) => {
    if (await seatLookups.get(request)) throw seatTaken((request.body as HoldRequestBody).seatNumber);
  };

  app.post(
    '/reservations',
    {
      config: limitPerMinute(options.holdsPerMinute, undefined, 'preValidation'),
      preValidation: lookUpSeat,
      preHandler: [refuseTakenSeat, guards.buyer((request) => catalog.eventOfSchedule((request.body as HoldRequestBody).scheduleId))],
      schema: {
        tags: ['reservations'],
        summary: 'Hold a seat (for HOLD_TTL_SECONDS) until it is paid',
        security: bearerAndQueue,
        headers: QueueTokenHeader,
        body: HoldRequest,
        response: { 201: Reservation, ...problems(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await reservations.hold(buyerOf(request), request.body.scheduleId, request.body.seatNumber)),
  );

  app.get(
    '/reservations/:id',
    {
      preHandler: guards.user,
      schema: {
        tags: ['reservations'],
        summary: 'One of your reservations',
        security: bearer,
        params: IdParams,
        response: { 200: Reservation, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => reservations.get(userOf(request), request.params.id),
  );

  app.delete(
    '/reservations/:id',
    {
      config: limitPerMinute(options.cancelsPerMinute),
      preHandler: guards.user,
      schema: {
        tags: ['reservations'],
        summary: 'Cancel your pending hold (the seat is released at once) or refund your purchase',
        description:
          'A CONFIRMED reservation is refunded until REFUND_CUTOFF_SECONDS before the date (then 409 REFUND_WINDOW_CLOSED): its payment becomes REFUNDED, the price comes back to your balance as a REFUND ledger row, and the seat is on sale again. Takes `Idempotency-Key`.',
        security: bearer,
        headers: IdempotencyHeader,
        params: IdParams,
        response: { 200: Reservation, ...problems(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request) => cancellations.cancel(userOf(request), request.params.id, request.headers['idempotency-key']),
  );

  app.get(
    '/users/me/reservations',
    {
      preHandler: guards.user,
      schema: {
        tags: ['reservations'],
        summary: 'Your reservations, newest first',
        security: bearer,
        response: { 200: Type.Array(Reservation), ...problems(401) },
      },
    },
    async (request) => reservations.listForUser(userOf(request)),
  );
};
