// crm tracker, beacon format v1 (docs/beacon.md). Readable source: tracker.min.js is built from
// this file by `npm run build` in tests/browser, and a test fails if the two drift apart or the
// gzipped build grows past 2048 bytes. Written for size: every byte here ships to every visitor.
//
// Rules kept here: no dependencies; nothing thrown ever reaches the host page (every listener,
// timer and API call is wrapped); no cookie; no form field value is ever read; per event only a
// small object is pushed, and JSON waits until a batch is sent.
((w, d, nav, loc, now) => {
  let script = d.currentScript;
  let { site, endpoint = new URL(script.src).origin + '/e', consent } = script.dataset;
  let required = consent == 'required';
  let dnt = nav.doNotTrack == 1 || nav.globalPrivacyControl;
  let stub = w.crm?.q;
  // A site that requires consent, seen with DNT or GPC on: nothing at all, ever.
  if (required && dnt) return (w.crm = () => {});

  let safe =
    (fn) =>
    (...args) => {
      try {
        fn(...args);
      } catch {}
    };
  let later = (fn, ms) => setTimeout(safe(fn), ms);
  let rid = (n) => crypto.getRandomValues(new Uint32Array(n)).join('');

  // localStorage crm_vid holds the first-party id, only after analytics consent and never with
  // DNT/GPC (its presence is the remembered consent), or '-' after an opt-out. The session id is
  // per tab, in sessionStorage.
  let sid = rid(3);
  let vid;
  try {
    sid = sessionStorage.crm_sid ||= sid;
    vid = localStorage.crm_vid;
  } catch {}
  let remember = safe((value) => localStorage[value ? 'setItem' : 'removeItem']('crm_vid', value));
  let out = vid == '-';
  let analytics = vid > '-'; // a stored id (digits sort after '-'), not the opt-out mark
  let marketing = false;
  vid = !dnt && analytics && vid;

  // Batching: a batch goes at 20 events or after 5 s, and when the page is hidden or left.
  let queue = [];
  let timer;
  let push = (t, props) => {
    if (out) return;
    if (queue.push({ id: rid(1), t, ts: now(), url, title: d.title, ref, props }) > 99) queue.shift(); // waiting for consent
    timer = queue[19] ? flush() : timer || later(flush, 5000);
  };
  let flush = () => {
    clearTimeout(timer);
    timer = 0;
    if (!out && (analytics || !required))
      while (queue[0]) {
        let body = JSON.stringify({
          v: 1,
          site,
          sid,
          vid: vid || undefined,
          consent: { analytics, marketing },
          events: queue.splice(0, 20),
        });
        // A string body goes out as text/plain, a CORS-safelisted type: no preflight.
        nav.sendBeacon(endpoint, body) || fetch(endpoint, { method: 'POST', body, keepalive: true }).catch(safe);
      }
  };

  // Scheme, host, path and the allowlisted query parameters; the rest and the hash are dropped.
  let clean = (raw, url) => {
    if (raw) {
      url = new URL(raw);
      url.search = url.search
        .replace(/[?&](?!(utm_(source|medium|campaign|term|content)|ref)=)[^&]*/g, '')
        .replace(/^&/, '?');
      url.hash = '';
      return url.href;
    }
  };

  // What a click, hover or copy is about: a short stable CSS selector (tag#id, or tag.class, up to
  // three levels), the tag, the element's own short text (never a field's value) and a link's href.
  let selector = (el, levels = 3, id = el.getAttribute('id'), cls = el.classList[0], own = el.localName + (id ? '#' + id : cls ? '.' + cls : '')) =>
    !id && --levels && el.parentElement ? selector(el.parentElement, levels) + '>' + own : own;
  let describe = (el) => ({
    selector: selector(el),
    tag: el.localName,
    text: el.closest('input,select,textarea,[contenteditable]')
      ? ''
      : el.textContent.replace(/\s+/g, ' ').trim().slice(0, 100),
    href: clean(el.href),
  });
  let hit = (t, el, extra) => push(t, { ...describe(el), ...extra });
  let formEvent = (t, form) => form && push(t, { form: selector(form) });

  // Per page view state. Engaged time counts only while the page is visible and focused.
  // (Declarations use `let` throughout: the minifier merges them into fewer statements.)
  let url, ref, depth, forms, engaged, since, left;
  let exited = 0;
  let errors = 0;
  let tick = () => {
    let t = now();
    engaged += since && t - since;
    since = !d.hidden && d.hasFocus() && t;
  };
  let view = () => {
    ref = url || clean(d.referrer);
    url = clean(loc.href);
    depth = engaged = since = left = 0;
    forms = new Set(); // started and not submitted
    tick();
    push('page_view');
  };
  let leave = () => {
    if (left++) return;
    endBurst(1);
    tick();
    forms.forEach((form) => formEvent('form_abandon', form));
    push('page_leave', { engaged_ms: engaged });
  };
  // A History API navigation is a new page view when the URL as reported (cleaned) changed, so
  // replaceState calls that only touch the hash or other query parameters are not page views.
  let route = safe(() => clean(loc.href) != url && (leave(), view()));

  // Scroll depth milestones (25/50/75/100).
  let scrolled = () => {
    while (depth < 100 && ((scrollY + innerHeight + 2) * 100) / d.documentElement.scrollHeight >= depth + 25)
      push('scroll', { depth: (depth += 25) });
  };

  // A burst: clicks each within 700 ms and 30 px of the one before; it ends 700 ms after its last
  // click. Rage click: a burst of 3+. Dead click: a shorter burst on a non-interactive element
  // after which the DOM did not change (one MutationObserver per burst) and the page was not left.
  let last, count, clickProps, observer, changed, burstTimer;
  let endBurst = (leaving) => {
    observer && observer.disconnect(); // (a pending end timer then finds nothing left to end)
    if (count > 2) push('rage_click', { ...clickProps, count });
    else if (observer && !leaving && !changed) push('dead_click', clickProps);
    count = observer = 0;
  };

  let hoverTimer, hoverEl;
  let handlers = {
    click(e) {
      let el = e.target;
      let interactive = el.closest('a,button,input,select,textarea,label');
      let cta = el.closest('[data-cta]');
      let link = el.closest('a');
      let props = describe(interactive || el);
      if (cta) hit('cta_click', cta, { cta: cta.dataset.cta });
      else if (link?.host && link.host != loc.host) hit('outbound_click', link);
      else if (/\.(pdf|zip|csv|xlsx?|docx?)$/i.test(link?.pathname)) hit('download', link); // by extension
      else if (interactive) push('click', props);
      if (e.timeStamp - last?.timeStamp < 700 && (e.clientX - last.clientX) ** 2 + (e.clientY - last.clientY) ** 2 < 900)
        count++;
      else {
        endBurst();
        count = 1;
        clickProps = props;
        if (!interactive) {
          changed = 0;
          observer = new MutationObserver(() => (changed = 1));
          observer.observe(d, { subtree: true, childList: true, attributes: true, characterData: true });
        }
      }
      last = e;
      clearTimeout(burstTimer);
      burstTimer = later(endBurst, 700);
    },
    input(e) {
      let form = e.target.form;
      forms.has(form) || (forms.add(form), formEvent('form_start', form));
    },
    submit(e) {
      forms.delete(e.target);
      formEvent('form_submit', e.target);
    },
    mouseover(e) {
      let el = e.target.closest('[data-intent]');
      if (el == hoverEl) return;
      clearTimeout(hoverTimer);
      hoverTimer = (hoverEl = el) && later(() => hit('hover_intent', el), 500);
    },
    mouseout(e) {
      !e.relatedTarget && e.clientY <= 0 && !exited++ && push('exit_intent');
    },
    copy(e) {
      hit('copy', e.target); // the element, never the copied text
    },
    error(e) {
      e.message && errors++ < 9 && push('error', { message: e.message.slice(0, 200) });
    },
    scroll: scrolled,
    focus: tick,
    blur: tick,
    visibilitychange() {
      tick();
      d.hidden && flush();
    },
    pagehide() {
      leave();
      flush();
    },
    popstate: route,
  };

  // The API. Calls queued by the snippet's stub before this file loaded are replayed at the end.
  // The page's objects are copied through JSON right away: one that cannot be serialized
  // (circular, BigInt) is refused here instead of poisoning a batch later.
  let own = (props) => JSON.parse(JSON.stringify(props));
  let commands = {
    event(name, props) {
      push('custom', own({ ...props, name }));
    },
    identify(traits) {
      analytics && !dnt && push('identify', own(traits));
    },
    consent(choice) {
      analytics = !!choice.analytics;
      marketing = !!choice.marketing;
      vid = !dnt && analytics && (vid || rid(3));
      out || remember(vid);
      flush(); // what waited for consent goes now
    },
    optout() {
      out = 1; // for good on this device: consent calls do not undo it, clearing localStorage does
      vid = 0;
      queue = [];
      remember('-');
    },
  };
  let api = (w.crm = safe((command, arg, props) => commands[command](arg, props)));

  safe(() => {
    for (let name of ['pushState', 'replaceState']) {
      let original = history[name];
      history[name] = (...args) => route(original.apply(history, args));
    }
    // One capturing listener on window per type sees every event of the page first.
    for (let type in handlers) w.addEventListener(type, safe(handlers[type]), true);
    view();
    stub?.map((args) => api(...args));
  })();
})(window, document, navigator, location, Date.now);
