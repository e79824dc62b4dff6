import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Guards } from '../../http/auth.js';
import { IdParams, problems } from '../../http/schemas.js';
import { SEATS_PER_SCHEDULE } from './catalog.rules.js';
import { Event, NewEvent, NewSchedule, Schedule } from './catalog.schemas.js';
import type { CatalogService } from './catalog.service.js';

export interface CatalogRoutesOptions {
  catalog: CatalogService;
  guards: Guards;
}

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRoutesOptions> = async (app, { catalog, guards }) => {
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

  app.post(
    '/admin/events',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an event',
        security: [{ adminKey: [] }],
        body: NewEvent,
        response: { 201: Event, ...problems(400, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await catalog.createEvent(request.body)),
  );

  app.post(
    '/admin/events/:id/schedules',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: `Create a schedule (date) with its ${SEATS_PER_SCHEDULE} seats, priced per seat type`,
        security: [{ adminKey: [] }],
        params: IdParams,
        body: NewSchedule,
        response: { 201: Schedule, ...problems(400, 403, 404) },
      },
    },
    async (request, reply) => reply.status(201).send(await catalog.createSchedule(request.params.id, request.body)),
  );
};
