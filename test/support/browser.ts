/**
 * A real browser for the web portal's tests: Debian's headless Chromium driven by
 * playwright-core, an axe-core scan, and a record of Content-Security-Policy refusals
 * (the portal is served with a strict CSP; anything it blocks is a defect).
 */
import axe from 'axe-core';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the test run saves its screenshots: `test-results/screenshots/`, or SCREENSHOTS_DIR (`docs/screenshots` refreshes the README's). */
export const SCREENSHOTS_DIR = resolve(import.meta.dirname, '../..', process.env.SCREENSHOTS_DIR ?? 'test-results/screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian's package), or set CHROMIUM_PATH`);
  }
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface PortalPage {
  context: BrowserContext;
  page: Page;
  /** Console messages in which the browser reports a Content-Security-Policy refusal. */
  cspViolations: string[];
  /** Uncaught errors of the page's scripts. */
  pageErrors: string[];
}

export async function openPage(browser: Browser, baseURL: string, viewport = { width: 1280, height: 900 }): Promise<PortalPage> {
  const context = await browser.newContext({ baseURL, viewport, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return { context, page, cspViolations, pageErrors };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's WCAG scan of the page as it is; answers the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Through the DevTools protocol, not a <script> tag: the page's CSP rightly refuses inline scripts.
  await page.evaluate(axe.source);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}

/** Width of the page's content: wider than the viewport means sideways scrolling. */
export async function contentWidth(page: Page): Promise<number> {
  return (await page.evaluate('document.documentElement.scrollWidth')) as number;
}
