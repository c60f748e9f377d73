// The prompt panel: free text and the hard requests (style blend, mood, key, meter, tempo,
// bars, form, chords), read into the body of POST /api/pieces with the CLI's names. Anything
// left on "from the prompt" is left out, so the words (or the style's habits) decide it.
import type { Style } from "./api";
import { h } from "./dom";

const TONICS = ["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B"];
const MODES = ["major", "minor", "dorian", "mixolydian", "lydian", "phrygian", "gong", "shang", "jue", "zhi", "yu"];
const METERS = ["2/4", "3/4", "4/4", "2/2", "6/8", "9/8", "12/8", "3/8", "6/4", "5/4"];
const FROM_PROMPT = "from the prompt";

export interface PromptPanel {
  element: HTMLElement;
  request(): Promise<Record<string, unknown>>;
}

export function promptPanel(styles: Style[], onCompose: (body: Record<string, unknown>) => void): PromptPanel {
  const text = h("textarea", { id: "prompt", rows: 3, placeholder: "a lively Irish jig in D major · 春节的喜庆舞曲，D徵调" });
  const sliders = styles.map((s) => {
    const value = h("output", {}, "0");
    const input = h("input", { type: "range", min: 0, max: 100, step: 5, value: 0, name: s.name, title: s.description,
      oninput: () => { value.textContent = input.value; } });
    return { style: s.name, input, row: h("label", { class: "slider", title: s.description }, h("span", {}, s.name), input, value) };
  });
  const pad = emotionPad();
  const tonic = select("key-tonic", [FROM_PROMPT, ...TONICS]);
  const mode = select("key-mode", MODES);
  const meter = select("meter", [FROM_PROMPT, ...METERS]);
  const tempo = h("input", { id: "tempo", type: "number", min: 20, max: 300, placeholder: "auto", title: "beats per minute of the meter's beat (a dotted quarter in 6/8)" });
  const bars = h("input", { id: "bars", type: "number", min: 1, max: 128, value: 16 });
  const form = h("input", { id: "form", placeholder: "AABB, ABA …" });
  const chords = h("input", { id: "chords", placeholder: "D G | A D  ·  I vi IV V7" });
  const seed = h("input", { id: "seed", type: "number", placeholder: "random" });
  const picture = h("input", { id: "picture", type: "file", accept: "image/*", title: "its brightness, colour and busyness set the mood" });
  const melodyFile = h("input", { id: "melody-file", type: "file", accept: "audio/*,.wav,.flac,.ogg,.mp3" });
  const melodyUse = select("melody-use", ["continue", "harmonize", "develop"]);
  const hum = humRecorder();

  const request = async () => {
    const body: Record<string, unknown> = { prompt: text.value.trim() };
    if (picture.files?.length) body.image = await dataUrl(picture.files[0]);
    const melody = hum.recording ?? melodyFile.files?.[0];
    if (melody) {
      body.melody = await dataUrl(melody);
      body.melody_use = melodyUse.value;
    }
    const blend = sliders.filter((s) => Number(s.input.value) > 0);
    if (blend.length === 1) body.style = blend[0].style;
    if (blend.length > 1) body.style = blend.map((s) => `${s.style}:${(Number(s.input.value) / 100).toFixed(2)}`).join(",");
    if (pad.value) Object.assign(body, pad.value);
    if (tonic.value !== FROM_PROMPT) body.key = `${tonic.value} ${mode.value}`;
    if (meter.value !== FROM_PROMPT) body.meter = meter.value;
    if (tempo.value) body.tempo = Number(tempo.value);
    if (bars.value) body.bars = Number(bars.value);
    if (form.value.trim()) body.form = form.value.trim();
    if (chords.value.trim()) body.chords = chords.value.trim();
    if (seed.value) body.seed = Number(seed.value);
    return body;
  };

  const element = h("form", { class: "prompt-panel", onsubmit: async (e: Event) => { e.preventDefault(); onCompose(await request()); } },
    h("h2", {}, "New piece"),
    h("label", { class: "wide" }, "Describe it (English or 中文)", text),
    h("fieldset", {}, h("legend", {}, "Style blend"), ...sliders.map((s) => s.row),
      h("p", { class: "hint" }, "All at 0: the prompt picks the style. Two or more: a fusion, weighted.")),
    h("fieldset", { class: "mood" }, h("legend", {}, "Mood"), pad.element),
    h("fieldset", { class: "grid" }, h("legend", {}, "Music"),
      h("label", {}, "Key", h("span", { class: "pair" }, tonic, mode)),
      h("label", {}, "Meter", meter),
      h("label", {}, "Tempo (beats/min)", tempo),
      h("label", {}, "Bars", bars),
      h("label", {}, "Form", form),
      h("label", {}, "Chords (one per bar)", chords),
      h("label", {}, "Seed", seed)),
    h("fieldset", { class: "grid" }, h("legend", {}, "From a picture or a tune"),
      h("label", {}, "Picture (sets the mood)", picture),
      h("label", {}, "Melody: an audio file", melodyFile),
      h("label", {}, "… or hum it", hum.element),
      h("label", {}, "Use the melody to", melodyUse)),
    h("button", { type: "submit", class: "primary", id: "compose" }, "Compose"));
  return { element, request };
}

function select(id: string, options: string[]): HTMLSelectElement {
  return h("select", { id }, ...options.map((o) => h("option", { value: o }, o)));
}

/** Valence (sad → happy) across, arousal (calm → excited) up; a click places the mood. */
function emotionPad(): { element: HTMLElement; value: { valence: number; arousal: number } | null } {
  const state: { element: HTMLElement; value: { valence: number; arousal: number } | null } = { element: h("div"), value: null };
  const dot = h("div", { class: "dot", hidden: true });
  const readout = h("span", { class: "hint" }, "not set: the words decide");
  const area = h("div", { class: "pad", id: "emotion-pad", title: "click to set the mood" },
    h("span", { class: "axis top" }, "excited"), h("span", { class: "axis bottom" }, "calm"),
    h("span", { class: "axis left" }, "sad"), h("span", { class: "axis right" }, "happy"), dot);
  area.addEventListener("click", (e) => {
    const r = area.getBoundingClientRect();
    const valence = Math.round(((e.clientX - r.left) / r.width) * 20 - 10) / 10;
    const arousal = Math.round((1 - (e.clientY - r.top) / r.height) * 20 - 10) / 10;
    state.value = { valence: clamp(valence), arousal: clamp(arousal) };
    dot.hidden = false;
    dot.style.left = `${((state.value.valence + 1) / 2) * 100}%`;
    dot.style.top = `${((1 - state.value.arousal) / 2) * 100}%`;
    readout.textContent = `valence ${state.value.valence}, arousal ${state.value.arousal}`;
  });
  const clear = h("button", { type: "button", class: "link", onclick: () => {
    state.value = null;
    dot.hidden = true;
    readout.textContent = "not set: the words decide";
  } }, "clear");
  state.element = h("div", { class: "mood-box" }, area, h("div", {}, readout, " ", clear));
  return state;
}

function clamp(v: number): number {
  return Math.max(-1, Math.min(1, v));
}

function dataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** Hum into the microphone: a button that records (mono, the device's rate) until pressed again
 * and keeps the take as a 16-bit WAV, which the server transcribes as --melody does. */
function humRecorder(): { element: HTMLElement; recording: Blob | null } {
  const state: { element: HTMLElement; recording: Blob | null } = { element: h("span"), recording: null };
  const status = h("span", { class: "hint", id: "hum-status" }, "no take");
  let stop: (() => void) | null = null;
  const button = h("button", { type: "button", id: "hum", title: "record a tune from the microphone" }, "● Record");
  button.onclick = async () => {
    if (stop) { stop(); return; }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      status.textContent = `no microphone: ${(e as Error).message}`;
      return;
    }
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const tap = context.createScriptProcessor(4096, 1, 1);
    const chunks: Float32Array[] = [];
    tap.onaudioprocess = (ev) => chunks.push(new Float32Array(ev.inputBuffer.getChannelData(0)));
    source.connect(tap);
    tap.connect(context.destination);
    button.textContent = "■ Stop";
    status.textContent = "recording…";
    stop = () => {
      stop = null;
      tap.disconnect();
      source.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      void context.close();
      state.recording = wav(chunks, context.sampleRate);
      const seconds = chunks.reduce((n, c) => n + c.length, 0) / context.sampleRate;
      status.textContent = `a take of ${seconds.toFixed(1)} s (used instead of the file)`;
      button.textContent = "● Record again";
    };
  };
  state.element = h("span", { class: "pair" }, button, status);
  return state;
}

function wav(chunks: Float32Array[], rate: number): Blob {
  const n = chunks.reduce((k, c) => k + c.length, 0);
  const view = new DataView(new ArrayBuffer(44 + 2 * n));
  const text = (at: number, s: string) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, 2 * n, true);
  let at = 44;
  for (const c of chunks) for (const x of c) { view.setInt16(at, Math.max(-1, Math.min(1, x)) * 0x7fff, true); at += 2; }
  return new Blob([view], { type: "audio/wav" });
}
