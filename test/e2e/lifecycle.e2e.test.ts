/**
 * The purchase lifecycle as a person meets it in Chromium: several seats held and paid with one payment,
 * the hold limit, a purchase canceled and refunded from the account page, no refund on the last day before
 * a date (and the service's refusal shown as a sentence), and a date the organizer canceled.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { at, ServiceApi } from './support/api.js';
import {
  addFunds, alert, goToSeatMap, joinWaitingRoom, launchBrowser, openEvent, openTab, screenshot, seat, signedInUser, signUp,
  skipWithoutChromium, until, visible, waitForSeatMap,
} from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

const HOUR_MS = 3_600_000;
const money = (minor: number) => (minor / 100).toFixed(2);
const CLOSED = 'Refunds close 24 hours before the date.';
const CANCELED = 'This date was canceled by the organizer.';

describe.skipIf(skipWithoutChromium)('several seats, refunds and canceled dates in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let api: ServiceApi;

  beforeAll(async () => {
    // The service's defaults: HOLD_MAX_PER_USER 4, REFUND_CUTOFF_SECONDS one day.
    [server, browser] = await Promise.all([startServer({ queueMaxActive: 20 }), launchBrowser()]);
    api = new ServiceApi(server.baseUrl, server.adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('holds three seats, refuses one past the limit, and pays the three with one payment', async () => {
    const { event, schedules } = await api.freshEvent('Three Friends Gala');
    const date = at(schedules, 0);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Ada');
    await goToSeatMap(page, event.name);
    await addFunds(page, '500.00');

    // Three standard seats side by side, each with its own countdown.
    await page.getByLabel('Hold several seats').check();
    for (const n of [12, 13, 14]) {
      await seat(page, n).click();
      await until(() => seat(page, n).getAttribute('data-mine')).toBe('true');
    }
    await until(() => page.getByTestId('held-seat').allTextContents()).toEqual(['Seat 12', 'Seat 13', 'Seat 14']);
    expect(await page.getByTestId('countdown').count()).toBe(3);
    for (const countdown of await page.getByTestId('countdown').all()) expect(await countdown.textContent()).toMatch(/^[45]:\d\d$/);
    expect(await page.getByTestId('hold-total').textContent()).toBe(money(3 * PRICES.STANDARD));
    await visible(page.getByRole('button', { name: `Pay 3 seats · ${money(3 * PRICES.STANDARD)}` }));
    await screenshot(page, '12-multi-seat-hold');

    // A fourth is fine; a fifth is past HOLD_MAX_PER_USER and is refused in words.
    await seat(page, 15).click();
    await until(() => page.getByTestId('held-seat').count()).toBe(4);
    await seat(page, 16).click();
    await visible(alert(page).filter({ hasText: 'You already hold 4 seats, the most one buyer can hold at once.' }));
    expect(await seat(page, 16).getAttribute('data-mine')).toBeNull();
    expect(await page.getByTestId('held-seat').count()).toBe(4);

    // Each hold has its own release button.
    await page.getByRole('button', { name: 'Release seat 15' }).click();
    await until(() => page.getByTestId('held-seat').count()).toBe(3);
    await until(() => seat(page, 15).getAttribute('data-status')).toBe('AVAILABLE');

    // One click pays the three: the confirmation lists every seat and the total.
    await page.getByRole('button', { name: /^Pay 3 seats/ }).click();
    const confirmation = await visible(page.getByTestId('confirmation'));
    await until(() => confirmation.textContent()).toContain('Seats 12, 13 and 14 are yours');
    const text = await confirmation.textContent();
    expect(text).toContain(`Total paid${money(3 * PRICES.STANDARD)}`);
    for (const n of [12, 13, 14]) expect(text).toContain(`${n} · Standard · ${money(PRICES.STANDARD)}`);
    await until(() => page.getByTestId('header-balance').textContent()).toBe(money(50_000 - 3 * PRICES.STANDARD));
    await screenshot(page, '13-multi-seat-paid');

    // The service agrees: three payments, one debit of the total, three seats sold and the released one free.
    const ada = await signedInUser(page);
    expect(await api.balance(ada)).toEqual({ balance: 50_000 - 3 * PRICES.STANDARD });
    const payments = await api.payments(ada);
    expect(payments.map((p) => [p.status, p.amount])).toEqual([0, 1, 2].map(() => ['SUCCEEDED', PRICES.STANDARD]));
    const ledger = await api.call<Array<{ kind: string; amount: number }>>('GET', '/api/v1/users/me/balance/history', { user: ada });
    expect(ledger.filter((row) => row.kind === 'PAYMENT').map((row) => row.amount)).toEqual([-3 * PRICES.STANDARD]);
    const checker = await api.admittedBuyer('Seat checker', event.id);
    const status = new Map((await api.seats(date.id, checker.token)).map((s) => [s.seatNumber, s.status]));
    expect([12, 13, 14, 15, 16].map((n) => status.get(n))).toEqual(['SOLD', 'SOLD', 'SOLD', 'AVAILABLE', 'AVAILABLE']);
    expect(problems).toEqual([]);
  });

  it('cancels and refunds a purchase from the account page: balance back, refunded in the history, the seat free again', async () => {
    const { event, schedules } = await api.freshEvent('Refundable Recital');
    const date = at(schedules, 0);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Bea');
    const bea = await signedInUser(page);
    await api.charge(bea, 30_000);
    await api.buy(bea, event.id, date.id, [21, 22]);
    const paidBalance = 30_000 - 2 * PRICES.STANDARD;

    await page.getByRole('link', { name: 'My account' }).click();
    const payments = page.getByTestId('payment-history').locator('tbody tr');
    await until(() => payments.count()).toBe(2);
    await until(() => page.getByTestId('header-balance').textContent()).toBe(money(paidBalance));
    const seat21 = payments.filter({ hasText: 'Seat 21' });
    expect(await seat21.textContent()).toContain(event.name);

    // A confirmation step first; "Keep ticket" steps back.
    await seat21.getByRole('button', { name: 'Cancel and refund' }).click();
    await visible(seat21.getByText(`Cancel seat 21 and get ${money(PRICES.STANDARD)} back?`));
    await seat21.getByRole('button', { name: 'Keep ticket' }).click();
    await seat21.getByRole('button', { name: 'Cancel and refund' }).click();
    await seat21.getByRole('button', { name: 'Yes, refund' }).click();

    await visible(page.getByRole('status').filter({ hasText: `Seat 21 is canceled and ${money(PRICES.STANDARD)} is back in your wallet.` }));
    await until(() => page.getByTestId('header-balance').textContent()).toBe(money(paidBalance + PRICES.STANDARD));
    await until(() => seat21.textContent()).toContain('Refunded on');
    expect(await seat21.getByRole('button').count()).toBe(0);
    const seat22 = payments.filter({ hasText: 'Seat 22' });
    expect(await seat22.textContent()).toContain('Paid');
    expect(await seat22.getByRole('button', { name: 'Cancel and refund' }).count()).toBe(1);
    const refundRow = page.getByTestId('balance-history').locator('tbody tr[data-kind="REFUND"]');
    await until(() => refundRow.textContent()).toContain(`+${money(PRICES.STANDARD)}`);
    expect(await refundRow.textContent()).toContain('Refund');
    await until(() => page.getByTestId('reservation-history').locator('tbody tr').filter({ hasText: 'Seat 21' }).textContent()).toContain('Refunded');
    await screenshot(page, '14-refund');

    // The service agrees.
    expect(await api.balance(bea)).toEqual({ balance: paidBalance + PRICES.STANDARD });
    expect((await api.payments(bea)).map((p) => p.status).sort()).toEqual(['REFUNDED', 'SUCCEEDED']);

    // The seat is on sale again: the next visit to the seat map shows it free, its neighbour still sold.
    await page.goto('/');
    await goToSeatMap(page, event.name);
    await until(() => seat(page, 21).getAttribute('data-status')).toBe('AVAILABLE');
    expect(await seat(page, 22).getAttribute('data-status')).toBe('SOLD');
    expect(problems).toEqual([]);
  });

  it('offers no refund for a date less than 24 hours away and says why; a refund the service refuses is a sentence too', async () => {
    const { event } = await api.freshEvent('Tonight Only', 0);
    const tonight = await api.dateStartingIn(event.id, 6 * HOUR_MS);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Cem');
    const cem = await signedInUser(page);
    await api.charge(cem, 20_000);
    await api.buy(cem, event.id, tonight.id, [30]);

    await page.getByRole('link', { name: 'My account' }).click();
    const purchase = page.getByTestId('payment-history').locator('tbody tr').first();
    await visible(purchase.getByText(CLOSED));
    expect(await purchase.textContent()).toContain('Paid');
    expect(await purchase.getByRole('button', { name: 'Cancel and refund' }).count()).toBe(0);
    await screenshot(page, '15-refund-closed');

    // A browser whose clock is two days behind believes the window is open; the service, whose clock decides, says no.
    await page.clock.setFixedTime(new Date(Date.now() - 48 * HOUR_MS));
    await page.reload();
    await purchase.getByRole('button', { name: 'Cancel and refund' }).click();
    await purchase.getByRole('button', { name: 'Yes, refund' }).click();
    await visible(alert(page).filter({ hasText: `This ticket can no longer be refunded. ${CLOSED}` }));
    await visible(purchase.getByText(CLOSED));
    expect(await purchase.getByRole('button').count()).toBe(0);
    expect((await api.payments(cem)).map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect(await api.balance(cem)).toEqual({ balance: 20_000 - PRICES.STANDARD });
    expect(problems).toEqual([]);
  });

  it('shows a canceled date as canceled and never opens it; a buyer on a date that gets canceled is sent back', async () => {
    const { event, schedules } = await api.freshEvent('Rained Out Open Air', 2);
    const [first, second] = [at(schedules, 0), at(schedules, 1)];
    // Someone had bought a ticket for the second date: canceling it refunds them.
    const fan = await api.createUser('Early fan');
    await api.charge(fan, 20_000);
    await api.buy(fan, event.id, second.id, [5]);
    expect(await api.cancelDate(second.id)).toMatchObject({ refunded: 1, amountRefunded: PRICES.VIP });

    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Dia');
    await openEvent(page, event.name);
    await until(() => page.getByTestId('seats-left').allTextContents()).toEqual(['50 of 50 seats left', 'Canceled']);
    expect(await page.locator('.date-row').nth(1).getAttribute('data-status')).toBe('CANCELED');
    expect(await page.getByRole('radio').nth(1).isDisabled()).toBe(true);
    await screenshot(page, '16-date-canceled');

    // An old link to its waiting room leads back to the dates, with the reason.
    await page.goto(`/#/queue/${event.id}/${second.id}`);
    await visible(alert(page).filter({ hasText: CANCELED }));
    await until(() => page.locator('body').getAttribute('data-screen')).toBe('event');

    // A buyer holding a seat when the organizer cancels the date hears it at the next click.
    await joinWaitingRoom(page, 0);
    await waitForSeatMap(page);
    await seat(page, 20).click();
    await until(() => seat(page, 20).getAttribute('data-mine')).toBe('true');
    expect(await api.cancelDate(first.id)).toMatchObject({ released: 1 });
    await seat(page, 21).click();
    await visible(alert(page).filter({ hasText: CANCELED }));
    await until(() => page.locator('body').getAttribute('data-screen')).toBe('event');
    await until(() => page.getByTestId('seats-left').allTextContents()).toEqual(['Canceled', 'Canceled']);
    expect(await page.getByRole('button', { name: 'Join the waiting room' }).isDisabled()).toBe(true);
    expect(problems).toEqual([]);
  });
});
