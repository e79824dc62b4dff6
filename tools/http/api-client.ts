import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HOUSE_PRICES, type SeatPrices } from '../../src/modules/catalog/catalog.rules.js';
import { leanHttpTransport } from './lean-transport.js';
import { bodyOf, httpTransport, injectTransport, type HttpOptions, type Reply, type Transport } from './transport.js';

export type { Reply };

/** A signed-up user: what a call needs to act as them. */
export interface ApiUser {
  id: string;
  accessToken: string;
}

export interface CallOptions {
  user?: ApiUser;
  queueToken?: string;
  /** Sends the client's admin key (X-Admin-Key). */
  admin?: boolean;
  idempotencyKey?: string;
  /** Win over the headers the options above set. */
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  timeoutMs?: number;
}

export interface ClientOptions {
  /** The service's ADMIN_API_KEY, for the admin calls. */
  adminKey?: string;
  /** Deadline of every call unless the call names its own. */
  timeoutMs?: number;
}

export interface EventBody {
  id: string;
  code: string;
  name: string;
}

export interface ScheduleBody {
  id: string;
  eventId: string;
  startAt: string;
  endAt: string;
}

const DAY_MS = 86_400_000;

/**
 * The API as buyers and an operator use it, one method per step, over either transport. Calls return
 * the raw reply; the few steps that only set the stage (sign-up, creating events and schedules, getting
 * an admitted token) throw unless they succeed.
 */
export class ApiClient {
  constructor(
    readonly transport: Transport,
    readonly options: ClientOptions = {},
  ) {}

  static inject(app: FastifyInstance, options: ClientOptions = {}): ApiClient {
    return new ApiClient(injectTransport(app, options), options);
  }

  static http(baseUrl: string, options: ClientOptions & HttpOptions = {}): ApiClient {
    return new ApiClient(httpTransport(baseUrl, options), options);
  }

  /** Real HTTP on at most `connections` keep-alive sockets with the lean transport: a load generator's client. */
  static lean(baseUrl: string, options: ClientOptions & { connections: number }): ApiClient {
    return new ApiClient(leanHttpTransport(baseUrl, options), options);
  }

  /** Any path of the service, as it is. */
  call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.user) headers.authorization = `Bearer ${options.user.accessToken}`;
    if (options.queueToken) headers['x-queue-token'] = options.queueToken;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.admin) {
      if (!this.options.adminKey) throw new Error(`${method} ${path}: this client has no admin key`);
      headers['x-admin-key'] = this.options.adminKey;
    }
    Object.assign(headers, options.headers);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return this.transport.send({ method, path, headers, body: options.body, rawBody: options.rawBody, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** A path under /api/v1. */
  request(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    return this.call(method, `/api/v1${path}`, options);
  }

  close(): void {
    this.transport.close();
  }

  ready() {
    return this.call('GET', '/ready', { timeoutMs: 5_000 });
  }

  // ---- a buyer ------------------------------------------------------------------------------

  async createUser(userName = 'buyer'): Promise<ApiUser & { userName: string }> {
    const body = bodyOf(await this.request('POST', '/users', { body: { userName } }), 'createUser', 201);
    return { id: body.id, userName: body.userName, accessToken: body.accessToken };
  }

  join(user: ApiUser, eventId: string) {
    return this.request('POST', '/queue/tokens', { user, body: { eventId } });
  }

  /** Joins and returns the token; throws unless the user was admitted at once. */
  async admittedToken(user: ApiUser, eventId: string): Promise<string> {
    const reply = await this.join(user, eventId);
    if (reply.status !== 201 || reply.body.status !== 'ACTIVE') throw new Error(`not admitted: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.token;
  }

  queueStatus(queueToken?: string) {
    return this.request('GET', '/queue/tokens/current', queueToken === undefined ? {} : { queueToken });
  }

  seats(queueToken: string, scheduleId: string) {
    return this.request('GET', `/schedules/${scheduleId}/seats`, { queueToken });
  }

  hold(user: ApiUser, queueToken: string, scheduleId: string, seatNumber: number) {
    return this.request('POST', '/reservations', { user, queueToken, body: { scheduleId, seatNumber } });
  }

  reservation(user: ApiUser, reservationId: string) {
    return this.request('GET', `/reservations/${reservationId}`, { user });
  }

  /** Releases a pending hold, or refunds a purchase. */
  cancel(user: ApiUser, reservationId: string, idempotencyKey?: string) {
    return this.request('DELETE', `/reservations/${reservationId}`, { user, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  reservations(user: ApiUser) {
    return this.request('GET', '/users/me/reservations', { user });
  }

  charge(user: ApiUser, amount: number, idempotencyKey?: string) {
    return this.request('POST', '/users/me/balance/charges', { user, body: { amount }, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  balance(user: ApiUser) {
    return this.request('GET', '/users/me/balance', { user });
  }

  ledger(user: ApiUser) {
    return this.request('GET', '/users/me/balance/history', { user });
  }

  pay(user: ApiUser, queueToken: string, reservationId: string, idempotencyKey?: string) {
    return this.request('POST', '/payments', { user, queueToken, body: { reservationId }, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  /** Several holds of one event, one debit of the total. */
  payAll(user: ApiUser, queueToken: string, reservationIds: string[], idempotencyKey?: string) {
    return this.request('POST', '/payments', { user, queueToken, body: { reservationIds }, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  payments(user: ApiUser) {
    return this.request('GET', '/users/me/payments', { user });
  }

  // ---- the operator -------------------------------------------------------------------------

  async createEvent(event: { code?: string; name?: string; description?: string; category?: string } = {}): Promise<EventBody> {
    const body = { code: `T-${randomUUID()}`, name: 'Test event', ...event };
    return bodyOf(await this.request('POST', '/admin/events', { admin: true, body }), 'createEvent', 201);
  }

  /** A fifty-seat schedule; by default tomorrow, two hours long, at the house prices. */
  async createSchedule(
    eventId: string,
    schedule: { startAt?: Date; durationMs?: number; prices?: Readonly<SeatPrices> } = {},
  ): Promise<ScheduleBody> {
    const { startAt = new Date(Date.now() + DAY_MS), durationMs = 7_200_000, prices = HOUSE_PRICES } = schedule;
    const body = { startAt: startAt.toISOString(), endAt: new Date(startAt.getTime() + durationMs).toISOString(), prices };
    return bodyOf(await this.request('POST', `/admin/events/${eventId}/schedules`, { admin: true, body }), 'createSchedule', 201);
  }

  /** Another schedule for an event, `dayOffset` days after tomorrow; returns its id. */
  async addSchedule(eventId: string, dayOffset = 0, prices: Readonly<SeatPrices> = HOUSE_PRICES): Promise<string> {
    return (await this.createSchedule(eventId, { startAt: new Date(Date.now() + (1 + dayOffset) * DAY_MS), prices })).id;
  }

  /** Schedules the opening, enables or disables, renames. */
  patchEvent(eventId: string, patch: { salesStartAt?: string | null; enabled?: boolean; name?: string; description?: string }) {
    return this.request('PATCH', `/admin/events/${eventId}`, { admin: true, body: patch });
  }

  queueControls(eventId: string) {
    return this.request('GET', `/admin/events/${eventId}/queue`, { admin: true });
  }

  patchQueue(eventId: string, patch: { paused?: boolean; maxActive?: number; admitPerSecond?: number }) {
    return this.request('PATCH', `/admin/events/${eventId}/queue`, { admin: true, body: patch });
  }

  fairness(eventId: string) {
    return this.request('GET', `/events/${eventId}/fairness`);
  }

  cancelSchedule(scheduleId: string) {
    return this.request('POST', `/admin/schedules/${scheduleId}/cancel`, { admin: true });
  }

  /** A fresh event with one schedule of fifty seats, so callers never share seats. */
  async createEventWithSchedule(prices: Readonly<SeatPrices> = HOUSE_PRICES): Promise<{ eventId: string; scheduleId: string }> {
    const event = await this.createEvent();
    return { eventId: event.id, scheduleId: await this.addSchedule(event.id, 0, prices) };
  }
}
