import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../src/shared/single-flight.js';

const deferred = () => {
  let resolve!: (value: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
};

describe('SingleFlight', () => {
  it('shares the work running for a key, and starts afresh once it settled', async () => {
    const flights = new SingleFlight<number>();
    let started = 0;
    const first = deferred();
    const work = () => (started++, first.promise);
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    expect([a === b, started, flights.running('k') === a]).toEqual([true, 1, true]);
    first.resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(flights.running('k')).toBeUndefined();
    await flights.run('k', async () => (started++, 8));
    expect(started).toBe(2);
  });

  it('lets a forgotten key start new work, which the old work settling does not drop', async () => {
    const flights = new SingleFlight<number>();
    const old = deferred();
    const fresh = deferred();
    void flights.run('k', () => old.promise);
    flights.forget('k');
    const next = flights.run('k', () => fresh.promise);
    old.resolve(1);
    await old.promise;
    expect(flights.running('k')).toBe(next);
    fresh.resolve(2);
    expect(await next).toBe(2);
  });

  it('shares a failure too, then forgets it', async () => {
    const flights = new SingleFlight<number>();
    const failing = flights.run('k', async () => {
      throw new Error('down');
    });
    await expect(flights.run('k', async () => 1)).rejects.toThrow('down');
    await expect(failing).rejects.toThrow('down');
    expect(await flights.run('k', async () => 3)).toBe(3);
  });
});
