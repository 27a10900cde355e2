// The rating page: live rules (the same ones the server enforces), keyboard shortcuts, draft
// autosave, linked players and script differences. Submitting is a plain form post; the
// server re-checks everything and answers a refusal with the messages beside the fields.
import { createDeck } from './players.js';
import { markScripts } from './scriptdiff.js';

const form = document.getElementById('judgment-form');
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function wordCount(text) { return (text.trim().match(/\S+/g) || []).length; }

function rateSetup() {
  if (!form) return;
  const data = form.dataset;
  const kind = data.kind;
  const minWords = Number(data.minWords);
  const minFraction = Number(data.minFraction);
  const durations = JSON.parse(data.durations || '{}');
  const clockSkew = Number(data.serverNow) - Date.now();
  const submitAfter = Number(data.submitAfter);
  const rationale = $('textarea[name=rationale]', form);
  const submit = $('button[type=submit]', form);
  const playbackField = $('input[name=playback]', form);
  const saved = $('#draft-status');
  let pasteCount = Number($('input[name=paste_count]', form).value || 0);
  let keystrokes = Number($('input[name=keystrokes]', form).value || 0);
  let carried = JSON.parse(playbackField.value || '{}');  // playback recorded before a reload

  const deck = createDeck(document.querySelector('.outputs'), () => update());
  const progressField = $('input[name=progress]', form);

  // -- heartbeats: the server counts only the playback it observed -----------------------------
  let lastBeat = 0;
  let submitting = false;  // once the form is sent its last heartbeat rides with it
  function beat(force) {
    if (!deck || !data.progressUrl || submitting) return;
    const now = Date.now();
    const playing = Object.values(deck.positions()).some((p) => p.playing);
    if (!force && (!playing || now - lastBeat < 2000)) return;
    lastBeat = now;
    fetch(data.progressUrl, { method: 'POST', body: JSON.stringify(deck.positions()), credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': data.csrf } })
      .then((r) => (r.status === 409 ? r.json() : null))
      .then((body) => { if (body) closed(body.error.message); })
      .catch(() => {});
  }
  // The assignment was closed under the rater (consent withdrawn, item dropped): say why.
  function closed(message) {
    if ($('#closed-notice')) return;
    const note = document.createElement('p');
    note.id = 'closed-notice';
    note.className = 'flash flash-info';
    note.setAttribute('role', 'alert');
    note.textContent = message;
    form.prepend(note);
    if (deck) deck.media.forEach((m) => m.pause());
  }
  if (deck) {
    for (const m of deck.media) for (const ev of ['play', 'pause', 'seeking', 'ended']) m.addEventListener(ev, () => beat(true));
    setInterval(() => beat(false), 2000);
  }
  const diff = data.modality === 'script' && kind === 'pairwise' ? markScripts(document.querySelector('.outputs')) : null;
  if (diff) $('#diff-summary').textContent = `${diff.left} words only on the left, ${diff.right} only on the right (marked).`;

  function playback() {
    const now = deck ? deck.playback() : {};
    const merged = { ...carried };
    for (const [side, seconds] of Object.entries(now)) merged[side] = Math.max(merged[side] || 0, seconds);
    return merged;
  }

  function answer() {
    const value = (name) => { const el = $(`input[name="${name}"]:checked`, form); if (!el) return null; return /^\d+$/.test(el.value) ? Number(el.value) : el.value; };
    const out = { rationale: rationale.value, confidence: value('confidence'), playback: playback(),
                  paste_count: pasteCount, keystrokes };
    if (kind === 'pairwise') { out.choice = value('choice'); out.strength = value('strength'); } else {
      out.scores = {};
      for (const group of $$('[data-criterion]', form)) out.scores[group.dataset.criterion] = value(`score-${group.dataset.criterion}`);
    }
    return out;
  }

  function setRule(name, ok, text) {
    const li = $(`[data-rule="${name}"]`, form);
    if (!li) return ok;
    li.classList.toggle('ok', ok);
    li.querySelector('.rule-state').textContent = text;
    return ok;
  }

  function update() {
    const a = answer();
    const words = wordCount(a.rationale);
    let ok = setRule('words', words >= minWords, words >= minWords ? `${words} words` : `${words} of ${minWords} words`);
    const wait = Math.ceil((submitAfter - (Date.now() + clockSkew)) / 1000);
    ok = setRule('timing', wait <= 0, wait <= 0 ? 'done' : `${wait} s more`) && ok;
    const played = a.playback;
    for (const [side, duration] of Object.entries(durations)) {
      if (!duration || data.modality === 'script') continue;
      const fraction = Math.min(1, (played[side] || 0) / duration);
      const pass = fraction + 1e-6 >= minFraction;
      ok = setRule(`playback-${side}`, pass, `${Math.round(fraction * 100)}% of ${Math.round(minFraction * 100)}%`) && ok;
    }
    if (kind === 'pairwise') {
      ok = setRule('choice', Boolean(a.choice) && (a.choice === 'tie' || Boolean(a.strength)),
        a.choice ? (a.choice === 'tie' || a.strength ? 'chosen' : 'pick a strength') : 'not chosen') && ok;
    } else {
      const missing = Object.values(a.scores).filter((v) => v === null).length;
      ok = setRule('scores', missing === 0, missing ? `${missing} to score` : 'all scored') && ok;
    }
    ok = setRule('confidence', Boolean(a.confidence), a.confidence ? `${a.confidence} of 5` : 'not set') && ok;
    playbackField.value = JSON.stringify(played);
    $('input[name=paste_count]', form).value = pasteCount;
    $('input[name=keystrokes]', form).value = keystrokes;
    submit.disabled = !ok;
    submit.setAttribute('aria-disabled', String(!ok));
    const strength = $('.strength', form);
    if (strength) strength.toggleAttribute('disabled', a.choice === 'tie');
  }

  // -- draft autosave ------------------------------------------------------------------------
  let timer = null;
  let lastSent = '';
  async function saveDraft() {
    if (submitting) return;
    const body = JSON.stringify(answer());
    if (body === lastSent) return;
    try {
      const response = await fetch(data.draftUrl, { method: 'POST', body, credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': data.csrf } });
      if (response.status === 204) return;  // nothing kept: the assignment is judged
      if (response.status === 409) { closed((await response.json()).error.message); return; }
      if (!response.ok) throw new Error(String(response.status));
      lastSent = body;
      saved.textContent = `Draft saved ${new Date().toLocaleTimeString()}`;
      saved.classList.remove('error');
    } catch (err) {
      saved.textContent = 'Draft not saved — check your connection';
      saved.classList.add('error');
    }
  }
  function changed() { update(); clearTimeout(timer); timer = setTimeout(saveDraft, 800); }
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  rationale.addEventListener('paste', () => { pasteCount += 1; changed(); });
  rationale.addEventListener('keydown', (e) => { if (e.key.length === 1 || e.key === 'Backspace') keystrokes += 1; });
  setInterval(() => { update(); }, 1000);
  setInterval(() => { if (deck) saveDraft(); }, 15000);  // playback progress survives a reload
  window.addEventListener('pagehide', () => {
    if (submitting) return;  // the form carries the answer and the players' state
    beat(true);
    fetch(data.draftUrl, { method: 'POST', keepalive: true, body: JSON.stringify(answer()),
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': data.csrf }, credentials: 'same-origin' }).catch(() => {});
  });
  form.addEventListener('submit', (e) => {
    update();
    if (deck && progressField) progressField.value = JSON.stringify(deck.positions());  // the last heartbeat
    submitting = !submit.disabled;
    if (submit.disabled) { e.preventDefault(); $('.rule-checklist', form).focus(); return; }
    submit.disabled = true;  // one click, one post (the idempotency key covers retries)
    submit.textContent = 'Submitting…';
  });

  // -- keyboard ------------------------------------------------------------------------------
  const pick = (name, value) => {
    const input = $(`input[name="${name}"][value="${value}"]`, form);
    if (input && !input.disabled) { input.checked = true; input.dispatchEvent(new Event('change', { bubbles: true })); input.focus(); }
  };
  let criterion = 0;
  const criteria = $$('[data-criterion]', form);
  function focusCriterion(k) {
    if (!criteria.length) return;
    criterion = (k + criteria.length) % criteria.length;
    criteria.forEach((c, i) => c.classList.toggle('active', i === criterion));
    const target = $('input:checked', criteria[criterion]) || $('input', criteria[criterion]);
    target.focus();
  }

  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); form.requestSubmit(); return; }
    const typing = e.target.matches('textarea, input[type=text], select');
    // Left / Right arrows choose the side (inside the strength or confidence scale they move it).
    if (kind === 'pairwise' && !typing && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')
        && !(e.target.closest && e.target.closest('.strength, .confidence, .criterion')) && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault(); pick('choice', e.key === 'ArrowLeft' ? 'left' : 'right'); return;
    }
    if (e.key === 'Escape') { if (typing) e.target.blur(); $('#shortcuts').hidden = true; return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key.toLowerCase();
    const inGroup = e.target.closest && e.target.closest('[data-criterion], .confidence');
    const handled = () => e.preventDefault();
    if (/^[0-9]$/.test(key) && inGroup) {  // a digit sets the focused scale
      const input = $(`input[value="${key}"]`, inGroup);
      if (input) { pick(input.name, key); handled(); }
      return;
    }
    switch (key) {
      case 't': if (kind === 'pairwise') { pick('choice', 'tie'); handled(); } break;
      case '1': case '2': case '3':
        if (kind === 'pairwise') pick('strength', key); else pick(`score-${criteria[criterion].dataset.criterion}`, key);
        handled(); break;
      case '4': case '5': if (kind === 'rubric') { pick(`score-${criteria[criterion].dataset.criterion}`, key); handled(); } break;
      case '[': focusCriterion(criterion - 1); handled(); break;
      case ']': focusCriterion(criterion + 1); handled(); break;
      case 'c': ($('.confidence input:checked', form) || $('.confidence input', form)).focus(); handled(); break;
      case 'r': rationale.focus(); handled(); break;
      case ' ': case 'k': if (deck) { deck.playPause(); handled(); } break;
      case 'j': if (deck) { deck.seekBy(-2); handled(); } break;
      case 'l': if (deck) { deck.seekBy(2); handled(); } break;
      case ',': if (deck) { deck.stepFrame(-1); handled(); } break;
      case '.': if (deck) { deck.stepFrame(1); handled(); } break;
      case '0': if (deck) { deck.restart(); handled(); } break;
      case 'u': if (deck) { const linked = deck.toggleLink(); $('#link-state').textContent = linked ? 'Linked' : 'Unlinked'; $('#link-toggle').setAttribute('aria-pressed', String(linked)); handled(); } break;
      case 's': { const skip = $('#skip-dialog'); if (skip) { skip.hidden = false; $('textarea', skip).focus(); handled(); } break; }
      case 'i': { const ins = $('#instructions'); if (ins) { ins.open = !ins.open; handled(); } break; }
      case '?': $('#shortcuts').hidden = !$('#shortcuts').hidden; handled(); break;
      default: break;
    }
  });

  const toggle = $('#link-toggle');
  if (toggle) toggle.addEventListener('click', () => { const linked = deck.toggleLink(); $('#link-state').textContent = linked ? 'Linked' : 'Unlinked'; toggle.setAttribute('aria-pressed', String(linked)); });
  for (const btn of $$('[data-close]')) btn.addEventListener('click', () => { $(btn.dataset.close).hidden = true; });
  for (const btn of $$('[data-open]')) btn.addEventListener('click', () => { $(btn.dataset.open).hidden = false; });
  if (criteria.length) criteria[0].classList.add('active');
  update();
  const firstError = $('.field-error', form);
  (firstError ? firstError.closest('.field').querySelector('textarea, input') : null)?.focus();
}

rateSetup();
