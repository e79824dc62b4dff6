import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { userOf, type Guards } from '../../http/auth.js';
import { bearer, problems } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import { RegisteredUser, Registration, User } from './users.schemas.js';
import type { UserService } from './users.service.js';

export interface UserRoutesOptions {
  users: UserService;
  guards: Guards;
  signupsPerMinute: number;
}

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { users, guards, signupsPerMinute }) => {
  app.post(
    '/users',
    {
      config: limitPerMinute(signupsPerMinute),
      schema: {
        tags: ['users'],
        summary: 'Register a user; returns a bearer access token',
        body: Registration,
        response: { 201: RegisteredUser, ...problems(400, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await users.register(request.body.userName.trim())),
  );

  app.get(
    '/users/me',
    {
      preHandler: guards.user,
      schema: { tags: ['users'], summary: 'The signed-in user', security: bearer, response: { 200: User, ...problems(401) } },
    },
    async (request) => users.get(userOf(request)),
  );
};
