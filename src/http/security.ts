import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import { signedInUser, type Authenticator } from './auth.js';
import type { RedisClient } from '../shared/redis.js';

/**
 * The headers helmet would set, computed once: the policy is the same for every response, and
 * running helmet's middleware per request (re-parsing the CSP each time) cost ~10% of a busy
 * instance's CPU. The names are stored in lower case, as Fastify keeps them: it lower-cases every name
 * it is given, and a name already in lower case comes back as the same interned string, where a mixed-case
 * one becomes a new string to look up on every response.
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  return headers;
}

const callerKey = (userId: string | undefined, request: FastifyRequest) => (userId ? `user:${userId}` : `ip:${request.ip}`);

/**
 * Route option for a per-caller limit; the caller is the signed-in user, or the client IP without one.
 * A route without a bearer can name its caller's user with `userOf` (event streams: from the queue token).
 * The attempt is counted at `onRequest`, or with `hook: 'preValidation'` after the route's own
 * preValidation hooks, once the body is parsed (the hold starts its seat lookup there, so the lookup and
 * the count share one round trip to Redis).
 */
export const limitPerMinute = (max: number, userOf?: (request: FastifyRequest) => string | undefined, hook?: 'preValidation') => ({
  rateLimit: {
    max,
    timeWindow: 60_000,
    ...(userOf ? { keyGenerator: (request: FastifyRequest) => callerKey(userOf(request), request) } : {}),
    ...(hook ? { hook } : {}),
  },
});

/**
 * Route option for a limit that a store counts for signed-in callers in the same round trip as the work
 * (queue joins: the join script). Only callers without a valid bearer reach this limiter, per IP, so
 * forged-token floods are still held back without costing a signed-in caller a round trip.
 */
export const limitAnonymousPerMinute = (max: number, users: Authenticator) => ({
  rateLimit: {
    max,
    timeWindow: 60_000,
    allowList: (request: FastifyRequest) => signedInUser(request, users) !== undefined,
  },
});

/**
 * Security headers on every response, and the per-route rate limiter. With Redis the counters are
 * shared by all instances; embedded, they live in this process. A limiter whose store is down lets
 * requests through: the queue and the database still protect what matters. Each counter is one key and
 * one script, so on Redis Cluster it lives on whichever node owns its slot.
 */
export async function registerSecurity(app: FastifyInstance, users: Authenticator, redis: RedisClient | undefined): Promise<void> {
  const headers = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        // The service is often reached over plain HTTP (embedded default, behind a TLS-terminating proxy).
        upgradeInsecureRequests: null,
      },
    },
  });
  // Callback style: an async hook would cost every request a promise and a trip through the microtask queue.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'rate:' } : {}),
    skipOnError: true,
    keyGenerator: (request) => callerKey(signedInUser(request, users), request),
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', `Too many requests; try again in ${context.after}.`, { status: context.statusCode }),
  });
}
