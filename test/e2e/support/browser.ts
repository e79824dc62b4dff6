/**
 * Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, plus the few steps a
 * person takes on the page, written once so the tests read like the flow they check.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { repoRoot } from '../../../tools/processes.js';
import type { TestUser } from './api.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Skip only on a developer machine without Chromium; in CI a missing browser is a failure. */
export const skipWithoutChromium = !existsSync(CHROMIUM_PATH) && !process.env.CI;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it with: apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, to assert the page stayed healthy. */
  problems: string[];
}

/** A separate browser profile (own localStorage = own user), like a second person on another laptop. */
export async function openTab(browser: Browser, baseUrl: string): Promise<Tab> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The browser logs every non-2xx fetch as a console error; those are expected answers
    // (409 seat taken, 402 insufficient balance, a missing SSE route). Script errors are not.
    if (message.type() === 'error' && !/Failed to load resource|EventSource/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return { context, page, problems };
}

// ---- screenshots ---------------------------------------------------------------------------

/**
 * With UPDATE_SCREENSHOTS=1 the images go to docs/screenshots/ (linked from the README);
 * otherwise to test-results/e2e-screenshots/ so a normal run leaves the work tree alone.
 */
export const screenshotDir = process.env.UPDATE_SCREENSHOTS
  ? path.join(repoRoot, 'docs', 'screenshots')
  : path.join(repoRoot, 'test-results', 'e2e-screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  // No hover effects from wherever the last click left the pointer; settle on a whole frame.
  await page.mouse.move(1, 1);
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
}

// ---- waiting for the page ------------------------------------------------------------------

/** Retrying assertion: `await until(() => locator.textContent()).toBe('x')`. */
export const until = <T>(read: () => T | Promise<T>, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

export async function visible(locator: Locator, timeout = 15_000): Promise<Locator> {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator;
}

// ---- what a person does --------------------------------------------------------------------

export const alert = (page: Page): Locator => page.locator('#messages [role="alert"]');

export async function signUp(page: Page, name: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await until(() => page.getByTestId('user-name').textContent()).toBe(name);
}

export async function openEvent(page: Page, eventName: string): Promise<void> {
  await page.getByRole('link', { name: `Choose a date for ${eventName}` }).click();
  await visible(page.getByRole('heading', { level: 1, name: eventName }));
}

/** Picks the n-th date (0-based) and joins the waiting room. */
export async function joinWaitingRoom(page: Page, dateIndex = 0): Promise<void> {
  await page.getByRole('radio').nth(dateIndex).check();
  await page.getByRole('button', { name: 'Join the waiting room' }).click();
}

export async function waitForSeatMap(page: Page, timeout = 20_000): Promise<void> {
  await until(() => page.locator('body').getAttribute('data-screen'), timeout).toBe('seats');
  await until(() => page.locator('.seat[data-status]').count(), timeout).toBe(50);
}

/** From a signed-in page: event → date → waiting room → seat map. */
export async function goToSeatMap(page: Page, eventName: string, dateIndex = 0): Promise<void> {
  await openEvent(page, eventName);
  await joinWaitingRoom(page, dateIndex);
  await waitForSeatMap(page);
}

export const seat = (page: Page, n: number): Locator => page.locator(`.seat[data-seat="${n}"]`);

export async function addFunds(page: Page, amount: string): Promise<void> {
  const form = page.locator('.wallet-panel form');
  await form.getByLabel('Amount to add').fill(amount);
  await form.getByRole('button', { name: 'Add funds' }).click();
  await visible(page.getByRole('status').filter({ hasText: `Added ${amount} to your wallet.` }));
}

/** The account the page created and keeps in localStorage. */
export async function signedInUser(page: Page): Promise<TestUser> {
  const user = (await page.evaluate("localStorage.getItem('ticketing.user')")) as string | null;
  if (!user) throw new Error('the page has no signed-in user');
  return JSON.parse(user) as TestUser;
}
