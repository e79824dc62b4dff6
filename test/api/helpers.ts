import { expect } from 'vitest';
import type { ApiClient, ApiUser } from '../../tools/http/api-client.js';
import type { TestApp } from '../support/test-app.js';

/** What the API tests share besides the app and the client: tokens to tamper with, buyers, seats, database reads. */

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
export async function buyer(client: ApiClient, eventId: string, name = 'buyer'): Promise<{ user: ApiUser; token: string }> {
  const user = await client.createUser(name);
  return { user, token: await client.admittedToken(user, eventId) };
}

export async function seatStatus(client: ApiClient, queueToken: string, scheduleId: string, seatNumber: number): Promise<string> {
  const reply = await client.seats(queueToken, scheduleId);
  expect(reply.status).toBe(200);
  return reply.body.find((seat: { seatNumber: number }) => seat.seatNumber === seatNumber).status;
}

/** Holds a seat, failing the test unless the hold is granted. */
export async function holdOk(client: ApiClient, user: ApiUser, queueToken: string, scheduleId: string, seatNumber: number) {
  const reply = await client.hold(user, queueToken, scheduleId, seatNumber);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as { id: string; price: number; expiresAt: string; status: string };
}

export const getReservation = (client: ApiClient, user: ApiUser, id: string) => client.reservation(user, id);
export const cancelReservation = (client: ApiClient, user: ApiUser, id: string) => client.cancel(user, id);
export const myReservations = (client: ApiClient, user: ApiUser) => client.reservations(user);
export const ledger = (client: ApiClient, user: ApiUser) => client.ledger(user);
export const myPayments = (client: ApiClient, user: ApiUser) => client.payments(user);
export const currentQueue = (client: ApiClient, queueToken?: string) => client.queueStatus(queueToken);

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
