import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Guards } from '../../http/auth.js';
import { IdParams, problems } from '../../http/schemas.js';
import { AdminEvent, EventSales } from './sales.schemas.js';
import { SALES_WINDOW_MINUTES, type SalesService } from './sales.service.js';

export interface SalesRoutesOptions {
  sales: SalesService;
  guards: Guards;
}

export const salesRoutes: FastifyPluginAsyncTypebox<SalesRoutesOptions> = async (app, { sales, guards }) => {
  app.get(
    '/admin/events',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Every event, disabled ones included, with when its sale opens',
        security: [{ adminKey: [] }],
        response: { 200: Type.Array(AdminEvent), ...problems(403) },
      },
    },
    async () => sales.listEvents(),
  );

  app.get(
    '/admin/events/:id/sales',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Seats per date, revenue, purchases and refunds of an event',
        description: `Seats as a buyer would count them now (a lapsed hold is available); money in minor units; \`perMinute\` covers the last ${SALES_WINDOW_MINUTES} minutes by the database clock.`,
        security: [{ adminKey: [] }],
        params: IdParams,
        response: { 200: EventSales, ...problems(400, 403, 404) },
      },
    },
    async (request) => sales.eventSales(request.params.id),
  );
};
