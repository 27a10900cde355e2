// Time-coded notes (video, audio) and line notes (scripts): the list beside the rationale, the
// note box, and the hidden `notes_json` field the form sends (shape: /work/briefs/notes_contract.md
// §1 — side, t_in, t_out, text; scripts side, line_in, line_out, char_in, char_out, quote, text).
// The server derives labels, frames and timecodes; the page shows timecodes the same way.
import { timecode } from './players.js';
import { openDialog, closeDialog } from './dialogs.js';

const $ = (sel, root = document) => root.querySelector(sel);
const SIDE_NAMES = { left: 'Left', right: 'Right', output: 'Output' };
const SEND_KEYS = ['side', 't_in', 't_out', 'line_in', 'line_out', 'char_in', 'char_out', 'quote', 'text'];

// Only what a client may send: anything the server derives is dropped.
export function sendShape(note) {
  const out = {};
  for (const k of SEND_KEYS) if (note[k] !== undefined && note[k] !== null) out[k] = note[k];
  if (out.t_in !== undefined && out.t_out === undefined) out.t_out = null;
  return out;
}

// "Left 00:00:01:05–00:00:02:00" or "Right lines 4–6".
export function anchorText(note, fps) {
  const side = SIDE_NAMES[note.side] || note.side;
  if (note.line_in !== undefined && note.line_in !== null) {
    const lines = note.line_out && note.line_out !== note.line_in ? `lines ${note.line_in}–${note.line_out}` : `line ${note.line_in}`;
    return `${side} ${lines}`;
  }
  const tIn = timecode(note.t_in, fps);
  return note.t_out === null || note.t_out === undefined ? `${side} ${tIn}` : `${side} ${tIn}–${timecode(note.t_out, fps)}`;
}

// The selection inside one script pane as a line anchor, or null.
export function scriptSelection(root) {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  const element = (node) => (node.nodeType === 1 ? node : node.parentElement);
  const startNode = element(range.startContainer);
  const endNode = element(range.endContainer);
  const pre = startNode && startNode.closest('pre.script');
  if (!pre || !root.contains(pre) || !pre.contains(endNode)) return null;
  const start = measure(pre, range.startContainer, range.startOffset);
  let end = measure(pre, range.endContainer, range.endOffset);
  if (!start || !end) return null;
  if (end.ch === 0 && end.line > start.line) {  // a whole line selected ends at the next one's start
    const last = pre.querySelector(`.line[data-line="${end.line - 1}"]`);
    end = { line: end.line - 1, ch: last ? last.textContent.length : 0 };
  }
  return { side: pre.dataset.side, line_in: start.line, line_out: end.line, char_in: start.ch,
           char_out: start.line === end.line ? Math.max(end.ch, start.ch) : end.ch, quote: sel.toString().slice(0, 500) };
}

// Line number and offset within the line of a DOM position inside a lineified script.
function measure(pre, container, offset) {
  const el = container.nodeType === 1 ? container : container.parentElement;
  const line = el.closest('.line') || (container === pre ? pre.children[Math.min(offset, pre.children.length - 1)] : null);
  if (!line || !line.dataset.line) return null;
  const before = document.createRange();
  before.setStart(line, 0);
  try { before.setEnd(container, offset); } catch (err) { return { line: Number(line.dataset.line), ch: 0 }; }
  return { line: Number(line.dataset.line), ch: before.toString().length };
}

// Rebuild a script <pre> (text and diff marks) as one block <span class="line" data-line> a line.
export function lineify(pre) {
  const nodes = Array.from(pre.childNodes);
  pre.textContent = '';
  let n = 1;
  let line = null;
  const newLine = () => { line = document.createElement('span'); line.className = 'line'; line.dataset.line = String(n); n += 1; pre.appendChild(line); };
  newLine();
  for (const node of nodes) {
    if (node.nodeType !== 3) { line.appendChild(node); continue; }
    const parts = node.textContent.split('\n');
    parts.forEach((part, i) => {
      if (i > 0) newLine();
      if (part) line.appendChild(document.createTextNode(part));
    });
  }
  return n - 1;
}

export class NoteBook {
  // opts: {form, field (hidden input), list (<ol>), dialog, deck (or null), frameRates, modality,
  //        maxNotes, maxChars, onChange(notes), onSeek(note)}
  constructor(opts) {
    Object.assign(this, opts);
    this.notes = [];
    this.pending = null;
    this.resumeAfter = false;
    const box = $('textarea', this.dialog);
    this.box = box;
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); this.save(); }
    });
    $('.note-save', this.dialog).addEventListener('click', () => this.save());
    this.dialog.addEventListener('close', () => { this.pending = null; });
  }

  load(notes) {
    this.notes = Array.isArray(notes) ? notes.map(sendShape).filter((n) => n.side && typeof n.text === 'string') : [];
    this.render(false);
  }

  // Open the note box at an anchor (from the deck, or a script selection). Pauses playback.
  begin(anchor) {
    const status = $('.note-status', this.form);
    if (!anchor) { status.textContent = 'Select a line or a few words in a script first, then press N.'; return; }
    if (this.notes.length >= this.maxNotes) { status.textContent = `At most ${this.maxNotes} notes.`; return; }
    status.textContent = '';
    if (this.deck) this.deck.stop();
    this.pending = anchor;
    $('.note-anchor', this.dialog).textContent = anchorText(anchor, this.frameRates[anchor.side]);
    const quote = $('.note-quote', this.dialog);
    quote.textContent = anchor.quote ? `“${anchor.quote}”` : '';
    quote.hidden = !anchor.quote;
    this.box.value = '';
    openDialog(this.dialog, this.box);
  }

  save() {
    const text = this.box.value.trim();
    if (!this.pending) { closeDialog(); return; }
    if (!text) { this.box.setAttribute('aria-invalid', 'true'); return; }
    this.box.removeAttribute('aria-invalid');
    this.notes.push({ ...this.pending, text: text.slice(0, this.maxChars) });
    this.pending = null;
    if (this.deck) this.deck.clearMarks();
    closeDialog();
    this.render(true);
  }

  remove(index) {
    this.notes.splice(index, 1);
    this.render(true);
    const items = this.list.querySelectorAll('.note-seek');
    (items[Math.min(index, items.length - 1)] || $('.notes-head', this.form) || document.body).focus();
  }

  render(changed) {
    this.field.value = JSON.stringify(this.notes.map(sendShape));
    this.list.textContent = '';
    this.notes.forEach((note, index) => {
      const li = document.createElement('li');
      li.className = 'note';
      li.dataset.side = note.side;
      const seek = document.createElement('button');
      seek.type = 'button';
      seek.className = 'note-seek';
      const where = document.createElement('span');
      where.className = 'note-where';
      where.textContent = `${index + 1}. ${anchorText(note, this.frameRates[note.side])}`;
      const what = document.createElement('span');
      what.className = 'note-text';
      what.textContent = note.text;
      seek.append(where, what);
      seek.setAttribute('aria-label', `Go to note ${index + 1}: ${anchorText(note, this.frameRates[note.side])}, ${note.text}`);
      seek.addEventListener('click', () => this.onSeek(note, index));
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'button small note-delete';
      del.textContent = 'Delete';
      del.setAttribute('aria-label', `Delete note ${index + 1}`);
      del.addEventListener('click', () => this.remove(index));
      li.append(seek, del);
      this.list.appendChild(li);
    });
    const count = $('.notes-count', this.form);
    if (count) count.textContent = this.notes.length ? `(${this.notes.length})` : '';
    this.onChange(this.notes, changed);
    if (changed) this.field.dispatchEvent(new Event('change', { bubbles: true }));
  }

  // The list entry of a note gets a brief highlight (a marker or a script line was clicked).
  select(index) {
    const li = this.list.children[index];
    if (!li) return;
    for (const other of this.list.children) other.classList.toggle('selected', other === li);
    li.scrollIntoView({ block: 'nearest' });
  }
}
