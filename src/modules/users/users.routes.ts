import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authenticatedUser } from '../../http/auth.js';
import { limitPerMinute } from '../../http/security.js';
import { bearer, problems, Timestamp, Uuid } from '../../http/schemas.js';
import type { Services } from '../../services.js';

const User = Type.Object({ id: Uuid, userName: Type.String(), createdAt: Timestamp });

export const userRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/users',
    {
      config: limitPerMinute(services.config.RATE_LIMIT_SIGNUPS_PER_MINUTE),
      schema: {
        tags: ['users'],
        summary: 'Register a user; returns a bearer access token',
        body: Type.Object({ userName: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }) }, { additionalProperties: false }),
        response: { 201: Type.Composite([User, Type.Object({ accessToken: Type.String() })]), ...problems(400, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await services.users.register(request.body.userName.trim())),
  );

  app.get(
    '/users/me',
    { schema: { tags: ['users'], summary: 'The signed-in user', security: bearer, response: { 200: User, ...problems(401) } } },
    async (request) => services.users.get(authenticatedUser(request, services.users)),
  );
};
