/**
 * Direct HTTP calls used by the browser tests to set the stage (fresh events, other buyers)
 * and to check what the server ended up with. The browser itself only uses the page.
 */
import { randomUUID } from 'node:crypto';

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code?: string;
  detail?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    what: string,
  ) {
    super(`${what} → ${status} ${problem.code ?? ''} ${problem.detail ?? problem.title ?? ''}`.trim());
  }
}

export interface TestUser {
  id: string;
  userName: string;
  accessToken: string;
}
export interface EventDto {
  id: string;
  code: string;
  name: string;
}
export interface ScheduleDto {
  id: string;
  eventId: string;
  startAt: string;
  endAt: string;
}
export interface SeatDto {
  seatNumber: number;
  seatType: 'STANDARD' | 'VIP' | 'STANDING';
  price: number;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}
export interface QueueTicket {
  token: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  etaSeconds?: number;
}
export interface ReservationDto {
  id: string;
  seatNumber: number;
  price: number;
  status: string;
  expiresAt: string;
}

interface CallOptions {
  body?: unknown;
  user?: TestUser;
  queueToken?: string;
  admin?: boolean;
  idempotencyKey?: string;
}

/** list[index], failing loudly instead of yielding undefined. */
export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new Error(`expected an item at index ${index} (list has ${list.length})`);
  return item;
}

export const PRICES = { VIP: 15_000, STANDARD: 8_000, STANDING: 4_500 };

export class ServiceApi {
  constructor(
    readonly baseUrl: string,
    readonly adminKey: string,
  ) {}

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.user) headers.authorization = `Bearer ${options.user.accessToken}`;
    if (options.queueToken) headers['x-queue-token'] = options.queueToken;
    if (options.admin) headers['x-admin-key'] = this.adminKey;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new HttpError(response.status, data ?? { status: response.status }, `${method} ${path}`);
    return data as T;
  }

  /** A new event with `days` schedules, so each test owns its seats and its waiting room. */
  async freshEvent(label: string, days = 1): Promise<{ event: EventDto; schedules: ScheduleDto[] }> {
    const suffix = randomUUID().slice(0, 8);
    const event = await this.call<EventDto>('POST', '/api/v1/admin/events', {
      admin: true,
      body: {
        code: `E2E-${suffix}`.toUpperCase(),
        name: label,
        description: 'A test evening created by the browser suite.',
        category: 'Concert',
      },
    });
    const schedules: ScheduleDto[] = [];
    for (let day = 0; day < days; day += 1) {
      const start = new Date(Date.UTC(2030, 5, 12 + day, 19, 30));
      const end = new Date(start.getTime() + 150 * 60_000);
      schedules.push(
        await this.call<ScheduleDto>('POST', `/api/v1/admin/events/${event.id}/schedules`, {
          admin: true,
          body: { startAt: start.toISOString(), endAt: end.toISOString(), prices: PRICES },
        }),
      );
    }
    return { event, schedules };
  }

  createUser(userName: string): Promise<TestUser> {
    return this.call<TestUser>('POST', '/api/v1/users', { body: { userName } });
  }

  joinQueue(user: TestUser, eventId: string): Promise<QueueTicket> {
    return this.call<QueueTicket>('POST', '/api/v1/queue/tokens', { user, body: { eventId } });
  }

  queueStatus(token: string): Promise<QueueTicket> {
    return this.call<QueueTicket>('GET', '/api/v1/queue/tokens/current', { queueToken: token });
  }

  /** Polls until the token is admitted (the server admits on a timer). */
  async waitUntilActive(token: string, timeoutMs = 15_000): Promise<QueueTicket> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ticket = await this.queueStatus(token);
      if (ticket.status === 'ACTIVE') return ticket;
      if (Date.now() > deadline) throw new Error(`queue token still ${ticket.status} at position ${ticket.position}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  seats(scheduleId: string, queueToken: string): Promise<SeatDto[]> {
    return this.call<SeatDto[]>('GET', `/api/v1/schedules/${scheduleId}/seats`, { queueToken });
  }

  hold(user: TestUser, queueToken: string, scheduleId: string, seatNumber: number): Promise<ReservationDto> {
    return this.call<ReservationDto>('POST', '/api/v1/reservations', { user, queueToken, body: { scheduleId, seatNumber } });
  }

  charge(user: TestUser, amount: number): Promise<{ balance: number }> {
    return this.call('POST', '/api/v1/users/me/balance/charges', { user, body: { amount }, idempotencyKey: randomUUID() });
  }

  pay(user: TestUser, queueToken: string, reservationId: string): Promise<{ id: string; status: string }> {
    return this.call('POST', '/api/v1/payments', { user, queueToken, body: { reservationId }, idempotencyKey: randomUUID() });
  }

  balance(user: TestUser): Promise<{ balance: number }> {
    return this.call('GET', '/api/v1/users/me/balance', { user });
  }

  payments(user: TestUser): Promise<Array<{ id: string; status: string; amount: number; failureCode?: string | null }>> {
    return this.call('GET', '/api/v1/users/me/payments', { user });
  }

  /** A buyer who is admitted and ready to act through the API. */
  async admittedBuyer(name: string, eventId: string): Promise<{ user: TestUser; token: string }> {
    const user = await this.createUser(name);
    const ticket = await this.joinQueue(user, eventId);
    await this.waitUntilActive(ticket.token);
    return { user, token: ticket.token };
  }
}
