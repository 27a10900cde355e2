// Moving to the next item without leaving the page. Two parts, each a speed-up only:
// - lookahead: once the current item's media are playable and playing (or left unplayed a
//   while) and the page is idle, ask the server
//   which item routing would most likely serve next (GET …/upcoming: media URLs only, a guess
//   that writes nothing) and preload those media in hidden, muted players outside <main>. A
//   preloaded file is not playback: the server credits only the heartbeats it observes.
// - submit in place: the form is posted with fetch (the same fields, CSRF token, idempotency key
//   and last heartbeat); when the answer is a page this one can show (every script and stylesheet
//   it needs is already here), its <main> replaces ours, the URL is pushed, and each new player
//   whose media was preloaded is replaced by the preloaded element. Anything else — a refusal,
//   another content type, a network error — falls back to the plain form post (the idempotency
//   key makes a second post of an already stored answer a replay; a refused answer stores no
//   judgment and does not use the key), so the server's own page is shown, messages and all.
// Without JavaScript (or with window.DAILIES_PLAIN_SUBMIT set, to compare) the form posts as usual.

const BOX_ID = 'preload';

// The preloaded players: in the shadow root of a hidden box outside <main>, so the page's own
// queries (video[data-side], video) never meet them, nor does the keyboard.
function box() {
  let el = document.getElementById(BOX_ID);
  if (!el) {
    el = document.createElement('div');
    el.id = BOX_ID;
    el.className = 'visually-hidden';
    el.setAttribute('aria-hidden', 'true');
    el.attachShadow({ mode: 'open' });
    document.body.appendChild(el);
  }
  return el.shadowRoot;
}

const absolute = (src) => new URL(src, document.baseURI).href;

function discard(media) {
  media.removeAttribute('src');
  media.load();  // aborts the download
  media.remove();
}

export function clearPreloaded() {
  const el = document.getElementById(BOX_ID);
  if (el) for (const media of [...el.shadowRoot.children]) discard(media);
}

// The first heartbeats of a play go out before any preload competes with them: the server credits
// playback by its own clock between heartbeats, so a first heartbeat held up behind the preload's
// requests would cost the rater credited seconds (seen under load on the test server).
const AFTER_PLAY_S = 1;
const UNPLAYED_MS = 5000;  // or this long after the page is ready, when nothing is played

// Preload the upcoming item's media once `media` (the current players) can play, have played a
// moment (or were left unplayed for a while), and the page is idle. `tag`: 'video' or 'audio'
// (the project's modality). Stops with `signal`.
export function lookahead(url, media, tag, signal) {
  if (!url || !media.length || !window.fetch || (navigator.connection && navigator.connection.saveData)) return;
  let started = false;
  let waited = false;
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 100));
  const start = () => {
    if (started || signal.aborted || !media.every((m) => m.readyState >= 3)) return;
    if (!waited && !media.some((m) => m.currentTime >= AFTER_PLAY_S)) return;
    started = true;
    idle(() => { if (!signal.aborted) preload(url, tag, signal); }, { timeout: 1500 });
  };
  for (const m of media) for (const ev of ['canplay', 'canplaythrough', 'timeupdate']) m.addEventListener(ev, start, { signal });
  const timer = setTimeout(() => { waited = true; start(); }, UNPLAYED_MS);
  signal.addEventListener('abort', () => clearTimeout(timer));
}

async function preload(url, tag, signal) {
  let urls;
  try {
    const response = await fetch(url, { credentials: 'same-origin', signal, headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    urls = ((await response.json()).media || []).map(absolute);
  } catch (err) {
    return;  // only a guess: the next page loads its media itself
  }
  if (signal.aborted) return;
  const holder = box();
  for (const old of [...holder.children]) if (!urls.includes(old.src)) discard(old);
  for (const src of urls) {
    if ([...holder.children].some((m) => m.src === src)) continue;
    const media = document.createElement(tag === 'audio' ? 'audio' : 'video');
    media.preload = 'auto';
    media.muted = true;
    media.playsInline = true;
    media.tabIndex = -1;
    media.src = src;
    holder.appendChild(media);
  }
}

// A page whose head needs nothing this one lacks (scripts, stylesheets) can be shown in place.
function showable(doc) {
  const have = new Set([...document.querySelectorAll('script[src], link[rel=stylesheet]')]
    .map((el) => absolute(el.getAttribute('src') || el.getAttribute('href'))));
  const needs = [...doc.querySelectorAll('script[src], link[rel=stylesheet]')]
    .map((el) => absolute(el.getAttribute('src') || el.getAttribute('href')));
  return Boolean(doc.getElementById('main')) && needs.every((u) => have.has(u));
}

// Post the form with fetch. `show(doc, url)` is called with a page to show in place; otherwise
// the browser takes over with the plain post (or, after a stored answer, the answer's own URL).
export async function submitInPlace(form, show) {
  let response;
  try {
    response = await fetch(form.action, {
      method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin', redirect: 'follow',
      headers: { Accept: 'text/html' },
    });
  } catch (err) {
    form.submit();
    return;
  }
  const type = response.headers.get('Content-Type') || '';
  if (!response.ok || !type.startsWith('text/html')) { form.submit(); return; }
  let doc = null;
  try { doc = new DOMParser().parseFromString(await response.text(), 'text/html'); } catch (err) { doc = null; }
  if (!doc || !showable(doc)) { window.location.assign(response.url); return; }
  show(doc, response.url);
}

let shownPath = null;

// Replace <main> (and the title, body class) with the parsed page's, push its URL, and put the
// preloaded players in place of the new ones with the same media. Returns the new <main>.
export function showPage(doc, url) {
  const main = document.getElementById('main');
  const next = doc.getElementById('main');
  const pool = [...box().children];
  const slots = [];
  for (const el of next.querySelectorAll('video[data-side], audio[data-side]')) {
    const src = el.getAttribute('src') && absolute(el.getAttribute('src'));
    const found = pool.find((m) => m.src === src && m.tagName === el.tagName);
    if (!found) continue;
    pool.splice(pool.indexOf(found), 1);
    el.removeAttribute('src');  // no second download: the preloaded element takes its place
    slots.push([el, found]);
  }
  main.replaceChildren(...next.childNodes);
  main.className = next.className;
  document.title = doc.title;
  document.body.className = doc.body.className;
  for (const [slot, media] of slots) {
    for (const attr of [...media.attributes]) if (attr.name !== 'src') media.removeAttribute(attr.name);
    for (const attr of [...slot.attributes]) media.setAttribute(attr.name, attr.value);
    media.muted = slot.hasAttribute('muted');
    slot.replaceWith(media);
  }
  for (const media of main.querySelectorAll('video[src], audio[src]')) {
    if (media.networkState === HTMLMediaElement.NETWORK_EMPTY) media.load();  // not preloaded: load now
  }
  for (const media of pool) discard(media);
  const target = new URL(url, document.baseURI);
  window.history.pushState({ desk: true }, '', target.pathname + target.search);
  if (shownPath === null) {
    // Back and forward leave the page as a navigation would: the server shows that URL afresh.
    window.addEventListener('popstate', () => { if (window.location.pathname + window.location.search !== shownPath) window.location.reload(); });
  }
  shownPath = target.pathname + target.search;
  window.scrollTo(0, 0);
  return main;
}

// Focus as after a navigation: the page's heading (read out), else <main>.
export function focusPage(main) {
  const heading = main.querySelector('h1');
  if (heading) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus();
  } else {
    main.focus();
  }
}
