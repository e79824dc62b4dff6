import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { queueTokenOf, userOf, type Authenticator, type Guards } from '../../http/auth.js';
import { openEventStream } from '../../http/event-stream.js';
import { bearer, bearerAndQueue, problems, QueueTokenHeader } from '../../http/schemas.js';
import { limitAnonymousPerMinute, limitPerMinute } from '../../http/security.js';
import type { QueueStreamHub, StreamClient } from './queue-stream.js';
import { JoinRequest, QueueToken, StreamQuery } from './queue.schemas.js';
import type { QueueService } from './queue.service.js';

export interface QueueRoutesOptions {
  queue: QueueService;
  streams: QueueStreamHub;
  guards: Guards;
  streamsPerMinute: number;
  /** RATE_LIMIT_QUEUE_JOINS_PER_MINUTE, for callers without a valid bearer (per IP). */
  joinsPerMinute: number;
  users: Authenticator;
}

export const queueRoutes: FastifyPluginAsyncTypebox<QueueRoutesOptions> = async (app, options) => {
  const { queue, streams, guards, users } = options;

  app.post(
    '/queue/tokens',
    {
      // A signed-in caller's joins are counted by the join itself, in the same round trip.
      config: limitAnonymousPerMinute(options.joinsPerMinute, users),
      preHandler: guards.user,
      schema: {
        tags: ['queue'],
        summary: 'Join the waiting room for an event (or get your live token back)',
        security: bearer,
        body: JoinRequest,
        response: { 201: QueueToken, ...problems(400, 401, 404, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await queue.join(userOf(request), request.body.eventId)),
  );

  app.get(
    '/queue/tokens/current',
    {
      schema: {
        tags: ['queue'],
        summary: 'Position, status and ETA for a queue token (poll this, or use the stream)',
        headers: QueueTokenHeader,
        response: { 200: QueueToken, ...problems(401) },
      },
    },
    async (request) => queue.current(queueTokenOf(request)),
  );

  app.delete(
    '/queue/tokens/current',
    {
      preHandler: guards.user,
      schema: {
        tags: ['queue'],
        summary: 'Leave the line: the token expires and everyone behind moves up',
        description: 'Takes the bearer token as well: the queue token alone travels in stream URLs, and must not be enough to end a turn.',
        security: bearerAndQueue,
        headers: QueueTokenHeader,
        response: { 204: Type.Null(), ...problems(401, 403) },
      },
    },
    async (request, reply) => {
      await queue.leave(queueTokenOf(request), userOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/queue/tokens/current/stream',
    {
      // EventSource sends no bearer: the stream's caller is the user its queue token was issued to.
      config: limitPerMinute(options.streamsPerMinute, (request) => queue.userOf(queueTokenOf(request))),
      schema: {
        tags: ['queue'],
        summary: 'Server-Sent Events: the same object as /current, pushed whenever it changes',
        description:
          'Each `data:` line is a queue token view; `{"status":"EXPIRED"}` ends the stream. EventSource cannot set headers, so the token may come as `?token=`. Comment lines are heartbeats. An open stream counts as polling. A token keeps at most `QUEUE_STREAMS_PER_TOKEN` streams; a newer one ends the oldest.',
        querystring: StreamQuery,
        headers: QueueTokenHeader,
        response: { 200: { content: { 'text/event-stream': { schema: Type.String() } } }, ...problems(401, 429) },
      },
    },
    async (request, reply) => {
      // Listen before the first await: every refresh of a stream counts as its holder's activity, so
      // one left behind by a client gone during the read would keep an abandoned slot alive.
      let client: StreamClient | undefined;
      reply.raw.on('close', () => {
        if (client) streams.remove(client);
      });
      const first = await queue.current(queueTokenOf(request));
      const stream = openEventStream(reply, !streams.accepting);
      if (!stream) return;
      client = {
        eventId: first.eventId,
        token: first.token,
        send(message, final = false) {
          const frame = `data: ${JSON.stringify(message)}\n\n`;
          if (final) stream.end(frame);
          else stream.write(frame);
        },
        heartbeat: stream.heartbeat,
        end: () => stream.end(),
      };
      streams.add(client, first);
    },
  );
};
