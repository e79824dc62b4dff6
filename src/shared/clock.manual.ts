import type { Clock } from './clock.js';

/** A clock that moves only when told to; it pins the stores' time too. Tests and the benchmark's expiry checks. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.now()) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  pinned(): Date {
    return this.now();
  }

  advance(ms: number): void {
    this.#ms += ms;
  }
}
