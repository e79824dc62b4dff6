import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, requestLogger } from '../../src/http/logging.js';

/** The process logger at `level`, writing its lines into `lines`, with a count of the children it made. */
function processLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const parent = createLogger(level, sink);
  const child = vi.spyOn(parent, 'child');
  const forRequest = (options = {}) => requestLogger.call(undefined as never, parent as FastifyBaseLogger, { reqId: 'req-1' }, options, undefined as never);
  return { lines, child, forRequest };
}

describe("a request's logger", () => {
  it('makes no child for a request that logs nothing at the level in force', () => {
    const { lines, child, forRequest } = processLogger('warn');
    const log = forRequest();
    log.info({ req: { method: 'GET', url: '/health' } }, 'incoming request');
    log.debug('details');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    expect(log.level).toBe('warn');
  });

  it('writes a line with the request id once one is at the level in force, from one child', () => {
    const { lines, child, forRequest } = processLogger('warn');
    const log = forRequest();
    log.warn({ code: 'X' }, 'first');
    log.error('second');
    log.info('below the level');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map(({ reqId, msg, level }) => ({ reqId, msg, level }))).toEqual([
      { reqId: 'req-1', msg: 'first', level: 40 },
      { reqId: 'req-1', msg: 'second', level: 50 },
    ]);
    expect(lines[0]).toMatchObject({ code: 'X' });
  });

  it('keeps the redaction of the process logger', () => {
    const { lines, forRequest } = processLogger('info');
    forRequest().info({ headers: { authorization: 'Bearer SECRET' } }, 'headers');
    expect(JSON.stringify(lines)).not.toContain('SECRET');
    expect(lines).toHaveLength(1);
  });

  it('writes nothing when the process logger is silent', () => {
    const { lines, child, forRequest } = processLogger('silent');
    forRequest().fatal('nothing');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it("makes the child at once for a route with logger options of its own, and a child's child carries both", () => {
    const { lines, child, forRequest } = processLogger('warn');
    forRequest({ level: 'info' }).info('route level');
    expect(child).toHaveBeenCalledTimes(1);
    forRequest().child({ step: 'pay' }).warn('nested');
    expect(lines.map(({ msg, reqId, step }) => ({ msg, reqId, step }))).toEqual([
      { msg: 'route level', reqId: 'req-1', step: undefined },
      { msg: 'nested', reqId: 'req-1', step: 'pay' },
    ]);
  });
});
