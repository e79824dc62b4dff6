import { expect, inject } from 'vitest';
import { checkInvariants, type Violation } from '../../tools/invariants.js';

/** Any reply-like value: a client Reply, or one built from an inject() or fetch() response. */
export interface ProblemReply {
  status: number;
  headers: Record<string, unknown>;
  body?: any;
  error?: string;
}

/**
 * An RFC 9457 problem with the given status (and code, when given), and nothing a client should not
 * see: no stack trace, no file names, no paths into node_modules.
 */
export function expectProblem(reply: ProblemReply, status: number, code?: string): void {
  const summary = JSON.stringify({ status: reply.status, body: reply.body, error: reply.error });
  expect({ status: reply.status, code: reply.body?.code }, summary).toEqual({ status, code: code ?? expect.any(String) });
  expect(String(reply.headers['content-type']), summary).toMatch(/^application\/problem\+json/);
  expect(reply.body, summary).toEqual({
    type: code ? `urn:ticketing:problem:${code.toLowerCase().replaceAll('_', '-')}` : expect.stringMatching(/^urn:ticketing:problem:/),
    title: expect.any(String),
    status,
    code: code ?? expect.any(String),
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
  });
  expect(reply.body.detail, summary).not.toMatch(/\n\s+at /);
  expect(JSON.stringify(reply.body), summary).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

/**
 * Runs the invariant checker (tools/invariants.ts) on one event of the run's database, in a
 * consistent snapshot, and fails with its report on any violation.
 */
export async function expectInvariants(eventId: string, databaseUrl: string = inject('databaseUrl')): Promise<void> {
  const violations: Violation[] = await checkInvariants(databaseUrl, { eventId });
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
}
