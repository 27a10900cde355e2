// The rating page: live rules (the same ones the server enforces), the keyboard map (keys.js),
// players and their transport, notes, per-criterion choices, dialogs and drafts that never go
// backwards. Submitting posts the form (in place when it can, desk.js: the next item is shown
// without leaving the page, its media preloaded); the server re-checks everything and answers a
// refusal with the messages beside the fields. The setup runs again for every item shown in
// place: everything it attaches to the document or window, and every timer, ends with it.
import { createDeck } from './players.js';
import { markScripts } from './scriptdiff.js';
import { KEYS, offered, rowFor, renderOverlay } from './keys.js';
import { attachTransports } from './transport.js';
import { NoteBook, scriptSelection, lineify } from './notes.js';
import { wireDialogs, openDialog, closeDialog, dialogOpen, toggleDialog } from './dialogs.js';
import { Drafts } from './drafts.js';
import { lookahead, submitInPlace, showPage, focusPage, clearPreloaded } from './desk.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function wordCount(text) { return (text.trim().match(/\S+/g) || []).length; }
const INTERACTIVE = 'button, a[href], summary, input[type=checkbox], input[type=range], [role=button]';
const TYPING = 'textarea, input[type=text], input[type=search], input[type=number], select, [contenteditable=true]';

// Set up the page's form; returns its teardown (or null when the page has no form).
function rateSetup() {
  const form = document.getElementById('judgment-form');
  if (!form) return null;
  const life = new AbortController();
  const { signal } = life;
  const timers = [];
  const every = (fn, ms) => timers.push(setInterval(fn, ms));
  const data = form.dataset;
  const kind = data.kind;
  const modality = data.modality;
  const minWords = Number(data.minWords);
  const frameRates = JSON.parse(data.frameRates || '{}');
  const requireNote = data.requireNote === 'true';
  const clockSkew = Number(data.serverNow) - Date.now();
  const submitAfter = Number(data.submitAfter);
  const rationale = $('textarea[name=rationale]', form);
  const submit = $('button[type=submit]', form);
  const playbackField = $('input[name=playback]', form);
  const status = $('#draft-status');
  const outputsRoot = document.querySelector('.outputs');
  let pasteCount = Number($('input[name=paste_count]', form).value || 0);
  let keystrokes = Number($('input[name=keystrokes]', form).value || 0);
  let carried = JSON.parse(playbackField.value || '{}');  // playback recorded before a reload

  // -- players ----------------------------------------------------------------------------------
  let transports = null;
  const deck = createDeck(outputsRoot, frameRates, () => { if (transports) transports.repaint(); update(); });
  const progressField = $('input[name=progress]', form);
  const linkState = () => {
    const toggle = $('#link-toggle');
    if (!toggle || !deck) return;
    toggle.setAttribute('aria-pressed', String(deck.linked));
    $('#link-state').textContent = deck.linked ? 'Linked' : 'Unlinked';
  };

  // -- heartbeats: the server counts only the playback it observed -----------------------------
  // The playback rule on the checklist is the server's: the page starts from the count it was
  // rendered with, and every heartbeat's answer says, per side, the seconds the server has counted,
  // the seconds the rule needs and whether they meet it (the rule a submission is held to; its
  // own last heartbeat can only add). The players' own count runs ahead of the server's (which
  // credits from its first heartbeat's arrival, by its own clock), so it is only shown beside it.
  // While a playing side is about to meet the rule, the page beats sooner, so the count catches up.
  const BEAT_MS = 2000;
  const CATCH_UP_MS = 400;
  const counted = JSON.parse(data.playbackRule || '{}');  // {side: {counted_s, required_s, met}}
  let lastBeat = 0;
  let sent = {};  // the positions the last heartbeat carried
  let inFlight = 0;  // heartbeats not answered yet
  let submitting = false;  // once the form is sent its last heartbeat rides with it
  function heard(rule) {
    let changed = false;
    for (const [side, r] of Object.entries(rule || {})) {
      // answers may cross on the way: the server's count only grows, so the larger one is newer
      if (counted[side] && r.counted_s >= counted[side].counted_s && (r.counted_s > counted[side].counted_s || r.met !== counted[side].met)) {
        counted[side] = r;
        changed = true;
      }
    }
    if (changed) update();
  }
  // A playing side whose next heartbeat would likely meet the rule: the server's count plus how
  // far the player moved since the last heartbeat (a loop or a seek back: no estimate).
  function aboutToMeet(positions) {
    return Object.entries(counted).some(([side, r]) => {
      const p = positions[side];
      const from = sent[side];
      return !r.met && p && p.playing && from && p.t >= from.t && r.counted_s + (p.t - from.t) >= r.required_s;
    });
  }
  function beat(force) {
    if (!deck || !data.progressUrl || submitting || signal.aborted) return;
    const now = Date.now();
    const positions = deck.positions();
    const playing = Object.values(positions).some((p) => p.playing);
    if (!force && (!playing || now - lastBeat < (aboutToMeet(positions) ? CATCH_UP_MS : BEAT_MS))) return;
    lastBeat = now;
    sent = positions;
    inFlight += 1;
    fetch(data.progressUrl, { method: 'POST', body: JSON.stringify(positions), credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': data.csrf } })
      .then((r) => (r.status === 409 || r.status === 200 ? r.json() : null))
      .then((body) => {
        if (!body || signal.aborted) return;
        if (body.error) closed(body.error.message);
        else heard(body.playback_rule);
      })
      .catch(() => {})
      .finally(() => { inFlight -= 1; if (!signal.aborted) update(); });
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
    if (deck) deck.stop();
  }
  if (deck) {
    for (const m of deck.media) for (const ev of ['play', 'pause', 'seeking', 'ended']) m.addEventListener(ev, () => beat(true), { signal });
    every(() => beat(false), 200);  // beats every BEAT_MS while playing, CATCH_UP_MS when about to meet the rule
  }

  // -- scripts: differences marked, then one span a line (line notes anchor to them) ------------
  if (modality === 'script') {
    const diff = kind === 'pairwise' ? markScripts(outputsRoot) : null;
    if (diff) $('#diff-summary').textContent = `${diff.left} words only on the left, ${diff.right} only on the right (marked).`;
    for (const pre of $$('pre.script', outputsRoot)) lineify(pre);
  }

  // -- notes ------------------------------------------------------------------------------------
  const notebook = new NoteBook({
    form, field: $('input[name=notes_json]', form), list: $('#notes-list'), dialog: $('#note-dialog'), deck,
    frameRates, modality, maxNotes: Number(data.maxNotes || 50), maxChars: Number(data.maxNoteChars || 1000),
    onChange: (notes) => {
      if (transports) transports.markers(notes);
      if (modality === 'script') markScriptNotes(notes);
    },
    onSeek: (note, index) => seekNote(note, index),
  });
  function seekNote(note, index) {
    notebook.select(index);
    if (deck && note.t_in !== undefined) { deck.seekAll(note.t_in, note.side); return; }
    const line = $(`pre.script[data-side="${note.side}"] .line[data-line="${note.line_in}"]`, outputsRoot);
    if (!line) return;
    line.scrollIntoView({ block: 'center' });
    // the other side's script follows to the same line, as the players follow a time
    const other = $$('pre.script', outputsRoot).find((p) => p.dataset.side !== note.side);
    const twin = other && $(`.line[data-line="${note.line_in}"]`, other);
    if (twin) twin.scrollIntoView({ block: 'center' });
    line.classList.add('flash-line');
    setTimeout(() => line.classList.remove('flash-line'), 1200);
  }
  function markScriptNotes(notes) {
    for (const line of $$('.line.noted', outputsRoot)) { line.classList.remove('noted'); delete line.dataset.notes; }
    notes.forEach((note, index) => {
      for (let n = note.line_in; n <= (note.line_out || note.line_in); n += 1) {
        const line = $(`pre.script[data-side="${note.side}"] .line[data-line="${n}"]`, outputsRoot);
        if (!line) continue;
        line.classList.add('noted');
        line.dataset.notes = line.dataset.notes ? `${line.dataset.notes} ${index + 1}` : String(index + 1);
      }
    });
  }
  if (modality === 'script') {
    outputsRoot.addEventListener('click', (e) => {
      const line = e.target.closest('.line.noted');
      if (!line || !window.getSelection().isCollapsed) return;
      notebook.select(Number(line.dataset.notes.split(' ')[0]) - 1);
    });
  }
  function pinNote() {
    if (deck) notebook.begin(deck.anchor());
    else notebook.begin(scriptSelection(outputsRoot));
  }
  if (deck) {
    transports = attachTransports(document, deck, { onPin: pinNote, onSeekNote: (i) => seekNote(notebook.notes[i], i) });
  }
  for (const btn of $$('.pin-script-note')) btn.addEventListener('mousedown', (e) => e.preventDefault());  // keep the selection
  for (const btn of $$('.pin-script-note')) btn.addEventListener('click', pinNote);

  // -- choice groups: each criterion, then Overall (pairwise); rubric criteria -----------------
  const groups = $$('[data-group]', form);
  let active = 0;
  function setActive(k, focus = false) {
    if (!groups.length) return;
    active = (k + groups.length) % groups.length;
    groups.forEach((g, i) => { g.classList.toggle('active', i === active); g.setAttribute('aria-current', i === active ? 'step' : 'false'); });
    groups[active].scrollIntoView({ block: 'nearest' });
    if (focus) groups[active].focus();
  }
  const checked = (name) => { const el = $(`input[name="${name}"]:checked`, form); return el ? el.value : null; };
  const pick = (name, value) => {
    const input = $(`input[name="${name}"][value="${value}"]`, form);
    if (!input || input.matches(':disabled')) return false;
    input.checked = true;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  };
  const groupDone = (g) => {
    const choice = checked(g.dataset.choice);
    return Boolean(choice) && (choice === 'tie' || Boolean(checked(g.dataset.strength)));
  };
  function choose(value) {
    const g = groups[active];
    if (!g || !pick(g.dataset.choice, value)) return;
    if (groupDone(g) && active < groups.length - 1) setActive(active + 1);
  }
  function strength(value) {
    const g = groups[active];
    if (!g || checked(g.dataset.choice) === 'tie') return;  // no strength for a tie
    if (pick(g.dataset.strength, value) && groupDone(g) && active < groups.length - 1) setActive(active + 1);
  }
  function score(value) {
    const g = groups[active];
    if (g) pick(g.dataset.score, value);
  }
  for (const g of groups) g.addEventListener('focusin', () => { const i = groups.indexOf(g); if (i !== active) setActive(i); });

  // -- the answer --------------------------------------------------------------------------------
  function playback() {
    const now = deck ? deck.playback() : {};
    const merged = { ...carried };
    for (const [side, seconds] of Object.entries(now)) merged[side] = Math.max(merged[side] || 0, seconds);
    return merged;
  }
  const number = (v) => (v !== null && /^\d+$/.test(v) ? Number(v) : v);
  function answer() {
    const out = { rationale: rationale.value, confidence: number(checked('confidence')), playback: playback(),
                  paste_count: pasteCount, keystrokes, notes: JSON.parse($('input[name=notes_json]', form).value || '[]') };
    if (kind === 'pairwise') {
      out.choice = checked('choice');
      out.strength = out.choice === 'tie' ? null : number(checked('strength'));
      out.criteria = {};
      for (const g of groups.filter((x) => x.dataset.criterion)) {
        const choice = checked(g.dataset.choice);
        out.criteria[g.dataset.criterion] = { choice, strength: choice === 'tie' ? null : number(checked(g.dataset.strength)) };
      }
    } else {
      out.scores = {};
      for (const g of groups) out.scores[g.dataset.criterion] = number(checked(g.dataset.score));
    }
    return out;
  }
  // A newer local draft put back into the form.
  function applyAnswer(a) {
    const set = (name, value) => {
      for (const input of $$(`input[name="${name}"]`, form)) input.checked = value !== null && value !== undefined && input.value === String(value);
    };
    rationale.value = a.rationale || '';
    set('confidence', a.confidence);
    if (kind === 'pairwise') {
      set('choice', a.choice); set('strength', a.strength);
      for (const g of groups.filter((x) => x.dataset.criterion)) {
        const c = (a.criteria || {})[g.dataset.criterion] || {};
        set(g.dataset.choice, c.choice); set(g.dataset.strength, c.strength);
      }
    } else {
      for (const g of groups) set(g.dataset.score, (a.scores || {})[g.dataset.criterion]);
    }
    if (a.playback) for (const [side, s] of Object.entries(a.playback)) carried[side] = Math.max(carried[side] || 0, Number(s) || 0);
    pasteCount = Math.max(pasteCount, Number(a.paste_count) || 0);
    keystrokes = Math.max(keystrokes, Number(a.keystrokes) || 0);
    notebook.load(a.notes || []);
  }

  function setRule(name, ok, text, note) {
    const li = $(`[data-rule="${name}"]`, form);
    if (!li) return ok;
    li.classList.toggle('ok', ok);
    li.querySelector('.rule-state').textContent = text;
    if (note !== undefined) li.querySelector('.rule-note').textContent = note;
    return ok;
  }

  // The server's count against the rule ("2.7 of 2.8 s", rounded so that a count short of the
  // rule never reads as reaching it), and below it the players' own count and what to do.
  function playbackRule(side, r, own) {
    const tenth = (x, round) => (round(x * 10 + (round === Math.ceil ? -1e-6 : 1e-6)) / 10).toFixed(1);
    if (r.met) return setRule(`playback-${side}`, true, `${r.counted_s.toFixed(1)} of ${r.required_s.toFixed(1)} s`, 'counted by the server');
    const stopped = deck && !deck.playing() && !inFlight;  // and the server has answered every heartbeat
    const media = deck && deck.output(side) ? deck.output(side).media : null;
    const next = !stopped ? 'counting' : (media && media.ended ? 'play again' : 'play on');
    const note = own > 0 ? `played ${tenth(own, Math.floor)} s · ${next}` : 'not played yet';
    return setRule(`playback-${side}`, false, `${tenth(r.counted_s, Math.floor)} of ${tenth(r.required_s, Math.ceil)} s`, note);
  }

  function update() {
    const a = answer();
    const words = wordCount(a.rationale) + (a.notes || []).reduce((n, note) => n + wordCount(note.text || ''), 0);
    let ok = setRule('words', words >= minWords, words >= minWords ? `${words} words` : `${words} of ${minWords} words`);
    const wait = Math.ceil((submitAfter - (Date.now() + clockSkew)) / 1000);
    ok = setRule('timing', wait <= 0, wait <= 0 ? 'done' : `${wait} s more`) && ok;
    const played = a.playback;
    for (const [side, r] of Object.entries(counted)) ok = playbackRule(side, r, played[side] || 0) && ok;
    if (kind === 'pairwise') {
      const open = groups.filter((g) => !groupDone(g));
      const overall = groups[groups.length - 1];
      const text = !open.length ? 'chosen' : (open.length === 1 && open[0] === overall && checked(overall.dataset.choice) ? 'pick a strength'
        : `${open.length} of ${groups.length} to choose`);
      ok = setRule('choice', !open.length, text) && ok;
      for (const g of groups) {
        g.classList.toggle('done', groupDone(g));
        const strengthSet = $('.strength', g);
        if (strengthSet) strengthSet.toggleAttribute('disabled', checked(g.dataset.choice) === 'tie');
      }
    } else {
      const missing = Object.values(a.scores).filter((v) => v === null).length;
      ok = setRule('scores', missing === 0, missing ? `${missing} to score` : 'all scored') && ok;
    }
    ok = setRule('confidence', Boolean(a.confidence), a.confidence ? `${a.confidence} of 5` : 'not set') && ok;
    if (requireNote) ok = setRule('notes', a.notes.length > 0, a.notes.length ? `${a.notes.length}` : 'none yet') && ok;
    playbackField.value = JSON.stringify(played);
    $('input[name=paste_count]', form).value = pasteCount;
    $('input[name=keystrokes]', form).value = keystrokes;
    submit.disabled = !ok;
    submit.setAttribute('aria-disabled', String(!ok));
  }

  // -- drafts -----------------------------------------------------------------------------------
  const drafts = new Drafts({
    url: data.draftUrl, csrf: data.csrf, key: `${data.assignmentId}:${data.revising === 'true' ? 'revise' : 'rate'}`,
    serverSavedAt: data.draftSavedAt ? Number(data.draftSavedAt) : null,
    serverClientSavedAt: data.draftClientSavedAt && Number.isFinite(Date.parse(data.draftClientSavedAt)) ? Date.parse(data.draftClientSavedAt) : null,
    clockSkew, answer,
    onSaved: (text, isError) => { status.textContent = text; status.classList.toggle('error', isError); },
    onClosed: closed,
  });
  notebook.load(JSON.parse($('input[name=notes_json]', form).value || '[]'));
  const local = drafts.newerLocal();
  if (local) {
    applyAnswer(local);
    status.textContent = 'Restored your newest answer from this browser';
    drafts.changed();  // and bring the server's copy up to date
  }
  function changed() { update(); drafts.changed(); }
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  rationale.addEventListener('paste', () => { pasteCount += 1; changed(); });
  rationale.addEventListener('keydown', (e) => { if (e.key.length === 1 || e.key === 'Backspace') keystrokes += 1; });
  every(() => { update(); }, 1000);
  if (deck) every(() => { drafts.keepLocal(); drafts.save(); }, 15000);  // playback progress survives a reload
  drafts.wire(signal);
  window.addEventListener('pagehide', () => beat(true), { signal });
  form.addEventListener('submit', (e) => {
    if (submitting) { e.preventDefault(); return; }  // one submission per item
    update();
    if (deck && progressField) progressField.value = JSON.stringify(deck.positions());  // the last heartbeat
    if (submit.disabled) { e.preventDefault(); $('.rule-checklist', form).focus(); return; }
    submitting = true;
    drafts.stop();
    submit.disabled = true;  // one click, one post (the idempotency key covers retries)
    submit.textContent = 'Submitting…';
    if (inPlace) { e.preventDefault(); submitInPlace(form, shown); }
  });

  // -- keyboard ---------------------------------------------------------------------------------
  const ctx = { kind, modality, criteria: groups.filter((g) => g.dataset.criterion && kind === 'pairwise').length,
                skippable: Boolean($('#skip-dialog')) };
  const rows = KEYS.filter((row) => offered(row, ctx));
  renderOverlay($('#shortcuts tbody'), rows);
  const toggleLink = () => { if (deck) { deck.toggleLink(); linkState(); } };
  const handlers = {
    playPause: () => deck.playPause(),
    shuttleForward: () => deck.shuttle(1),
    shuttleBack: () => deck.shuttle(-1),
    stop: () => deck.stop(),
    slowForward: () => deck.slow(1),
    slowBack: () => deck.slow(-1),
    frameBack: () => deck.step(-1),
    frameForward: () => deck.step(1),
    secondBack: () => deck.seekBy(-1),
    secondForward: () => deck.seekBy(1),
    markIn: () => deck.mark('in'),
    markOut: () => deck.mark('out'),
    toStart: () => deck.toStart(),
    toggleLink,
    newNote: pinNote,
    chooseLeft: () => choose('left'),
    chooseTie: () => choose('tie'),
    chooseRight: () => choose('right'),
    strength1: () => strength('1'),
    strength2: () => strength('2'),
    strength3: () => strength('3'),
    score: (e) => score(e.code.slice(-1)),
    prevGroup: () => setActive(active - 1, document.activeElement && document.activeElement.closest('[data-group]')),
    nextGroup: () => setActive(active + 1, document.activeElement && document.activeElement.closest('[data-group]')),
    confidence: () => $('fieldset.confidence', form).focus(),
    rationale: () => rationale.focus(),
    submit: () => form.requestSubmit(),
    skip: () => openDialog($('#skip-dialog')),
    instructions: () => toggleDialog($('#instructions')),
    overlay: () => toggleDialog($('#shortcuts')),
  };

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing || submitting) return;
    const target = e.target;
    const typing = target.matches && target.matches(TYPING);
    const row = rowFor(e, rows);
    if (row && row.action === 'submit') {
      if (dialogOpen()) return;  // Ctrl+Enter inside a dialog is the dialog's business
      e.preventDefault(); handlers.submit(); return;
    }
    if (e.key === 'Escape') {
      if (dialogOpen()) return;  // the dialog's own cancel closes it and returns focus
      if (typing || target.closest('fieldset.confidence')) { target.blur(); document.body.focus(); }
      return;
    }
    if (typing || dialogOpen()) return;
    // Space and Enter on a focused button, link or toggle press it: never hijacked.
    if ((e.key === ' ' || e.key === 'Enter') && target.matches && target.matches(INTERACTIVE)) return;
    // Arrows on a focused radio move it (the browser's own radio group behaviour).
    if (e.key.startsWith('Arrow') && target.matches && target.matches('input[type=radio]')) return;
    // Digits while the confidence scale has focus set it.
    const conf = target.closest && target.closest('fieldset.confidence');
    if (conf && /^(Digit|Numpad)[1-5]$/.test(e.code) && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
      pick('confidence', e.code.slice(-1)); e.preventDefault(); return;
    }
    if (!row || !handlers[row.action]) return;
    if (!deck && row.group === 'Transport') return;
    e.preventDefault();
    handlers[row.action](e);
  }, { signal });

  const toggle = $('#link-toggle');
  if (toggle) toggle.addEventListener('click', toggleLink);
  wireDialogs(document);
  for (const btn of $$('[data-toggle-dialog]')) btn.addEventListener('click', () => toggleDialog($(btn.dataset.toggleDialog)));
  if (groups.length) {
    const firstOpen = kind === 'pairwise' ? groups.findIndex((g) => !groupDone(g)) : 0;
    setActive(firstOpen < 0 ? groups.length - 1 : firstOpen);
  }
  linkState();
  update();
  if (transports) transports.repaint();
  const firstError = $('.field-error', form);
  const errorField = firstError && firstError.closest('.field, fieldset');
  (errorField ? errorField.querySelector('textarea, input') : null)?.focus();
  if (deck && data.upcomingUrl && inPlace) lookahead(data.upcomingUrl, deck.media, modality, signal);  // preloads serve only a swap

  return () => {
    life.abort();  // every document, window and media listener above
    timers.forEach(clearInterval);
    if (dialogOpen()) closeDialog(false);
    if (deck) deck.stop();
    for (const box of $$('.waveform', outputsRoot)) if (box.wavesurfer) box.wavesurfer.destroy();  // its timers and fetches
    drafts.stop();
  };
}

// Submitting in place (desk.js) unless the browser lacks what it needs; DAILIES_PLAIN_SUBMIT
// (set before the page loads) keeps the plain post, to compare the two.
const inPlace = Boolean(window.fetch && window.DOMParser && window.history.pushState && !window.DAILIES_PLAIN_SUBMIT);
let teardown = rateSetup();

// The answer to a submission is a page to show here: the old item's setup ends, the new page
// takes <main>, and the setup runs again for it (when it is a rating page).
function shown(doc, url) {
  if (teardown) teardown();
  const main = showPage(doc, url);
  teardown = rateSetup();
  if (!teardown) clearPreloaded();
  focusPage(main);
  document.dispatchEvent(new CustomEvent('dailies:shown', { detail: { url } }));
}
