import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { runIdempotent, unwrap, type Outcome } from '../../shared/idempotency.js';
import type { SeatMapChanges } from '../catalog/seat-map-cache.js';
import { paymentMachine } from '../payment/payment.rules.js';
import * as paymentSql from '../payment/payment.sql.js';
import { effectiveStatus, reservationMachine } from '../reservation/reservation.rules.js';
import type { ReservationView } from '../reservation/reservation.schemas.js';
import type { ReservationRecord, ReservationService } from '../reservation/reservation.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import type { CancelScheduleResult } from './refund.schemas.js';
import * as sql from './refund.sql.js';

/** Tells an event's line that a seat came back (a refund, a released hold): the queue module's events. */
export interface SeatNews {
  publish(eventId: string): Promise<void>;
}


/** How many reservations one transaction of a date's cancel handles: bounded, whatever the date's size. */
const CANCEL_BATCH = 100;

type Ending = { kind: 'released' | 'refunded'; row: ReservationRecord; amount: number };

/**
 * Ending a reservation before its date: a pending hold is released, a confirmed purchase refunded (the
 * payment REFUNDED, one REFUND ledger credit, the reservation CANCELED, the seat on sale again), by the
 * buyer until REFUND_CUTOFF_SECONDS before the date, or by the operator for a whole canceled date.
 */
export class RefundService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly reservations: ReservationService,
    private readonly wallet: WalletService,
    private readonly news: SeatNews,
    private readonly settings: { refundCutoffMs: number },
    private readonly log: Logger,
    private readonly seatMaps: SeatMapChanges,
  ) {}

  /** DELETE /reservations/{id}: the buyer's own reservation; a retry with the same key replays the first answer. */
  async cancel(userId: string, reservationId: string, idempotencyKey?: string): Promise<ReservationView> {
    const now = this.clock.pinned();
    const scope = idempotencyKey ? { userId, scope: 'cancel' as const, key: idempotencyKey, request: { reservationId }, now } : undefined;
    let ended: Ending | undefined;
    const { outcome } = await this.db.withTx(async (tx) => {
      const row = await this.reservations.findOwned(tx, userId, reservationId);
      return runIdempotent(tx, scope, async (): Promise<Outcome<null>> => {
        const result = await this.#end(tx, row, { windowApplies: true });
        if (!result.ok) return result;
        ended = result.value;
        return { ok: true, value: null };
      });
    });
    unwrap(outcome);
    if (ended) await this.#afterEnding([ended]);
    return this.reservations.get(userId, reservationId);
  }

  /**
   * The operator cancels a date: it takes no holds from now on, every confirmed purchase is refunded
   * (whatever the refund window) and every pending hold released, in batches of CANCEL_BATCH, each its
   * own transaction. A cancel interrupted half way is finished by calling again (or by the sweeper).
   */
  async cancelSchedule(scheduleId: string): Promise<CancelScheduleResult> {
    const schedule = await sql.findSchedule.first(this.db, { scheduleId });
    if (!schedule) throw new AppError('NOT_FOUND', `Schedule ${scheduleId} was not found.`);
    await sql.cancelSchedule.count(this.db, { scheduleId, now: this.clock.pinned() });
    const result: CancelScheduleResult = { refunded: 0, released: 0, amountRefunded: 0 };
    for (const status of ['CONFIRMED', 'PENDING'] as const) {
      for (;;) {
        const endings = await this.#endBatch(scheduleId, status);
        if (endings === undefined) break;
        for (const ending of endings) {
          if (ending.kind === 'refunded') {
            result.refunded++;
            result.amountRefunded += ending.amount;
          } else result.released++;
        }
      }
    }
    return result;
  }

  /** Finishes cancels that a stopped process left half done; safe on every instance at once. */
  async resumeCanceledSchedules(): Promise<number> {
    let finished = 0;
    for (const { scheduleId } of await sql.unfinishedCancels.rows(this.db, { limit: 10 })) {
      await this.cancelSchedule(scheduleId);
      finished++;
    }
    return finished;
  }

  /** One transaction's worth of a date's cancel; undefined once nothing of that status is left. */
  async #endBatch(scheduleId: string, status: 'CONFIRMED' | 'PENDING'): Promise<Ending[] | undefined> {
    const batch = await sql.liveReservationsOf.rows(this.db, { scheduleId, status, limit: CANCEL_BATCH });
    if (batch.length === 0) return undefined;
    const endings = await this.db.withTx(async (tx) => {
      const done: Ending[] = [];
      for (const { id, userId } of batch) {
        const row = await this.reservations.findOwned(tx, userId, id);
        const result = await this.#end(tx, row, { windowApplies: false });
        // A reservation that moved meanwhile (paid, refunded or expired by someone else) is theirs to end.
        if (result.ok) done.push(result.value);
      }
      return done;
    });
    await this.#afterEnding(endings);
    return endings;
  }

  /** Ends one reservation under its seat and reservation locks; the caller's transaction commits it. */
  async #end(tx: Queryable, row: ReservationRecord, options: { windowApplies: boolean }): Promise<Outcome<Ending>> {
    const locked = await this.reservations.lockForUpdate(tx, row);
    const status = effectiveStatus(locked.status, locked.expiresAt, locked.now);
    if (status === 'EXPIRED') {
      // A date's cancel closes a lapsed hold the sweeper has not reached, or it would find it again and again.
      if (options.windowApplies || locked.status !== 'PENDING') return { ok: false, code: 'RESERVATION_EXPIRED', detail: 'The hold has already expired.' };
      await this.reservations.releaseHold(tx, row, 'EXPIRED');
      return { ok: true, value: { kind: 'released', row, amount: 0 } };
    }
    if (status === 'PENDING') {
      await this.reservations.releaseHold(tx, row, 'CANCELED');
      return { ok: true, value: { kind: 'released', row, amount: 0 } };
    }
    if (!reservationMachine.can(status, 'CANCELED')) {
      return { ok: false, code: 'RESERVATION_NOT_CANCELABLE', detail: `A ${status.toLowerCase()} reservation cannot be canceled.` };
    }
    // Rule: the refund window. A buyer may refund until REFUND_CUTOFF_SECONDS before the date, by the database's clock.
    if (options.windowApplies && row.scheduleStartAt.getTime() - this.settings.refundCutoffMs <= locked.now.getTime()) {
      return { ok: false, code: 'REFUND_WINDOW_CLOSED', detail: 'Refunds close before the date starts; this one can no longer be refunded.' };
    }
    const payment = await paymentSql.lockPaymentOf.first(tx, { reservationId: row.id });
    if (!payment) throw new Error(`confirmed reservation ${row.id} has no payment; refund rolled back`);
    paymentMachine.assert(payment.status, 'REFUNDED', 'RESERVATION_NOT_CANCELABLE');
    await paymentSql.refundPayment.count(tx, { paymentId: payment.id, now: this.clock.pinned() });
    await this.wallet.refund(tx, row.userId, payment.amount, payment.id);
    await this.reservations.cancelPurchase(tx, row);
    return { ok: true, value: { kind: 'refunded', row, amount: payment.amount } };
  }

  async #afterEnding(endings: readonly Ending[]): Promise<void> {
    await this.seatMaps.changed(endings.map(({ row }) => row.scheduleId));
    const events = new Set<string>();
    for (const { kind, row } of endings) {
      if (kind === 'refunded') await this.reservations.afterRefund(row);
      else await this.reservations.afterRelease(row);
      events.add(row.eventId);
    }
    for (const eventId of events) {
      await this.news.publish(eventId).catch((error: unknown) => {
        this.log.warn({ err: error, eventId }, 'could not tell the line a seat came back; it learns on its next refresh');
      });
    }
  }
}
