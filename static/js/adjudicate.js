// The adjudication desk: linked players per item (as on the rating page) and the rating page's
// keys (one table, keys.js: transport, Z/X/C, 1–3, R, Ctrl+Enter, ?) plus N/P between items, acting
// on the item being worked on. Recording is a plain form post; a refusal
// comes back with the decision kept and the messages beside the fields.
import { createDeck } from './players.js';
import { KEYS, offered, rowFor, renderOverlay } from './keys.js';

const DESK_KEYS = [
  { action: 'nextItem', keys: ['N'], match: [{ code: 'KeyN' }], label: 'next item on the desk', group: 'Desk', when: 'all' },
  { action: 'prevItem', keys: ['P'], match: [{ code: 'KeyP' }], label: 'previous item on the desk', group: 'Desk', when: 'all' },
];

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function setup() {
  const sections = $$('section.adjudication');
  if (!sections.length) return;
  const decks = new Map(sections.map((s) => [s, createDeck($('.outputs', s), JSON.parse(s.dataset.frameRates || '{}'), () => {})]));
  let current = $('.flash-error', sections[0].parentElement) ? ($('.flash-error').closest('section.adjudication') || sections[0]) : sections[0];
  const activate = (section) => {
    current = section;
    sections.forEach((s) => s.classList.toggle('active', s === section));
  };
  activate(current);
  for (const s of sections) {
    s.addEventListener('focusin', () => activate(s));
    s.addEventListener('pointerdown', () => activate(s));
    const toggle = $('.link-toggle', s);
    if (toggle) toggle.addEventListener('click', () => { const linked = decks.get(s).toggleLink(); $('.link-state', s).textContent = linked ? 'Linked' : 'Unlinked'; toggle.setAttribute('aria-pressed', String(linked)); });
    const strength = $('.strength', s);
    const sync = () => { const tie = $('input[name=choice][value=tie]', s); if (strength && tie) strength.toggleAttribute('disabled', tie.checked); };
    s.addEventListener('change', sync);
    sync();
  }
  const pick = (name, value) => {
    const input = $(`input[name="${name}"][value="${value}"]`, current);
    if (input && !input.disabled && !input.closest('fieldset[disabled]')) { input.checked = true; input.dispatchEvent(new Event('change', { bubbles: true })); }
  };
  const move = (step) => {
    const i = (sections.indexOf(current) + step + sections.length) % sections.length;
    activate(sections[i]);
    sections[i].focus();
    sections[i].scrollIntoView({ block: 'start' });
  };

  // The rating page's keys (keys.js) for transport and the decision, plus the desk's own.
  const ctx = { kind: sections[0].dataset.kind || 'pairwise', modality: sections[0].dataset.modality || 'video' };
  const shared = new Set(['playPause', 'shuttleForward', 'shuttleBack', 'stop', 'slowForward', 'slowBack', 'frameBack',
    'frameForward', 'secondBack', 'secondForward', 'toStart', 'toggleLink', 'chooseLeft', 'chooseTie', 'chooseRight',
    'strength1', 'strength2', 'strength3', 'rationale', 'submit', 'overlay', 'escape']);
  const rows = KEYS.filter((row) => shared.has(row.action) && offered(row, ctx)).concat(DESK_KEYS);
  const tbody = $('#shortcuts tbody');
  if (tbody) renderOverlay(tbody, rows);
  const linkText = (deck) => { $('.link-state', current).textContent = deck.linked ? 'Linked' : 'Unlinked'; };
  const transport = {
    playPause: (d) => d.playPause(), shuttleForward: (d) => d.shuttle(1), shuttleBack: (d) => d.shuttle(-1),
    stop: (d) => d.stop(), slowForward: (d) => d.slow(1), slowBack: (d) => d.slow(-1), frameBack: (d) => d.step(-1),
    frameForward: (d) => d.step(1), secondBack: (d) => d.seekBy(-1), secondForward: (d) => d.seekBy(1),
    toStart: (d) => d.toStart(), toggleLink: (d) => { d.toggleLink(); linkText(d); },
  };
  const handlers = {
    chooseLeft: () => pick('choice', 'a'), chooseTie: () => pick('choice', 'tie'), chooseRight: () => pick('choice', 'b'),
    strength1: () => pick('strength', '1'), strength2: () => pick('strength', '2'), strength3: () => pick('strength', '3'),
    rationale: () => $('textarea[name=rationale]', current).focus(),
    submit: () => $('form.adjudicate-form', current).requestSubmit(),
    overlay: () => { $('#shortcuts').hidden = !$('#shortcuts').hidden; },
    nextItem: () => move(1), prevItem: () => move(-1),
  };

  document.addEventListener('keydown', (e) => {
    const row = rowFor(e, rows);
    const typing = e.target.matches('textarea, input[type=text], select');
    if (row && row.action === 'submit') { e.preventDefault(); handlers.submit(); return; }
    if (e.key === 'Escape') { if (typing) e.target.blur(); $('#shortcuts').hidden = true; return; }
    if (typing || !row) return;
    if ((e.key === ' ' || e.key === 'Enter') && e.target.matches('button, a[href], summary, input[type=checkbox]')) return;
    const deck = decks.get(current);
    if (transport[row.action]) { if (deck) { e.preventDefault(); transport[row.action](deck); } return; }
    if (handlers[row.action]) { e.preventDefault(); handlers[row.action](); }
  });
  for (const btn of $$('[data-close]')) btn.addEventListener('click', () => { $(btn.dataset.close).hidden = true; });
  for (const btn of $$('[data-open]')) btn.addEventListener('click', () => { $(btn.dataset.open).hidden = false; });
  const firstError = $('.field-error');
  if (firstError) {
    activate(firstError.closest('section.adjudication'));
    (firstError.closest('.field') || firstError.parentElement).querySelector('textarea, input, select')?.focus();
  }
}

setup();
