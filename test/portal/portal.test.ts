/**
 * The web portal in a real browser (headless Chromium) against the local cloud as
 * `npm start` runs it: the portal served on the gateway with its CSP, sign-in through
 * the local issuer's authorize page (authorization code + PKCE), the real API, the
 * real workflows on local Step Functions and the Identity Center emulator.
 * Carol requests; Dave approves and denies; Alice administers.
 */
import { resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { contentWidth, launchChromium, openPage, screenshot, seriousA11yViolations, type PortalPage } from '../support/browser.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';

/** The demo policy (`npm start`'s): the durations and approvers a person meets. */
const DEMO_POLICY = resolve(import.meta.dirname, '../../config/policy.local.yaml');
const LONG = 120_000;
/** Short-lived sign-in tokens, so the portal renews them during the run (with 10 s to spare on a busy machine). */
const TOKEN_TTL_SECONDS = 40;

describe('web portal in a browser', () => {
  let cloud: LocalCloud;
  let browser: Browser;
  const opened: PortalPage[] = [];
  const api = httpClient(() => cloud);

  beforeAll(async () => {
    cloud = await startFastLocalCloud({ policyFile: DEMO_POLICY, portal: true, slack: false, signInTokenTtlSeconds: TOKEN_TTL_SECONDS, idcKnobs: { provisioningDelayMs: { minMs: 50, maxMs: 300 } } });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
  });

  /** A fresh browser profile signed in as one of the demo users through the issuer's page. */
  async function signInAs(displayName: string, viewport?: { width: number; height: number }): Promise<Page> {
    const session = await openPage(browser, cloud.gatewayUrl, viewport);
    opened.push(session);
    const { page } = session;
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: `Sign in as ${displayName}` }).click();
    await page.getByRole('heading', { level: 1, name: 'Request access' }).waitFor();
    return page;
  }

  async function expectAccessible(page: Page): Promise<void> {
    expect(await seriousA11yViolations(page)).toEqual([]);
  }

  /** Waits until the page's (first) status badge reads `label`; polling in the app brings it. */
  async function waitForStatus(scope: Page | Locator, label: string): Promise<void> {
    await scope.locator('.status', { hasText: new RegExp(`^${label}$`) }).first().waitFor({ timeout: 30_000 });
  }

  const grantIdOf = (page: Page) => /\/grants\/([0-9A-Z]{26})$/.exec(new URL(page.url()).pathname)?.[1] ?? '';
  const card = (page: Page, title: string) => page.locator('article', { has: page.getByRole('heading', { name: title }) });

  let carol: Page;
  let autoGrantId = '';
  let approvedGrantId = '';

  it('shows the sign-in screen, accessible, and keeps tokens out of localStorage', async () => {
    const signedOut = await openPage(browser, cloud.gatewayUrl);
    opened.push(signedOut);
    const { page } = signedOut;
    await page.goto('/mine');
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'sign-in');
    await page.context().close();

    carol = await signInAs('Carol Coder');
    expect(await carol.evaluate('localStorage.length')).toBe(0);
    expect(await carol.evaluate("Object.keys(sessionStorage).includes('icjit.session')")).toBe(true);
  }, LONG);

  it('requests auto-approved access and sees it become ACTIVE without reloading', async () => {
    await carol.getByLabel('Search accounts, ids, permission sets and groups').fill('payments-dev');
    await carol.getByRole('radio', { name: /payments-dev \(444444444444\) — ReadOnlyAccess/ }).check();
    await carol.getByText('No approval needed: access starts as soon as you send it.').waitFor();
    await expectAccessible(carol);
    await carol.getByLabel('Justification').fill('read the payments-dev logs for INC-42');
    await carol.getByLabel('Ticket').fill('INC-42');
    await screenshot(carol, 'request');
    await carol.getByRole('button', { name: 'Send request' }).click();
    await carol.waitForURL(/\/grants\/[0-9A-Z]{26}$/);
    autoGrantId = grantIdOf(carol);
    await waitForStatus(carol, 'Active');
    // Focus moves to the new screen's heading, so screen readers start there.
    expect(await carol.evaluate("document.activeElement?.tagName + ':' + document.activeElement?.textContent")).toBe('H1:ReadOnlyAccess on payments-dev');
    await carol.getByRole('link', { name: 'Open in the AWS access portal' }).waitFor();
    expect(await carol.getByRole('link', { name: 'Open in the AWS access portal' }).getAttribute('href')).toMatch(/^https:\/\/.+\/start\/#\/console\?account_id=444444444444&role_name=ReadOnlyAccess$/);
    await carol.locator('.time-left').waitFor();
    await expectAccessible(carol);
    await screenshot(carol, 'grant');
    const grant = await api('GET', `/grants/${autoGrantId}`, 'carol@example.com');
    expect(grant.body.status).toBe('ACTIVE');
  }, LONG);

  it("shows the API's sentence at the field it names and keeps what was typed", async () => {
    await carol.getByRole('link', { name: 'Request', exact: true }).click();
    await carol.getByRole('heading', { level: 1, name: 'Request access' }).waitFor();
    await carol.getByLabel('Search accounts, ids, permission sets and groups').fill('444444444444');
    await carol.getByRole('radio', { name: /payments-dev \(444444444444\) — ReadOnlyAccess/ }).check();
    await carol.getByLabel('Duration: amount').fill('9');
    await carol.getByLabel('Duration: unit').selectOption('H');
    await carol.getByLabel('Justification').fill('a long investigation');
    await carol.getByRole('button', { name: 'Send request' }).click();
    const fieldError = carol.locator('#duration-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toBe('must be within PT15M to PT4H (rule dev-readonly)');
    expect(await carol.getByLabel('Duration: amount').getAttribute('aria-invalid')).toBe('true');
    expect(await carol.getByLabel('Duration: amount').getAttribute('aria-describedby')).toContain('duration-error');
    expect(await carol.locator('.error-summary').textContent()).toContain('duration PT9H is outside what policy allows');
    expect(await carol.getByLabel('Justification').inputValue()).toBe('a long investigation');
    expect(new URL(carol.url()).pathname).toBe('/');
    await expectAccessible(carol);
    await screenshot(carol, 'request-error');
  }, LONG);

  it('requests access that needs approval; another user approves and the requester sees it ACTIVE; a second request is denied', async () => {
    await carol.getByLabel('Search accounts, ids, permission sets and groups').fill('payments-prod power');
    await carol.getByRole('radio', { name: /payments-prod \(555555555555\) — PowerUserAccess/ }).check();
    await carol.getByText('Needs one approval from the SecurityApprovers group (rule “prod-poweruser”); access starts once approved.').waitFor();
    await carol.getByLabel('Duration: amount').fill('1');
    await carol.getByLabel('Duration: unit').selectOption('H');
    await carol.getByLabel('Justification').fill('deploy the payments fix');
    await carol.getByRole('button', { name: 'Send request' }).click();
    await carol.waitForURL(/\/grants\/[0-9A-Z]{26}$/);
    approvedGrantId = grantIdOf(carol);
    await waitForStatus(carol, 'Waiting for approval');

    await carol.getByRole('link', { name: 'Request', exact: true }).click();
    await carol.getByLabel('Search accounts, ids, permission sets and groups').fill('breakglass');
    await carol.getByRole('radio', { name: 'Membership of group BreakGlass' }).check();
    await carol.getByLabel('Justification').fill('just in case');
    await carol.getByRole('button', { name: 'Send request' }).click();
    await carol.waitForURL(/\/grants\/[0-9A-Z]{26}$/);
    await waitForStatus(carol, 'Waiting for approval');

    const dave = await signInAs('Dave Defender');
    await dave.getByRole('link', { name: 'Approvals' }).click();
    const prod = card(dave, 'PowerUserAccess on payments-prod');
    await prod.waitFor();
    expect(await prod.textContent()).toContain('deploy the payments fix');
    expect(await prod.textContent()).toContain('0 of 1 approval');
    await expectAccessible(dave);
    await screenshot(dave, 'approvals');
    await prod.getByLabel('Comment').fill('go ahead');
    await prod.getByRole('button', { name: 'Approve' }).click();
    await prod.waitFor({ state: 'detached' });

    const glass = card(dave, 'Member of BreakGlass');
    await glass.getByLabel('Comment').fill('not without an incident');
    await glass.getByRole('button', { name: 'Deny' }).click();
    await glass.waitFor({ state: 'detached' });
    await dave.getByText('Nothing waits for your decision.').waitFor();

    await carol.getByRole('link', { name: 'My access' }).click();
    await waitForStatus(card(carol, 'PowerUserAccess on payments-prod'), 'Active');
    await waitForStatus(card(carol, 'Member of BreakGlass'), 'Denied');
    await expectAccessible(carol);
    await screenshot(carol, 'my-access');
    const approved = await api('GET', `/grants/${approvedGrantId}`, 'carol@example.com');
    expect(approved.body.approvals.map((a: { by: { name: string }; comment?: string }) => [a.by.name, a.comment])).toEqual([['dave@example.com', 'go ahead']]);
  }, LONG);

  it('extends active access within the rule, then revokes it with a reason', async () => {
    const before = (await api('GET', `/grants/${autoGrantId}`, 'carol@example.com')).body;
    await carol.goto(`/grants/${autoGrantId}`);
    await waitForStatus(carol, 'Active');
    await carol.getByText('Extend', { exact: true }).click();
    await carol.getByText('In all at most 8 h from activation.').waitFor();
    await carol.getByLabel('Extend by: amount').fill('30');
    await carol.getByLabel('Extend by: unit').selectOption('M');
    await carol.getByRole('button', { name: 'Extend access' }).click();
    await carol.locator('.timeline li', { hasText: 'extend' }).first().waitFor();
    const extended = (await api('GET', `/grants/${autoGrantId}`, 'carol@example.com')).body;
    expect(Date.parse(extended.expiresAt) - Date.parse(before.expiresAt)).toBe(30 * 60_000);

    await carol.getByText('Revoke', { exact: true }).click();
    await carol.getByLabel('Reason for revoking').fill('done with the logs');
    await carol.getByRole('button', { name: 'Revoke access' }).click();
    await waitForStatus(carol, 'Revoked');
    const revoked = (await api('GET', `/grants/${autoGrantId}`, 'carol@example.com')).body;
    expect(revoked.status).toBe('REVOKED');
    expect(revoked.revokeReason).toBe('done with the logs');
  }, LONG);

  it('lets an admin filter all active grants and revoke one with a reason', async () => {
    const alice = await signInAs('Alice Admin');
    await alice.getByRole('link', { name: 'Admin' }).click();
    const prod = card(alice, 'PowerUserAccess on payments-prod');
    await prod.waitFor();
    await alice.getByLabel('User', { exact: true }).fill('bob');
    await prod.waitFor({ state: 'detached' });
    await alice.getByLabel('User', { exact: true }).fill('carol');
    await prod.waitFor();
    await expectAccessible(alice);
    await screenshot(alice, 'admin');
    await prod.getByText('Revoke', { exact: true }).click();
    await prod.getByRole('button', { name: 'Revoke access' }).click();
    // An empty reason is the API's to refuse, and its sentence lands at the field.
    await prod.locator('.field-error').waitFor();
    expect(await prod.locator('.field-error').textContent()).toBe('must not be empty');
    await prod.getByLabel('Reason for revoking').fill('access review: not needed');
    await prod.getByRole('button', { name: 'Revoke access' }).click();
    const ended = await waitForApi(approvedGrantId, ['REVOKED']);
    expect(ended.revokeReason).toBe('access review: not needed');
    await alice.getByLabel('Status').selectOption('REVOKED');
    await waitForStatus(card(alice, 'PowerUserAccess on payments-prod'), 'Revoked');
  }, LONG);

  it('is usable 360 px wide (no sideways scrolling) on the request and approvals screens', async () => {
    const phone = await signInAs('Carol Coder', { width: 360, height: 760 });
    await phone.getByRole('radio').first().waitFor();
    expect(await contentWidth(phone)).toBeLessThanOrEqual(360);
    await expectAccessible(phone);
    await screenshot(phone, 'request-360px');
    await phone.getByRole('link', { name: 'My access' }).click();
    await phone.locator('article').first().waitFor();
    expect(await contentWidth(phone)).toBeLessThanOrEqual(360);

    const dave = await signInAs('Dave Defender', { width: 360, height: 760 });
    await api('POST', '/grants', 'bob@example.com', {
      target: { type: 'account', accountId: '555555555555', permissionSet: 'PowerUserAccess' },
      duration: 'PT1H',
      justification: 'hotfix for the card processor, rollback plan in the ticket',
      ticket: 'CHG-7781',
    });
    await dave.getByRole('link', { name: 'Approvals' }).click();
    await card(dave, 'PowerUserAccess on payments-prod').waitFor();
    expect(await contentWidth(dave)).toBeLessThanOrEqual(360);
    await expectAccessible(dave);
    await screenshot(dave, 'approvals-360px');
  }, LONG);

  it('renews its token with the refresh token before it lapses', async () => {
    const tokenOf = (page: Page) => page.evaluate("JSON.parse(sessionStorage.getItem('icjit.session')).accessToken") as Promise<string>;
    const first = await tokenOf(carol);
    await carol.waitForFunction((before) => JSON.parse(sessionStorage.getItem('icjit.session') ?? '{}').accessToken !== before, first, { timeout: TOKEN_TTL_SECONDS * 1000 });
    await carol.getByRole('link', { name: 'My access' }).click();
    await carol.locator('article').first().waitFor();
    expect(await carol.locator('.error-summary').count()).toBe(0);
  }, LONG);

  it('says "signed out — sign in again" when renewal is refused, and keeps what was typed through the new sign-in', async () => {
    const bob = await signInAs('Bob Builder');
    await bob.getByLabel('Search accounts, ids, permission sets and groups').fill('payments-dev');
    await bob.getByRole('radio', { name: /payments-dev \(444444444444\) — ReadOnlyAccess/ }).check();
    await bob.getByLabel('Justification').fill('half-written reason');
    // The tab comes back after its tokens lapsed and the issuer no longer knows its refresh token.
    await bob.evaluate(`(() => {
      const s = JSON.parse(sessionStorage.getItem('icjit.session'));
      sessionStorage.setItem('icjit.session', JSON.stringify({ ...s, refreshToken: 'no-longer-valid', refreshAt: 0, expiresAt: 0 }));
    })()`);
    await bob.reload();
    await bob.getByText('Signed out — sign in again.').waitFor();
    await expectAccessible(bob);
    await screenshot(bob, 'signed-out');
    await bob.getByRole('button', { name: 'Sign in again' }).click();
    await bob.getByRole('button', { name: 'Sign in as Bob Builder' }).click();
    await bob.getByRole('heading', { level: 1, name: 'Request access' }).waitFor();
    expect(await bob.getByLabel('Justification').inputValue()).toBe('half-written reason');
    expect(await bob.getByRole('radio', { name: /payments-dev \(444444444444\) — ReadOnlyAccess/ }).isChecked()).toBe(true);
    expect(await bob.getByText('Signed out — sign in again.').count()).toBe(0);
  }, LONG);

  it('breaks no Content-Security-Policy rule and throws no script error on any page', () => {
    expect(opened.flatMap((p) => p.cspViolations)).toEqual([]);
    expect(opened.flatMap((p) => p.pageErrors)).toEqual([]);
  });

  async function waitForApi(id: string, statuses: string[]): Promise<{ status: string; revokeReason?: string }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const grant = (await api('GET', `/grants/${id}`, 'alice@example.com')).body;
      if (statuses.includes(grant.status)) return grant;
      if (Date.now() > deadline) throw new Error(`grant ${id} stayed ${grant.status}; wanted ${statuses.join('|')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
