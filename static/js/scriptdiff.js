// Word-level differences between two scripts, marked in place: words only in the left script
// are marked in the left pane, words only in the right in the right pane. Longest common
// subsequence over word tokens (whitespace kept as it was).

const MAX_TOKENS = 4000;

export function tokenize(text) { return text.match(/\s+|[^\s]+/g) || []; }

// Returns [leftMarks, rightMarks]: for each token, true when it is not in the common subsequence.
export function diffTokens(left, right) {
  const words = (tokens) => tokens.map((t, i) => [t, i]).filter(([t]) => /\S/.test(t));
  const a = words(left); const b = words(right);
  const markA = new Array(left.length).fill(false); const markB = new Array(right.length).fill(false);
  if (a.length > MAX_TOKENS || b.length > MAX_TOKENS) return [markA, markB];
  const n = a.length; const m = b.length;
  const table = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      table[i][j] = a[i][0] === b[j][0] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  let i = 0; let j = 0;
  while (i < n && j < m) {
    if (a[i][0] === b[j][0]) { i += 1; j += 1; } else if (table[i + 1][j] >= table[i][j + 1]) { markA[a[i][1]] = true; i += 1; } else { markB[b[j][1]] = true; j += 1; }
  }
  for (; i < n; i += 1) markA[a[i][1]] = true;
  for (; j < m; j += 1) markB[b[j][1]] = true;
  return [markA, markB];
}

function render(pre, tokens, marks, cls) {
  pre.textContent = '';
  let changed = 0;
  tokens.forEach((token, k) => {
    if (marks[k]) {
      const span = document.createElement('mark');
      span.className = cls;
      span.textContent = token;
      pre.appendChild(span);
      changed += 1;
    } else {
      pre.appendChild(document.createTextNode(token));
    }
  });
  return changed;
}

// Mark the differences between <pre data-side="left"> and <pre data-side="right"> in root.
export function markScripts(root) {
  const left = root.querySelector('pre.script[data-side="left"]');
  const right = root.querySelector('pre.script[data-side="right"]');
  if (!left || !right) return null;
  const tl = tokenize(left.textContent); const tr = tokenize(right.textContent);
  const [ml, mr] = diffTokens(tl, tr);
  return { left: render(left, tl, ml, 'diff-only'), right: render(right, tr, mr, 'diff-only') };
}
