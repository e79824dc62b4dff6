/**
 * Two people on two laptops (two browser contexts: separate storage, separate users) click the
 * same seat at the same moment. The database lets exactly one of them hold it; the other is told,
 * in words, that the seat was just taken, and can carry on with another seat.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceApi } from './support/api.js';
import {
  alert, goToSeatMap, launchBrowser, openTab, screenshot, seat, signedInUser, signUp, skipWithoutChromium, until,
  type Tab,
} from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

describe.skipIf(skipWithoutChromium)('two buyers race for one seat', () => {
  let server: RunningServer;
  let browser: Browser;
  let api: ServiceApi;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ queueMaxActive: 10 }), launchBrowser()]);
    api = new ServiceApi(server.baseUrl, server.adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** 'won' when the tab holds the seat, 'lost' when it shows the seat-taken message. */
  async function outcome(tab: Tab, seatNumber: number): Promise<'won' | 'lost' | 'pending'> {
    const held = tab.page.getByTestId('held-seat');
    if ((await held.count()) > 0 && (await held.textContent()) === `Seat ${seatNumber}`) {
      const mine = await seat(tab.page, seatNumber).getAttribute('data-mine');
      return mine === 'true' ? 'won' : 'pending';
    }
    const taken = alert(tab.page).filter({ hasText: `Seat ${seatNumber} was just taken by someone else` });
    return (await taken.count()) > 0 ? 'lost' : 'pending';
  }

  /**
   * Lets each tab's hold request go only once every tab has sent one, so that all of them reach the server,
   * which alone decides the race. Left to the clock, a tab could learn of the other's hold from its live
   * map first: the seat's button is then disabled, and a click that lands on it does nothing.
   */
  async function sendHoldsTogether(tabs: readonly Tab[]): Promise<() => Promise<void>> {
    const url = '**/api/v1/reservations';
    let sent = 0;
    let releaseAll!: () => void;
    const allSent = new Promise<void>((resolve) => (releaseAll = resolve));
    await Promise.all(
      tabs.map((tab) =>
        tab.page.route(url, async (route) => {
          if (route.request().method() !== 'POST') return route.fallback();
          if (++sent === tabs.length) releaseAll();
          await allSent;
          await route.continue();
        }),
      ),
    );
    return async () => {
      await Promise.all(tabs.map((tab) => tab.page.unroute(url)));
    };
  }

  it('one wins the hold, the other sees "seat taken" and picks another seat', async () => {
    const { event } = await api.freshEvent('Rooftop Jazz Night');
    const [alice, bob] = await Promise.all([openTab(browser, server.baseUrl), openTab(browser, server.baseUrl)]);
    await Promise.all([signUp(alice.page, 'Alice'), signUp(bob.page, 'Bob')]);
    await Promise.all([goToSeatMap(alice.page, event.name), goToSeatMap(bob.page, event.name)]);

    const target = 12;
    expect(await seat(alice.page, target).getAttribute('data-status')).toBe('AVAILABLE');
    expect(await seat(bob.page, target).getAttribute('data-status')).toBe('AVAILABLE');

    // Both click at once, and both holds reach the server.
    const stopHolding = await sendHoldsTogether([alice, bob]);
    await Promise.all([seat(alice.page, target).click(), seat(bob.page, target).click()]);
    await until(async () => [await outcome(alice, target), await outcome(bob, target)].includes('pending')).toBe(false);
    await stopHolding();
    const results = [await outcome(alice, target), await outcome(bob, target)];
    expect(results.sort()).toEqual(['lost', 'won']);
    const [winner, loser] = (await outcome(alice, target)) === 'won' ? [alice, bob] : [bob, alice];

    // The loser's map now shows the seat as taken, and no hold panel for it.
    await until(() => seat(loser.page, target).getAttribute('data-status')).toBe('HELD');
    expect(await seat(loser.page, target).isDisabled()).toBe(true);
    expect(await loser.page.getByTestId('held-seat').count()).toBe(0);
    await screenshot(loser.page, '09-seat-taken');

    // The server has exactly one live hold on that seat: the winner's.
    const winnerUser = await signedInUser(winner.page);
    const loserUser = await signedInUser(loser.page);
    const live = (r: { seatNumber: number; status: string; scheduleId?: string }) =>
      r.seatNumber === target && r.status === 'PENDING';
    const winnerHolds = await api.call<Array<{ seatNumber: number; status: string }>>('GET', '/api/v1/users/me/reservations', { user: winnerUser });
    const loserHolds = await api.call<Array<{ seatNumber: number; status: string }>>('GET', '/api/v1/users/me/reservations', { user: loserUser });
    expect(winnerHolds.filter(live)).toHaveLength(1);
    expect(loserHolds.filter(live)).toHaveLength(0);

    // The loser simply picks the next seat.
    await seat(loser.page, target + 1).click();
    await until(() => loser.page.getByTestId('held-seat').textContent()).toBe(`Seat ${target + 1}`);
    // ...and the winner sees that hold appear on their map.
    await until(() => seat(winner.page, target + 1).getAttribute('data-status'), 8_000).toBe('HELD');

    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
