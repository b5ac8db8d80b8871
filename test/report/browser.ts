/**
 * A real headless Chromium (Debian's `chromium` package) driven over CDP by
 * playwright-core, which downloads nothing: it runs the browser at CHROMIUM. Tests
 * that need it skip, saying why, when it is not installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/** Skips the current test, with the reason in its title, when Chromium is missing. Call first thing in an `it`. */
export function skipWithoutChromium(context: Mocha.Context): void {
  if (chromiumInstalled()) return;
  if (context.test) context.test.title += ` (skipped: ${CHROMIUM} is not installed; apt-get install chromium, as .ci/run does)`;
  context.skip();
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface OpenedPage {
  readonly page: Page;
  /** Console errors, uncaught page errors and failed requests, in order. */
  readonly errors: string[];
  /** Every URL the page asked for besides itself (a self-contained page asks for none). */
  readonly requests: string[];
}

/** Opens a file in a fresh page, collecting console errors and requests from the start. */
export async function openFile(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = `file://${file}`;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}
