import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createGuards } from './http/auth.js';
import { handleError, registerErrorHandling } from './http/error-handler.js';
import { healthRoutes } from './http/health.routes.js';
import { requestLogger } from './http/logging.js';
import { registerMetrics } from './http/metrics.js';
import { registerSecurity } from './http/security.js';
import { Problem } from './http/schemas.js';
import { catalogRoutes } from './modules/catalog/catalog.routes.js';
import { operationsRoutes } from './modules/operations/operations.routes.js';
import { seatMapRoutes } from './modules/catalog/seat-map.routes.js';
import { paymentRoutes } from './modules/payment/payment.routes.js';
import { queueRoutes } from './modules/queue/queue.routes.js';
import { refundRoutes } from './modules/refund/refund.routes.js';
import { reservationRoutes } from './modules/reservation/reservation.routes.js';
import { salesRoutes } from './modules/sales/sales.routes.js';
import { userRoutes } from './modules/users/users.routes.js';
import { walletRoutes } from './modules/wallet/wallet.routes.js';
import type { TrustProxy } from './config.js';
import type { Services } from './services.js';
import type { RedisClient } from './shared/redis.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const requestIdOf = (request: IncomingMessage): string => {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
};

/** Fastify trusts a hop count at run time but its types lack it; the same rule as a function. */
const trustedProxies = (trust: TrustProxy) => (typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust);

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

export interface AppOptions {
  /** A pino logger to share with the rest of the process; silent when omitted. */
  logger?: FastifyBaseLogger;
  /** Shared store for rate-limit counters; in-process counters when omitted. */
  redis?: RedisClient;
}

/** The HTTP application, without listening: tests drive it with inject() or a real port. */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Each request's logger is made only when the request logs (logging.ts, requestLogger).
    ...(options.logger ? { loggerInstance: options.logger, childLoggerFactory: requestLogger } : { logger: false }),
    bodyLimit: 16 * 1024,
    trustProxy: trustedProxies(services.config.TRUST_PROXY),
    // Errors raised before routing (a bad or over-long URL) get the same problem+json as the rest.
    frameworkErrors: handleError,
    // A caller's x-request-id names the request in logs only when it is short and plain; anything else
    // (log injection, megabyte ids) is replaced by one of ours.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Strict types: "100" is not an amount and "3" is not a seat number.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // The API speaks JSON only; any other body is 415 rather than a confusing schema error.
  app.removeContentTypeParser('text/plain');

  const { config, users, catalog, queue, operations, reservations, wallet, payments, refunds, queueStreams, seatMaps, seatMapStreams } = services;
  registerErrorHandling(app);
  app.addHook('onReady', () => queueStreams.start());
  app.addHook('onReady', () => seatMapStreams.start());
  // Open event streams would otherwise keep close() waiting for them forever.
  app.addHook('preClose', () => queueStreams.stop());
  app.addHook('preClose', () => seatMapStreams.stop());
  app.addSchema(Problem);
  await registerSecurity(app, users, options.redis);
  const guards = createGuards(app, { users, queue, adminKey: config.ADMIN_API_KEY });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Ticketing API',
        version: '1.0.0',
        description: 'Waiting room, seat holds, wallet and payments. Every error is RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          queueToken: { type: 'apiKey', in: 'header', name: 'X-Queue-Token' },
          adminKey: { type: 'apiKey', in: 'header', name: 'X-Admin-Key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Like the rest of the service, the docs must work over plain HTTP.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

  registerMetrics(
    app,
    { events: () => queue.events(), stats: (eventId) => queue.stats(eventId), streams: () => queueStreams.size },
    {
      controls: (eventId) => operations.controls(eventId),
      sales: { seats: () => services.sales.liveSeats(), lastMinute: () => services.sales.lastMinuteSales() },
      seatMapStreams: () => seatMapStreams.size,
      seatMapReads: () => seatMaps.reads,
    },
  );
  await app.register(healthRoutes, { checks: services.checks });
  await app.register(
    async (api) => {
      await api.register(userRoutes, { users, guards, signupsPerMinute: config.RATE_LIMIT_SIGNUPS_PER_MINUTE });
      await api.register(queueRoutes, {
        queue,
        streams: queueStreams,
        guards,
        streamsPerMinute: config.RATE_LIMIT_STREAMS_PER_MINUTE,
        joinsPerMinute: config.RATE_LIMIT_QUEUE_JOINS_PER_MINUTE,
        users,
      });
      await api.register(catalogRoutes, { catalog, guards });
      await api.register(operationsRoutes, { operations, queue, guards });
      await api.register(seatMapRoutes, {
        seatMaps,
        streams: seatMapStreams,
        catalog,
        guards,
        streamsPerMinute: config.RATE_LIMIT_STREAMS_PER_MINUTE,
        tokenUser: (token) => queue.userOf(token),
      });
      await api.register(reservationRoutes, {
        reservations,
        cancellations: refunds,
        catalog,
        guards,
        holdsPerMinute: config.RATE_LIMIT_HOLDS_PER_MINUTE,
        cancelsPerMinute: config.RATE_LIMIT_CANCELS_PER_MINUTE,
      });
      await api.register(walletRoutes, { wallet, guards, chargesPerMinute: config.RATE_LIMIT_CHARGES_PER_MINUTE });
      await api.register(paymentRoutes, { payments, guards, paymentsPerMinute: config.RATE_LIMIT_PAYMENTS_PER_MINUTE });
      await api.register(refundRoutes, { refunds, guards });
      await api.register(salesRoutes, { sales: services.sales, guards });
    },
    { prefix: '/api/v1' },
  );
  await app.register(fastifyStatic, { root: publicDir, wildcard: false });
  // The operator's page is public/admin/ (served at /admin/ by the line above); /admin leads there too.
  app.get('/admin', { schema: { hide: true } }, (_request, reply) => reply.redirect('/admin/', 302));
  return app;
}
