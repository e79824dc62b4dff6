import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorCatalogue, type ErrorCode } from '../shared/errors.js';
import { mapDatabaseError, mapRedisError } from '../shared/infrastructure-errors.js';

/** Fastify's own 4xx errors (body parsing, content type, limits) by status. */
const frameworkCodes: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export function toAppError(error: FastifyError | Error): AppError | undefined {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return new AppError('VALIDATION_FAILED', error.message);
  const mapped = mapDatabaseError(error) ?? mapRedisError(error);
  if (mapped) return mapped;
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    // Router errors quote the whole URL in their message; a client does not need its own input echoed.
    const detail = fastifyError.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : error.message;
    return new AppError(frameworkCodes[status] ?? 'VALIDATION_FAILED', detail, { status });
  }
  return undefined;
}

/**
 * A 503 is an outage that passes (a restart, a cluster failover): the client is told when to come back
 * rather than left to hammer the service, and well-behaved clients and proxies wait that long.
 */
export const RETRY_AFTER_SECONDS = 2;

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  request.problemCode = error.code;
  if (error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  if (error.limit !== undefined) reply.header('x-ratelimit-limit', String(error.limit)).header('x-ratelimit-remaining', '0');
  return reply
    .status(error.status)
    .type('application/problem+json')
    .send({
      type: `urn:ticketing:problem:${error.code.toLowerCase().replaceAll('_', '-')}`,
      title: errorCatalogue[error.code].title,
      status: error.status,
      code: error.code,
      detail: error.message,
      instance: request.url.split('?')[0]!,
    });
}

/** Renders any error as a problem; unexpected ones are logged in full and told apart only by request id. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toAppError(error);
  if (known) {
    if (known.status >= 500) request.log.warn({ err: error }, known.message);
    return sendProblem(reply, request, known);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, request, new AppError('INTERNAL', `An unexpected error occurred (request ${request.id}).`));
}

/** Every error leaves as RFC 9457 problem+json, those raised by routes and hooks and those of Fastify itself. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new AppError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
