// The rating page's players: one Deck drives every side's <video> or <audio> (audio drawn as a
// wavesurfer waveform). Editors' transport: play/pause, J/K/L shuttle (reverse is stepped: browsers
// cannot play media backwards), slow motion, frame steps at each clip's own frame rate, seconds,
// in/out marks. Linked sides play, pause and seek together and are kept in step while both play;
// when the shorter take ends, the longer one plays on to its end. The deck also records how much
// of each output was played (union of played ranges, in seconds) for the effort rules.

export const FALLBACK_FPS = 24;  // only when a clip's frame rate is unknown
const DRIFT_S = 0.08;
const AT_END_S = 0.05;
const REVERSE_TICK_MS = 50;

// How many seconds of a media element have been played, counting each moment once.
export function playedSeconds(media) {
  let total = 0;
  for (let i = 0; i < media.played.length; i += 1) total += media.played.end(i) - media.played.start(i);
  return total;
}

// The frame shown at `seconds` (0-based), as the server computes it (tasks/rating/notes.py).
export function frameAt(seconds, fps) {
  return fps ? Math.floor(seconds * fps + 1e-6) : null;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

// HH:MM:SS:FF at the clip's frame rate (nominal 30 for 29.97, no drop frame); HH:MM:SS.mmm
// without one — the same text the server stores with a note.
export function timecode(seconds, fps) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '--:--:--:--';
  let whole; let tail;
  if (!fps) {
    const millis = Math.round(seconds * 1000);
    whole = Math.floor(millis / 1000);
    tail = `.${pad(millis % 1000, 3)}`;
  } else {
    const nominal = Math.max(1, Math.round(fps));
    if (Math.abs(fps - nominal) < 1e-9) {
      const frames = frameAt(seconds, fps);
      whole = Math.floor(frames / nominal);
      tail = `:${pad(frames - whole * nominal)}`;
    } else {
      whole = Math.floor(seconds + 1e-9);
      tail = `:${pad(Math.min(nominal - 1, frameAt(seconds - whole, fps)))}`;
    }
  }
  return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor(whole / 60) % 60)}:${pad(whole % 60)}${tail}`;
}

const atEnd = (m) => m.ended || (Number.isFinite(m.duration) && m.currentTime >= m.duration - AT_END_S);
const clampTo = (m, t) => Math.max(0, Math.min(Number.isFinite(m.duration) ? m.duration : t, t));

export class Deck {
  // outputs: [{side, media (HTMLMediaElement), fps (number|null)}]
  constructor(outputs, onChange) {
    this.outputs = outputs;
    this.linked = outputs.length > 1;
    this.onChange = onChange;
    this.activeSide = outputs[0].side;
    this.rate = 0;         // 0 stopped; > 0 forward playbackRate; < 0 stepped reverse
    this.reverseTimer = null;
    this.marks = { side: null, in: null, out: null };
    this.syncing = 0;
    for (const out of outputs) this.watch(out);
  }

  get media() { return this.outputs.map((o) => o.media); }
  output(side) { return this.outputs.find((o) => o.side === side) || null; }
  active() { return this.output(this.activeSide) || this.outputs[0]; }
  targets() { return this.linked ? this.outputs : [this.active()]; }
  fps(side) { return (this.output(side) || {}).fps || null; }

  changed() { this.onChange(); }

  watch(out) {
    const m = out.media;
    // A seek made on one player (a click on its waveform or timeline) moves the linked others.
    m.addEventListener('seeked', () => {
      if (this.linked && !this.syncing) {
        this.quietly(() => this.outputs.forEach((o) => {
          if (o.media !== m && Math.abs(o.media.currentTime - m.currentTime) > DRIFT_S) o.media.currentTime = clampTo(o.media, m.currentTime);
        }));
      }
      this.changed();
    });
    m.addEventListener('timeupdate', () => { this.keepInStep(m); this.changed(); });
    // Native controls (the adjudication desk shows them): a play or pause the deck did not ask
    // for moves the linked others — never the pause of a take that ended, so the longer plays on.
    // The deck sets its rate before it plays or pauses, so its own events are told apart by it.
    // Events arrive after the call that caused them: one whose state has since been undone (Space
    // pressed twice quickly) is stale and moves nothing, or the sides would restart each other.
    m.addEventListener('play', () => {
      if (this.linked && this.rate === 0 && !m.paused) {
        this.rate = m.playbackRate;
        this.quietly(() => this.outputs.forEach((o) => {
          if (o.media !== m && o.media.paused && !atEnd(o.media)) o.media.play().catch(() => {});
        }));
      }
      this.changed();
    });
    m.addEventListener('pause', () => {
      if (this.linked && this.rate > 0 && m.paused && !atEnd(m)) {
        this.rate = 0;
        this.quietly(() => this.outputs.forEach((o) => { if (o.media !== m) o.media.pause(); }));
      }
      this.changed();
    });
    m.addEventListener('ended', () => {
      // The shorter take ended: the longer one plays on (nothing to do). All ended: stopped.
      if (this.outputs.every((o) => o.media.paused)) this.rate = 0;
      this.changed();
    });
  }

  quietly(fn) {
    this.syncing += 1;
    try { fn(); } finally { setTimeout(() => { this.syncing -= 1; }, 0); }
  }

  // While every linked side plays, the others follow the longest-running one.
  keepInStep(m) {
    if (!this.linked || m.paused || this.syncing) return;
    const playing = this.outputs.filter((o) => !o.media.paused && !o.media.ended);
    if (playing.length < 2 || playing[0].media !== m) return;
    for (const o of playing.slice(1)) {
      if (Math.abs(o.media.currentTime - m.currentTime) > DRIFT_S && m.currentTime < (o.media.duration || Infinity)) {
        this.quietly(() => { o.media.currentTime = m.currentTime; });
      }
    }
  }

  playing() { return this.rate !== 0 || this.outputs.some((o) => !o.media.paused); }

  // -- transport --------------------------------------------------------------------------------
  play(rate = 1) {
    this.stopReverse();
    this.rate = rate;
    const targets = this.targets();
    const allAtEnd = targets.every((o) => atEnd(o.media));
    const lead = Math.max(...targets.map((o) => o.media.currentTime || 0));
    this.quietly(() => targets.forEach((o) => {
      const m = o.media;
      if (!allAtEnd && atEnd(m)) return;  // the shorter take stays at its end; the longer plays on
      if (allAtEnd) m.currentTime = 0;
      else if (this.linked && Math.abs(m.currentTime - lead) > DRIFT_S && lead < (m.duration || Infinity)) m.currentTime = lead;
      m.playbackRate = rate;
      m.play().catch(() => {});
    }));
    this.changed();
  }

  stop() {
    this.stopReverse();
    this.rate = 0;
    this.quietly(() => this.outputs.forEach((o) => { if (this.linked || o === this.active()) { o.media.pause(); o.media.playbackRate = 1; } }));
    this.changed();
  }

  playPause() { if (this.playing()) this.stop(); else this.play(1); }

  // L: forward 1×, again 2×, 4×.  J: backwards 1×, 2×, 4× (stepped).
  shuttle(direction) {
    const r = this.rate;
    const same = Math.sign(r) === direction && Math.abs(r) >= 1;
    const speed = same ? Math.min(4, Math.abs(r) * 2) : 1;
    if (direction > 0) this.play(speed); else this.reverse(speed);
  }

  // Shift+L / Shift+J: 0.5×, again 0.25×.
  slow(direction) {
    const r = this.rate;
    const speed = Math.sign(r) === direction && Math.abs(r) === 0.5 ? 0.25 : 0.5;
    if (direction > 0) this.play(speed); else this.reverse(speed);
  }

  reverse(speed) {
    this.stopReverse();
    this.rate = -speed;
    this.quietly(() => this.targets().forEach((o) => o.media.pause()));
    const step = () => {
      let moving = false;
      this.quietly(() => this.targets().forEach((o) => {
        const t = Math.max(0, o.media.currentTime - speed * REVERSE_TICK_MS / 1000);
        if (o.media.currentTime > 0) moving = true;
        o.media.currentTime = t;
      }));
      if (!moving) this.stop();
      this.changed();
    };
    this.reverseTimer = setInterval(step, REVERSE_TICK_MS);
    this.changed();
  }

  stopReverse() { if (this.reverseTimer) { clearInterval(this.reverseTimer); this.reverseTimer = null; } }

  // One frame (at each side's own frame rate) or `seconds`; pauses first.
  step(frames) {
    this.stop();
    this.quietly(() => this.targets().forEach((o) => {
      const fps = o.fps || FALLBACK_FPS;
      const frame = Math.floor(o.media.currentTime * fps + 1e-6) + frames;
      o.media.currentTime = clampTo(o.media, (Math.max(0, frame) + 0.1) / fps);
    }));
    this.changed();
  }

  seekBy(seconds) {
    this.quietly(() => this.targets().forEach((o) => { o.media.currentTime = clampTo(o.media, o.media.currentTime + seconds); }));
    this.changed();
  }

  // Seek every side to `t` (a note's time: both players jump there), pausing.
  seekAll(t, side) {
    this.stop();
    if (side && this.output(side)) this.activeSide = side;
    this.quietly(() => this.outputs.forEach((o) => { o.media.currentTime = clampTo(o.media, t); }));
    this.changed();
  }

  toStart() { this.stop(); this.quietly(() => this.targets().forEach((o) => { o.media.currentTime = 0; })); this.changed(); }

  toggleLink() { this.linked = !this.linked && this.outputs.length > 1; this.changed(); return this.linked; }

  setActive(side) { if (this.output(side) && side !== this.activeSide) { this.activeSide = side; this.changed(); } }

  // -- in / out ---------------------------------------------------------------------------------
  mark(which) {
    const o = this.active();
    if (this.marks.side !== o.side) this.marks = { side: o.side, in: null, out: null };
    this.marks[which] = o.media.currentTime;
    if (this.marks.in !== null && this.marks.out !== null && this.marks.out < this.marks.in) {
      [this.marks.in, this.marks.out] = [this.marks.out, this.marks.in];
    }
    this.changed();
  }

  clearMarks() { this.marks = { side: null, in: null, out: null }; this.changed(); }

  // Where a new note goes: the marked range on the active side, else the active side's time.
  anchor() {
    const o = this.active();
    if (this.marks.side === o.side && (this.marks.in !== null || this.marks.out !== null)) {
      const tIn = this.marks.in ?? this.marks.out;
      const tOut = this.marks.in !== null && this.marks.out !== null && this.marks.out > this.marks.in ? this.marks.out : null;
      return { side: o.side, t_in: round3(tIn), t_out: tOut === null ? null : round3(tOut) };
    }
    return { side: o.side, t_in: round3(o.media.currentTime || 0), t_out: null };
  }

  // -- reports ----------------------------------------------------------------------------------
  // Each player's current time and whether it plays: the heartbeat the server stamps and credits.
  positions() {
    const report = {};
    for (const o of this.outputs) report[o.side] = { t: round3(o.media.currentTime || 0), playing: !o.media.paused && !o.media.ended };
    return report;
  }

  playback() {
    const report = {};
    for (const o of this.outputs) report[o.side] = Math.round(playedSeconds(o.media) * 100) / 100;
    return report;
  }
}

function round3(x) { return Math.round(x * 1000) / 1000; }

// Build the deck for the page: <video data-side> elements, or wavesurfer waveforms in
// <div class="waveform" data-side> beside a hidden <audio data-side> (wavesurfer.js is vendored,
// a global). frameRates: {side: fps | null}.
export function createDeck(root, frameRates, onChange) {
  const outputs = [];
  for (const video of root.querySelectorAll('video[data-side]')) {
    outputs.push({ side: video.dataset.side, media: video, fps: frameRates[video.dataset.side] || null });
  }
  for (const box of root.querySelectorAll('.waveform[data-side]')) {
    const audio = root.querySelector(`audio[data-side="${box.dataset.side}"]`);
    if (window.WaveSurfer) {
      box.wavesurfer = window.WaveSurfer.create({
        container: box, media: audio, height: 88, waveColor: '#8792a8', progressColor: '#a8700c',
        cursorColor: '#1b2230', barWidth: 2, barGap: 1, barRadius: 2, normalize: true, dragToSeek: true,
      });
    }
    outputs.push({ side: box.dataset.side, media: audio, fps: frameRates[box.dataset.side] || null });
  }
  return outputs.length ? new Deck(outputs, onChange) : null;
}
