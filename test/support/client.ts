import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY } from './test-app.js';

export interface Reply<T = any> {
  status: number;
  headers: Record<string, unknown>;
  body: T;
}

type Send = (method: string, url: string, headers: Record<string, string>, body?: unknown) => Promise<Reply>;

/** In-process transport: the full Fastify pipeline without sockets. */
export const viaInject =
  (app: FastifyInstance): Send =>
  async (method, url, headers, body) => {
    const response = await app.inject({ method: method as 'GET', url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: response.statusCode, headers: response.headers, body: response.body ? JSON.parse(response.body) : undefined };
  };

/** Real HTTP over loopback, for races: every request is its own client on the wire. */
export const viaHttp =
  (baseUrl: string): Send =>
  async (method, url, headers, body) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : undefined };
  };

export interface TestUser {
  id: string;
  accessToken: string;
}

export const SEAT_PRICES = { VIP: 15_000, STANDARD: 8_000, STANDING: 4_500 };

/** The API as a buyer and an admin use it, one method per endpoint, returning raw replies. */
export class ApiClient {
  constructor(readonly send: Send) {}

  static inject(app: FastifyInstance) {
    return new ApiClient(viaInject(app));
  }

  static http(baseUrl: string) {
    return new ApiClient(viaHttp(baseUrl));
  }

  request(method: string, url: string, options: { user?: TestUser; queueToken?: string; headers?: Record<string, string>; body?: unknown } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.user) headers.authorization = `Bearer ${options.user.accessToken}`;
    if (options.queueToken) headers['x-queue-token'] = options.queueToken;
    return this.send(method, `/api/v1${url}`, headers, options.body);
  }

  async createUser(userName = 'buyer'): Promise<TestUser> {
    const reply = await this.request('POST', '/users', { body: { userName } });
    if (reply.status !== 201) throw new Error(`createUser: ${reply.status} ${JSON.stringify(reply.body)}`);
    return { id: reply.body.id, accessToken: reply.body.accessToken };
  }

  /** A fresh event with one schedule of fifty seats, so tests never share seats. */
  async createEventWithSchedule(prices = SEAT_PRICES): Promise<{ eventId: string; scheduleId: string }> {
    const headers = { 'x-admin-key': ADMIN_KEY };
    const event = await this.request('POST', '/admin/events', { headers, body: { code: `T-${randomUUID()}`, name: 'Test event' } });
    if (event.status !== 201) throw new Error(`createEvent: ${event.status} ${JSON.stringify(event.body)}`);
    const startAt = new Date(Date.now() + 86_400_000);
    const schedule = await this.request('POST', `/admin/events/${event.body.id}/schedules`, {
      headers,
      body: { startAt: startAt.toISOString(), endAt: new Date(startAt.getTime() + 7_200_000).toISOString(), prices },
    });
    if (schedule.status !== 201) throw new Error(`createSchedule: ${schedule.status} ${JSON.stringify(schedule.body)}`);
    return { eventId: event.body.id, scheduleId: schedule.body.id };
  }

  join(user: TestUser, eventId: string) {
    return this.request('POST', '/queue/tokens', { user, body: { eventId } });
  }

  /** Joins and returns the token, failing the test if the user was not admitted at once. */
  async admittedToken(user: TestUser, eventId: string): Promise<string> {
    const reply = await this.join(user, eventId);
    if (reply.status !== 201 || reply.body.status !== 'ACTIVE') throw new Error(`not admitted: ${JSON.stringify(reply.body)}`);
    return reply.body.token;
  }

  seats(queueToken: string, scheduleId: string) {
    return this.request('GET', `/schedules/${scheduleId}/seats`, { queueToken });
  }

  hold(user: TestUser, queueToken: string, scheduleId: string, seatNumber: number) {
    return this.request('POST', '/reservations', { user, queueToken, body: { scheduleId, seatNumber } });
  }

  charge(user: TestUser, amount: number, idempotencyKey?: string) {
    return this.request('POST', '/users/me/balance/charges', {
      user,
      body: { amount },
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    });
  }

  balance(user: TestUser) {
    return this.request('GET', '/users/me/balance', { user });
  }

  pay(user: TestUser, queueToken: string, reservationId: string, idempotencyKey?: string) {
    return this.request('POST', '/payments', {
      user,
      queueToken,
      body: { reservationId },
      headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    });
  }
}
