import { describe, expect, it } from 'vitest';
import { AdmissionRateMeter, estimateWaitSeconds } from '../../src/modules/queue/admission-rate.js';

const policy = { admitPerSecond: 50, maxActive: 100, activeTtlMs: 600_000 };

describe('admission rate meter', () => {
  it('measures admissions per second over the window from counter samples', () => {
    const meter = new AdmissionRateMeter(10_000);
    meter.record('e', 0, 0);
    expect(meter.perSecond('e')).toBeUndefined();
    meter.record('e', 5, 500);
    expect(meter.perSecond('e')).toBeUndefined();
    meter.record('e', 20, 2_000);
    expect(meter.perSecond('e')).toBe(10);
  });

  it('forgets samples older than the window, so the rate follows the line', () => {
    const meter = new AdmissionRateMeter(10_000);
    for (let second = 0; second <= 10; second++) meter.record('e', second * 100, second * 1000);
    for (let second = 11; second <= 30; second++) meter.record('e', 1000 + (second - 10) * 2, second * 1000);
    expect(meter.perSecond('e')).toBeCloseTo(2, 0);
  });
});

describe('ETA', () => {
  it('is zero for the admitted and position / measured rate for waiters', () => {
    expect(estimateWaitSeconds(0, 10, policy)).toBe(0);
    expect(estimateWaitSeconds(25, 10, policy)).toBe(3);
  });

  it('falls back to the slower of the configured rate and slot turnover before any measurement', () => {
    expect(estimateWaitSeconds(50, undefined, policy)).toBe(300);
    expect(estimateWaitSeconds(50, 0, { ...policy, maxActive: 100_000 })).toBe(1);
  });
});
