import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import { authenticatedUser } from './auth.js';
import type { Redis } from '../shared/redis.js';
import type { Services } from '../services.js';

/**
 * The headers helmet would set, computed once: the policy is the same for every response, and
 * running helmet's middleware per request (re-parsing the CSP each time) cost ~10% of a busy
 * instance's CPU.
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader: (name: string, value: string | number) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  helmet(options)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  return headers;
}

/** Route option for a per-caller limit; the caller is the signed-in user, or the client IP without one. */
export const limitPerMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });

/**
 * Security headers on every response, and the per-route rate limiter. With Redis the counters are
 * shared by all instances; embedded, they live in this process. A limiter whose store is down lets
 * requests through: the queue and the database still protect what matters.
 */
export async function registerSecurity(app: FastifyInstance, services: Services, redis: Redis | undefined): Promise<void> {
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
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers);
  });
  const callerOf = (request: FastifyRequest) => {
    try {
      return `user:${authenticatedUser(request, services.users)}`;
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
