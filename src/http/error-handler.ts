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
    return new AppError(frameworkCodes[status] ?? 'VALIDATION_FAILED', error.message, { status });
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  request.problemCode = error.code;
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

/** Every error leaves as RFC 9457 problem+json; unexpected ones are logged in full and told apart only by request id. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toAppError(error);
    if (known) {
      if (known.status >= 500) request.log.warn({ err: error }, known.message);
      return sendProblem(reply, request, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, request, new AppError('INTERNAL', `An unexpected error occurred (request ${request.id}).`));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new AppError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
