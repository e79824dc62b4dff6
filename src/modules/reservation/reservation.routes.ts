import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authenticatedUser, queueTokenOf } from '../../http/auth.js';
import { limitPerMinute } from '../../http/security.js';
import { bearer, bearerAndQueue, IdParams, Money, Nullable, problems, QueueTokenHeader, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';

export const Reservation = Type.Object({
  id: Uuid,
  scheduleId: Uuid,
  seatNumber: Type.Integer(),
  seatType: Type.Union([Type.Literal('STANDARD'), Type.Literal('VIP'), Type.Literal('STANDING')]),
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('CONFIRMED'), Type.Literal('CANCELED'), Type.Literal('EXPIRED')]),
  price: Money,
  reservedAt: Timestamp,
  expiresAt: Timestamp,
  confirmedAt: Nullable(Timestamp),
  canceledAt: Nullable(Timestamp),
});

export const reservationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { users, queue, catalog, reservations } = services;

  app.post(
    '/reservations',
    {
      config: limitPerMinute(services.config.RATE_LIMIT_HOLDS_PER_MINUTE),
      schema: {
        tags: ['reservations'],
        summary: 'Hold a seat (for HOLD_TTL_SECONDS) until it is paid',
        security: bearerAndQueue,
        headers: QueueTokenHeader,
        body: Type.Object(
          { scheduleId: Uuid, seatNumber: Type.Integer({ minimum: 1, maximum: 50 }) },
          { additionalProperties: false },
        ),
        response: { 201: Reservation, ...problems(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const userId = authenticatedUser(request, users);
      const access = await queue.authorize(queueTokenOf(request), userId);
      queue.assertSameEvent(access, await catalog.eventOfSchedule(request.body.scheduleId));
      return reply.status(201).send(await reservations.hold(userId, request.body.scheduleId, request.body.seatNumber));
    },
  );

  app.get(
    '/reservations/:id',
    {
      schema: {
        tags: ['reservations'],
        summary: 'One of your reservations',
        security: bearer,
        params: IdParams,
        response: { 200: Reservation, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => reservations.get(authenticatedUser(request, users), request.params.id),
  );

  app.delete(
    '/reservations/:id',
    {
      config: limitPerMinute(services.config.RATE_LIMIT_CANCELS_PER_MINUTE),
      schema: {
        tags: ['reservations'],
        summary: 'Cancel your pending hold; the seat is released at once',
        security: bearer,
        params: IdParams,
        response: { 200: Reservation, ...problems(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request) => reservations.cancel(authenticatedUser(request, users), request.params.id),
  );

  app.get(
    '/users/me/reservations',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Your reservations, newest first',
        security: bearer,
        response: { 200: Type.Array(Reservation), ...problems(401) },
      },
    },
    async (request) => reservations.listForUser(authenticatedUser(request, users)),
  );
};
