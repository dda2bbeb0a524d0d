// The tracker in a real Chromium against a stand-in server that serves the demo pages and keeps
// every beacon: what each interaction sends, and what the privacy rules keep from being sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newVisitorContext, sleep, startStubServer, waitFor } from './support.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});
after(() => browser?.close());

/** A fresh visitor (own context, so own storage) on a fresh stand-in server, closed after test `t`. */
async function visitor(t, options) {
  const server = await startStubServer();
  const context = await newVisitorContext(browser, options);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const close = async () => {
    await context.close();
    await server.close();
  };
  t?.after(close);
  return { server, context, page, pageErrors, close };
}

const beaconsOf = (server) => server.received.map(({ body }) => JSON.parse(body));
const ofType = (server, t) => server.events().filter((event) => event.t === t);

describe('a visit through the demo shop', () => {
  const marker = `typed-secret-${Math.random().toString(36).slice(2)}`;
  const email = `jane.${Math.random().toString(36).slice(2)}@example.com`;
  let run;

  before(async () => {
    run = await visitor();
    const { page, server } = run;
    await page.goto(`${server.base}/demo/?utm_source=news&utm_medium=mail&email=${encodeURIComponent(email)}&gclid=abc#top`);
    await page.click('nav >> text=Pricing');
    await page.hover('#plan-pro');
    await sleep(800);
    await page.click('[data-cta=buy-pro]');
    await page.click('nav >> text=Contact');
    await page.fill('#contact-name', marker);
    await page.fill('#contact-email', email);
    await page.fill('#contact-message', `${marker} call me`);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const badge = await page.locator('.chat-badge').boundingBox();
    for (let i = 0; i < 5; i++) await page.mouse.click(badge.x + badge.width / 2 + i * 3, badge.y + badge.height / 2);
    await sleep(900); // the burst ends 700 ms after its last click
    await page.click('nav >> text=Home'); // leaves the started form: abandoned
    await page.waitForURL('**/demo/');
    await page.click('a[data-spa]'); // History API navigation
    await page.waitForURL('**/demo/pricing.html');
    await page.waitForSelector('#plan-pro');
    await page.close(); // pagehide flushes what is left
    await waitFor(() => ofType(server, 'page_leave').length >= 5, { what: 'the last page_leave' });
  });
  after(() => run?.close());

  test('every beacon follows format v1 and is sent as text/plain', () => {
    assert.ok(run.server.received.length > 0);
    for (const { contentType, cookie } of run.server.received) {
      assert.match(contentType, /^text\/plain/);
      assert.equal(cookie, undefined);
    }
    const sids = new Set();
    for (const beacon of beaconsOf(run.server)) {
      assert.equal(beacon.v, 1);
      assert.equal(beacon.site, 'demo');
      assert.match(beacon.sid, /^[0-9a-z]{16,64}$/);
      sids.add(beacon.sid);
      assert.equal(beacon.vid, undefined, 'no first-party id without consent');
      assert.deepEqual(beacon.consent, { analytics: false, marketing: false });
      assert.ok(beacon.events.length >= 1 && beacon.events.length <= 20);
      for (const event of beacon.events) {
        assert.match(event.id, /^[0-9a-z]{1,64}$/);
        assert.equal(typeof event.t, 'string');
        assert.ok(Number.isInteger(event.ts) && Math.abs(event.ts - Date.now()) < 120_000);
        assert.match(event.url, /^http:\/\/127\.0\.0\.1:\d+\/demo\//);
      }
    }
    assert.equal(sids.size, 1, 'one session id for the whole tab');
  });

  test('page views cover every page, the SPA navigation included, with cleaned URLs', () => {
    const views = ofType(run.server, 'page_view');
    const paths = views.map((event) => new URL(event.url).pathname);
    assert.deepEqual(paths, ['/demo/', '/demo/pricing.html', '/demo/contact.html', '/demo/', '/demo/pricing.html']);
    assert.equal(views[0].url, `${run.server.base}/demo/?utm_source=news&utm_medium=mail`);
    assert.equal(views[1].ref, `${run.server.base}/demo/?utm_source=news&utm_medium=mail`);
    assert.equal(views[4].ref, `${run.server.base}/demo/`, 'the SPA view refers to the page it came from');
    assert.equal(views[1].title, 'Pricing — Clay & Co.');
    assert.equal(views[4].title, 'Pricing — Clay & Co.');
    const leaves = ofType(run.server, 'page_leave');
    assert.deepEqual(
      leaves.map((event) => new URL(event.url).pathname),
      ['/demo/', '/demo/pricing.html', '/demo/contact.html', '/demo/', '/demo/pricing.html'],
    );
    for (const leave of leaves) assert.ok(Number.isInteger(leave.props.engaged_ms) && leave.props.engaged_ms >= 0);
    for (const { body } of run.server.received) {
      assert.doesNotMatch(body, /#top|gclid|email=|%40/);
    }
  });

  test('the rage-clicked element is named by a stable selector', () => {
    const [rage, ...more] = ofType(run.server, 'rage_click');
    assert.equal(more.length, 0);
    assert.deepEqual(rage.props, { selector: 'section#help>div.chat>span.chat-badge', tag: 'span', text: 'Chat with us', count: 5 });
    assert.equal(new URL(rage.url).pathname, '/demo/contact.html');
    assert.equal(ofType(run.server, 'dead_click').length, 0, 'a rage burst is not also a dead click');
  });

  test('scrolling to the bottom reports each depth milestone once', () => {
    const onContact = ofType(run.server, 'scroll').filter((event) => event.url.endsWith('/demo/contact.html'));
    assert.deepEqual(onContact.map((event) => event.props.depth), [25, 50, 75, 100]);
  });

  test('intent signals: hover on a plan, a CTA click, clicks on links', () => {
    const [hover] = ofType(run.server, 'hover_intent');
    assert.equal(hover.props.selector, 'section#plan-pro');
    const [cta] = ofType(run.server, 'cta_click');
    assert.deepEqual(cta.props, { selector: 'section#plan-pro>button.button', tag: 'button', text: 'Buy Pro', cta: 'buy-pro' });
    const nav = ofType(run.server, 'click').find((event) => event.props.text === 'Contact');
    assert.deepEqual(nav.props, { selector: 'header>nav>a', tag: 'a', text: 'Contact', href: `${run.server.base}/demo/contact.html` });
  });

  test('the contact form is started and abandoned, and nothing typed is ever sent', () => {
    assert.deepEqual(ofType(run.server, 'form_start').map((event) => event.props), [{ form: 'form#contact-form' }]);
    assert.deepEqual(ofType(run.server, 'form_abandon').map((event) => event.props), [{ form: 'form#contact-form' }]);
    assert.equal(ofType(run.server, 'form_submit').length, 0);
    for (const { body } of run.server.received) {
      assert.ok(!body.includes(marker), 'a typed value was sent');
      assert.ok(!body.includes(email) && !body.includes(encodeURIComponent(email)), 'the typed email was sent');
    }
  });

  test('the tracker sets no cookie and stores nothing without consent', async () => {
    assert.deepEqual(await run.context.cookies(), []);
    const page = await run.context.newPage();
    await page.goto(`${run.server.base}/demo/contact.html`);
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.equal(await page.evaluate(() => localStorage.getItem('crm_vid')), null);
    await page.close();
    assert.deepEqual(run.pageErrors, []);
  });
});

test('a submitted form reports form_submit and no abandon', async (t) => {
  const { page, server } = await visitor(t);
  await page.goto(`${server.base}/demo/contact.html`);
  await page.fill('#contact-name', 'Jane');
  await page.fill('#contact-message', 'hello');
  await page.click('text=Send message');
  await page.waitForSelector('#contact-sent');
  await page.close();
  await waitFor(() => ofType(server, 'page_leave').length, { what: 'page_leave' });
  assert.deepEqual(ofType(server, 'form_start').map((event) => event.props.form), ['form#contact-form']);
  assert.deepEqual(ofType(server, 'form_submit').map((event) => event.props.form), ['form#contact-form']);
  assert.equal(ofType(server, 'form_abandon').length, 0);
  const custom = ofType(server, 'custom');
  assert.deepEqual(custom.map((event) => event.props), [{ topic: 'demo-shop', name: 'contact_request' }]);
});

test('dead click, download, outbound link, copy, JS error and exit intent', async (t) => {
  const { page, server, pageErrors } = await visitor(t);
  await page.goto(`${server.base}/demo/`);
  await page.click('#free-shipping'); // looks clickable, does nothing
  await sleep(900);
  // Keep the browser on the page: the outbound link must not navigate to the internet here.
  await page.evaluate(() => addEventListener('click', (event) => event.target.closest('a[href^="https://example.com"]') && event.preventDefault()));
  await page.click('text=Where our clay comes from');
  const download = page.waitForEvent('download');
  await page.click('text=Download the price list (CSV)');
  await download;
  await page.evaluate(() => document.querySelector('.coupon').dispatchEvent(new ClipboardEvent('copy', { bubbles: true })));
  await page.evaluate(() => setTimeout(() => { throw new Error('boom from the page'); }));
  await page.mouse.move(600, 300);
  await page.evaluate(() => document.body.dispatchEvent(new MouseEvent('mouseout', { bubbles: true, clientX: 600, clientY: -2, relatedTarget: null })));
  await sleep(100);
  await page.close();
  await waitFor(() => ofType(server, 'page_leave').length, { what: 'page_leave' });

  assert.deepEqual(ofType(server, 'dead_click').map((event) => event.props), [
    { selector: 'span#free-shipping', tag: 'span', text: 'Free shipping over €50' },
  ]);
  assert.deepEqual(ofType(server, 'outbound_click').map((event) => event.props.href), ['https://example.com/clay']);
  assert.deepEqual(ofType(server, 'download').map((event) => event.props.href), [`${server.base}/demo/price-list.csv`]);
  assert.deepEqual(ofType(server, 'copy').map((event) => event.props.selector), ['main>p>span.coupon']);
  assert.deepEqual(ofType(server, 'error').map((event) => event.props.message), ['Uncaught Error: boom from the page']);
  assert.equal(ofType(server, 'exit_intent').length, 1);
  assert.deepEqual(pageErrors, ['boom from the page'], 'only the page’s own error, nothing from the tracker');
});

test('events wait for the 5 s timer, but 20 events go at once', async (t) => {
  const { page, server } = await visitor(t);
  await page.goto(`${server.base}/demo/pricing.html`);
  await sleep(1500);
  assert.equal(server.received.length, 0, 'a lone page_view waits for the batch timer');
  await waitFor(() => server.received.length === 1, { timeout: 6000, what: 'the timed batch' });
  await page.evaluate(() => { for (let i = 0; i < 20; i++) crm('event', 'tick', { i }); });
  await waitFor(() => server.received.length === 2, { timeout: 1000, what: 'the full batch' });
  assert.equal(beaconsOf(server)[1].events.length, 20);
});

test('calls queued by the snippet before the script loads are delivered', async (t) => {
  const { context, page, server } = await visitor(t);
  await context.addInitScript(() => {
    window.crm = function () { (crm.q = crm.q || []).push(arguments); };
    crm('event', 'early_bird', { plan: 'pro' });
  });
  await page.goto(`${server.base}/demo/`);
  await page.close();
  await waitFor(() => ofType(server, 'custom').length, { what: 'the queued event' });
  assert.deepEqual(ofType(server, 'custom')[0].props, { plan: 'pro', name: 'early_bird' });
});

test('analytics consent keeps a first-party id in localStorage; opt-out clears it and stops sending', async (t) => {
  const { context, page, server } = await visitor(t);
  await page.goto(`${server.base}/demo/`);
  await page.evaluate(() => crm('identify', { email: 'ignored@example.com' }));
  await page.click('[data-consent-choice=granted]');
  const vid = await page.evaluate(() => localStorage.getItem('crm_vid'));
  assert.match(vid, /^\d{16,}$/);
  await page.evaluate(() => crm('identify', { email: 'jane@example.com', name: 'Jane' }));
  await page.click('nav >> text=Pricing');
  await page.waitForURL('**/pricing.html');
  await page.evaluate(() => crm('optout'));
  assert.equal(await page.evaluate(() => localStorage.getItem('crm_vid')), '-');
  const before = server.received.length;
  await page.click('[data-cta=buy-pro]');
  await page.close();
  await sleep(500);
  assert.equal(server.received.length, before, 'nothing after the opt-out');
  const beacons = beaconsOf(server);
  assert.ok(beacons.every((beacon) => beacon.vid === vid && beacon.consent.analytics === true));
  const identifies = ofType(server, 'identify');
  assert.deepEqual(identifies.map((event) => event.props), [{ email: 'jane@example.com', name: 'Jane' }], 'identify needs consent');
  // The opt-out is remembered: the next page sends nothing.
  const again = await context.newPage();
  await again.goto(`${server.base}/demo/`);
  await again.close();
  await sleep(500);
  assert.equal(server.received.length, before);
});

for (const signal of ['doNotTrack', 'globalPrivacyControl']) {
  test(`with ${signal} there is no first-party id, even after consent`, async (t) => {
    const { page, server } = await visitor(t, { [signal]: true });
    await page.goto(`${server.base}/demo/`);
    await page.click('[data-consent-choice=granted]');
    await page.evaluate(() => crm('identify', { email: 'jane@example.com' }));
    await page.click('nav >> text=Pricing');
    await page.waitForURL('**/pricing.html');
    await page.close();
    await waitFor(() => ofType(server, 'page_leave').length === 2, { what: 'both pages' });
    assert.equal(await page.context().storageState().then((state) => state.origins.flatMap((o) => o.localStorage).find((item) => item.name === 'crm_vid')), undefined);
    for (const beacon of beaconsOf(server)) assert.equal(beacon.vid, undefined);
    assert.equal(ofType(server, 'identify').length, 0);
    assert.equal(ofType(server, 'page_view').length, 2, 'anonymous analytics still works');
    });
}

test('data-consent="required": nothing leaves the browser until consent, then the page view goes', async (t) => {
  const { page, server } = await visitor(t);
  const requests = [];
  page.on('request', (request) => new URL(request.url()).pathname === '/e' && requests.push(request));
  await page.goto(`${server.base}/demo/consent.html`);
  await page.click('[data-cta=newsletter-pricing]', { trial: true });
  await page.evaluate(() => crm('event', 'before_consent'));
  await sleep(5600); // past the batch timer
  assert.equal(requests.length, 0);
  await page.click('[data-consent-choice=granted]');
  await waitFor(() => server.received.length, { what: 'the first beacon after consent' });
  assert.deepEqual(ofType(server, 'page_view').map((event) => new URL(event.url).pathname), ['/demo/consent.html']);
  assert.ok(beaconsOf(server).every((beacon) => beacon.consent.analytics === true && beacon.vid));
});

test('data-consent="required" with GPC or DNT: nothing at all, whatever the page does', async (t) => {
  const { page, server } = await visitor(t, { globalPrivacyControl: true });
  const requests = [];
  page.on('request', (request) => new URL(request.url()).pathname === '/e' && requests.push(request));
  await page.goto(`${server.base}/demo/consent.html`);
  await page.click('[data-consent-choice=granted]');
  await page.evaluate(() => { crm('consent', { analytics: true }); crm('event', 'x'); crm('identify', { email: 'a@b.c' }); });
  await page.mouse.move(600, 300);
  await page.evaluate(() => window.scrollTo(0, 500));
  await sleep(5600); // past the batch timer
  await page.close();
  await sleep(500);
  assert.equal(requests.length, 0);
  assert.equal(server.received.length, 0);
});

test('misusing the API never throws into the page', async (t) => {
  const { page, server, pageErrors } = await visitor(t);
  await page.goto(`${server.base}/demo/`);
  const thrown = await page.evaluate(() => {
    const circular = {};
    circular.self = circular;
    try {
      crm();
      crm('nope', 1, 2);
      crm('consent');
      crm('identify');
      crm('event', 'circular', circular);
      history.pushState(null, '', '/demo/pricing.html?x=1');
      history.replaceState(null, '', '/demo/pricing.html#frag');
      return null;
    } catch (error) {
      return String(error);
    }
  });
  assert.equal(thrown, null);
  await page.evaluate(() => crm('event', 'still_alive'));
  await page.close();
  await waitFor(() => ofType(server, 'page_leave').length, { what: 'page_leave' });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(ofType(server, 'page_view').map((event) => new URL(event.url).pathname), ['/demo/', '/demo/pricing.html']);
});
