import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { queueTokenOf, requireAdmin } from '../../http/auth.js';
import { IdParams, Money, Nullable, problems, QueueTokenHeader, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';

const SeatTypeSchema = Type.Union([Type.Literal('STANDARD'), Type.Literal('VIP'), Type.Literal('STANDING')]);

const Event = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Nullable(Type.String()),
});

const Schedule = Type.Object({
  id: Uuid,
  eventId: Uuid,
  startAt: Timestamp,
  endAt: Timestamp,
  totalSeats: Type.Integer(),
  availableSeats: Type.Integer(),
});

const Seat = Type.Object({
  seatNumber: Type.Integer({ minimum: 1, maximum: 50 }),
  seatType: SeatTypeSchema,
  price: Money,
  status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
});

const Price = Type.Integer({ minimum: 0, maximum: 10_000_000 });

export const catalogRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { catalog, queue, config } = services;

  app.get(
    '/events',
    { schema: { tags: ['catalog'], summary: 'Events on sale', response: { 200: Type.Array(Event) } } },
    async () => catalog.listEvents(),
  );

  app.get(
    '/events/:id/schedules',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Dates of an event with total and available seats',
        params: IdParams,
        response: { 200: Type.Array(Schedule), ...problems(400, 404) },
      },
    },
    async (request) => catalog.listSchedules(request.params.id),
  );

  app.get(
    '/schedules/:id/seats',
    {
      schema: {
        tags: ['catalog'],
        summary: 'The seat map of a schedule (admitted queue token required)',
        security: [{ queueToken: [] }],
        params: IdParams,
        headers: QueueTokenHeader,
        response: { 200: Type.Array(Seat), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await queue.authorizeToken(queueTokenOf(request));
      queue.assertSameEvent(access, await catalog.eventOfSchedule(request.params.id));
      return catalog.listSeats(request.params.id);
    },
  );

  app.post(
    '/admin/events',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an event',
        security: [{ adminKey: [] }],
        body: Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Event, ...problems(400, 403, 409) },
      },
    },
    async (request, reply) => {
      requireAdmin(request, config.ADMIN_API_KEY);
      return reply.status(201).send(await catalog.createEvent(request.body));
    },
  );

  app.post(
    '/admin/events/:id/schedules',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a schedule (date) with its 50 seats, priced per seat type',
        security: [{ adminKey: [] }],
        params: IdParams,
        body: Type.Object(
          {
            startAt: Timestamp,
            endAt: Timestamp,
            prices: Type.Object({ STANDARD: Price, VIP: Price, STANDING: Price }, { additionalProperties: false }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Schedule, ...problems(400, 403, 404) },
      },
    },
    async (request, reply) => {
      requireAdmin(request, config.ADMIN_API_KEY);
      return reply.status(201).send(await catalog.createSchedule(request.params.id, request.body));
    },
  );
};
