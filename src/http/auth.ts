import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';

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
