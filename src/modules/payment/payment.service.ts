import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { findStoredOutcome, runIdempotent, unwrap, type IdempotencyScope, type Outcome } from '../../shared/idempotency.js';
import type { SeatMapChanges } from '../catalog/seat-map-cache.js';
import type { Buyer } from '../queue/buyer.js';
import { payability } from '../reservation/reservation.rules.js';
import type { ReservationRecord, ReservationService } from '../reservation/reservation.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import type { PaymentStatus, PaymentView, PurchaseView } from './payment.schemas.js';
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
    private readonly wallet: WalletService,
    private readonly queue: TurnEnder,
    private readonly maxHoldsPerUser: number,
    private readonly seatMaps: SeatMapChanges,
  ) {}

  /**
   * Pays one or several of the buyer's holds from the wallet with one debit of the total. One
   * transaction debits, records a payment per hold, confirms the reservations and sells the seats, or
   * does none of it. Outcomes that must stick although nothing was bought (FAILED payments and released
   * holds; lapsed holds marked EXPIRED) commit, then surface as errors. The queue turn ends once the buyer
   * has no live hold left in the event.
   */
  async pay(buyer: Buyer, reservationIds: readonly string[], idempotencyKey?: string): Promise<PurchaseView & { replayed: boolean }> {
    if (reservationIds.length > this.maxHoldsPerUser) {
      throw new AppError('VALIDATION_FAILED', `At most ${this.maxHoldsPerUser} reservations can be paid at once.`);
    }
    const scope = idempotencyKey ? paymentScope(buyer.userId, reservationIds, idempotencyKey, this.clock.pinned()) : undefined;
    let released: ReservationRecord[] = [];
    let sold: ReservationRecord[] = [];
    const { outcome, replayed } = await this.db.withTx(async (tx) => {
      // One buyer's purchases run one after another, so "nothing left to pay" is decided exactly once.
      await this.reservations.lockBuyer(tx, buyer.userId);
      const rows: ReservationRecord[] = [];
      for (const id of reservationIds) rows.push(await this.reservations.findForBuyer(tx, buyer, id));
      return runIdempotent(tx, scope, async (): Promise<Outcome<Decided>> => {
        const decided = await this.#decide(tx, buyer, rows);
        released = decided.released;
        sold = decided.sold;
        return decided.outcome;
      });
    });
    await this.seatMaps.changed([...released, ...sold].map((row) => row.scheduleId));
    for (const row of released) await this.reservations.afterRelease(row);
    for (const row of sold) await this.reservations.afterSale(row);
    const purchase = asPurchase(unwrap(outcome));
    if (!replayed && purchase.turnOver) await this.queue.complete(buyer);
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

  async #decide(tx: Queryable, buyer: Buyer, rows: ReservationRecord[]) {
    const released: ReservationRecord[] = [];
    const sold: ReservationRecord[] = [];
    const fail = (code: 'RESERVATION_NOT_PAYABLE' | 'RESERVATION_EXPIRED' | 'INSUFFICIENT_BALANCE' | 'SCHEDULE_CANCELED', detail: string) => ({
      outcome: { ok: false as const, code, detail },
      released,
      sold,
    });
    if (!(await this.reservations.datesOpen(tx, rows))) return fail('SCHEDULE_CANCELED', 'The date was canceled; its holds are released and nothing was paid.');
    // Seats in one order whatever order the request named them: two purchases sharing seats never deadlock.
    const ordered = [...rows].sort((a, b) => a.seatId.localeCompare(b.seatId));
    const verdicts = [];
    for (const row of ordered) {
      const locked = await this.reservations.lockForUpdate(tx, row);
      verdicts.push({ row, locked, verdict: payability(locked.status, locked.expiresAt, locked.now) });
    }
    const notPayable = verdicts.find((v) => v.verdict === 'NOT_PAYABLE');
    if (notPayable) return fail('RESERVATION_NOT_PAYABLE', `Reservation ${notPayable.row.id} is ${notPayable.locked.status.toLowerCase()}.`);
    const lapsed = verdicts.filter((v) => v.verdict === 'EXPIRED');
    if (lapsed.length > 0) {
      for (const { row, locked } of lapsed) {
        if (locked.status !== 'PENDING') continue;
        await this.reservations.releaseHold(tx, row, 'EXPIRED');
        released.push(row);
      }
      return fail('RESERVATION_EXPIRED', `The hold on ${lapsed.map((v) => v.row.id).join(', ')} expired before payment; nothing was paid.`);
    }
    const paymentIds = rows.map(() => randomUUID());
    const amount = rows.reduce((sum, row) => sum + row.price, 0);
    // The one debit is referenced by the first payment's id; every payment of the purchase names it.
    const debitId = paymentIds[0]!;
    if (!(await this.wallet.debit(tx, buyer.userId, amount, debitId))) {
      for (const [i, row] of rows.entries()) {
        await this.#record(tx, paymentIds[i]!, row, 'FAILED', null);
        await this.reservations.releaseHold(tx, row, 'CANCELED');
        released.push(row);
      }
      return fail('INSUFFICIENT_BALANCE', `The balance does not cover ${amount}; the holds were released.`);
    }
    const payments: PaymentView[] = [];
    for (const [i, row] of rows.entries()) {
      payments.push(await this.#record(tx, paymentIds[i]!, row, 'SUCCEEDED', debitId));
      await this.reservations.confirmSale(tx, row);
      sold.push(row);
    }
    const turnOver = (await this.reservations.liveHoldsInEvent(tx, buyer)) === 0;
    return { outcome: { ok: true as const, value: { payments, amount, turnOver } }, released, sold };
  }

  /** A FAILED payment is always for insufficient balance: the only failure that is recorded rather than refused. */
  async #record(tx: Queryable, paymentId: string, reservation: ReservationRecord, status: PaymentStatus, debitId: string | null): Promise<PaymentView> {
    const row = await sql.insertPayment.first(tx, {
      paymentId,
      userId: reservation.userId,
      reservationId: reservation.id,
      amount: reservation.price,
      status,
      failureCode: status === 'FAILED' ? 'INSUFFICIENT_BALANCE' : null,
      debitId,
      now: this.clock.pinned(),
    });
    return toPaymentView(row!);
  }

}
