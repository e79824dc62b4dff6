import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Guards } from '../../http/auth.js';
import { IdParams, problems } from '../../http/schemas.js';
import type { QueueService } from '../queue/queue.service.js';
import { AdminEvent, EventPatch, Fairness, QueueControlsPatch, QueueControlView } from './operations.schemas.js';
import type { SaleOperations } from './operations.service.js';

export interface OperationsRoutesOptions {
  operations: SaleOperations;
  queue: QueueService;
  guards: Guards;
}

const adminKey = [{ adminKey: [] }];

export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsRoutesOptions> = async (app, { operations, queue, guards }) => {
  const controlView = async (eventId: string, controls = operations.controls(eventId)) => {
    const [view, stats] = await Promise.all([controls, queue.stats(eventId)]);
    return { ...view, ...stats };
  };

  app.patch(
    '/admin/events/:id',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Edit an event: schedule its opening, enable or disable it, rename it',
        security: adminKey,
        params: IdParams,
        body: EventPatch,
        response: { 200: AdminEvent, ...problems(400, 403, 404, 409) },
      },
    },
    async (request) => operations.updateEvent(request.params.id, request.body),
  );

  app.get(
    '/admin/events/:id/queue',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: "The line's controls and live figures",
        security: adminKey,
        params: IdParams,
        response: { 200: QueueControlView, ...problems(400, 403, 404) },
      },
    },
    async (request) => controlView(request.params.id),
  );

  app.patch(
    '/admin/events/:id/queue',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Pause or resume admissions, set capacity and rate (every instance within one admission tick)',
        security: adminKey,
        params: IdParams,
        body: QueueControlsPatch,
        response: { 200: QueueControlView, ...problems(400, 403, 404) },
      },
    },
    async (request) => controlView(request.params.id, operations.updateQueue(request.params.id, request.body)),
  );

  app.get(
    '/events/:id/fairness',
    {
      schema: {
        tags: ['catalog'],
        summary: "The opening draw: the seed's commitment before, the seed and the order after",
        description:
          'Recompute the order: sort `prequeue` by sha256(seed + ":" + n) in hex, ascending; check sha256(seed) = commitment. `scripts/verify-fairness.ts` does both.',
        params: IdParams,
        response: { 200: Fairness, ...problems(400, 404) },
      },
    },
    async (request) => operations.fairness(request.params.id),
  );
};
