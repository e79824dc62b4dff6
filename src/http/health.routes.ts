import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('failed')])),
});

const CHECK_TIMEOUT_MS = 1_000;

const withTimeout = (check: () => Promise<void>) =>
  Promise.race([
    check(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);

/** Reports whether each external dependency answers, by name. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

export const healthRoutes: FastifyPluginAsyncTypebox<{ checks: ReadinessChecks }> = async (app, { checks }) => {
  app.get(
    '/health',
    { schema: { tags: ['ops'], summary: 'Liveness: the process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    { schema: { tags: ['ops'], summary: 'Readiness: the database and the queue store answer', response: { 200: Readiness, 503: Readiness } } },
    async (request, reply) => {
      const entries = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check);
            return [name, 'ok'] as const;
          } catch (error) {
            // Driver messages name hosts and ports: the operator reads them in the log, a client only learns which check failed.
            request.log.warn({ err: error, check: name }, 'readiness check failed');
            return [name, 'failed'] as const;
          }
        }),
      );
      const ready = entries.every(([, result]) => result === 'ok');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(entries) });
    },
  );
};
