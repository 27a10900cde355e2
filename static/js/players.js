// Linked media players for the rating page: two videos or two waveforms that play, pause and
// seek together (a toggle unlinks them), with frame stepping, and a record of how much of each
// output was actually played (union of played ranges, in seconds), reported with the judgment.

const FRAME_S = 1 / 24;
const DRIFT_S = 0.08;

// How many seconds of a media element have been played, counting each moment once.
export function playedSeconds(media) {
  let total = 0;
  for (let i = 0; i < media.played.length; i += 1) total += media.played.end(i) - media.played.start(i);
  return total;
}

class Deck {
  // outputs: [{side, media (HTMLMediaElement), label}]
  constructor(outputs, onProgress) {
    this.outputs = outputs;
    this.linked = outputs.length > 1;
    this.onProgress = onProgress;
    this.syncing = false;
    for (const out of outputs) this.watch(out);
  }

  get media() { return this.outputs.map((o) => o.media); }

  watch(out) {
    const m = out.media;
    const others = () => this.media.filter((x) => x !== m);
    m.addEventListener('play', () => { if (this.linked && !this.syncing) this.together(() => others().forEach((o) => o.play().catch(() => {}))); });
    m.addEventListener('pause', () => { if (this.linked && !this.syncing) this.together(() => others().forEach((o) => o.pause())); });
    m.addEventListener('seeked', () => {
      if (this.linked && !this.syncing) this.together(() => others().forEach((o) => { if (Math.abs(o.currentTime - m.currentTime) > DRIFT_S) o.currentTime = Math.min(m.currentTime, o.duration || m.currentTime); }));
      this.onProgress();
    });
    m.addEventListener('timeupdate', () => {
      this.onProgress();
      if (this.linked && !m.paused && m === this.media[0]) {
        for (const o of others()) if (!o.paused && Math.abs(o.currentTime - m.currentTime) > DRIFT_S && m.currentTime < (o.duration || Infinity)) o.currentTime = m.currentTime;
      }
    });
    m.addEventListener('ended', () => this.onProgress());
  }

  together(fn) { this.syncing = true; try { fn(); } finally { setTimeout(() => { this.syncing = false; }, 0); } }

  playPause() {
    const anyPlaying = this.media.some((m) => !m.paused);
    const targets = this.linked ? this.media : [this.focused()];
    this.together(() => targets.forEach((m) => (anyPlaying ? m.pause() : m.play().catch(() => {}))));
  }

  seekBy(seconds) {
    const targets = this.linked ? this.media : [this.focused()];
    this.together(() => targets.forEach((m) => { m.currentTime = Math.max(0, Math.min((m.duration || 0), m.currentTime + seconds)); }));
    this.onProgress();
  }

  stepFrame(direction) {
    this.together(() => (this.linked ? this.media : [this.focused()]).forEach((m) => m.pause()));
    this.seekBy(direction * FRAME_S);
  }

  restart() { this.together(() => this.media.forEach((m) => { m.currentTime = 0; })); }

  toggleLink() { this.linked = !this.linked && this.outputs.length > 1; return this.linked; }

  focused() {
    const active = document.activeElement && document.activeElement.closest('[data-side]');
    const side = active ? active.dataset.side : null;
    return (this.outputs.find((o) => o.side === side) || this.outputs[0]).media;
  }

  // Each player's current time and whether it plays: the heartbeat the server stamps and credits.
  positions() {
    const report = {};
    for (const o of this.outputs) report[o.side] = { t: Math.round((o.media.currentTime || 0) * 1000) / 1000, playing: !o.media.paused && !o.media.ended };
    return report;
  }

  playback() {
    const report = {};
    for (const o of this.outputs) report[o.side] = Math.round(playedSeconds(o.media) * 100) / 100;
    return report;
  }
}

// Build the deck for the page: <video data-side> elements, or wavesurfer waveforms in
// <div class="waveform" data-side data-url> containers (wavesurfer.js is vendored, a global).
export function createDeck(root, onProgress) {
  const outputs = [];
  for (const video of root.querySelectorAll('video[data-side]')) outputs.push({ side: video.dataset.side, media: video });
  for (const box of root.querySelectorAll('.waveform[data-side]')) {
    const audio = box.parentElement.querySelector('audio[data-side]');
    if (window.WaveSurfer) {
      const ws = window.WaveSurfer.create({
        container: box, media: audio, height: 96, waveColor: '#9aa7c0', progressColor: '#d99a1e',
        cursorColor: '#1b2230', barWidth: 2, barGap: 1, barRadius: 2, normalize: true, dragToSeek: true,
      });
      box.wavesurfer = ws;
      audio.classList.add('visually-hidden');
    }
    outputs.push({ side: box.dataset.side, media: audio });
  }
  return outputs.length ? new Deck(outputs, onProgress) : null;
}
