import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { UserService } from '../modules/users/users.service.js';
import { AppError } from '../shared/errors.js';

const authenticated = new WeakMap<FastifyRequest, string>();

/**
 * The user a request's bearer token proves (UNAUTHORIZED otherwise), verified once per request:
 * the rate limiter and the handler both need it.
 */
export function authenticatedUser(request: FastifyRequest, users: UserService): string {
  let userId = authenticated.get(request);
  if (userId === undefined) {
    userId = users.authenticate(request.headers.authorization);
    authenticated.set(request, userId);
  }
  return userId;
}

/** The raw queue token of a request: the header, or `?token=` for EventSource, which cannot set headers. */
export function queueTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-queue-token'];
  if (typeof header === 'string' && header.length > 0) return header;
  const query = request.query as { token?: unknown } | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Admin endpoints take `X-Admin-Key`; compared in constant time. */
export function requireAdmin(request: FastifyRequest, adminKey: string): void {
  const given = request.headers['x-admin-key'];
  if (typeof given !== 'string' || !timingSafeEqual(digest(given), digest(adminKey))) {
    throw new AppError('FORBIDDEN', 'A valid X-Admin-Key header is required.');
  }
}
