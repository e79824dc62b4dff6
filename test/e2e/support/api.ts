/**
 * The shared API client (tools/http) as the browser tests use it, to set the stage (fresh events, other
 * buyers) and to check what the server ended up with: bodies typed, and any answer but a success thrown
 * as an HttpError. The browser itself only uses the page.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '../../../tools/async.js';
import { ApiClient, type ApiUser, type CallOptions, type EventBody, type Reply, type ScheduleBody } from '../../../tools/http/api-client.js';
import { bodyOf } from '../../../tools/http/transport.js';

export type TestUser = ApiUser & { userName: string };
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

/** list[index], failing loudly instead of yielding undefined. */
export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new Error(`expected an item at index ${index} (list has ${list.length})`);
  return item;
}

export class ServiceApi {
  readonly client: ApiClient;

  constructor(baseUrl: string, adminKey: string) {
    this.client = ApiClient.http(baseUrl, { adminKey });
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    return bodyOf<T>(await this.client.call(method, path, options), `${method} ${path}`);
  }

  async #ok<T>(reply: Promise<Reply>, what: string): Promise<T> {
    return bodyOf<T>(await reply, what);
  }

  /** A new event with `days` schedules, so each test owns its seats and its waiting room. */
  async freshEvent(label: string, days = 1): Promise<{ event: EventBody; schedules: ScheduleBody[] }> {
    const event = await this.client.createEvent({
      code: `E2E-${randomUUID().slice(0, 8)}`.toUpperCase(),
      name: label,
      description: 'A test evening created by the browser suite.',
      category: 'Concert',
    });
    const schedules: ScheduleBody[] = [];
    for (let day = 0; day < days; day += 1) {
      schedules.push(await this.client.createSchedule(event.id, { startAt: new Date(Date.UTC(2030, 5, 12 + day, 19, 30)), durationMs: 150 * 60_000 }));
    }
    return { event, schedules };
  }

  createUser(userName: string): Promise<TestUser> {
    return this.client.createUser(userName);
  }

  joinQueue(user: TestUser, eventId: string): Promise<QueueTicket> {
    return this.#ok(this.client.join(user, eventId), 'join the queue');
  }

  queueStatus(token: string): Promise<QueueTicket> {
    return this.#ok(this.client.queueStatus(token), 'queue status');
  }

  /** Polls until the token is admitted (the server admits on a timer). */
  async waitUntilActive(token: string, timeoutMs = 15_000): Promise<QueueTicket> {
    const admitted = async () => {
      const ticket = await this.queueStatus(token);
      return ticket.status === 'ACTIVE' ? ticket : undefined;
    };
    return waitFor('the queue token to be admitted', admitted, timeoutMs, 200);
  }

  seats(scheduleId: string, queueToken: string): Promise<SeatDto[]> {
    return this.#ok(this.client.seats(queueToken, scheduleId), 'seat map');
  }

  hold(user: TestUser, queueToken: string, scheduleId: string, seatNumber: number): Promise<ReservationDto> {
    return this.#ok(this.client.hold(user, queueToken, scheduleId, seatNumber), `hold seat ${seatNumber}`);
  }

  charge(user: TestUser, amount: number): Promise<{ balance: number }> {
    return this.#ok(this.client.charge(user, amount, randomUUID()), 'charge');
  }

  pay(user: TestUser, queueToken: string, reservationId: string): Promise<{ id: string; status: string }> {
    return this.#ok(this.client.pay(user, queueToken, reservationId, randomUUID()), 'pay');
  }

  balance(user: TestUser): Promise<{ balance: number }> {
    return this.#ok(this.client.balance(user), 'balance');
  }

  payments(user: TestUser): Promise<Array<{ id: string; status: string; amount: number; failureCode?: string | null }>> {
    return this.#ok(this.client.payments(user), 'payments');
  }

  /** Another date for `eventId`, starting `fromNowMs` from now (e.g. inside the refund window's last day). */
  dateStartingIn(eventId: string, fromNowMs: number): Promise<ScheduleBody> {
    return this.client.createSchedule(eventId, { startAt: new Date(Date.now() + fromNowMs) });
  }

  /** The operator cancels a date: every purchase refunded, every hold released. */
  cancelDate(scheduleId: string): Promise<{ refunded: number; released: number; amountRefunded: number }> {
    return this.#ok(this.client.cancelSchedule(scheduleId), 'cancel the date');
  }

  /** `user` queues, holds `seatNumbers` on the date and pays them at once (the wallet must cover them). */
  async buy(user: TestUser, eventId: string, scheduleId: string, seatNumbers: number[]): Promise<{ payments: Array<{ id: string }>; amount: number }> {
    const { token } = await this.joinQueue(user, eventId);
    await this.waitUntilActive(token);
    const holds = [];
    for (const seatNumber of seatNumbers) holds.push(await this.hold(user, token, scheduleId, seatNumber));
    return this.#ok(this.client.payAll(user, token, holds.map((r) => r.id), randomUUID()), 'pay the holds');
  }

  /** A buyer who is admitted and ready to act through the API. */
  async admittedBuyer(name: string, eventId: string): Promise<{ user: TestUser; token: string }> {
    const user = await this.createUser(name);
    const ticket = await this.joinQueue(user, eventId);
    await this.waitUntilActive(ticket.token);
    return { user, token: ticket.token };
  }
}
