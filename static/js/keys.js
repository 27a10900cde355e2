// The rating page's keyboard map: ONE table. The `?` overlay is generated from it, the key
// handler dispatches through it, the browser tests drive it row by row, and the README lists the
// same rows. Letters and digits match by physical key (event.code), so Z X C stay the bottom row
// left-to-right and J K L the shuttle on any layout; symbols match by the character typed.
//
// Each row: action (handler name), keys (what the overlay shows), match (how an event matches),
// label, group, and when (which pages offer it: 'media' = video or audio, 'pairwise', 'rubric',
// 'criteria' = pairwise with per-criterion choices, 'all').

const letter = (ch, shift = false) => ({ code: `Key${ch}`, shift });
const digit = (d) => ({ codes: [`Digit${d}`, `Numpad${d}`] });

export const KEYS = [
  // transport
  { action: 'playPause', keys: ['Space'], match: [{ code: 'Space' }], label: 'play / pause (both sides when linked)', group: 'Transport', when: 'media' },
  { action: 'shuttleForward', keys: ['L'], match: [letter('L')], label: 'play forward; press again for 2×, 4×', group: 'Transport', when: 'media' },
  { action: 'shuttleBack', keys: ['J'], match: [letter('J')], label: 'play backwards (stepped: the browser cannot play in reverse); again for 2×, 4×', group: 'Transport', when: 'media' },
  { action: 'stop', keys: ['K'], match: [letter('K')], label: 'pause', group: 'Transport', when: 'media' },
  { action: 'slowForward', keys: ['Shift', 'L'], match: [letter('L', true)], label: 'slow forward: 0.5×, again 0.25×', group: 'Transport', when: 'media' },
  { action: 'slowBack', keys: ['Shift', 'J'], match: [letter('J', true)], label: 'slow backwards: 0.5×, again 0.25×', group: 'Transport', when: 'media' },
  { action: 'frameBack', keys: ['←'], match: [{ code: 'ArrowLeft' }], label: 'one frame back (at the clip\'s frame rate)', group: 'Transport', when: 'media' },
  { action: 'frameForward', keys: ['→'], match: [{ code: 'ArrowRight' }], label: 'one frame forward', group: 'Transport', when: 'media' },
  { action: 'secondBack', keys: ['Shift', '←'], match: [{ code: 'ArrowLeft', shift: true }], label: 'one second back', group: 'Transport', when: 'media' },
  { action: 'secondForward', keys: ['Shift', '→'], match: [{ code: 'ArrowRight', shift: true }], label: 'one second forward', group: 'Transport', when: 'media' },
  { action: 'markIn', keys: ['I'], match: [letter('I')], label: 'mark in (on the active side)', group: 'Transport', when: 'media' },
  { action: 'markOut', keys: ['O'], match: [letter('O')], label: 'mark out', group: 'Transport', when: 'media' },
  { action: 'toStart', keys: ['Home'], match: [{ code: 'Home' }], label: 'back to the start', group: 'Transport', when: 'media' },
  { action: 'toggleLink', keys: ['U'], match: [letter('U')], label: 'link / unlink the two sides', group: 'Transport', when: 'pairMedia' },
  // notes
  { action: 'newNote', keys: ['N'], match: [letter('N')], label: 'note at the current time of the active side (or the in–out range); pauses while you type', group: 'Notes', when: 'media' },
  { action: 'newNote', keys: ['N'], match: [letter('N')], label: 'note on the selected lines (select text in a script first)', group: 'Notes', when: 'script' },
  { action: 'saveNote', keys: ['Enter'], match: [], label: 'in the note box: save the note (Shift+Enter: new line)', group: 'Notes', when: 'all' },
  // choice
  { action: 'chooseLeft', keys: ['Z'], match: [letter('Z')], label: 'Left is better (active group)', group: 'Choice', when: 'pairwise' },
  { action: 'chooseTie', keys: ['X'], match: [letter('X')], label: 'tie', group: 'Choice', when: 'pairwise' },
  { action: 'chooseRight', keys: ['C'], match: [letter('C')], label: 'Right is better', group: 'Choice', when: 'pairwise' },
  { action: 'strength1', keys: ['1'], match: [digit(1)], label: 'slightly better (nothing while Tie is chosen)', group: 'Choice', when: 'pairwise' },
  { action: 'strength2', keys: ['2'], match: [digit(2)], label: 'clearly better', group: 'Choice', when: 'pairwise' },
  { action: 'strength3', keys: ['3'], match: [digit(3)], label: 'much better', group: 'Choice', when: 'pairwise' },
  { action: 'prevGroup', keys: ['['], match: [{ key: '[' }], label: 'previous criterion', group: 'Choice', when: 'criteria' },
  { action: 'nextGroup', keys: [']'], match: [{ key: ']' }], label: 'next criterion (a complete choice moves on by itself)', group: 'Choice', when: 'criteria' },
  { action: 'score', keys: ['1', '…', '9'], match: [1, 2, 3, 4, 5, 6, 7, 8, 9].map(digit), label: 'score the active criterion', group: 'Scores', when: 'rubric' },
  { action: 'prevGroup', keys: ['['], match: [{ key: '[' }], label: 'previous criterion', group: 'Scores', when: 'rubric' },
  { action: 'nextGroup', keys: [']'], match: [{ key: ']' }], label: 'next criterion', group: 'Scores', when: 'rubric' },
  { action: 'confidence', keys: ['V'], match: [letter('V')], label: 'confidence: then 1 … 5', group: 'Answer', when: 'all' },
  { action: 'rationale', keys: ['R'], match: [letter('R')], label: 'write the rationale (Esc leaves the text box)', group: 'Answer', when: 'all' },
  { action: 'submit', keys: ['Ctrl', 'Enter'], match: [{ code: 'Enter', ctrl: true }, { code: 'NumpadEnter', ctrl: true }], label: 'submit (⌘ Enter on a Mac)', group: 'Answer', when: 'all' },
  // page
  { action: 'skip', keys: ['S'], match: [letter('S')], label: 'skip (asks why)', group: 'Page', when: 'skippable' },
  { action: 'instructions', keys: ['G'], match: [letter('G')], label: 'show / hide the instructions', group: 'Page', when: 'all' },
  { action: 'overlay', keys: ['?'], match: [{ key: '?' }], label: 'this list', group: 'Page', when: 'all' },
  { action: 'escape', keys: ['Esc'], match: [], label: 'close the open dialog, leave a text box', group: 'Page', when: 'all' },
];

// Does this page offer the row? ctx: {kind, modality, criteria (count), skippable}.
export function offered(row, ctx) {
  const media = ctx.modality === 'video' || ctx.modality === 'audio';
  switch (row.when) {
    case 'media': return media;
    case 'pairMedia': return media && ctx.kind === 'pairwise';
    case 'script': return ctx.modality === 'script';
    case 'pairwise': return ctx.kind === 'pairwise';
    case 'criteria': return ctx.kind === 'pairwise' && ctx.criteria > 0;
    case 'rubric': return ctx.kind === 'rubric';
    case 'skippable': return Boolean(ctx.skippable);
    default: return true;
  }
}

function matches(m, e) {
  const mod = e.ctrlKey || e.metaKey;
  if (Boolean(m.ctrl) !== mod || e.altKey) return false;
  if (m.key) return e.key === m.key;
  if (Boolean(m.shift) !== e.shiftKey) return false;
  return m.codes ? m.codes.includes(e.code) : e.code === m.code;
}

// The row a key event asks for on this page, or null.
export function rowFor(e, rows) {
  return rows.find((row) => row.match.some((m) => matches(m, e))) || null;
}

// The overlay's table body, built from the rows this page offers.
export function renderOverlay(tbody, rows) {
  tbody.textContent = '';
  let group = null;
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      const head = document.createElement('tr');
      const th = document.createElement('th');
      th.colSpan = 2;
      th.scope = 'colgroup';
      th.textContent = group;
      head.appendChild(th);
      tbody.appendChild(head);
    }
    const tr = document.createElement('tr');
    tr.dataset.action = row.action;
    const keys = document.createElement('td');
    row.keys.forEach((k, i) => {
      if (i) keys.append(k === '…' || row.keys[i - 1] === '…' ? ' ' : ' + ');
      if (k === '…') { keys.append('…'); return; }
      const kbd = document.createElement('kbd');
      kbd.textContent = k;
      keys.appendChild(kbd);
    });
    const what = document.createElement('td');
    what.textContent = row.label;
    tr.append(keys, what);
    tbody.appendChild(tr);
  }
}
