import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { buyerOf, queueTokenOf, type Guards } from '../../http/auth.js';
import { openEventStream } from '../../http/event-stream.js';
import { IfNoneMatchHeader, ifNoneMatchHits } from '../../http/etag.js';
import { IdParams, problems, QueueTokenHeader } from '../../http/schemas.js';
import { limitPerMinute } from '../../http/security.js';
import { Seat, SeatMapStreamQuery } from './catalog.schemas.js';
import type { CatalogService } from './catalog.service.js';
import type { SeatMapCache } from './seat-map-cache.js';
import type { SeatMapStreamClient, SeatMapStreamHub } from './seat-map-stream.js';

export interface SeatMapRoutesOptions {
  seatMaps: Pick<SeatMapCache, 'read'>;
  streams: SeatMapStreamHub;
  catalog: Pick<CatalogService, 'eventOfSchedule'>;
  guards: Guards;
  streamsPerMinute: number;
  /** The user a genuine queue token was issued to, expired or not: EventSource sends no bearer to key the open limit by. */
  tokenUser: (token: string | undefined) => string | undefined;
}

const EXPIRED_FRAME = `data: ${JSON.stringify({ status: 'EXPIRED' })}\n\n`;

export const seatMapRoutes: FastifyPluginAsyncTypebox<SeatMapRoutesOptions> = async (app, options) => {
  const { seatMaps, streams, catalog, guards } = options;
  const eventOf = (request: FastifyRequest) => catalog.eventOfSchedule((request.params as { id: string }).id);

  app.get(
    '/schedules/:id/seats',
    {
      preHandler: guards.admittedToken(eventOf),
      schema: {
        tags: ['catalog'],
        summary: 'The seat map of a schedule (admitted queue token required)',
        description:
          'Answers with an `ETag`; sent back as `If-None-Match`, an unchanged map is `304 Not Modified` with no body. The queue token is checked first either way. For changes as they happen, use `/seats/stream`.',
        security: [{ queueToken: [] }],
        params: IdParams,
        headers: Type.Composite([QueueTokenHeader, IfNoneMatchHeader]),
        response: { 200: Type.Array(Seat), 304: Type.Null({ description: 'Not modified: the map is still the one the ETag names' }), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      // When the request arrived (Fastify's clock): version reads issued since then may be shared with it.
      const map = await seatMaps.read(request.params.id, performance.now() - reply.elapsedTime);
      // Revalidate every time: the map changes at any moment, and an unchanged one costs a 304.
      reply.header('etag', map.etag).header('cache-control', 'private, no-cache');
      // No payload at all: a 304 carries neither a body nor a Content-Length.
      if (ifNoneMatchHits(request.headers['if-none-match'], map.etag)) return reply.status(304).send(undefined as never);
      // The cached bytes go out as they are, with no serializing per request.
      return reply.type('application/json; charset=utf-8').send(map.body as unknown as never);
    },
  );

  app.get(
    '/schedules/:id/seats/stream',
    {
      config: limitPerMinute(options.streamsPerMinute, (request) => options.tokenUser(queueTokenOf(request))),
      preHandler: guards.admittedToken(eventOf),
      schema: {
        tags: ['catalog'],
        summary: 'Server-Sent Events: the seat map of a schedule, pushed whenever it changes',
        description:
          'Each `data:` line is the seat map, as `/seats` answers it, with its ETag as the event `id`; the first comes at once, the next whenever a seat of the date changes on any instance (or a hold lapses). `{"status":"EXPIRED"}` ends the stream once the queue turn is over. EventSource cannot set headers, so the token may come as `?token=`. Comment lines are heartbeats; an open stream counts as the buyer\'s activity. A token keeps at most `SEAT_MAP_STREAMS_PER_TOKEN` streams; a newer one ends the oldest.',
        security: [{ queueToken: [] }],
        params: IdParams,
        querystring: SeatMapStreamQuery,
        headers: QueueTokenHeader,
        response: { 200: { content: { 'text/event-stream': { schema: Type.String() } } }, ...problems(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      // Listen before the first await: a client gone during the read must leave nothing behind.
      let client: SeatMapStreamClient | undefined;
      reply.raw.on('close', () => {
        if (client) streams.remove(client);
      });
      const scheduleId = request.params.id;
      const first = await seatMaps.read(scheduleId);
      const stream = openEventStream(reply, !streams.accepting);
      if (!stream) return;
      client = {
        scheduleId,
        eventId: buyerOf(request).eventId,
        token: queueTokenOf(request)!,
        send(snapshot) {
          stream.write(Buffer.concat([Buffer.from(`id: ${snapshot.etag}\ndata: `), snapshot.body, Buffer.from('\n\n')]));
        },
        expire: () => stream.end(EXPIRED_FRAME),
        heartbeat: stream.heartbeat,
        end: () => stream.end(),
      };
      streams.add(client, first);
    },
  );
};
