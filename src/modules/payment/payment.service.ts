import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { findStoredOutcome, runIdempotent, unwrap, type IdempotencyScope, type Outcome } from '../../shared/idempotency.js';
import type { QueueAccess, QueueService } from '../queue/queue.service.js';
import { payability } from '../reservation/reservation.rules.js';
import type { ReservationRow, ReservationService } from '../reservation/reservation.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import * as sql from './payment.sql.js';

export type PaymentStatus = 'SUCCEEDED' | 'FAILED';

export interface PaymentView {
  id: string;
  reservationId: string;
  amount: number;
  status: PaymentStatus;
  failureCode: string | null;
  paidAt: string | null;
  createdAt: string;
}

interface PaymentRow {
  id: string;
  reservation_id: string;
  amount: number;
  status: PaymentStatus;
  failure_code: string | null;
  paid_at: Date | null;
  created_at: Date;
}

const toView = (row: PaymentRow): PaymentView => ({
  id: row.id,
  reservationId: row.reservation_id,
  amount: row.amount,
  status: row.status,
  failureCode: row.failure_code,
  paidAt: row.paid_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
});

const HISTORY_LIMIT = 200;

/** A payment's key means "pay this reservation": the same key for another reservation is a conflict. */
const paymentScope = (userId: string, reservationId: string, key: string, now: Date): IdempotencyScope => ({
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
    private readonly queue: QueueService,
  ) {}

  /**
   * Pays a hold from the wallet. One transaction debits, records the payment, confirms the reservation
   * and sells the seat, or does none of it. Outcomes that must stick even though the purchase failed
   * (a FAILED payment and a released hold; an expired hold marked EXPIRED) commit, then surface as errors.
   */
  async pay(
    access: QueueAccess,
    reservationId: string,
    idempotencyKey?: string,
  ): Promise<{ payment: PaymentView; replayed: boolean }> {
    const userId = access.userId;
    const now = this.clock.now();
    const scope = idempotencyKey ? paymentScope(userId, reservationId, idempotencyKey, now) : undefined;
    let released: ReservationRow | undefined;
    let sold: ReservationRow | undefined;
    const { outcome, replayed } = await this.db.withTx(async (tx) => {
      const reservation = await this.reservations.findOwned(tx, userId, reservationId);
      this.queue.assertSameEvent(access, reservation.event_id);
      return runIdempotent(tx, scope, async (): Promise<Outcome<PaymentView>> => {
        const locked = await this.reservations.lockForUpdate(tx, reservation);
        const verdict = payability(locked.status, locked.expires_at, now);
        if (verdict === 'NOT_PAYABLE') {
          return { ok: false, code: 'RESERVATION_NOT_PAYABLE', detail: `The reservation is ${locked.status.toLowerCase()}.` };
        }
        if (verdict === 'EXPIRED') {
          if (locked.status === 'PENDING') {
            await this.reservations.releaseHold(tx, reservation, 'EXPIRED', now);
            released = reservation;
          }
          return { ok: false, code: 'RESERVATION_EXPIRED', detail: 'The hold expired before payment.' };
        }
        const paymentId = randomUUID();
        if (!(await this.wallet.debit(tx, userId, reservation.price, paymentId))) {
          await this.#record(tx, paymentId, reservation, 'FAILED', 'INSUFFICIENT_BALANCE', null);
          await this.reservations.releaseHold(tx, reservation, 'CANCELED', now);
          released = reservation;
          return { ok: false, code: 'INSUFFICIENT_BALANCE', detail: `The balance does not cover ${reservation.price}; the hold was released.` };
        }
        const payment = await this.#record(tx, paymentId, reservation, 'SUCCEEDED', null, now);
        await this.reservations.confirmSale(tx, reservation, now);
        sold = reservation;
        return { ok: true, value: payment };
      });
    });
    if (released) await this.reservations.afterRelease(released);
    if (sold) await this.reservations.afterSale(sold);
    const payment = unwrap(outcome);
    if (!replayed) await this.queue.complete(access);
    return { payment, replayed };
  }

  /** The first result of an already-completed payment with this key, if any. */
  async replay(userId: string, reservationId: string, idempotencyKey: string | undefined): Promise<PaymentView | undefined> {
    if (!idempotencyKey) return undefined;
    const scope = paymentScope(userId, reservationId, idempotencyKey, this.clock.now());
    const stored = await findStoredOutcome<PaymentView>(this.db, scope);
    return stored && unwrap(stored);
  }

  async history(userId: string): Promise<PaymentView[]> {
    const { rows } = await this.db.query<PaymentRow>(sql.listUserPayments, [userId, HISTORY_LIMIT]);
    return rows.map(toView);
  }

  async #record(
    tx: Queryable,
    paymentId: string,
    reservation: ReservationRow,
    status: PaymentStatus,
    failureCode: string | null,
    paidAt: Date | null,
  ): Promise<PaymentView> {
    const { rows } = await tx.query<PaymentRow>(sql.insertPayment, [
      paymentId,
      reservation.user_id,
      reservation.id,
      reservation.price,
      status,
      failureCode,
      paidAt,
    ]);
    return toView(rows[0]!);
  }
}
