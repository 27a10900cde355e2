// Drafts that never go backwards. Every change is written at once to localStorage with the
// browser's time and, after a short pause, to the server (which keeps that time as
// `client_saved_at` inside the draft); on pagehide / visibilitychange the server copy is sent with a
// keepalive fetch. On load, the newer of the rendered server draft and the local copy wins —
// compared on the browser's own clock when the server copy carries it, else on the server clock
// (the skew measured at load is late by the page's load time, so it is only the fallback).

const PREFIX = 'dailies:draft:';

export class Drafts {
  // opts: {url, csrf, key (assignment id + mode), serverSavedAt (ms, server clock, or null),
  //        serverClientSavedAt (ms, browser clock, or null), clockSkew (server − browser ms),
  //        answer() → object, onSaved(text, isError), onClosed(msg)}
  constructor(opts) {
    Object.assign(this, opts);
    this.timer = null;
    this.lastSent = '';
    this.stopped = false;
  }

  storageKey() { return PREFIX + this.key; }

  // The local copy when it is newer than the server's, else null.
  newerLocal() {
    let stored = null;
    try { stored = JSON.parse(window.localStorage.getItem(this.storageKey()) || 'null'); } catch (err) { stored = null; }
    if (!stored || typeof stored.saved_at !== 'number' || !stored.answer) return null;
    if (this.serverClientSavedAt !== null) return stored.saved_at > this.serverClientSavedAt ? stored.answer : null;
    if (this.serverSavedAt !== null) return stored.saved_at + this.clockSkew > this.serverSavedAt ? stored.answer : null;
    return stored.answer;
  }

  keepLocal() {
    if (this.stopped) return;
    try {
      window.localStorage.setItem(this.storageKey(), JSON.stringify({ saved_at: Date.now(), answer: this.answer() }));
    } catch (err) { /* private mode or full: the server copy still goes out */ }
  }

  forget() { try { window.localStorage.removeItem(this.storageKey()); } catch (err) { /* nothing kept */ } }

  body() { return JSON.stringify({ ...this.answer(), client_saved_at: new Date().toISOString() }); }

  // A change: kept locally now, sent to the server after a pause.
  changed() {
    this.keepLocal();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), 800);
  }

  async save() {
    if (this.stopped) return;
    const answer = JSON.stringify(this.answer());
    if (answer === this.lastSent) return;
    try {
      const response = await fetch(this.url, { method: 'POST', body: this.body(), credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.csrf } });
      if (response.status === 204) return;  // nothing kept: the assignment is judged
      if (response.status === 409) { this.onClosed((await response.json()).error.message); return; }
      if (!response.ok) throw new Error(String(response.status));
      this.lastSent = answer;
      const saved = await response.json().catch(() => ({}));
      const at = saved.saved_at ? new Date(saved.saved_at) : new Date();
      this.onSaved(`Draft saved ${at.toISOString().slice(11, 19)} UTC`, false);
    } catch (err) {
      this.onSaved('Draft not saved to the server — kept in this browser; check your connection', true);
    }
  }

  // Leaving or hiding the page: the last state goes out even as the page unloads.
  flush() {
    if (this.stopped) return;
    this.keepLocal();
    const answer = JSON.stringify(this.answer());
    if (answer === this.lastSent) return;
    this.lastSent = answer;
    fetch(this.url, { method: 'POST', keepalive: true, body: this.body(), credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.csrf } }).catch(() => {});
  }

  // `signal` ends the listeners with the page's setup (an item shown in place has its own).
  wire(signal) {
    window.addEventListener('pagehide', () => this.flush(), { signal });
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') this.flush(); }, { signal });
  }

  // The form is being submitted: it carries the answer; no more drafts from this page.
  stop() { this.stopped = true; clearTimeout(this.timer); this.forget(); }
}
