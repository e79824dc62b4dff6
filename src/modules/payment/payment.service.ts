import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { findStoredOutcome, runIdempotent, unwrap, type IdempotencyScope, type Outcome } from '../../shared/idempotency.js';
import type { Buyer } from '../queue/buyer.js';
import { payability } from '../reservation/reservation.rules.js';
import type { ReservationRecord, ReservationService } from '../reservation/reservation.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import type { PaymentStatus, PaymentView } from './payment.schemas.js';
import * as sql from './payment.sql.js';

/** Ends a buyer's queue turn once their purchase is done (the queue module). */
export interface TurnEnder {
  complete(buyer: Buyer): Promise<void>;
}

const toView = (row: { paidAt: Date | null; createdAt: Date } & Omit<PaymentView, 'paidAt' | 'createdAt'>): PaymentView => ({
  ...row,
  paidAt: row.paidAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
});

const HISTORY_LIMIT = 200;

/** A payment's key means "pay this reservation": the same key for another reservation is a conflict. */
const paymentScope = (userId: string, reservationId: string, key: string, now: Date | null): IdempotencyScope => ({
  userId,
  scope: 'payment',
  key,
  request: { reservationId },
  now,
});

export class PaymentService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly reservations: ReservationService,
    private readonly wallet: WalletService,
    private readonly queue: TurnEnder,
  ) {}

  /**
   * Pays a hold from the wallet. One transaction debits, records the payment, confirms the reservation
   * and sells the seat, or does none of it. Outcomes that must stick even though the purchase failed
   * (a FAILED payment and a released hold; an expired hold marked EXPIRED) commit, then surface as errors.
   */
  async pay(buyer: Buyer, reservationId: string, idempotencyKey?: string): Promise<{ payment: PaymentView; replayed: boolean }> {
    const scope = idempotencyKey ? paymentScope(buyer.userId, reservationId, idempotencyKey, this.clock.pinned() ?? null) : undefined;
    let released: ReservationRecord | undefined;
    let sold: ReservationRecord | undefined;
    const { outcome, replayed } = await this.db.withTx(async (tx) => {
      const reservation = await this.reservations.findForBuyer(tx, buyer, reservationId);
      return runIdempotent(tx, scope, async (): Promise<Outcome<PaymentView>> => {
        const locked = await this.reservations.lockForUpdate(tx, reservation);
        const verdict = payability(locked.status, locked.expiresAt, locked.now);
        if (verdict === 'NOT_PAYABLE') {
          return { ok: false, code: 'RESERVATION_NOT_PAYABLE', detail: `The reservation is ${locked.status.toLowerCase()}.` };
        }
        if (verdict === 'EXPIRED') {
          if (locked.status === 'PENDING') {
            await this.reservations.releaseHold(tx, reservation, 'EXPIRED');
            released = reservation;
          }
          return { ok: false, code: 'RESERVATION_EXPIRED', detail: 'The hold expired before payment.' };
        }
        const paymentId = randomUUID();
        if (!(await this.wallet.debit(tx, buyer.userId, reservation.price, paymentId))) {
          await this.#record(tx, paymentId, reservation, 'FAILED');
          await this.reservations.releaseHold(tx, reservation, 'CANCELED');
          released = reservation;
          return { ok: false, code: 'INSUFFICIENT_BALANCE', detail: `The balance does not cover ${reservation.price}; the hold was released.` };
        }
        const payment = await this.#record(tx, paymentId, reservation, 'SUCCEEDED');
        await this.reservations.confirmSale(tx, reservation);
        sold = reservation;
        return { ok: true, value: payment };
      });
    });
    if (released) await this.reservations.afterRelease(released);
    if (sold) await this.reservations.afterSale(sold);
    const payment = unwrap(outcome);
    if (!replayed) await this.queue.complete(buyer);
    return { payment, replayed };
  }

  /** The first result of an already-completed payment with this key, if any. */
  async replay(userId: string, reservationId: string, idempotencyKey: string | undefined): Promise<PaymentView | undefined> {
    if (!idempotencyKey) return undefined;
    const scope = paymentScope(userId, reservationId, idempotencyKey, this.clock.pinned() ?? null);
    const stored = await findStoredOutcome<PaymentView>(this.db, scope);
    return stored && unwrap(stored);
  }

  async history(userId: string): Promise<PaymentView[]> {
    return (await sql.listUserPayments.rows(this.db, { userId, limit: HISTORY_LIMIT })).map(toView);
  }

  /** A FAILED payment is always for insufficient balance: the only failure that is recorded rather than refused. */
  async #record(tx: Queryable, paymentId: string, reservation: ReservationRecord, status: PaymentStatus): Promise<PaymentView> {
    const row = await sql.insertPayment.first(tx, {
      paymentId,
      userId: reservation.userId,
      reservationId: reservation.id,
      amount: reservation.price,
      status,
      failureCode: status === 'FAILED' ? 'INSUFFICIENT_BALANCE' : null,
      now: this.clock.pinned() ?? null,
    });
    return toView(row!);
  }
}
