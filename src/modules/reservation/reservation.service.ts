import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import type { SeatMapChanges } from '../catalog/seat-map-cache.js';
import type { Buyer } from '../queue/buyer.js';
import { effectiveStatus } from './reservation.rules.js';
import type { ReservationStatus, ReservationView } from './reservation.schemas.js';
import * as sql from './reservation.sql.js';
import type { HoldDecision, ReservationRecord } from './reservation.sql.js';
import { seatLockKey, type SeatLocks } from './seat-locks.js';

export type { ReservationRecord };

/** What the steps after a commit need of a reservation: which seat lock is its. */
export type SeatOf = Pick<ReservationRecord, 'id' | 'scheduleId' | 'seatNumber'>;

export interface HoldSettings {
  holdTtlMs: number;
  maxHoldsPerUser: number;
}

const RESERVATION_LIST_LIMIT = 100;

export const seatTaken = (seatNumber: number) => new AppError('SEAT_UNAVAILABLE', `Seat ${seatNumber} is held or sold.`);

export class ReservationService {
  constructor(
    private readonly db: Database,
    private readonly locks: SeatLocks,
    private readonly clock: Clock,
    private readonly settings: HoldSettings,
    private readonly log: Logger,
    private readonly seatMaps: SeatMapChanges,
  ) {}

  /**
   * Holds a seat for the buyer. The Redis lock turns away the crowd behind a taken seat without a
   * database round trip; the hold function (one round trip: the conditional UPDATE under the user's row
   * lock and the per-user cap) and the one-live-reservation index decide the winner.
   */
  async hold(buyer: Buyer, scheduleId: string, seatNumber: number): Promise<ReservationView> {
    const { userId } = buyer;
    const now = this.clock.pinned();
    const reservationId = randomUUID();
    const lockKey = seatLockKey(scheduleId, seatNumber);
    if (!(await this.#tryLock(lockKey, reservationId))) throw seatTaken(seatNumber);
    try {
      const sent = this.clock.now().getTime();
      // One round trip: the function is the whole transaction, committed when it returns.
      const seat = (await sql.holdInOneTrip.first(this.db, {
        reservationId,
        scheduleId,
        seatNumber,
        userId,
        holdMs: this.settings.holdTtlMs,
        maxHolds: this.settings.maxHoldsPerUser,
        now,
      }))!;
      if (seat.refusal) throw await this.#refusal(seat, lockKey, reservationId, scheduleId, seatNumber);
      // The hold began after the query was sent, so its lease measured from then lapses early, never late.
      const lapsesAt = sent + (seat.expiresAt.getTime() - seat.heldAt.getTime());
      await this.seatMaps.seatsChanged([{ scheduleId, seatNumber, status: 'HELD', lapsesAt }]);
      return {
        id: reservationId,
        scheduleId,
        seatNumber,
        seatType: seat.seatType,
        status: 'PENDING',
        price: seat.price,
        reservedAt: seat.heldAt.toISOString(),
        expiresAt: seat.expiresAt.toISOString(),
        confirmedAt: null,
        canceledAt: null,
      };
    } catch (error) {
      await this.#unlock(lockKey, reservationId);
      throw error;
    }
  }

  /**
   * The fast path's question: does the lock store say someone holds or bought the seat? False when the
   * lock store cannot say (the full hold then asks it again, or decides in the database alone); never rejects.
   */
  async isSeatTaken(scheduleId: string, seatNumber: number): Promise<boolean> {
    try {
      return await this.locks.isTaken(seatLockKey(scheduleId, seatNumber), this.clock.pinned()?.getTime());
    } catch {
      return false;
    }
  }

  async get(userId: string, reservationId: string): Promise<ReservationView> {
    return this.#toView(await this.findOwned(this.db, userId, reservationId));
  }

  async listForUser(userId: string): Promise<ReservationView[]> {
    const rows = await sql.listUserReservations.rows(this.db, { userId, limit: RESERVATION_LIST_LIMIT, now: this.clock.pinned() });
    return rows.map((row) => this.#toView(row));
  }

  /**
   * Locks the reservation's seat, then the reservation (the project's lock order), and returns the
   * reservation's current state as seen under those locks, with the database's time to judge it by.
   */
  async lockForUpdate(tx: Queryable, row: ReservationRecord): Promise<{ status: ReservationStatus; expiresAt: Date; now: Date }> {
    await sql.lockSeat.count(tx, { seatId: row.seatId });
    return (await sql.lockReservation.first(tx, { reservationId: row.id, now: this.clock.pinned() }))!;
  }

  /**
   * Ends a pending hold (canceled by the user or a failed payment, or expired) and frees its seat.
   * The caller holds the seat and reservation row locks.
   */
  async releaseHold(tx: Queryable, row: ReservationRecord, outcome: 'CANCELED' | 'EXPIRED'): Promise<void> {
    const now = this.clock.pinned();
    await sql.closeReservation.count(tx, { reservationId: row.id, outcome, now });
    await sql.releaseSeat.count(tx, { seatId: row.seatId, now });
  }

  /** Frees the fast-path lock once the database has released the seat. */
  async afterRelease(row: SeatOf): Promise<void> {
    await this.#unlock(seatLockKey(row.scheduleId, row.seatNumber), row.id);
  }

  /**
   * After a sale commits, the seat's lock becomes a sold marker until the date ends, so attempts on the
   * seat keep being turned away without a database round trip once the hold's deadline has passed.
   */
  async afterSale(row: SeatOf & Pick<ReservationRecord, 'scheduleEndAt'>): Promise<void> {
    const key = seatLockKey(row.scheduleId, row.seatNumber);
    try {
      if (!(await this.locks.markSold(key, row.id, row.scheduleEndAt.getTime(), this.clock.pinned()?.getTime()))) {
        this.log.info({ key }, 'seat lock taken by another request; the database alone refuses the sold seat');
      }
    } catch (error) {
      // The sale has committed; a lock store that is down only costs the fast refusal.
      this.log.warn({ err: error, key }, 'could not mark the seat lock sold; the database still refuses the seat');
    }
  }

  /**
   * Ends a confirmed purchase whose payment the caller refunded: reservation CANCELED, seat on sale again.
   * The caller holds the seat and reservation row locks.
   */
  async cancelPurchase(tx: Queryable, row: ReservationRecord): Promise<void> {
    const now = this.clock.pinned();
    const canceled = await sql.cancelPurchase.count(tx, { reservationId: row.id, now });
    const reopened = await sql.reopenSeat.count(tx, { seatId: row.seatId, now });
    if (canceled !== 1 || reopened !== 1) throw new Error(`reservation ${row.id} and its seat disagree; refund rolled back`);
  }

  /** After a refund commits, the seat's sold marker goes, so the fast path lets buyers at it again. */
  async afterRefund(row: ReservationRecord): Promise<void> {
    await this.locks.reopen(seatLockKey(row.scheduleId, row.seatNumber), row.id).catch((error: unknown) => {
      this.log.warn({ err: error, reservationId: row.id }, 'could not reopen the seat lock; it lapses with the date');
    });
  }

  /** The reservation if it exists and belongs to the user: NOT_FOUND or FORBIDDEN otherwise. */
  async findOwned(db: Queryable, userId: string, reservationId: string): Promise<ReservationRecord> {
    const row = await sql.findReservation.first(db, { reservationId, now: this.clock.pinned() });
    if (!row) throw new AppError('NOT_FOUND', `Reservation ${reservationId} was not found.`);
    if (row.userId !== userId) throw new AppError('FORBIDDEN', 'The reservation belongs to another user.');
    return row;
  }

  /** Releases lapsed holds in batches until none are left; returns how many seats were freed. */
  async sweepLapsedHolds(batchSize = 500): Promise<number> {
    let released = 0;
    for (;;) {
      const rows = await sql.sweepLapsedHolds.rows(this.db, { now: this.clock.pinned(), batchSize });
      await this.seatMaps.changed(rows.map((row) => row.scheduleId));
      released += rows.length;
      if (rows.length < batchSize) return released;
    }
  }

  /**
   * The AppError for a hold the function refused. A seat refused because it was sold gets its sold marker
   * back in place of this request's lock (a lock store that lost it, or a sale whose marker could not be
   * set), so the next attempts are refused without reaching PostgreSQL again.
   */
  async #refusal(decision: HoldDecision, lockKey: string, reservationId: string, scheduleId: string, seatNumber: number): Promise<AppError> {
    switch (decision.refusal) {
      case 'HOLD_LIMIT_REACHED':
        return new AppError('HOLD_LIMIT_REACHED', `At most ${this.settings.maxHoldsPerUser} seats can be held at once.`);
      case 'NOT_FOUND':
        return new AppError('NOT_FOUND', `Seat ${seatNumber} of schedule ${scheduleId} was not found.`);
      case 'SCHEDULE_CANCELED':
        return new AppError('SCHEDULE_CANCELED', 'This date was canceled; it takes no holds.');
      default:
        if (decision.soldTo && decision.scheduleEndAt) {
          await this.#unlock(lockKey, reservationId);
          await this.afterSale({ id: decision.soldTo, scheduleId, seatNumber, scheduleEndAt: decision.scheduleEndAt });
        }
        return seatTaken(seatNumber);
    }
  }

  /** A lock store that is down must not stop sales: the database still decides, only more slowly. */
  async #tryLock(key: string, owner: string): Promise<boolean> {
    try {
      return await this.locks.acquire(key, owner, this.clock.pinned()?.getTime(), this.settings.holdTtlMs);
    } catch (error) {
      this.log.warn({ err: error, key }, 'seat lock unavailable; deciding in the database alone');
      return true;
    }
  }

  async #unlock(key: string, owner: string): Promise<void> {
    await this.locks.release(key, owner).catch((error: unknown) => {
      this.log.warn({ err: error, key }, 'seat lock release failed; it lapses on its own');
    });
  }

  #toView(row: ReservationRecord): ReservationView {
    return {
      id: row.id,
      scheduleId: row.scheduleId,
      seatNumber: row.seatNumber,
      seatType: row.seatType,
      status: effectiveStatus(row.status, row.expiresAt, row.readAt),
      price: row.price,
      reservedAt: row.reservedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      confirmedAt: row.confirmedAt?.toISOString() ?? null,
      canceledAt: row.canceledAt?.toISOString() ?? null,
    };
  }
}
