// The adjudication desk: linked players per item (as on the rating page) and the rating page's
// shortcuts, acting on the item being worked on. Recording is a plain form post; a refusal
// comes back with the decision kept and the messages beside the fields.
import { createDeck } from './players.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function setup() {
  const sections = $$('section.adjudication');
  if (!sections.length) return;
  const decks = new Map(sections.map((s) => [s, createDeck($('.outputs', s), () => {})]));
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

  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); $('form.adjudicate-form', current).requestSubmit(); return; }
    const typing = e.target.matches('textarea, input[type=text], select');
    if (e.key === 'Escape') { if (typing) e.target.blur(); $('#shortcuts').hidden = true; return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const deck = decks.get(current);
    const handled = () => e.preventDefault();
    switch (e.key.toLowerCase()) {
      case 'arrowleft': pick('choice', 'a'); handled(); break;
      case 'arrowright': pick('choice', 'b'); handled(); break;
      case 't': pick('choice', 'tie'); handled(); break;
      case '1': case '2': case '3': pick('strength', e.key); handled(); break;
      case 'r': $('textarea[name=rationale]', current).focus(); handled(); break;
      case 'n': move(1); handled(); break;
      case 'p': move(-1); handled(); break;
      case ' ': case 'k': if (deck) { deck.playPause(); handled(); } break;
      case 'j': if (deck) { deck.seekBy(-2); handled(); } break;
      case 'l': if (deck) { deck.seekBy(2); handled(); } break;
      case ',': if (deck) { deck.stepFrame(-1); handled(); } break;
      case '.': if (deck) { deck.stepFrame(1); handled(); } break;
      case '0': if (deck) { deck.restart(); handled(); } break;
      case 'u': if (deck) { const linked = deck.toggleLink(); $('.link-state', current).textContent = linked ? 'Linked' : 'Unlinked'; handled(); } break;
      case '?': $('#shortcuts').hidden = !$('#shortcuts').hidden; handled(); break;
      default: break;
    }
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
