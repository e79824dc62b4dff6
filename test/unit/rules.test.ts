import { describe, expect, it } from 'vitest';
import { scheduleMachine, seatMachine, seatPlan, seatTypeOf } from '../../src/modules/catalog/catalog.rules.js';
import { paymentMachine } from '../../src/modules/payment/payment.rules.js';
import { canTransition, effectiveStatus, payability, reservationMachine, reservationTransitions } from '../../src/modules/reservation/reservation.rules.js';

const now = new Date('2030-01-01T12:00:00Z');
const before = new Date(now.getTime() - 1);
const after = new Date(now.getTime() + 1);

describe('reservation state transitions', () => {
  it('lets a pending hold end in any way, a purchase only be refunded, and nothing move again after', () => {
    expect(reservationTransitions.PENDING).toEqual(['CONFIRMED', 'CANCELED', 'EXPIRED']);
    expect(reservationTransitions.CONFIRMED).toEqual(['CANCELED']);
    for (const final of ['CANCELED', 'EXPIRED'] as const) {
      for (const to of ['PENDING', 'CONFIRMED', 'CANCELED', 'EXPIRED'] as const) expect(canTransition(final, to)).toBe(false);
    }
    expect(canTransition('PENDING', 'PENDING')).toBe(false);
    expect(canTransition('CONFIRMED', 'EXPIRED')).toBe(false);
  });

  it('declares seats, payments and dates the same way, and SQL guards refuse a move the table does not list', () => {
    expect(seatMachine.transitions).toEqual({ AVAILABLE: ['HELD'], HELD: ['AVAILABLE', 'SOLD'], SOLD: ['AVAILABLE'] });
    expect(paymentMachine.transitions).toEqual({ SUCCEEDED: ['REFUNDED'], FAILED: [], REFUNDED: [] });
    expect(scheduleMachine.transitions).toEqual({ OPEN: ['CANCELED'], CANCELED: [] });
    expect(seatMachine.guard('status', 'SOLD')).toBe("status IN ('HELD')");
    expect(reservationMachine.guard('status', 'CANCELED', ['CONFIRMED'])).toBe("status IN ('CONFIRMED')");
    expect(() => reservationMachine.guard('status', 'CONFIRMED', ['EXPIRED'])).toThrow(/may not become/);
    expect(() => reservationMachine.assert('CANCELED', 'CONFIRMED', 'RESERVATION_NOT_PAYABLE')).toThrow(/cannot become/);
  });

  it('reads a pending hold past its deadline as expired, at the deadline itself too', () => {
    expect(effectiveStatus('PENDING', after, now)).toBe('PENDING');
    expect(effectiveStatus('PENDING', now, now)).toBe('EXPIRED');
    expect(effectiveStatus('PENDING', before, now)).toBe('EXPIRED');
    expect(effectiveStatus('CONFIRMED', before, now)).toBe('CONFIRMED');
  });

  it('says which reservations can be paid', () => {
    expect(payability('PENDING', after, now)).toBe('PAYABLE');
    expect(payability('PENDING', before, now)).toBe('EXPIRED');
    expect(payability('EXPIRED', after, now)).toBe('EXPIRED');
    expect(payability('CONFIRMED', after, now)).toBe('NOT_PAYABLE');
    expect(payability('CANCELED', after, now)).toBe('NOT_PAYABLE');
  });
});

describe('seat plan', () => {
  it('has fifty seats: ten VIP, thirty standard, ten standing, priced by type', () => {
    const plan = seatPlan({ VIP: 300, STANDARD: 200, STANDING: 100 });
    expect(plan.map((seat) => seat.seatNumber)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(plan.filter((seat) => seat.seatType === 'VIP')).toHaveLength(10);
    expect(plan.filter((seat) => seat.seatType === 'STANDARD')).toHaveLength(30);
    expect(plan.filter((seat) => seat.seatType === 'STANDING')).toHaveLength(10);
    expect(plan.every((seat) => seat.price === { VIP: 300, STANDARD: 200, STANDING: 100 }[seat.seatType])).toBe(true);
    expect([seatTypeOf(10), seatTypeOf(11), seatTypeOf(40), seatTypeOf(41)]).toEqual(['VIP', 'STANDARD', 'STANDARD', 'STANDING']);
  });
});
