/**
 * Admissions per second per event over a moving window, from samples of the event's admitted-total
 * counter. The counter is shared (Redis), so every instance measures the same global rate.
 */
export class AdmissionRateMeter {
  readonly #samples = new Map<string, { at: number; total: number }[]>();

  constructor(private readonly windowMs = 30_000) {}

  record(eventId: string, total: number, at: number): void {
    const samples = this.#samples.get(eventId) ?? [];
    samples.push({ at, total });
    // Keep one sample older than the window as the anchor of the span.
    while (samples.length > 2 && samples[1]!.at <= at - this.windowMs) samples.shift();
    this.#samples.set(eventId, samples);
  }

  /** Admissions per second, or undefined until the window spans at least a second. */
  perSecond(eventId: string): number | undefined {
    const samples = this.#samples.get(eventId);
    if (!samples || samples.length < 2) return undefined;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    return seconds >= 1 ? (last.total - first.total) / seconds : undefined;
  }
}

/**
 * Seconds until a waiter at `position` is admitted. With a measured rate, position / rate; with none
 * yet (a new line, or no one admitted lately), the slower of the configured admission rate and the
 * rate at which slots free up if every active buyer uses their whole idle allowance.
 */
export function estimateWaitSeconds(
  position: number,
  measuredPerSecond: number | undefined,
  policy: { admitPerSecond: number; maxActive: number; activeTtlMs: number },
): number {
  if (position <= 0) return 0;
  const fallback = Math.min(policy.admitPerSecond, policy.maxActive / (policy.activeTtlMs / 1000));
  const rate = measuredPerSecond && measuredPerSecond > 0 ? measuredPerSecond : fallback;
  return Math.ceil(position / rate);
}
