import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { queueTokenOf } from '../../http/auth.js';
import { bearer, problems, QueueTokenHeader, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';

export const QueueTokenView = Type.Object({
  token: Type.String(),
  userId: Uuid,
  eventId: Uuid,
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE')]),
  position: Type.Integer({ minimum: 0, description: '1-based place in line while WAITING; 0 once ACTIVE.' }),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
  etaSeconds: Type.Integer({ minimum: 0 }),
});

export const queueRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/queue/tokens',
    {
      schema: {
        tags: ['queue'],
        summary: 'Join the waiting room for an event (or get your live token back)',
        security: bearer,
        body: Type.Object({ eventId: Uuid }, { additionalProperties: false }),
        response: { 201: QueueTokenView, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const userId = services.users.authenticate(request.headers.authorization);
      return reply.status(201).send(await services.queue.join(userId, request.body.eventId));
    },
  );

  app.get(
    '/queue/tokens/current',
    {
      schema: {
        tags: ['queue'],
        summary: 'Position, status and ETA for a queue token (poll this, or use the stream)',
        headers: QueueTokenHeader,
        response: { 200: QueueTokenView, ...problems(401) },
      },
    },
    async (request) => services.queue.current(queueTokenOf(request)),
  );
};
