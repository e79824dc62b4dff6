import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import type { SeatType } from '../catalog/catalog.rules.js';
import { effectiveStatus, type ReservationStatus } from './reservation.rules.js';
import * as sql from './reservation.sql.js';
import { seatLockKey, type SeatLocks } from './seat-locks.js';

export interface ReservationRow {
  id: string;
  user_id: string;
  schedule_id: string;
  seat_id: string;
  seat_number: number;
  seat_type: SeatType;
  price: number;
  status: ReservationStatus;
  reserved_at: Date;
  expires_at: Date;
  confirmed_at: Date | null;
  canceled_at: Date | null;
  event_id: string;
  /** The date's end: how long a sold seat stays refused in the fast path. */
  schedule_end_at: Date;
}

export interface ReservationView {
  id: string;
  scheduleId: string;
  seatNumber: number;
  seatType: SeatType;
  status: ReservationStatus;
  price: number;
  reservedAt: string;
  expiresAt: string;
  confirmedAt: string | null;
  canceledAt: string | null;
}

export interface HoldSettings {
  holdTtlMs: number;
  maxHoldsPerUser: number;
}

const RESERVATION_LIST_LIMIT = 100;

export class ReservationService {
  constructor(
    private readonly db: Database,
    private readonly locks: SeatLocks,
    private readonly clock: Clock,
    private readonly settings: HoldSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Holds a seat for the user. The Redis lock turns away the crowd behind a taken seat without a
   * database round trip; the conditional UPDATE and the one-live-reservation index decide the winner.
   */
  async hold(userId: string, scheduleId: string, seatNumber: number): Promise<ReservationView> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.settings.holdTtlMs);
    const reservationId = randomUUID();
    const lockKey = seatLockKey(scheduleId, seatNumber);
    if (!(await this.#tryLock(lockKey, reservationId, now))) {
      throw new AppError('SEAT_UNAVAILABLE', `Seat ${seatNumber} is held or sold.`);
    }
    try {
      const seat = await this.db.withTx(async (tx) => {
        await tx.query(sql.lockUser, [userId]);
        const { rows: holds } = await tx.query<{ holds: number }>(sql.countLiveHolds, [userId, now]);
        if (holds[0]!.holds >= this.settings.maxHoldsPerUser) {
          throw new AppError('HOLD_LIMIT_REACHED', `At most ${this.settings.maxHoldsPerUser} seats can be held at once.`);
        }
        const { rows } = await tx.query<{ id: string; seat_type: SeatType; price: number }>(sql.holdSeat, [
          scheduleId,
          seatNumber,
          userId,
          now,
          expiresAt,
        ]);
        const held = rows[0];
        if (!held) throw await this.#whyNotHeld(tx, scheduleId, seatNumber);
        await tx.query(sql.expireLapsedReservation, [held.id, now]);
        await tx.query(sql.insertReservation, [reservationId, userId, held.id, scheduleId, held.price, now, expiresAt]);
        return held;
      });
      return {
        id: reservationId,
        scheduleId,
        seatNumber,
        seatType: seat.seat_type,
        status: 'PENDING',
        price: seat.price,
        reservedAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        confirmedAt: null,
        canceledAt: null,
      };
    } catch (error) {
      await this.#unlock(lockKey, reservationId);
      throw error;
    }
  }

  async get(userId: string, reservationId: string): Promise<ReservationView> {
    return this.#toView(await this.findOwned(this.db, userId, reservationId));
  }

  async listForUser(userId: string): Promise<ReservationView[]> {
    const { rows } = await this.db.query<ReservationRow>(sql.listUserReservations, [userId, RESERVATION_LIST_LIMIT]);
    return rows.map((row) => this.#toView(row));
  }

  /** Cancels the user's own pending hold; the seat is free again at once. */
  async cancel(userId: string, reservationId: string): Promise<ReservationView> {
    const now = this.clock.now();
    const reservation = await this.db.withTx(async (tx) => {
      const row = await this.findOwned(tx, userId, reservationId);
      const locked = await this.lockForUpdate(tx, row);
      const status = effectiveStatus(locked.status, locked.expires_at, now);
      if (status === 'EXPIRED') throw new AppError('RESERVATION_EXPIRED', 'The hold has already expired.');
      if (status !== 'PENDING') throw new AppError('RESERVATION_NOT_CANCELABLE', `A ${status} reservation cannot be canceled.`);
      await this.releaseHold(tx, row, 'CANCELED', now);
      return row;
    });
    await this.#unlock(seatLockKey(reservation.schedule_id, reservation.seat_number), reservation.id);
    return this.get(userId, reservationId);
  }

  /**
   * Locks the reservation's seat, then the reservation (the project's lock order), and returns the
   * reservation's current state as seen under those locks.
   */
  async lockForUpdate(tx: Queryable, row: ReservationRow): Promise<{ status: ReservationStatus; expires_at: Date }> {
    await tx.query(sql.lockSeat, [row.seat_id]);
    const { rows } = await tx.query<{ status: ReservationStatus; expires_at: Date }>(sql.lockReservation, [row.id]);
    return rows[0]!;
  }

  /** Confirms a paid hold and sells its seat; the caller holds the locks from lockForUpdate. */
  async confirmSale(tx: Queryable, row: ReservationRow, now: Date): Promise<void> {
    const confirmed = await tx.query(sql.confirmReservation, [row.id, now]);
    const sold = await tx.query(sql.sellSeat, [row.seat_id, row.user_id, now]);
    if (confirmed.rowCount !== 1 || sold.rowCount !== 1) {
      // Unreachable while the row locks hold; if it ever happens, the whole payment rolls back.
      throw new Error(`reservation ${row.id} and its seat disagree; payment rolled back`);
    }
  }

  /**
   * Ends a pending hold (canceled by the user or a failed payment, or expired) and frees its seat.
   * The caller holds the seat and reservation row locks.
   */
  async releaseHold(tx: Queryable, row: ReservationRow, outcome: 'CANCELED' | 'EXPIRED', now: Date): Promise<void> {
    await tx.query(sql.closeReservation, [row.id, outcome, now]);
    await tx.query(sql.releaseSeat, [row.seat_id, now]);
  }

  /** Frees the fast-path lock once the database has released the seat. */
  async afterRelease(row: ReservationRow): Promise<void> {
    await this.#unlock(seatLockKey(row.schedule_id, row.seat_number), row.id);
  }

  /**
   * After a sale commits, the seat's lock becomes a sold marker until the date ends, so attempts on the
   * seat keep being turned away without a database round trip once the hold's deadline has passed.
   */
  async afterSale(row: ReservationRow): Promise<void> {
    const key = seatLockKey(row.schedule_id, row.seat_number);
    try {
      if (!(await this.locks.markSold(key, row.id, row.schedule_end_at.getTime(), this.clock.now().getTime()))) {
        this.log.info({ key }, 'seat lock taken by another request; the database alone refuses the sold seat');
      }
    } catch (error) {
      // The sale has committed; a lock store that is down only costs the fast refusal.
      this.log.warn({ err: error, key }, 'could not mark the seat lock sold; the database still refuses the seat');
    }
  }

  /** The reservation if it exists and belongs to the user: NOT_FOUND or FORBIDDEN otherwise. */
  async findOwned(db: Queryable, userId: string, reservationId: string): Promise<ReservationRow> {
    const { rows } = await db.query<ReservationRow>(sql.findReservation, [reservationId]);
    const row = rows[0];
    if (!row) throw new AppError('NOT_FOUND', `Reservation ${reservationId} was not found.`);
    if (row.user_id !== userId) throw new AppError('FORBIDDEN', 'The reservation belongs to another user.');
    return row;
  }

  /** Releases lapsed holds in batches until none are left; returns how many seats were freed. */
  async sweepLapsedHolds(batchSize = 500): Promise<number> {
    let released = 0;
    for (;;) {
      const { rows } = await this.db.query(sql.sweepLapsedHolds, [this.clock.now(), batchSize]);
      released += rows.length;
      if (rows.length < batchSize) return released;
    }
  }

  async #whyNotHeld(tx: Queryable, scheduleId: string, seatNumber: number): Promise<AppError> {
    const { rows } = await tx.query(sql.seatExists, [scheduleId, seatNumber]);
    return rows.length === 0
      ? new AppError('NOT_FOUND', `Seat ${seatNumber} of schedule ${scheduleId} was not found.`)
      : new AppError('SEAT_UNAVAILABLE', `Seat ${seatNumber} is held or sold.`);
  }

  /** A lock store that is down must not stop sales: the database still decides, only more slowly. */
  async #tryLock(key: string, owner: string, now: Date): Promise<boolean> {
    try {
      return await this.locks.acquire(key, owner, now.getTime(), this.settings.holdTtlMs);
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

  #toView(row: ReservationRow): ReservationView {
    return {
      id: row.id,
      scheduleId: row.schedule_id,
      seatNumber: row.seat_number,
      seatType: row.seat_type,
      status: effectiveStatus(row.status, row.expires_at, this.clock.now()),
      price: row.price,
      reservedAt: row.reserved_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      confirmedAt: row.confirmed_at?.toISOString() ?? null,
      canceledAt: row.canceled_at?.toISOString() ?? null,
    };
  }
}
