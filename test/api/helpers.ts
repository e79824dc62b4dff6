import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { ApiClient, type Reply, type TestUser } from '../support/client.js';
import { startTestApp, type Backend, type TestApp } from '../support/test-app.js';

/**
 * The test app for one API test file. On PostgreSQL + Redis it gets a database of its own (created from
 * the migrations, dropped on close) and a key prefix of its own under the run's prefix (removed by the
 * global teardown): other files move their clocks and run the hold sweeper, which acts on every row of
 * a shared database, and admission steps act on every event of a shared prefix.
 */
export async function startApiApp(backend: Backend, scope: string, env: Record<string, string> = {}): Promise<TestApp> {
  if (backend !== 'postgres+redis') return startTestApp(backend, env);
  const runUrl = new URL(inject('databaseUrl'));
  const name = `${runUrl.pathname.slice(1)}_api_${scope.slice(0, 12)}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: runUrl.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const databaseUrl = new URL(runUrl);
  databaseUrl.pathname = `/${name}`;
  const t = await startTestApp(backend, {
    DATABASE_URL: databaseUrl.toString(),
    REDIS_KEY_PREFIX: `${inject('redisPrefix')}api:${scope}:${randomUUID().slice(0, 8)}:`,
    ...env,
  });
  const close = t.close.bind(t);
  t.close = async () => {
    await close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  return t;
}

/** An RFC 9457 problem with the given status and code, and nothing a client should not see. */
export function expectProblem(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.code }, JSON.stringify(reply.body)).toEqual({ status, code });
  expect(String(reply.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(reply.body).toEqual({
    type: `urn:ticketing:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: expect.any(String),
    status,
    code,
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
  });
  expect(reply.body.detail).not.toMatch(/\n\s+at /);
}

/** Changes one character of the token's payload or signature to another base64url character. */
export function tamper(token: string, part: 'payload' | 'signature'): string {
  const dot = token.indexOf('.');
  // The signature's last character carries padding bits; change one well inside it instead.
  const index = part === 'payload' ? Math.floor(dot / 2) : dot + 5;
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
}

export const HOLD_TTL_MS = 300_000;

/** A registered user admitted to the event's waiting room. */
export async function buyer(client: ApiClient, eventId: string, name = 'buyer'): Promise<{ user: TestUser; token: string }> {
  const user = await client.createUser(name);
  return { user, token: await client.admittedToken(user, eventId) };
}

export async function seatStatus(client: ApiClient, queueToken: string, scheduleId: string, seatNumber: number): Promise<string> {
  const reply = await client.seats(queueToken, scheduleId);
  expect(reply.status).toBe(200);
  return reply.body.find((seat: { seatNumber: number }) => seat.seatNumber === seatNumber).status;
}

/** Holds a seat, failing the test unless the hold is granted. */
export async function holdOk(client: ApiClient, user: TestUser, queueToken: string, scheduleId: string, seatNumber: number) {
  const reply = await client.hold(user, queueToken, scheduleId, seatNumber);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as { id: string; price: number; expiresAt: string; status: string };
}

export const getReservation = (client: ApiClient, user: TestUser, id: string) => client.request('GET', `/reservations/${id}`, { user });
export const cancelReservation = (client: ApiClient, user: TestUser, id: string) => client.request('DELETE', `/reservations/${id}`, { user });
export const myReservations = (client: ApiClient, user: TestUser) => client.request('GET', '/users/me/reservations', { user });
export const ledger = (client: ApiClient, user: TestUser) => client.request('GET', '/users/me/balance/history', { user });
export const myPayments = (client: ApiClient, user: TestUser) => client.request('GET', '/users/me/payments', { user });
export const currentQueue = (client: ApiClient, queueToken?: string) =>
  client.request('GET', '/queue/tokens/current', queueToken === undefined ? {} : { queueToken });

/** The stored row, read past the API, to check what the database itself says. */
export async function dbRow<Row = Record<string, unknown>>(t: TestApp, sql: string, params: unknown[]): Promise<Row> {
  const { rows } = await t.infra.db.query<Row>(sql, params);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/**
 * Runs `fn` while counting every statement and transaction sent to the test app's database, to prove
 * a request was answered without a database round trip. Services share the infrastructure's db object,
 * so wrapping its methods sees every call they make.
 */
export async function countDatabaseCalls<T>(t: TestApp, fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const db = t.infra.db;
  const original = { query: db.query, exec: db.exec, withTx: db.withTx };
  let calls = 0;
  db.query = ((...args: Parameters<typeof db.query>) => {
    calls++;
    return original.query.apply(db, args);
  }) as typeof db.query;
  db.exec = (...args) => {
    calls++;
    return original.exec.apply(db, args);
  };
  db.withTx = ((...args: Parameters<typeof db.withTx>) => {
    calls++;
    return original.withTx.apply(db, args);
  }) as typeof db.withTx;
  try {
    return { result: await fn(), calls };
  } finally {
    Object.assign(db, original);
  }
}
