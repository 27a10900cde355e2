// Each side's visible transport under its player: play/pause, timecode, speed, a timeline (video)
// or the waveform (audio) carrying the in/out range and the note markers, volume and solo for
// audio, and the button that pins a note on that side. The native players stay hidden from the
// tab order; these controls are the accessible way to drive them.
import { timecode } from './players.js';

const $ = (sel, root = document) => root.querySelector(sel);

function speedText(rate) {
  if (!rate) return '';
  const n = Math.abs(rate);
  return `${rate < 0 ? '◀ ' : ''}${n < 1 ? n.toString().replace(/^0/, '') : n}×`;
}

export function attachTransports(root, deck, { onPin, onSeekNote }) {
  const bars = {};
  for (const o of deck.outputs) {
    const bar = $(`.transport[data-side="${o.side}"]`, root);
    if (!bar) continue;
    const figure = bar.closest('.output');
    const host = $(`.timeline-host[data-side="${o.side}"]`, root);
    const parts = {
      bar, figure, host, layer: $('.tl-layer', host), play: $('.tp-play', bar), time: $('.tp-time', bar),
      rate: $('.tp-rate', bar), progress: host ? $('.tl-progress', host) : null, range: host ? $('.tl-range', host) : null,
    };
    bars[o.side] = parts;
    parts.play.addEventListener('click', () => {
      deck.setActive(o.side);
      if (deck.linked) deck.playPause(); else if (o.media.paused) deck.play(1); else deck.stop();
    });
    const pin = $('.tp-note', bar);
    if (pin) pin.addEventListener('click', () => { deck.setActive(o.side); onPin(); });
    const volume = $('.tp-volume', bar);
    if (volume) volume.addEventListener('input', () => { o.media.volume = Number(volume.value); });
    const solo = $('.tp-solo', bar);
    if (solo) {
      solo.addEventListener('click', () => {
        const on = solo.getAttribute('aria-pressed') !== 'true';
        for (const other of deck.outputs) {
          other.media.muted = on && other.side !== o.side;
          const b = bars[other.side] && $('.tp-solo', bars[other.side].bar);
          if (b) b.setAttribute('aria-pressed', String(on && other.side === o.side));
        }
      });
    }
    // A click on the video timeline seeks there (the waveform seeks by itself).
    const scrub = host && $('.scrub', host);
    if (scrub) {
      scrub.addEventListener('pointerdown', (e) => {
        const box = scrub.getBoundingClientRect();
        const d = o.media.duration;
        if (!Number.isFinite(d) || !box.width) return;
        deck.setActive(o.side);
        o.media.currentTime = Math.max(0, Math.min(d, ((e.clientX - box.left) / box.width) * d));
      });
    }
    if (o.media.tagName === 'VIDEO') o.media.addEventListener('click', () => { deck.setActive(o.side); deck.playPause(); });
    figure.addEventListener('pointerdown', () => deck.setActive(o.side));
    figure.addEventListener('focusin', () => deck.setActive(o.side));
  }

  let queued = false;
  function paint() {
    queued = false;
    for (const o of deck.outputs) {
      const p = bars[o.side];
      if (!p) continue;
      const m = o.media;
      const playing = !m.paused && !m.ended;
      p.play.textContent = playing || (deck.rate < 0 && deck.targets().includes(o)) ? 'Pause' : 'Play';
      p.play.setAttribute('aria-pressed', String(playing));
      p.time.textContent = `${timecode(m.currentTime || 0, o.fps)} / ${timecode(Number.isFinite(m.duration) ? m.duration : null, o.fps)}`;
      p.rate.textContent = deck.targets().includes(o) ? speedText(deck.rate) : '';
      p.figure.classList.toggle('active-side', deck.outputs.length > 1 && deck.activeSide === o.side);
      const d = Number.isFinite(m.duration) && m.duration > 0 ? m.duration : null;
      if (p.progress && d) p.progress.style.width = `${(100 * (m.currentTime || 0)) / d}%`;
      if (p.range) {
        const mk = deck.marks;
        const shown = mk.side === o.side && d && (mk.in !== null || mk.out !== null);
        p.range.hidden = !shown;
        if (shown) {
          const a = mk.in ?? mk.out; const b = mk.out ?? mk.in;
          p.range.style.left = `${(100 * a) / d}%`;
          p.range.style.width = `max(2px, ${(100 * (b - a)) / d}%)`;
          p.range.title = `In ${timecode(mk.in, o.fps)} · out ${timecode(mk.out, o.fps)}`;
        }
      }
    }
  }
  function repaint() { if (!queued) { queued = true; requestAnimationFrame(paint); } }

  // Markers: one per note on its side's timeline; a click seeks both players to the note.
  function drawMarkers(notes) {
    for (const o of deck.outputs) {
      const p = bars[o.side];
      if (!p || !p.layer) continue;
      for (const old of p.layer.querySelectorAll('.tl-marker')) old.remove();
      const d = Number.isFinite(o.media.duration) && o.media.duration > 0 ? o.media.duration : null;
      notes.forEach((note, index) => {
        if (note.side !== o.side || !d) return;
        const marker = document.createElement('button');
        marker.type = 'button';
        marker.className = `tl-marker${note.t_out !== null && note.t_out !== undefined ? ' ranged' : ''}`;
        marker.tabIndex = -1;  // the notes list is the keyboard's way to the same notes
        marker.setAttribute('aria-hidden', 'true');
        marker.dataset.note = String(index);
        marker.style.left = `${(100 * note.t_in) / d}%`;
        if (note.t_out !== null && note.t_out !== undefined) marker.style.width = `max(6px, ${(100 * (note.t_out - note.t_in)) / d}%)`;
        marker.title = `${index + 1}. ${timecode(note.t_in, o.fps)} — ${note.text}`;
        marker.textContent = String(index + 1);
        marker.addEventListener('click', (e) => { e.stopPropagation(); onSeekNote(index); });
        marker.addEventListener('pointerdown', (e) => e.stopPropagation());
        p.layer.appendChild(marker);
      });
    }
  }
  let lastNotes = [];
  for (const o of deck.outputs) o.media.addEventListener('loadedmetadata', () => { drawMarkers(lastNotes); repaint(); });
  return {
    repaint,
    markers(notes) { lastNotes = notes; drawMarkers(notes); },
  };
}
