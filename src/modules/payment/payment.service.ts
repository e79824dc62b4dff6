import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import {
  findStoredOutcome,
  IDEMPOTENCY_KEY_TTL_MS,
  idempotencyConflict,
  requestHash,
  unwrap,
  type IdempotencyScope,
  type Outcome,
} from '../../shared/idempotency.js';
import type { SeatMapChanges } from '../catalog/seat-map-cache.js';
import { assertBuyerFor, type Buyer } from '../queue/buyer.js';
import type { ReservationService } from '../reservation/reservation.service.js';
import type { PaymentView, PurchaseView } from './payment.schemas.js';
import * as sql from './payment.sql.js';

/** Ends a buyer's queue turn once their purchase is done (the queue module). */
export interface TurnEnder {
  complete(buyer: Buyer): Promise<void>;
}

export const toPaymentView = (row: sql.PaymentRow): PaymentView => ({
  ...row,
  paidAt: row.paidAt?.toISOString() ?? null,
  canceledAt: row.canceledAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
});

const HISTORY_LIMIT = 200;

/** What a purchase decided, stored with its idempotency key; `turnOver` says whether the buyer has nothing left to pay. */
interface Decided extends PurchaseView {
  turnOver: boolean;
}

/**
 * A payment's key means "pay exactly these reservations": the same key for others is a conflict. One
 * reservation keeps the request shape it always had, so keys stored before several seats existed still match.
 */
const paymentScope = (userId: string, reservationIds: readonly string[], key: string, now: Date | null): IdempotencyScope => ({
  userId,
  scope: 'payment',
  key,
  request: reservationIds.length === 1 ? { reservationId: reservationIds[0] } : { reservationIds: [...reservationIds].sort() },
  now,
});

/** A stored outcome from before purchases of several seats was one payment view. */
const asPurchase = (value: Decided | PaymentView): Decided =>
  'payments' in value ? value : { payments: [value], amount: value.amount, turnOver: true };

export class PaymentService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly reservations: ReservationService,
    private readonly queue: TurnEnder,
    private readonly maxHoldsPerUser: number,
    private readonly seatMaps: SeatMapChanges,
  ) {}

  /**
   * Pays one or several of the buyer's holds from the wallet with one debit of the total. One
   * transaction, the payment function (payment.functions.ts), debits, records a payment per hold,
   * confirms the reservations and sells the seats, or does none of it. Outcomes that must stick although
   * nothing was bought (FAILED payments and released holds; lapsed holds marked EXPIRED) commit, then
   * surface as errors. The queue turn ends once the buyer has no live hold left in the event.
   */
  async pay(buyer: Buyer, reservationIds: readonly string[], idempotencyKey?: string): Promise<PurchaseView & { replayed: boolean }> {
    if (reservationIds.length > this.maxHoldsPerUser) {
      throw new AppError('VALIDATION_FAILED', `At most ${this.maxHoldsPerUser} reservations can be paid at once.`);
    }
    const scope = idempotencyKey ? paymentScope(buyer.userId, reservationIds, idempotencyKey, this.clock.pinned()) : undefined;
    // One round trip: the function is the whole transaction, committed when it returns.
    const decided = (await sql.payInOneTrip.first(this.db, {
      userId: buyer.userId,
      eventId: buyer.eventId,
      reservationIds,
      key: scope?.key ?? null,
      requestHash: scope ? requestHash(scope.request) : null,
      keyTtlMs: IDEMPOTENCY_KEY_TTL_MS,
      now: this.clock.pinned(),
    }))!;
    if (decided.refusal) throw refusal(buyer, decided);
    const { replayed } = decided;
    const outcome = decided.outcome as Outcome<Decided | PaymentView>;
    const released = decided.released.map(seatOf);
    const sold = decided.sold.map(seatOf);
    // A refused purchase (its outcome unwraps to the error) has nothing to end: the buyer may pick another seat.
    const turnOver = !replayed && outcome.ok && asPurchase(outcome.value).turnOver;
    // The map's bump and the seats' locks do not depend on each other and none of them rejects (a failed
    // bump is owed and retried, the locks are best effort): issued together, they share one round trip to
    // the store. The turn ends only once the bump has landed, so whoever sees the turn over (the next in
    // line, the buyer's seat map stream) reads a map with the purchase in it, on Redis Cluster too.
    await Promise.all([
      this.seatMaps.seatsChanged([
        ...released.map(({ scheduleId, seatNumber }) => ({ scheduleId, seatNumber, status: 'AVAILABLE' as const })),
        ...sold.map(({ scheduleId, seatNumber }) => ({ scheduleId, seatNumber, status: 'SOLD' as const })),
      ]),
      ...released.map((row) => this.reservations.afterRelease(row)),
      ...sold.map((row) => this.reservations.afterSale(row)),
    ]);
    if (turnOver) await this.queue.complete(buyer);
    const purchase = asPurchase(unwrap(outcome));
    return { payments: purchase.payments, amount: purchase.amount, replayed };
  }

  /** The first result of an already-completed payment with this key, if any. */
  async replay(userId: string, reservationIds: readonly string[], idempotencyKey: string | undefined): Promise<PurchaseView | undefined> {
    if (!idempotencyKey) return undefined;
    const stored = await findStoredOutcome<Decided | PaymentView>(this.db, paymentScope(userId, reservationIds, idempotencyKey, this.clock.pinned()));
    if (!stored) return undefined;
    const { payments, amount } = asPurchase(unwrap(stored));
    return { payments, amount };
  }

  async history(userId: string): Promise<PaymentView[]> {
    return (await sql.listUserPayments.rows(this.db, { userId, limit: HISTORY_LIMIT })).map(toPaymentView);
  }
}

/** A seat the purchase released or sold, as the steps after the commit take it. */
const seatOf = (seat: sql.SeatOutcome) => ({ ...seat, scheduleEndAt: new Date(seat.scheduleEndAt) });

/** What the function refused before writing anything: the errors the transaction used to roll back with. */
function refusal(buyer: Buyer, decided: sql.PurchaseDecision): AppError {
  switch (decided.refusal) {
    case 'NOT_FOUND':
      return new AppError('NOT_FOUND', `Reservation ${decided.refused} was not found.`);
    case 'FORBIDDEN':
      return new AppError('FORBIDDEN', 'The reservation belongs to another user.');
    case 'QUEUE_TOKEN_INVALID':
      assertBuyerFor(buyer, decided.refused!);
      throw new Error('a reservation of another event passed the buyer check');
    default:
      return idempotencyConflict();
  }
}
