import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import type { Redis } from '../shared/redis.js';
import type { Services } from '../services.js';

/** Route option for a per-caller limit; the caller is the signed-in user, or the client IP without one. */
export const limitPerMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });

/**
 * Security headers on every response, and the per-route rate limiter. With Redis the counters are
 * shared by all instances; embedded, they live in this process. A limiter whose store is down lets
 * requests through: the queue and the database still protect what matters.
 */
export async function registerSecurity(app: FastifyInstance, services: Services, redis: Redis | undefined): Promise<void> {
  await app.register(helmet, {
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
  const callerOf = (request: FastifyRequest) => {
    try {
      return `user:${services.users.authenticate(request.headers.authorization)}`;
    } catch {
      return `ip:${request.ip}`;
    }
  };
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'rate:' } : {}),
    skipOnError: true,
    keyGenerator: callerOf,
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', `Too many requests; try again in ${context.after}.`, { status: context.statusCode }),
  });
}
