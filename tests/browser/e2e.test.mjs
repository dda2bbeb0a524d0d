// End to end in a real browser: Debian's Chromium clicks through the demo shop served by a real
// crm-local ($CRM_LOCAL_BIN, started here on a free port with its own data dir), and the admin
// API must show what happened — and the data dir must not hold anything typed into the form.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  artifactsDir,
  eventsOf,
  launchBrowser,
  newVisitorContext,
  readAllFiles,
  sleep,
  startCrmLocal,
  startRecordingProxy,
  waitFor,
} from './support.mjs';

const RAGE_SELECTOR = 'section#help>div.chat>span.chat-badge';
const SITE = 'site=demo';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(() => browser?.close());

/**
 * A crm-local of its own for one test, stopped and wiped after it (kept when the test fails).
 * The browser reaches it through a recording proxy (`shop`), which sees every beacon; the test
 * reads the admin API directly.
 */
async function crmLocal(t) {
  const server = await startCrmLocal();
  const proxy = await startRecordingProxy(server.base);
  t.after(async () => {
    await proxy.close();
    await server.stop();
    if (t.passed) await rm(server.dataDir, { recursive: true, force: true });
    else console.log(`crm-local data dir kept for inspection: ${server.dataDir}\n${server.output()}`);
  });
  return { ...server, shop: proxy.base, beacons: proxy.beacons };
}

async function clickBurst(page, selector, clicks) {
  const box = await page.locator(selector).boundingBox();
  for (let i = 0; i < clicks; i++) await page.mouse.click(box.x + box.width / 2 + i * 3, box.y + box.height / 2);
}

describe('the demo shop against a real crm-local', () => {
  test('one visit is scored: page views, friction on the rage-clicked element, intent, nothing typed stored', async (t) => {
    const server = await crmLocal(t);
    const context = await newVisitorContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const marker = `typed-secret-${Math.random().toString(36).slice(2, 12)}`;
    const email = `jane.${Math.random().toString(36).slice(2, 10)}@example.com`;

    await page.goto(`${server.shop}/demo/`);
    // Consent before the first batch goes (5 s), so every beacon of the visit carries the id.
    await page.click('[data-consent-choice=granted]');
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: join(artifactsDir, 'demo.png'), fullPage: true });

    await page.click('nav >> text=Pricing');
    await page.waitForURL('**/demo/pricing.html');
    await page.hover('#plan-pro');
    await sleep(800);
    await page.click('[data-cta=buy-pro]');

    await page.click('nav >> text=Contact');
    await page.waitForURL('**/demo/contact.html');
    await page.fill('#contact-name', marker);
    await page.fill('#contact-email', email);
    await page.fill('#contact-message', `Hello, ${marker} here, write to ${email}`);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await sleep(300);
    await clickBurst(page, '.chat-badge', 5);
    await sleep(900); // the burst ends 700 ms after its last click

    await page.click('nav >> text=Home'); // the started form is abandoned
    await page.waitForURL('**/demo/');
    await page.click('a[data-spa]'); // a History API navigation
    await page.waitForURL('**/demo/pricing.html');
    await page.waitForSelector('#plan-pro');
    await page.close(); // pagehide flushes the last batch

    const visitedPaths = ['/demo/', '/demo/pricing.html', '/demo/contact.html', '/demo/', '/demo/pricing.html'];
    await waitFor(() => eventsOf(server.beacons).filter((event) => event.t === 'page_leave').length === visitedPaths.length, {
      what: 'the browser to send the last page_leave',
    });

    // Scoring is asynchronous (queue, scorer): poll until the last page view is in.
    const visitors = await waitFor(
      async () => {
        const list = await server.api(`/api/admin/behavior/visitors?${SITE}`);
        return list.length === 1 && list[0].page_views >= visitedPaths.length && list;
      },
      { timeout: 15_000, what: 'the visit to be scored' },
    );
    const [visitor] = visitors;
    assert.equal(visitor.visitor_kind, 'first_party');
    assert.equal(visitor.page_views, visitedPaths.length);
    assert.ok(visitor.scores.friction > 0, `friction ${visitor.scores.friction}`);
    assert.ok(visitor.scores.intent > 0, `intent ${visitor.scores.intent}`);
    assert.ok(visitor.scores.engagement > 0, `engagement ${visitor.scores.engagement}`);

    const detail = await server.api(`/api/admin/behavior/visitors/${encodeURIComponent(visitor.id)}?${SITE}`);
    const sessions = Array.isArray(detail.sessions) ? detail.sessions : detail.session_list;
    assert.equal(sessions.length, 1, 'one tab, one session');
    assert.deepEqual(sessions[0].pages, visitedPaths);

    const friction = await waitFor(
      async () => {
        const points = await server.api(`/api/admin/behavior/friction-points?${SITE}`);
        return points.some((point) => point.kind === 'form_abandon') && points;
      },
      { what: 'friction points' },
    );
    const rage = friction.filter((point) => point.kind === 'rage_click');
    assert.deepEqual(
      rage.map(({ page: path, element, count }) => ({ path, element, count })),
      [{ path: '/demo/contact.html', element: RAGE_SELECTOR, count: 1 }],
    );
    assert.ok(friction.some((point) => point.kind === 'form_abandon' && point.element === 'form#contact-form'));

    const dashboard = await server.api(`/api/admin/behavior/dashboard?${SITE}`);
    assert.ok(JSON.stringify(dashboard).includes('/demo/pricing.html'), 'the dashboard lists the pages');

    // Nothing typed left the browser, and nothing typed is anywhere in the store (WAL included).
    for (const { body } of server.beacons) {
      assert.ok(!body.includes(marker) && !body.includes(email), 'a beacon carried typed text');
    }
    const secrets = [marker, email, encodeURIComponent(email)].map((text) => Buffer.from(text));
    const files = await readAllFiles(server.dataDir);
    assert.ok(files.some(({ path }) => path.endsWith('-wal') || path.endsWith('.db')), files.map(({ path }) => path).join(', '));
    for (const { path, bytes } of files) {
      for (const secret of secrets) assert.equal(bytes.indexOf(secret), -1, `${path} contains ${secret}`);
    }
    // The store deflates raw events: read it through `crm-local dump`, which inflates them.
    const dump = await server.dump();
    assert.ok(dump.includes('/demo/pricing.html') && dump.includes('"E#'), 'the dump shows the raw events');
    for (const secret of secrets) assert.ok(!dump.includes(secret.toString()), `the store keeps ${secret}`);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(await context.cookies(), [], 'no cookie');

    // Intent signals: the element-level ones, then how the pages were classified.
    const intent = await server.api(`/api/admin/behavior/intent-signals?${SITE}`);
    const signals = intent.map((signal) => `${signal.kind} ${signal.page} ${signal.detail}`);
    const listed = `intent signals:\n${signals.join('\n')}`;
    assert.ok(signals.includes('cta_click /demo/pricing.html buy-pro'), listed);
    assert.ok(signals.includes('hover_intent /demo/pricing.html section#plan-pro'), listed);
    assert.ok(signals.includes('pricing_view /demo/pricing.html '), listed);
    assert.ok(signals.includes('contact_view /demo/contact.html '), listed);
  });

  test('with Do Not Track the visitor gets no first-party id, even after consent', async (t) => {
    const server = await crmLocal(t);
    const context = await newVisitorContext(browser, { doNotTrack: true });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${server.shop}/demo/`);
    await page.click('[data-consent-choice=granted]');
    await page.click('nav >> text=Pricing');
    await page.waitForURL('**/demo/pricing.html');
    await page.close();

    const visitors = await waitFor(
      async () => {
        const list = await server.api(`/api/admin/behavior/visitors?${SITE}`);
        return list.length === 1 && list[0].page_views === 2 && list;
      },
      { timeout: 15_000, what: 'the visit to be scored' },
    );
    assert.equal(visitors[0].visitor_kind, 'daily');
    assert.ok(server.beacons.length > 0);
    for (const { body } of server.beacons) assert.equal(JSON.parse(body).vid, undefined, 'a beacon carried a first-party id');
    const storage = await context.storageState();
    assert.ok(!JSON.stringify(storage).includes('crm_vid'), 'a first-party id was stored');
  });

  test('data-consent="required" without consent: not one beacon, nothing in the API', async (t) => {
    const server = await crmLocal(t);
    const context = await newVisitorContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${server.shop}/demo/consent.html`);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.click('h1');
    await page.evaluate(() => crm('event', 'newsletter_viewed'));
    await sleep(5_600); // longer than the tracker's batch timer
    await page.close();
    await sleep(1_000);
    assert.equal(server.beacons.length, 0, 'a beacon was sent without consent');
    assert.deepEqual(await server.api(`/api/admin/behavior/visitors?${SITE}`), []);
  });
});
