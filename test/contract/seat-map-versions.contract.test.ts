import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { parseVersion, type SeatMapVersions } from '../../src/modules/catalog/seat-map-versions.js';
import { openForSuite, seatMapVersionsAdapters } from './adapters.js';

describe.each(seatMapVersionsAdapters)('seat map versions contract: $name', (adapter) => {
  let instanceOn: (namespace: string) => SeatMapVersions;
  let forget: ((namespace: string, scheduleId: string) => Promise<void>) | undefined;
  openForSuite(adapter, (port) => ({ instanceOn, forget } = port));

  const newNamespace = () => `seatmaps-${randomUUID()}`;
  const newDate = () => randomUUID();
  /** Two instances of one deployment; in process, one instance is the whole deployment. */
  const pair = (namespace = newNamespace()) => {
    const first = instanceOn(namespace);
    return [first, adapter.spansInstances ? instanceOn(namespace) : first] as const;
  };

  /** The dates a new listener on `versions` hears, once `versions` follows `scheduleId`. */
  const listen = async (versions: SeatMapVersions, scheduleId: string) => {
    const heard: string[] = [];
    await versions.subscribe((id) => heard.push(id));
    await versions.follow(scheduleId);
    return heard;
  };

  /** One more bump through `bumper`, waited for: a date's changes travel on one channel, in order. */
  const barrier = async (bumper: SeatMapVersions, scheduleId: string, heard: string[], count: number) => {
    await bumper.bump(scheduleId);
    await vi.waitFor(() => expect(heard.length).toBeGreaterThanOrEqual(count), { timeout: 5_000, interval: 10 });
  };

  it('gives a date one version until it is bumped, on every instance', async () => {
    const [a, b] = pair();
    const date = newDate();
    const first = await a.current(date);
    expect(first).toMatch(/^[^.]+\.\d+$/);
    expect(await a.current(date)).toBe(first);
    expect(await b.current(date)).toBe(first);
  });

  it('a bump gives a version never given out before, which every instance reads as soon as the bump resolves', async () => {
    const [a, b] = pair();
    const date = newDate();
    const seen = new Set([await a.current(date)]);
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      const bumped = await writer.bump(date);
      expect(seen.has(bumped)).toBe(false);
      seen.add(bumped);
      expect(await reader.current(date)).toBe(bumped);
    }
  });

  it('gives 60 concurrent bumps from two instances 60 different versions, the last one current', async () => {
    const [a, b] = pair();
    const date = newDate();
    const before = parseVersion(await a.current(date));
    const bumped = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).bump(date)));
    expect(new Set(bumped).size).toBe(60);
    const counters = bumped.map((version) => parseVersion(version));
    expect(counters.every(({ epoch }) => epoch === before.epoch)).toBe(true);
    expect(counters.map(({ counter }) => counter).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => before.counter + i + 1));
    expect(parseVersion(await b.current(date)).counter).toBe(before.counter + 60);
  });

  it('keeps dates, and deployments on other key prefixes, apart', async () => {
    const [a] = pair();
    const [elsewhere] = pair();
    const [date, other] = [newDate(), newDate()];
    const [otherBefore, elsewhereBefore] = [await a.current(other), await elsewhere.current(date)];
    await a.bump(date);
    expect(await a.current(other)).toBe(otherBefore);
    expect(await elsewhere.current(date)).toBe(elsewhereBefore);
  });

  it.runIf(adapter.name !== 'in-process')('never gives back an earlier version after the store lost the date', async () => {
    const namespace = newNamespace();
    const [a, b] = pair(namespace);
    const date = newDate();
    const given = new Set([await a.current(date), await a.bump(date), await b.bump(date)]);
    await forget!(namespace, date);
    const afterLoss = [await b.current(date), await a.bump(date)];
    await forget!(namespace, date);
    afterLoss.push(await a.bump(date), await b.current(date));
    for (const version of afterLoss) expect(given.has(version), version).toBe(false);
    expect(new Set(afterLoss).size).toBe(3); // the bump after the second loss is what current() then reads
  });

  it('tells the followers of a date on every instance, with the new version readable when they hear it', async () => {
    const [a, b] = pair();
    const date = newDate();
    const readOnHearing: Promise<string>[] = [];
    await b.subscribe((id) => {
      if (id === date) readOnHearing.push(b.current(date));
    });
    await b.follow(date);
    const bumped = await a.bump(date);
    await vi.waitFor(() => expect(readOnHearing).toHaveLength(1), { timeout: 5_000, interval: 10 });
    expect(await readOnHearing[0]).toBe(bumped);
  });

  it('tells only the dates an instance follows, and stops once it lets one go', async () => {
    const [a, b] = pair();
    const [followed, other] = [newDate(), newDate()];
    const heard = await listen(b, followed);
    await a.bump(other);
    await barrier(a, followed, heard, 1);
    await b.unfollow(followed);
    await a.bump(followed);
    await b.follow(other);
    await barrier(a, other, heard, 2);
    expect(heard).toEqual([followed, other]);
  });

  it('stops telling its listeners once closed', async () => {
    const namespace = newNamespace();
    const date = newDate();
    const closing = instanceOn(namespace);
    const heard = await listen(closing, date);
    await closing.close();
    const writer = adapter.spansInstances ? instanceOn(namespace) : closing;
    await writer.bump(date).catch(() => undefined);
    // A live instance on the same prefix hearing a later change shows Redis has sent out the first.
    if (adapter.spansInstances) {
      const live = instanceOn(namespace);
      await barrier(writer, date, await listen(live, date), 1);
    }
    expect(heard).toEqual([]);
  });
});
