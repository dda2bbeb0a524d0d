// The demo shop's own behaviour: a consent banner, an add-to-cart button, tabs, a contact form
// that stays on the page and a client-side (History API) navigation. It talks to the tracker only
// through its public API, `crm(...)`, like any website would.
(() => {
  const banner = document.querySelector('.consent');
  const cart = document.querySelector('.cart');

  // The shop's consent manager keeps its own answer and tells the tracker on every page.
  const answer = localStorage.getItem('demo-consent');
  if (answer) crm('consent', { analytics: answer === 'granted', marketing: false });
  else if (banner) banner.hidden = false;

  const showCart = () => {
    if (cart) cart.textContent = `Cart: ${sessionStorage.getItem('demo-cart') || 0}`;
  };
  showCart();

  // Client-side navigation: fetch the page, swap <main>, then pushState (the tracker sees a new
  // page view with the new title).
  const load = async (href, push) => {
    const html = await (await fetch(href)).text();
    const page = new DOMParser().parseFromString(html, 'text/html');
    document.querySelector('main').replaceWith(page.querySelector('main'));
    document.title = page.title;
    if (push) history.pushState({}, '', href);
    window.scrollTo(0, 0);
  };
  window.addEventListener('popstate', () => load(location.href, false));

  document.addEventListener('click', (event) => {
    const choice = event.target.closest('[data-consent-choice]');
    if (choice) {
      const granted = choice.dataset.consentChoice === 'granted';
      localStorage.setItem('demo-consent', granted ? 'granted' : 'denied');
      crm('consent', { analytics: granted, marketing: false });
      banner.hidden = true;
    }
    const buy = event.target.closest('[data-cta^="buy-"]');
    if (buy) {
      sessionStorage.setItem('demo-cart', Number(sessionStorage.getItem('demo-cart') || 0) + 1);
      buy.textContent = 'Added to cart ✓';
      showCart();
    }
    const tab = event.target.closest('[role="tab"]');
    if (tab) {
      for (const other of tab.parentElement.children) other.setAttribute('aria-selected', String(other === tab));
      for (const panel of document.querySelectorAll('[role="tabpanel"]')) panel.hidden = panel.id !== tab.getAttribute('aria-controls');
    }
    const spa = event.target.closest('a[data-spa]');
    if (spa) {
      event.preventDefault();
      load(spa.href, true);
    }
  });

  document.addEventListener('submit', (event) => {
    if (event.target.id !== 'contact-form') return;
    event.preventDefault(); // a demo: nothing typed leaves the page
    crm('event', 'contact_request', { topic: 'demo-shop' });
    event.target.outerHTML = '<p class="notice" id="contact-sent">Thanks! We will get back to you within a day.</p>';
  });
})();
