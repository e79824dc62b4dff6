export const SEATS_PER_SCHEDULE = 50;

export const seatTypes = ['STANDARD', 'VIP', 'STANDING'] as const;
export type SeatType = (typeof seatTypes)[number];
export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';
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
