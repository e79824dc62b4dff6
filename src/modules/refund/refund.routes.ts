import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Guards } from '../../http/auth.js';
import { IdParams, problems } from '../../http/schemas.js';
import { CancelScheduleResult } from './refund.schemas.js';
import type { RefundService } from './refund.service.js';

export interface RefundRoutesOptions {
  refunds: RefundService;
  guards: Guards;
}

export const refundRoutes: FastifyPluginAsyncTypebox<RefundRoutesOptions> = async (app, { refunds, guards }) => {
  app.post(
    '/admin/schedules/:id/cancel',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Cancel a date: refund every purchase, release every hold, take no more holds',
        description:
          'Refunds regardless of the refund window, in bounded batches; calling again finishes an interrupted cancel and refunds nothing twice (a second call answers zeros).',
        security: [{ adminKey: [] }],
        params: IdParams,
        response: { 200: CancelScheduleResult, ...problems(400, 403, 404) },
      },
    },
    async (request) => refunds.cancelSchedule(request.params.id),
  );
};
