/**
 * The operator's page in Chromium, against a live sale: sign in with the admin key, schedule an opening
 * a few seconds ahead, watch buyers gather in the pre-queue and the shuffle place them at the opening,
 * pause and resume admissions, refuse a nonsense capacity in words, and watch a date sell out.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUSE_PRICES as PRICES } from '../../src/modules/catalog/catalog.rules.js';
import { at, ServiceApi, type TestUser } from './support/api.js';
import { alert, launchBrowser, openTab, screenshot, skipWithoutChromium, until, visible } from './support/browser.js';
import { startServer, type RunningServer } from './support/server.js';

const OPENS_IN_MS = 8_000;
const money = (minor: number) => (minor / 100).toLocaleString('en-US', { minimumFractionDigits: 2 });
const pad = (n: number) => String(n).padStart(2, '0');
/** A datetime-local value; the tab runs in UTC (support/browser.ts). */
const utcInput = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

interface BuyerView {
  status: 'WAITING' | 'ACTIVE' | 'SOLD_OUT';
  joinNumber: number;
  position: number | null;
  opensAt: string | null;
  paused: boolean;
}
interface Fairness {
  opened: boolean;
  prequeue: number[];
  order: number[];
}

async function signInAsOperator(page: Page, adminKey: string): Promise<void> {
  await page.goto('/admin');
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await visible(page.getByTestId('events-table'));
}

async function operate(page: Page, eventName: string): Promise<void> {
  await page.getByRole('link', { name: `Operate ${eventName}` }).click();
  await visible(page.getByRole('heading', { level: 1, name: eventName }));
  await until(() => page.getByTestId('live-line').getAttribute('data-state')).toBe('live');
}

const text = (page: Page, testId: string) => () => page.getByTestId(testId).first().textContent();

/** The whole page from its top: the sticky header stays where it belongs in a full-page picture. */
async function picture(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
}

describe.skipIf(skipWithoutChromium)('the operator\'s page', () => {
  let server: RunningServer;
  let browser: Browser;
  let api: ServiceApi;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ queueMaxActive: 100, queueAdmitPerSecond: 50 }), launchBrowser()]);
    api = new ServiceApi(server.baseUrl, server.adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in with the admin key kept in this tab only, and says so in words when the key is wrong', async () => {
    const { event } = await api.freshEvent('Key Check Evening');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await page.goto('/admin/');
    await page.getByLabel('Admin key').fill(`${server.adminKey}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(alert(page).filter({ hasText: 'That admin key was not accepted.' }));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await signInAsOperator(page, server.adminKey);
    await visible(page.getByRole('link', { name: `Operate ${event.name}` }));
    expect(await page.evaluate("sessionStorage.getItem('ticketing.adminKey')")).toBe(server.adminKey);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    // Another tab of the same browser starts signed out: the key never left this one.
    const other = await page.context().newPage();
    await other.goto('/admin');
    await visible(other.getByLabel('Admin key'));
    // The shop still lives at /.
    await other.goto('/');
    await visible(other.getByLabel('Your name'));
    expect(problems).toEqual([]);
  });

  it('schedules an opening, shows the pre-queue, then the shuffle placing it; pause stops admissions and resume starts them', async () => {
    const { event } = await api.freshEvent('Opening Night Gala');
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signInAsOperator(page, server.adminKey);
    await operate(page, event.name);

    // Two at a time, one a second: the line must form.
    await page.getByLabel('Max active buyers').fill('2');
    await page.getByLabel('Admissions per second').fill('1');
    await page.getByRole('button', { name: 'Save line settings' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Up to 2 buyers at once, 1 let in per second.' }));
    // Nonsense is refused by the service, and the page says so in a sentence.
    await page.getByLabel('Max active buyers').fill('0');
    await page.getByRole('button', { name: 'Save line settings' }).click();
    await visible(alert(page).filter({ hasText: 'Max active and the admission rate must be whole numbers from 1 to 100,000.' }));

    // Whole seconds: the form takes the time to the second.
    const opensAt = new Date(Math.ceil((Date.now() + OPENS_IN_MS) / 1000) * 1000);
    await page.getByLabel(/^Sales open at/).fill(utcInput(opensAt));
    await page.getByRole('button', { name: 'Schedule opening' }).click();
    await until(text(page, 'line-state')).toBe('Pre-queue');
    await until(text(page, 'opening-state')).toContain('Scheduled: the sale opens');

    // Buyers who join before the opening are in the pre-queue: no position yet.
    const buyers: { user: TestUser; token: string; joinNumber: number }[] = [];
    for (const name of ['Ana', 'Ben', 'Cleo', 'Dev', 'Eli']) {
      const user = await api.createUser(name);
      const view = (await api.joinQueue(user, event.id)) as unknown as BuyerView & { token: string };
      expect(view).toMatchObject({ status: 'WAITING', position: null, opensAt: opensAt.toISOString() });
      buyers.push({ user, token: view.token, joinNumber: view.joinNumber });
    }
    await until(text(page, 'line-waiting')).toBe('5');
    expect(await page.getByTestId('line-active').textContent()).toBe('0');
    await visible(page.getByText('Commitment'));
    await picture(page, '17-admin-line');

    // The opening: the shuffle places the pre-queue, and the page shows the order it drew.
    await until(text(page, 'line-state'), OPENS_IN_MS + 10_000).toBe('Open');
    const fairness = await api.call<Fairness>('GET', `/api/v1/events/${event.id}/fairness`);
    expect(fairness.opened).toBe(true);
    expect([...fairness.order].sort((a, b) => a - b)).toEqual(fairness.prequeue);
    expect(fairness.prequeue).toEqual(buyers.map((b) => b.joinNumber).sort((a, b) => a - b));
    await until(() => page.getByTestId('fairness-order').locator('li').allTextContents()).toEqual(fairness.order.map((n) => `#${n}`));
    // Each buyer's place is the one the shuffle gave their join number: the first two are let in (one a
    // second), the others wait at the position the draw gave them.
    const views = () => Promise.all(buyers.map((b) => api.queueStatus(b.token) as unknown as Promise<BuyerView>));
    await until(async () => (await views()).filter((view) => view.status === 'ACTIVE').length).toBe(2);
    const placeOf = (index: number) => fairness.order.indexOf(at(buyers, index).joinNumber);
    expect((await views()).map((view) => [view.status, view.position])).toEqual(
      buyers.map((_, index) => (placeOf(index) < 2 ? ['ACTIVE', 0] : ['WAITING', placeOf(index) - 1])),
    );
    await until(text(page, 'line-active')).toBe('2');
    await until(text(page, 'line-waiting')).toBe('3');
    await until(text(page, 'opening-state')).toContain('The sale opened');

    // Paused: the two admitted buyers leave, and nobody takes their slots.
    await page.getByRole('button', { name: 'Pause admissions' }).click();
    await until(text(page, 'line-state')).toBe('Paused');
    await until(text(page, 'line-eta')).toBe('On hold while paused');
    const admitted = buyers.filter((_, index) => placeOf(index) < 2);
    for (const b of admitted) await api.client.call('DELETE', '/api/v1/queue/tokens/current', { user: b.user, queueToken: b.token });
    await until(text(page, 'line-active')).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await page.getByTestId('line-waiting').textContent()).toBe('3');
    expect(await page.getByTestId('line-active').textContent()).toBe('0');
    const waiting = buyers.filter((_, index) => placeOf(index) >= 2);
    for (const b of waiting) expect(await api.queueStatus(b.token)).toMatchObject({ status: 'WAITING', paused: true });
    await picture(page, '18-admin-paused');

    // Resumed: two are let in again, one a second.
    await page.getByRole('button', { name: 'Resume admissions' }).click();
    await until(text(page, 'line-state')).toBe('Open');
    await until(text(page, 'line-active')).toBe('2');
    await until(text(page, 'line-waiting')).toBe('1');
    expect(await page.locator('svg.sparkline polyline').count()).toBe(2);
    expect(problems).toEqual([]);
  });

  it('shows a date selling out, seat by seat, with the money, cancels another date after a confirmation, and disables the event', async () => {
    const { event, schedules } = await api.freshEvent('Last Seats Standing', 2);
    const [date, spare] = [at(schedules, 0), at(schedules, 1)];
    const { page, problems } = await openTab(browser, server.baseUrl);
    await signInAsOperator(page, server.adminKey);
    await operate(page, event.name);
    const row = page.locator(`tr[data-schedule="${date.id}"]`);
    await until(() => row.getByTestId('seats-available').textContent()).toBe('50');

    // Thirteen buyers take all fifty seats, four at a time (HOLD_MAX_PER_USER).
    const seats = Array.from({ length: 50 }, (_, i) => i + 1);
    const groups = Array.from({ length: Math.ceil(seats.length / 4) }, (_, i) => seats.slice(i * 4, i * 4 + 4));
    await Promise.all(
      groups.map(async (group, i) => {
        const user = await api.createUser(`Fan ${i + 1}`);
        await api.charge(user, 100_000);
        await api.buy(user, event.id, date.id, group);
      }),
    );
    const total = 10 * PRICES.VIP + 30 * PRICES.STANDARD + 10 * PRICES.STANDING;
    await until(() => row.getByTestId('date-state').textContent()).toBe('Sold out');
    expect(await row.getByTestId('seats-available').textContent()).toBe('0');
    expect(await row.getByTestId('seats-sold').textContent()).toBe('50');
    await until(text(page, 'sales-revenue')).toBe(money(total));
    expect(await page.getByTestId('sales-purchases').textContent()).toBe('50');

    // Canceling a date asks first; "Keep date" steps back.
    const spareRow = page.locator(`tr[data-schedule="${spare.id}"]`);
    await spareRow.getByRole('button', { name: 'Cancel date' }).click();
    await visible(spareRow.getByText('Cancel this date? Every purchase is refunded and every hold released.'));
    await spareRow.getByRole('button', { name: 'Keep date' }).click();
    await spareRow.getByRole('button', { name: 'Cancel date' }).click();
    await spareRow.getByRole('button', { name: 'Yes, cancel date' }).click();
    await visible(page.getByRole('status').filter({ hasText: '0 purchases refunded, 0 holds released.' }));
    await until(() => spareRow.getByTestId('date-state').textContent()).toBe('Canceled');
    // Every date is now sold out or canceled: the line says the event is sold out.
    await until(text(page, 'line-state')).toBe('Sold out');
    await picture(page, '19-admin-sold-out');

    // Disabled: gone from the shop's list; enabled again: back.
    await page.getByRole('button', { name: 'Disable event' }).click();
    await until(text(page, 'enabled-state')).toContain('Disabled');
    const listed = async () => (await api.call<{ id: string }[]>('GET', '/api/v1/events')).some((e) => e.id === event.id);
    expect(await listed()).toBe(false);
    await page.getByRole('button', { name: 'Enable event' }).click();
    await until(text(page, 'enabled-state')).toContain('On sale');
    await until(listed).toBe(true);
    expect(problems).toEqual([]);
  });
});
