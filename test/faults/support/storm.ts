import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { sleep } from '../../../tools/async.js';
import type { ApiClient, ApiUser, Reply } from '../../../tools/http/api-client.js';

export interface PaymentAttempt {
  reservationId: string;
  seatNumber: number;
  key: string;
  /** Every answer to this payment, retries included. */
  replies: Reply[];
  /** The first definitive answer (201 or a 4xx other than an expired queue token); undefined if none came. */
  final?: Reply;
}

/** Answers after which a payment is retried with the same Idempotency-Key. */
const retryable = (reply: Reply) =>
  reply.status === 0 || reply.status === 503 || reply.status === 429 || (reply.status === 401 && reply.body?.code === 'QUEUE_TOKEN_EXPIRED');

/**
 * A buyer as a well-behaved client: joins the queue (again when the token is lost), holds seats, pays
 * with an Idempotency-Key and retries the same key until the answer is definitive. Every reply is kept.
 */
export class Buyer {
  token: string | undefined;
  readonly replies: Reply[] = [];
  readonly payments: PaymentAttempt[] = [];
  readonly abandoned: { reservationId: string; seatNumber: number }[] = [];

  constructor(
    public http: ApiClient,
    readonly user: ApiUser,
    readonly eventId: string,
  ) {}

  #record(reply: Reply): Reply {
    this.replies.push(reply);
    if (reply.status === 401 && reply.body?.code === 'QUEUE_TOKEN_EXPIRED') this.token = undefined;
    return reply;
  }

  async ensureToken(): Promise<boolean> {
    if (this.token) return true;
    const reply = this.#record(await this.http.join(this.user, this.eventId));
    if (reply.status === 201 && reply.body.status === 'ACTIVE') this.token = reply.body.token;
    return this.token !== undefined;
  }

  async hold(scheduleId: string, seatNumber: number): Promise<Reply | undefined> {
    if (!(await this.ensureToken())) return undefined;
    return this.#record(await this.http.hold(this.user, this.token!, scheduleId, seatNumber));
  }

  async cancel(reservationId: string): Promise<Reply> {
    return this.#record(await this.http.cancel(this.user, reservationId));
  }

  /** Pays, retrying the same key on 503 / no answer / lost queue token until definitive or `deadline`. */
  async pay(attempt: PaymentAttempt, deadline: number): Promise<Reply | undefined> {
    if (!this.payments.includes(attempt)) this.payments.push(attempt);
    while (Date.now() < deadline) {
      if (await this.ensureToken()) {
        const reply = this.#record(await this.http.pay(this.user, this.token!, attempt.reservationId, attempt.key));
        attempt.replies.push(reply);
        if (!retryable(reply)) {
          attempt.final = reply;
          // A payment ends the queue turn: the next purchase needs a new token.
          if (reply.status === 201) this.token = undefined;
          return reply;
        }
      }
      await sleep(100 + randomInt(100));
    }
    return undefined;
  }

  /**
   * Until `stop()`: hold a random seat, then pay for it (`payShare`), cancel it (`cancelShare`) or walk
   * away from it (the rest). `retryDeadline()` bounds how long a started payment keeps being retried.
   */
  async shop(options: {
    scheduleIds: string[];
    stop: () => boolean;
    retryDeadline: () => number;
    payShare: number;
    cancelShare: number;
    pauseMs: [number, number];
  }): Promise<void> {
    while (!options.stop()) {
      await sleep(options.pauseMs[0] + randomInt(options.pauseMs[1] - options.pauseMs[0] + 1));
      const scheduleId = options.scheduleIds[randomInt(options.scheduleIds.length)]!;
      const seatNumber = 1 + randomInt(50);
      const held = await this.hold(scheduleId, seatNumber);
      if (held?.status !== 201) continue;
      const dice = Math.random();
      if (dice < options.payShare) {
        await this.pay({ reservationId: held.body.id, seatNumber, key: randomUUID(), replies: [] }, options.retryDeadline());
      } else if (dice < options.payShare + options.cancelShare) {
        await this.cancel(held.body.id);
      } else {
        this.abandoned.push({ reservationId: held.body.id, seatNumber });
      }
    }
  }
}

/** Counts of replies by "status code" (e.g. "409 SEAT_UNAVAILABLE", "0 TypeError: ECONNRESET"). */
export function tally(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const key = reply.status === 0 ? `0 ${reply.error}` : `${reply.status}${reply.body?.code ? ` ${reply.body.code}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Every answer is a success or a problem+json; none is a 500, and none leaks a stack trace. */
export function expectNoServerErrors(replies: Reply[], allowed = new Set([503])): void {
  const bad = replies.filter(
    (reply) =>
      reply.status >= 500
        ? !allowed.has(reply.status) || reply.body?.code !== 'SERVICE_UNAVAILABLE'
        : reply.status >= 400 && !/^application\/problem\+json/.test(reply.headers['content-type'] ?? ''),
  );
  expect(bad.map((reply) => ({ status: reply.status, body: reply.body })), JSON.stringify(tally(replies))).toEqual([]);
  const leaks = replies.filter((reply) => /\n\s+at |node_modules/.test(JSON.stringify(reply.body ?? '')));
  expect(leaks).toEqual([]);
}
