/**
 * The whole purchase as a person does it in Chromium: sign up, pick an event and a date, wait in
 * the waiting room, watch the seat map change as others hold and buy, hold a seat, top up, pay,
 * and find the purchase in the balance and payment histories.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { at, ServiceApi } from './support/api.js';
import {
  addFunds, alert, goToSeatMap, joinWaitingRoom, launchBrowser, openEvent, openTab, screenshot, seat, signedInUser, signUp, skipWithoutChromium,
  until, visible, waitForSeatMap,
} from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

const money = (minor: number) => (minor / 100).toFixed(2);

describe.skipIf(skipWithoutChromium)('buying a ticket in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let api: ServiceApi;

  beforeAll(async () => {
    // Two active buyers per event at a time, so the waiting room is visible for the third.
    [server, browser] = await Promise.all([startServer({ queueMaxActive: 2, queueAdmitPerSecond: 10 }), launchBrowser()]);
    api = new ServiceApi(server.baseUrl, server.adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('walks from the event list through the waiting room to a paid seat and its history', async () => {
    const { event, schedules } = await api.freshEvent('Harbour Lights Festival', 2);
    const first = at(schedules, 0);

    // Two people got in before us and take both places on the floor.
    const ahead1 = await api.admittedBuyer('Early Bird', event.id);
    const ahead2 = await api.admittedBuyer('Second Early Bird', event.id);
    const seatsNow = await api.seats(first.id, ahead1.token);
    const vip = seatsNow.filter((s) => s.seatType === 'VIP').map((s) => s.seatNumber);
    const standard = seatsNow.filter((s) => s.seatType === 'STANDARD').map((s) => s.seatNumber);
    const standing = seatsNow.filter((s) => s.seatType === 'STANDING').map((s) => s.seatNumber);
    expect(vip.length).toBeGreaterThan(1);
    expect(standard.length).toBeGreaterThan(0);
    expect(standing.length).toBeGreaterThan(1);
    await api.hold(ahead1.user, ahead1.token, first.id, at(standing, 0));

    const { page, problems } = await openTab(browser, server.baseUrl);

    // Sign up.
    await page.goto('/');
    await visible(page.getByRole('heading', { name: 'Welcome' }));
    await screenshot(page, '01-sign-in');
    await signUp(page, 'Maya');

    // Event list → event → dates with remaining seats.
    await visible(page.getByRole('heading', { level: 1, name: 'Events' }));
    await visible(page.getByRole('heading', { level: 2, name: event.name }));
    await screenshot(page, '02-events');
    await openEvent(page, event.name);
    await until(() => page.getByTestId('seats-left').allTextContents()).toEqual(['49 of 50 seats left', '50 of 50 seats left']);
    await page.getByRole('radio').first().check();
    await screenshot(page, '03-event-dates');

    // Waiting room: both places are taken, so we wait with a position and an estimate.
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await until(() => page.locator('body').getAttribute('data-screen')).toBe('queue');
    await until(() => page.getByTestId('queue-position').textContent()).toMatch(/^#\d+$/);
    const waitingAt = Number((await page.getByTestId('queue-position').textContent())!.slice(1));
    expect(waitingAt).toBeGreaterThanOrEqual(1);
    await until(() => page.getByTestId('queue-eta').textContent()).not.toBe('calculating…');
    await until(() => page.getByTestId('queue-mode').getAttribute('data-mode')).toMatch(/^(live|polling)$/);
    await screenshot(page, '04-waiting-room');

    // The second early bird buys a seat; that ends their turn and lets us in without a click.
    await api.charge(ahead2.user, 50_000);
    const bought = await api.hold(ahead2.user, ahead2.token, first.id, at(standard, 0));
    await api.pay(ahead2.user, ahead2.token, bought.id);
    await waitForSeatMap(page);
    await visible(page.getByRole('status').filter({ hasText: 'It is your turn' }));

    // The map shows the others: one seat held, one sold.
    await until(() => seat(page, at(standing, 0)).getAttribute('data-status')).toBe('HELD');
    await until(() => seat(page, at(standard, 0)).getAttribute('data-status')).toBe('SOLD');
    expect(await seat(page, at(standing, 0)).isDisabled()).toBe(true);
    // ...and keeps up while we look, pushed on the date's event stream: another hold appears without a reload.
    await until(() => page.getByTestId('seat-mode').getAttribute('data-mode')).toBe('live');
    await api.hold(ahead1.user, ahead1.token, first.id, at(standing, 1));
    await until(() => seat(page, at(standing, 1)).getAttribute('data-status'), 8_000).toBe('HELD');
    expect(await seat(page, at(vip, 0)).getAttribute('data-type')).toBe('VIP');
    expect(await seat(page, at(vip, 0)).getAttribute('aria-label')).toBe(`Seat ${at(vip, 0)}, VIP, ${money(PRICES.VIP)}, available`);
    await screenshot(page, '05-seat-map');

    // Hold a VIP seat: the side panel shows it with a running countdown.
    const mySeat = at(vip, 1);
    await seat(page, mySeat).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe(`Seat ${mySeat}`);
    await until(() => seat(page, mySeat).getAttribute('data-mine')).toBe('true');
    const before = await page.getByTestId('countdown').textContent();
    expect(before).toMatch(/^[45]:\d\d$/);
    await until(() => page.getByTestId('countdown').textContent(), 4_000).not.toBe(before);
    await visible(page.getByText(`Add at least ${money(PRICES.VIP)} before paying.`));
    await screenshot(page, '06-seat-held');

    // Top up the wallet, pay, see the confirmation.
    await addFunds(page, '200.00');
    await until(() => page.getByTestId('header-balance').textContent()).toBe('200.00');
    await page.getByRole('button', { name: `Pay ${money(PRICES.VIP)}` }).click();
    const confirmation = await visible(page.getByTestId('confirmation'));
    await until(() => confirmation.textContent()).toContain(`Seat ${mySeat} is yours`);
    expect(await confirmation.textContent()).toContain(money(PRICES.VIP));
    expect(await confirmation.textContent()).toContain(event.name);
    await until(() => page.getByTestId('header-balance').textContent()).toBe(money(20_000 - PRICES.VIP));
    await screenshot(page, '07-confirmation');

    // Balance history and payment history.
    await page.getByRole('link', { name: 'See my account' }).click();
    const history = page.getByTestId('balance-history').locator('tbody tr');
    await until(() => history.count()).toBe(2);
    const historyText = (await history.allTextContents()).join(' | ');
    expect(historyText).toContain('+200.00');
    expect(historyText).toContain(`-${money(PRICES.VIP)}`);
    const paymentsRows = page.getByTestId('payment-history').locator('tbody tr');
    await until(() => paymentsRows.count()).toBe(1);
    expect(await paymentsRows.first().textContent()).toContain('Paid');
    expect(await paymentsRows.first().textContent()).toContain(money(PRICES.VIP));
    await until(() => page.getByTestId('reservation-history').locator('tbody tr').first().textContent()).toContain('Confirmed');
    await screenshot(page, '08-account-history');

    // The server agrees with what the page showed.
    const maya = await signedInUser(page);
    expect(await api.payments(maya)).toMatchObject([{ status: 'SUCCEEDED', amount: PRICES.VIP }]);
    expect(await api.balance(maya)).toEqual({ balance: 20_000 - PRICES.VIP });

    // A reload keeps the person signed in and on the same screen.
    await page.reload();
    await until(() => page.getByTestId('user-name').textContent()).toBe('Maya');
    await visible(page.getByTestId('balance-history'));

    // The seat is sold for everyone.
    const seatsAfter = await api.seats(first.id, ahead1.token);
    expect(seatsAfter.find((s) => s.seatNumber === mySeat)?.status).toBe('SOLD');

    expect(await alert(page).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('keeps the hold and its countdown across a reload, releases it on request, and can start over as a new user', async () => {
    const { event } = await api.freshEvent('Reload Resilience Night');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Rui');
    await goToSeatMap(page, event.name);

    await seat(page, 15).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 15');
    await page.reload();
    await waitForSeatMap(page);
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 15');
    expect(await seat(page, 15).getAttribute('data-mine')).toBe('true');
    expect(await page.getByTestId('countdown').textContent()).toMatch(/^[45]:\d\d$/);

    // Switching seats moves the hold; releasing frees it for everyone.
    await seat(page, 16).click();
    await until(() => page.getByTestId('held-seat').textContent()).toBe('Seat 16');
    await until(() => seat(page, 15).getAttribute('data-status')).toBe('AVAILABLE');
    await page.getByRole('button', { name: 'Release seat' }).click();
    await until(() => page.getByTestId('held-seat').count()).toBe(0);
    await until(() => seat(page, 16).getAttribute('data-status')).toBe('AVAILABLE');
    const rui = await signedInUser(page);
    const holds = await api.call<Array<{ status: string }>>('GET', '/api/v1/users/me/reservations', { user: rui });
    expect(holds.map((r) => r.status).sort()).toEqual(['CANCELED', 'CANCELED']);

    await page.getByRole('button', { name: 'New user' }).click();
    await visible(page.getByRole('heading', { name: 'Welcome' }));
    await signUp(page, 'Rui Again');
    expect((await signedInUser(page)).id).not.toBe(rui.id);
    expect(problems).toEqual([]);
  });

  it('gives the place back with "Leave the line" (signed in): the next in line moves up', async () => {
    const { event } = await api.freshEvent('Early Exit Evening');
    await api.admittedBuyer('Ahead one', event.id);
    await api.admittedBuyer('Ahead two', event.id);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Lea');
    await openEvent(page, event.name);
    await joinWaitingRoom(page);
    await until(() => page.getByTestId('queue-position').textContent()).toBe('#1');
    const behind = await api.joinQueue(await api.createUser('Right behind'), event.id);
    expect(behind.position).toBe(2);

    await page.getByRole('button', { name: 'Leave the line' }).click();
    await until(() => page.locator('body').getAttribute('data-screen')).toBe('event');
    await until(async () => (await api.queueStatus(behind.token)).position).toBe(1);
    expect(problems).toEqual([]);
  });

  it('keeps the waiting room moving by polling when the live stream is unavailable', async () => {
    const { event, schedules } = await api.freshEvent('Quiet Strings Matinee');
    const ahead1 = await api.admittedBuyer('Front of the line', event.id);
    await api.admittedBuyer('Also in front', event.id);

    const { page, problems } = await openTab(browser, server.baseUrl);
    // This browser cannot get the event stream (as behind a proxy that strips it).
    await page.route('**/api/v1/queue/tokens/current/stream**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/problem+json', body: JSON.stringify({ status: 404, code: 'NOT_FOUND', title: 'Not found' }) }),
    );
    await signUp(page, 'Noor');
    await openEvent(page, event.name);
    await page.getByRole('radio').first().check();
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await until(() => page.getByTestId('queue-mode').getAttribute('data-mode')).toBe('polling');
    await until(() => page.getByTestId('queue-position').textContent()).toMatch(/^#\d+$/);

    // The person at the front finishes; polling notices and opens the seat map.
    await api.charge(ahead1.user, 50_000);
    const reservation = await api.hold(ahead1.user, ahead1.token, at(schedules, 0).id, 1);
    await api.pay(ahead1.user, ahead1.token, reservation.id);
    await waitForSeatMap(page);
    expect(problems).toEqual([]);
  });

  it('keeps the seat map current by polling with If-None-Match when its live stream is unavailable', async () => {
    const { event, schedules } = await api.freshEvent('Unplugged Afternoon');
    const other = await api.admittedBuyer('Other buyer', event.id);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await page.route('**/api/v1/schedules/*/seats/stream**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/problem+json', body: JSON.stringify({ status: 404, code: 'NOT_FOUND', title: 'Not found' }) }),
    );
    const polls: { ifNoneMatch: string | undefined; status: number }[] = [];
    page.on('response', (response) => {
      if (/\/seats$/.test(new URL(response.url()).pathname)) polls.push({ ifNoneMatch: response.request().headers()['if-none-match'], status: response.status() });
    });
    await signUp(page, 'Ines');
    await goToSeatMap(page, event.name);
    await until(() => page.getByTestId('seat-mode').getAttribute('data-mode')).toBe('polling');
    // An unchanged map costs a 304: each poll names the map on screen.
    await until(() => polls.some((poll) => poll.ifNoneMatch && poll.status === 304), 8_000).toBe(true);
    await api.hold(other.user, other.token, at(schedules, 0).id, 17);
    await until(() => seat(page, 17).getAttribute('data-status'), 8_000).toBe('HELD');
    expect(problems).toEqual([]);
  });

  it('uses the live stream for waiting-room updates when the server offers it', async (ctx) => {
    const { event } = await api.freshEvent('Streamed Evening');
    const probeUser = await api.createUser('Probe');
    const probe = await api.joinQueue(probeUser, event.id);
    const response = await fetch(`${server.baseUrl}/api/v1/queue/tokens/current/stream?token=${encodeURIComponent(probe.token)}`, {
      signal: AbortSignal.timeout(3_000),
    }).catch(() => null);
    const hasStream = response?.ok === true && (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    await response?.body?.cancel().catch(() => {});
    if (!hasStream) ctx.skip();

    await api.admittedBuyer('Someone ahead', event.id);
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signUp(page, 'Sol');
    await openEvent(page, event.name);
    await page.getByRole('radio').first().check();
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await until(() => page.getByTestId('queue-mode').getAttribute('data-mode')).toBe('live');
    expect(problems).toEqual([]);
  });
});
