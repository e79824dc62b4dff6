/**
 * What a person sees when things go wrong: a hold that runs out (short HOLD_TTL_SECONDS), paying
 * after the server already let the seat go, paying with too little money, and an API that is down.
 * Every case ends in a readable message on a page that still works, never a blank screen.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { ServiceApi } from './support/api.js';
import {
  addFunds, alert, goToSeatMap, launchBrowser, openTab, screenshot, seat, signedInUser, signUp,
  skipWithoutChromium, until, visible,
} from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

const HOLD_TTL_SECONDS = 4;
const money = (minor: number) => (minor / 100).toFixed(2);

describe.skipIf(skipWithoutChromium)('errors shown as readable messages', () => {
  let server: RunningServer;
  let browser: Browser;
  let api: ServiceApi;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ holdTtlSeconds: HOLD_TTL_SECONDS }), launchBrowser()]);
    api = new ServiceApi(server.baseUrl, server.adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('counts a hold down to zero, releases the seat and says the hold expired', async () => {
    const { event } = await api.freshEvent('Short Hold Showcase');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Theo');
    await goToSeatMap(page, event.name);

    await seat(page, 20).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 20');
    expect(await page.getByTestId('countdown').textContent()).toMatch(/^0:0[1-4]$/);

    const expired = alert(page).filter({ hasText: 'Your hold on seat 20 expired' });
    await visible(expired, (HOLD_TTL_SECONDS + 4) * 1_000);
    expect(await page.getByTestId('held-seat').count()).toBe(0);
    // The server lets the seat go too: the map shows it free again (expired holds read as available).
    await until(() => seat(page, 20).getAttribute('data-status'), 8_000).toBe('AVAILABLE');
    expect(await seat(page, 20).getAttribute('data-mine')).toBeNull();
    await screenshot(page, '10-hold-expired');

    // And it can be held again.
    await seat(page, 20).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 20');
    expect(problems).toEqual([]);
  });

  it('explains a payment refused because the hold already expired on the server', async () => {
    const { event } = await api.freshEvent('Frozen Clock Recital');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Ines');
    await goToSeatMap(page, event.name);
    await addFunds(page, '500.00');

    // This tab's clock stands still (a laptop waking from sleep, a throttled background tab), so
    // its countdown never reaches zero: only the server knows the hold is over.
    await page.clock.setFixedTime(new Date());
    await seat(page, 5).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 5');
    await new Promise((resolve) => setTimeout(resolve, (HOLD_TTL_SECONDS + 1.5) * 1_000));
    expect(await page.getByTestId('held-seat').textContent()).toBe('Seat 5');

    await page.getByRole('button', { name: /^Pay / }).click();
    await visible(alert(page).filter({ hasText: 'Your hold on seat 5 expired before payment' }));
    expect(await page.getByTestId('held-seat').count()).toBe(0);
    const user = await signedInUser(page);
    expect(await api.balance(user)).toEqual({ balance: 50_000 });
    expect((await api.payments(user)).filter((p) => p.status === 'SUCCEEDED')).toHaveLength(0);
    expect(problems).toEqual([]);
  });

  it('explains insufficient balance, frees the seat and records the failed payment', async () => {
    const { event } = await api.freshEvent('Empty Wallet Evening');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Kai');
    await goToSeatMap(page, event.name);
    // Find a seat whose price we know and hold it with an empty wallet.
    const seatType = await seat(page, 30).getAttribute('data-type');
    const price = PRICES[seatType as keyof typeof PRICES];

    await seat(page, 30).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 30');
    await visible(page.getByText(`Your balance is 0.00. Add at least ${money(price)} before paying.`));
    await page.getByRole('button', { name: `Pay ${money(price)}` }).click();

    await visible(alert(page).filter({ hasText: 'Insufficient balance to pay for seat 30' }));
    expect(await page.getByTestId('held-seat').count()).toBe(0);
    await until(() => seat(page, 30).getAttribute('data-status')).toBe('AVAILABLE');
    await screenshot(page, '11-insufficient-balance');

    await page.getByRole('link', { name: 'My account' }).click();
    const payment = page.getByTestId('payment-history').locator('tbody tr').first();
    await until(() => payment.textContent()).toContain('Failed');
    expect(await payment.textContent()).toContain('Insufficient balance');
    expect(problems).toEqual([]);
  });

  it('shows a message instead of a blank page when the API is down or unreachable', async () => {
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Ola');

    await page.route('**/api/v1/events', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Service temporarily unavailable', status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'database unavailable' }),
      }),
    );
    await page.reload();
    await visible(page.getByRole('heading', { name: 'This page could not be loaded' }));
    await visible(page.getByText('The service is busy right now. Please try again in a moment.'));

    await page.unroute('**/api/v1/events');
    await page.route('**/api/v1/events', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Try again' }).click();
    await visible(page.getByText('Cannot reach the server.', { exact: false }));

    // Back online: the same button brings the page back.
    await page.unroute('**/api/v1/events');
    await page.getByRole('button', { name: 'Try again' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Events' }));
    expect(problems).toEqual([]);
  });
});
