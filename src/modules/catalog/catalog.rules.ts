import { NOW } from '../../shared/sql.js';
import { StateMachine } from '../../shared/state-machine.js';
import type { ScheduleStatus, SeatStatus, SeatType } from './catalog.schemas.js';

/** Every date of the house has this many seats; schemas, the seat plan and the schema's CHECK agree on it. */
export const SEATS_PER_SCHEDULE = 50;

export type SeatPrices = Record<SeatType, number>;

/** The house's list prices in minor units: the demo event, the tests and the benchmark all sell at these. */
export const HOUSE_PRICES: Readonly<SeatPrices> = { VIP: 15_000, STANDARD: 8_000, STANDING: 4_500 };

/** The house layout: the front ten seats are VIP, the back ten are standing room, the rest standard. */
export function seatTypeOf(seatNumber: number): SeatType {
  if (seatNumber <= 10) return 'VIP';
  if (seatNumber > 40) return 'STANDING';
  return 'STANDARD';
}

export function seatPlan(prices: SeatPrices): { seatNumber: number; seatType: SeatType; price: number }[] {
  return Array.from({ length: SEATS_PER_SCHEDULE }, (_, index) => {
    const seatNumber = index + 1;
    const seatType = seatTypeOf(seatNumber);
    return { seatNumber, seatType, price: prices[seatType] };
  });
}

/**
 * Rule: a lapsed hold counts as free. A hold lasts until its deadline, not until the sweeper gets to it.
 * Every read and every write that asks "is this hold still live?" uses one of these two forms.
 */
export const isLapsed = (deadline: Date, now: Date): boolean => deadline <= now;
export const lapsedSql = (deadlineColumn: string): string => `${deadlineColumn} <= ${NOW}`;

/** A seat's status as a buyer should see it: a HELD seat whose hold lapsed is AVAILABLE. */
export const effectiveSeatStatusSql = (table: string): string =>
  `(CASE WHEN ${table}.status = 'HELD' AND ${lapsedSql(`${table}.hold_expires_at`)} THEN 'AVAILABLE' ELSE ${table}.status END)`;

/**
 * Seat: AVAILABLE ⇄ HELD → SOLD → AVAILABLE (refunded). A lapsed hold reads as AVAILABLE, so taking it over is AVAILABLE → HELD
 * too. Writes guard on `seatMachine.guard(…)`, so the table is the database's last word as well.
 */
export const seatMachine = new StateMachine<SeatStatus>('seat', {
  AVAILABLE: ['HELD'],
  HELD: ['AVAILABLE', 'SOLD'],
  SOLD: ['AVAILABLE'],
});

/** Date: OPEN → CANCELED by the operator; a canceled date takes no holds and its purchases are refunded. */
export const scheduleMachine = new StateMachine<ScheduleStatus>('date', {
  OPEN: ['CANCELED'],
  CANCELED: [],
});
