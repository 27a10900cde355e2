// Dialogs of the rating page, one at a time: native <dialog> elements shown modal (the browser
// keeps focus inside and Esc cancels), opened with focus on their first field and closed with
// focus back where it was. Buttons with data-open="#id" / data-close open and close them.

let current = null;

export function openDialog(dialog, focusTarget) {
  if (!dialog) return;
  if (current && current.dialog === dialog) return;
  const returnTo = current ? current.returnTo : document.activeElement;
  if (current) closeDialog(false);
  current = { dialog, returnTo };
  dialog.showModal();
  const target = focusTarget || dialog.querySelector('[autofocus], textarea, input:not([type=hidden]), select, button');
  if (target) target.focus();
}

export function closeDialog(restore = true) {
  if (!current) return;
  const { dialog, returnTo } = current;
  current = null;
  if (dialog.open) dialog.close();
  if (restore && returnTo && document.contains(returnTo) && typeof returnTo.focus === 'function') returnTo.focus();
}

export function dialogOpen() { return current !== null; }

export function toggleDialog(dialog) { if (current && current.dialog === dialog) closeDialog(); else openDialog(dialog); }

export function wireDialogs(root = document) {
  for (const dialog of root.querySelectorAll('dialog')) {
    // Esc (the browser's cancel) and any other close: one path that returns focus.
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); closeDialog(); });
    // 'close' arrives a task after close(): by then the same dialog may be open again (Esc, then
    // Enter on its button at once), and a stale event must not shut it.
    dialog.addEventListener('close', () => { if (current && current.dialog === dialog && !dialog.open) closeDialog(); });
    // A click on the backdrop closes too.
    dialog.addEventListener('click', (e) => { if (e.target === dialog) closeDialog(); });
  }
  for (const btn of root.querySelectorAll('[data-open]')) {
    btn.addEventListener('click', () => openDialog(document.querySelector(btn.dataset.open)));
  }
  for (const btn of root.querySelectorAll('[data-close]')) btn.addEventListener('click', () => closeDialog());
}
