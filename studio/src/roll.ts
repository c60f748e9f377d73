// The piano roll: one canvas the size of the view over a scrolling area the size of the piece
// (a 128-bar piece at a high zoom is wider than any canvas may be). Time runs left to right in
// quarter notes, pitch bottom to top; bar numbers along the top select bars.
//
// Mouse: click a note to select it (shift adds), drag it to move, drag its right edge to
// lengthen or shorten it, double-click an empty place to add a note, drag on the bar numbers to
// select bars. Keys: Delete removes the selected notes, arrow up/down moves them by a semitone.
import type { Note, Part } from "./api";
import { barQuarters, beatQuarters, isBlackKey, noteName, type Meter } from "./music";

const KEYS_W = 44; // the keyboard at the left
const RULER_H = 22; // the bar numbers at the top
const ROW_H = 11;
const EDGE_PX = 6; // grab the last pixels of a note to resize it
export const PART_COLOURS = ["#2f6fb0", "#c2572b", "#3d8b4f", "#8a4fb0", "#b08a2f", "#2f9fa0"];

export interface RollEvents {
  edited: () => void; // the user changed notes (save them)
  barsSelected: (first: number, last: number) => void;
  seek: (quarter: number) => void; // a click on the ruler below the bar numbers
  pointer?: (at: { quarter: number; pitch: number } | null) => void; // where the mouse is on the grid
}

/** Someone else on the piece, as the roll draws them: their pointer and their bar selection. */
export interface Visitor {
  name: string;
  colour: string;
  pointer: { quarter: number; pitch: number } | null;
  bars: [number, number] | null;
}

type Drag =
  | { kind: "move"; x0: number; y0: number; start: Map<Note, { onset: number; pitch: number }>; changed: boolean }
  | { kind: "resize"; note: Note; x0: number; duration0: number; changed: boolean }
  | { kind: "bars"; anchor: number };

export class PianoRoll {
  parts: Part[] = [];
  meter: Meter = { beats: 4, unit: 4 };
  bars = 0;
  /** Printed bar numbers (the piece's bar_numbers: a pickup is bar 0); empty: 1, 2, ... */
  labels: string[] = [];
  pxPerQuarter = 36;
  snap = 0.5; // quarters; 0 = off
  activePart = 0; // where new notes go
  readOnly = false;
  selected = new Set<Note>();
  barSelection: [number, number] | null = null;
  /** Bars (from 0) tinted as changed: the history panel's diff against a previewed version. */
  changedBars = new Set<number>();
  cursor: number | null = null;
  /** The others on the piece (presence), drawn over the notes. */
  visitors: Visitor[] = [];
  private lo = 48;
  private hi = 84;
  private drag: Drag | null = null;
  private readonly canvas: HTMLCanvasElement;
  private readonly space: HTMLDivElement;
  private frame = 0;

  constructor(readonly scroller: HTMLElement, private readonly on: RollEvents) {
    this.space = document.createElement("div");
    this.space.className = "roll-space";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "roll-canvas";
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("aria-label", "piano roll");
    scroller.append(this.canvas, this.space);
    scroller.addEventListener("scroll", () => this.draw());
    new ResizeObserver(() => this.layout()).observe(scroller);
    this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", () => this.pointerUp());
    this.canvas.addEventListener("pointerleave", () => this.on.pointer?.(null));
    this.canvas.addEventListener("dblclick", (e) => this.addNoteAt(e));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
  }

  get barLength(): number {
    return barQuarters(this.meter);
  }

  /** Show a piece: its parts (edited in place), meter and length in bars. */
  show(parts: Part[], meter: Meter, bars: number, fit = false): void {
    this.parts = parts;
    this.meter = meter;
    this.bars = bars;
    const alive = new Set(parts.flatMap((p) => p.notes));
    this.selected = new Set([...this.selected].filter((n) => alive.has(n)));
    this.fitPitches(fit);
    this.layout();
  }

  /** A note as it streams in: the piece grows to hold it. */
  addStreamed(partIndex: number, note: Note): void {
    while (this.parts.length <= partIndex) this.parts.push({ name: `Part ${this.parts.length + 1}`, program: 0, notes: [] });
    this.parts[partIndex].notes.push(note);
    this.bars = Math.max(this.bars, Math.ceil((note.onset + note.duration) / this.barLength - 1e-9));
    if (note.pitch < this.lo + 2 || note.pitch > this.hi - 2) this.fitPitches(false);
    this.layout();
    const x = this.xOf(note.onset + note.duration);
    if (x > this.scroller.scrollLeft + this.scroller.clientWidth) this.scroller.scrollLeft = x - this.scroller.clientWidth / 2;
  }

  zoom(factor: number): void {
    const centre = (this.scroller.scrollLeft + this.scroller.clientWidth / 2 - KEYS_W) / this.pxPerQuarter;
    this.pxPerQuarter = Math.min(160, Math.max(6, this.pxPerQuarter * factor));
    this.layout();
    this.scroller.scrollLeft = centre * this.pxPerQuarter + KEYS_W - this.scroller.clientWidth / 2;
  }

  setCursor(quarter: number | null, follow = false): void {
    this.cursor = quarter;
    if (follow && quarter !== null) {
      const x = this.xOf(quarter);
      const view = this.scroller;
      if (x < view.scrollLeft + KEYS_W || x > view.scrollLeft + view.clientWidth - 40) view.scrollLeft = x - KEYS_W - 20;
    }
    this.draw();
  }

  selectBars(first: number, last: number): void {
    this.barSelection = [Math.min(first, last), Math.max(first, last)];
    this.draw();
  }

  deleteSelected(): void {
    if (this.readOnly || !this.selected.size) return;
    for (const part of this.parts) part.notes = part.notes.filter((n) => !this.selected.has(n));
    this.selected.clear();
    this.draw();
    this.on.edited();
  }

  /** Where a note is drawn, in page coordinates of the canvas's view (for tests and tooltips). */
  noteBox(note: Note): { x: number; y: number; width: number; height: number } {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: r.left + this.xOf(note.onset) - this.scroller.scrollLeft,
      y: r.top + this.yOf(note.pitch) - this.scroller.scrollTop,
      width: note.duration * this.pxPerQuarter,
      height: ROW_H,
    };
  }

  /** The middle of the grid cell at ``quarter`` and ``pitch``, in page coordinates. */
  pointAt(quarter: number, pitch: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf(quarter) - this.scroller.scrollLeft, y: r.top + this.yOf(pitch) + ROW_H / 2 - this.scroller.scrollTop };
  }

  /** The middle of bar ``bar`` (from 0) on the ruler, in page coordinates. */
  barPoint(bar: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.xOf((bar + 0.5) * this.barLength) - this.scroller.scrollLeft, y: r.top + RULER_H / 2 };
  }

  scrollToQuarter(quarter: number): void {
    this.scroller.scrollLeft = Math.max(0, this.xOf(quarter) - KEYS_W - 10);
  }

  // ------------------------------------------------------------------ geometry

  private xOf(quarter: number): number {
    return KEYS_W + quarter * this.pxPerQuarter;
  }

  private yOf(pitch: number): number {
    return RULER_H + (this.hi - pitch) * ROW_H;
  }

  private quarterAt(x: number): number {
    return (x - KEYS_W) / this.pxPerQuarter;
  }

  private pitchAt(y: number): number {
    return this.hi - Math.floor((y - RULER_H) / ROW_H);
  }

  private snapped(q: number): number {
    return this.snap ? Math.round(q / this.snap) * this.snap : q;
  }

  private fitPitches(recentre: boolean): void {
    const pitches = this.parts.flatMap((p) => p.notes.map((n) => n.pitch));
    const lo = pitches.length ? Math.min(...pitches) : 60;
    const hi = pitches.length ? Math.max(...pitches) : 72;
    this.lo = Math.max(0, Math.min(lo - 5, (hi + lo) / 2 - 14) | 0);
    this.hi = Math.min(127, Math.max(hi + 5, this.lo + 30));
    if (recentre) this.scroller.scrollTop = 0;
  }

  private layout(): void {
    const width = this.xOf(Math.max(this.bars, 1) * this.barLength) + 40;
    const height = this.yOf(this.lo - 1);
    this.space.style.width = `${width}px`;
    this.space.style.height = `${height}px`;
    const dpr = window.devicePixelRatio || 1;
    const w = this.scroller.clientWidth;
    const h = Math.min(this.scroller.clientHeight, height);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.draw();
  }

  // ------------------------------------------------------------------ drawing

  draw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  private paint(): void {
    const g = this.canvas.getContext("2d");
    if (!g) return;
    const dpr = window.devicePixelRatio || 1;
    const left = this.scroller.scrollLeft;
    const top = this.scroller.scrollTop;
    const w = this.canvas.width / dpr;
    const h = this.canvas.height / dpr;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.save();
    g.translate(-left, -top);
    this.paintRows(g, left, w);
    this.paintGrid(g, left, w, top, h);
    this.paintNotes(g, left, w);
    g.restore();
    this.paintRuler(g, left, w);
    this.paintVisitors(g, left, top, h);
    this.paintKeys(g, top, h);
    this.paintCursor(g, left, h);
  }

  private paintRows(g: CanvasRenderingContext2D, left: number, w: number): void {
    for (let p = this.hi; p >= this.lo; p--) {
      g.fillStyle = isBlackKey(p) ? "#eceef2" : "#f8f9fb";
      g.fillRect(left, this.yOf(p), w, ROW_H);
      if (p % 12 === 0) {
        g.fillStyle = "#d5d9e0";
        g.fillRect(left, this.yOf(p) + ROW_H - 1, w, 1);
      }
    }
  }

  private paintGrid(g: CanvasRenderingContext2D, left: number, w: number, top: number, h: number): void {
    const bar = this.barLength;
    const beat = beatQuarters(this.meter);
    const first = Math.max(0, Math.floor(this.quarterAt(left) / beat) * beat);
    const last = Math.min(this.bars * bar, this.quarterAt(left + w));
    g.fillStyle = "rgba(224, 40, 46, 0.10)";
    for (const b of this.changedBars) g.fillRect(this.xOf(b * bar), top, bar * this.pxPerQuarter, h);
    if (this.barSelection) {
      const [a, b] = this.barSelection;
      g.fillStyle = "rgba(255, 196, 0, 0.18)";
      g.fillRect(this.xOf(a * bar), top, (b - a + 1) * bar * this.pxPerQuarter, h);
    }
    for (let q = first; q <= last + 1e-9; q += beat) {
      const onBar = Math.abs(q / bar - Math.round(q / bar)) < 1e-6;
      g.fillStyle = onBar ? "#9aa3b2" : "#dde1e8";
      g.fillRect(Math.round(this.xOf(q)), top, 1, h);
    }
  }

  private paintNotes(g: CanvasRenderingContext2D, left: number, w: number): void {
    const from = this.quarterAt(left) - 64;
    const to = this.quarterAt(left + w);
    g.font = "9px system-ui, sans-serif";
    g.textBaseline = "middle";
    this.parts.forEach((part, i) => {
      const colour = PART_COLOURS[i % PART_COLOURS.length];
      for (const n of part.notes) {
        if (n.onset > to || n.onset + n.duration < from) continue;
        const x = this.xOf(n.onset) + 0.5;
        const y = this.yOf(n.pitch) + 0.5;
        const width = Math.max(3, n.duration * this.pxPerQuarter - 1);
        const chosen = this.selected.has(n);
        g.fillStyle = chosen ? "#ffb000" : colour;
        g.globalAlpha = i === this.activePart || chosen ? 1 : 0.55;
        g.fillRect(x, y, width, ROW_H - 1);
        g.globalAlpha = 1;
        g.strokeStyle = chosen ? "#7a4d00" : "rgba(0,0,0,0.35)";
        g.strokeRect(x, y, width, ROW_H - 1);
        if (width > 26) {
          g.fillStyle = chosen ? "#3a2500" : "#fff";
          g.fillText(n.spelling ? n.spelling.replace("-", "♭") : noteName(n.pitch), x + 3, y + ROW_H / 2);
        }
      }
    });
  }

  private paintRuler(g: CanvasRenderingContext2D, left: number, w: number): void {
    g.fillStyle = "#2b303a";
    g.fillRect(0, 0, w, RULER_H);
    g.font = "11px system-ui, sans-serif";
    g.textBaseline = "middle";
    const bar = this.barLength;
    const every = this.pxPerQuarter * bar < 28 ? 4 : 1; // fewer numbers when bars are narrow
    for (let b = 0; b < this.bars; b++) {
      const x = this.xOf(b * bar) - left;
      if (x + bar * this.pxPerQuarter < 0 || x > w) continue;
      const chosen = this.barSelection && b >= this.barSelection[0] && b <= this.barSelection[1];
      if (chosen) {
        g.fillStyle = "#ffc400";
        g.fillRect(x, 0, bar * this.pxPerQuarter, RULER_H);
      }
      if (this.changedBars.has(b) && !chosen) {
        g.fillStyle = "#e0282e";
        g.fillRect(x, RULER_H - 4, bar * this.pxPerQuarter, 4);
      }
      g.fillStyle = chosen ? "#2b303a" : "#8d96a6";
      g.fillRect(x, RULER_H - 6, 1, 6);
      if (b % every === 0) {
        g.fillStyle = chosen ? "#1b1f27" : "#e8ebf0";
        g.fillText(this.labels[b] ?? String(b + 1), x + 4, RULER_H / 2);
      }
    }
  }

  /** Each visitor's bar selection as a band of their colour on the ruler, and their pointer as
   * a dot with their name on the grid. */
  private paintVisitors(g: CanvasRenderingContext2D, left: number, top: number, h: number): void {
    const bar = this.barLength;
    g.font = "bold 10px system-ui, sans-serif";
    g.textBaseline = "middle";
    for (const v of this.visitors) {
      if (v.bars) {
        const x = this.xOf(v.bars[0] * bar) - left;
        const width = (v.bars[1] - v.bars[0] + 1) * bar * this.pxPerQuarter;
        g.fillStyle = v.colour;
        g.fillRect(x, RULER_H - 4, width, 4);
        g.globalAlpha = 0.8;
        g.strokeStyle = v.colour;
        g.setLineDash([4, 3]);
        g.strokeRect(x + 0.5, RULER_H + 0.5, width - 1, h - RULER_H - 1);
        g.setLineDash([]);
        g.globalAlpha = 1;
      }
      if (!v.pointer) continue;
      const x = this.xOf(v.pointer.quarter) - left;
      const y = this.yOf(v.pointer.pitch) + ROW_H / 2 - top;
      if (x < KEYS_W || y < RULER_H) continue;
      g.fillStyle = v.colour;
      g.beginPath();
      g.moveTo(x, y);
      g.lineTo(x + 11, y + 4);
      g.lineTo(x + 4, y + 11);
      g.closePath();
      g.fill();
      const label = g.measureText(v.name).width + 8;
      g.fillRect(x + 10, y + 9, label, 14);
      g.fillStyle = "#fff";
      g.fillText(v.name, x + 14, y + 16);
    }
  }

  private paintKeys(g: CanvasRenderingContext2D, top: number, h: number): void {
    g.fillStyle = "#fff";
    g.fillRect(0, RULER_H, KEYS_W, h);
    g.font = "9px system-ui, sans-serif";
    g.textBaseline = "middle";
    for (let p = this.hi; p >= this.lo; p--) {
      const y = this.yOf(p) - top;
      if (y < RULER_H - ROW_H || y > h) continue;
      if (isBlackKey(p)) {
        g.fillStyle = "#30343c";
        g.fillRect(0, y, KEYS_W * 0.62, ROW_H);
      }
      g.fillStyle = "#c9ced8";
      g.fillRect(0, y + ROW_H - 0.5, KEYS_W, 0.5);
      if (p % 12 === 0) {
        g.fillStyle = "#1b1f27";
        g.fillText(noteName(p), KEYS_W - 24, y + ROW_H / 2);
      }
    }
    g.fillStyle = "#2b303a";
    g.fillRect(0, 0, KEYS_W, RULER_H);
    g.fillStyle = "#9aa3b2";
    g.fillRect(KEYS_W - 1, RULER_H, 1, h);
  }

  private paintCursor(g: CanvasRenderingContext2D, left: number, h: number): void {
    if (this.cursor === null) return;
    const x = this.xOf(this.cursor) - left;
    if (x < KEYS_W) return;
    g.fillStyle = "#e0282e";
    g.fillRect(x - 1, 0, 2, h);
  }

  // ------------------------------------------------------------------ editing

  private at(e: MouseEvent): { x: number; y: number } {
    return { x: e.offsetX + this.scroller.scrollLeft, y: e.offsetY + this.scroller.scrollTop };
  }

  private noteAt(x: number, y: number): Note | null {
    const q = this.quarterAt(x);
    const pitch = this.pitchAt(y);
    // the active part's notes are on top
    const parts = [this.activePart, ...this.parts.map((_, i) => i).filter((i) => i !== this.activePart)];
    for (const i of parts) {
      const hit = this.parts[i]?.notes.find((n) => n.pitch === pitch && q >= n.onset && q <= n.onset + n.duration);
      if (hit) return hit;
    }
    return null;
  }

  private pointerDown(e: PointerEvent): void {
    this.canvas.focus();
    const { x, y } = this.at(e);
    if (e.offsetY < RULER_H) {
      const bar = Math.max(0, Math.min(this.bars - 1, Math.floor(this.quarterAt(x) / this.barLength)));
      if (e.altKey) return this.on.seek(Math.max(0, this.quarterAt(x)));
      this.drag = { kind: "bars", anchor: bar };
      this.selectBars(bar, bar);
      this.canvas.setPointerCapture(e.pointerId);
      return;
    }
    if (e.offsetX < KEYS_W) return;
    const note = this.noteAt(x, y);
    if (!note) {
      if (!e.shiftKey) this.selected.clear();
      this.draw();
      return;
    }
    if (e.shiftKey) this.selected.has(note) ? this.selected.delete(note) : this.selected.add(note);
    else if (!this.selected.has(note)) this.selected = new Set([note]);
    this.canvas.setPointerCapture(e.pointerId);
    const end = this.xOf(note.onset + note.duration);
    if (this.readOnly) this.drag = null;
    else if (end - x <= EDGE_PX && !e.shiftKey) {
      this.drag = { kind: "resize", note, x0: x, duration0: note.duration, changed: false };
    } else {
      const start = new Map([...this.selected].map((n) => [n, { onset: n.onset, pitch: n.pitch }]));
      this.drag = { kind: "move", x0: x, y0: y, start, changed: false };
    }
    this.draw();
  }

  private pointerMove(e: PointerEvent): void {
    const { x, y } = this.at(e);
    this.on.pointer?.(e.offsetY >= RULER_H && e.offsetX >= KEYS_W ? { quarter: this.quarterAt(x), pitch: this.pitchAt(y) } : null);
    if (!this.drag) {
      const note = e.offsetY >= RULER_H ? this.noteAt(x, y) : null;
      const edge = note && this.xOf(note.onset + note.duration) - x <= EDGE_PX;
      this.canvas.style.cursor = e.offsetY < RULER_H ? "pointer" : edge ? "ew-resize" : note ? "grab" : "crosshair";
      this.canvas.title = note ? `${note.spelling ?? noteName(note.pitch)} · bar ${Math.floor(note.onset / this.barLength) + 1}` : "";
      return;
    }
    const d = this.drag;
    if (d.kind === "bars") {
      const bar = Math.max(0, Math.min(this.bars - 1, Math.floor(this.quarterAt(x) / this.barLength)));
      this.selectBars(d.anchor, bar);
    } else if (d.kind === "resize") {
      const step = this.snap || 0.125;
      const duration = Math.max(step, this.snapped(d.duration0 + (x - d.x0) / this.pxPerQuarter));
      d.changed ||= duration !== d.note.duration;
      d.note.duration = duration;
    } else {
      const dq = this.snapped((x - d.x0) / this.pxPerQuarter);
      const dp = -Math.round((y - d.y0) / ROW_H);
      for (const [n, s] of d.start) {
        const onset = Math.max(0, s.onset + dq);
        const pitch = Math.max(0, Math.min(127, s.pitch + dp));
        d.changed ||= onset !== n.onset || pitch !== n.pitch;
        n.onset = onset;
        n.pitch = pitch;
        if (d.changed) delete n.spelling; // re-spelled by the server from the key
      }
    }
    this.draw();
  }

  private pointerUp(): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "bars") {
      const [a, b] = this.barSelection!;
      this.on.barsSelected(a, b);
    } else if (d.changed) {
      this.growToFit();
      this.on.edited();
    }
  }

  private addNoteAt(e: MouseEvent): void {
    if (this.readOnly || e.offsetY < RULER_H || e.offsetX < KEYS_W || !this.parts.length) return;
    const { x, y } = this.at(e);
    if (this.noteAt(x, y)) return;
    const step = this.snap || beatQuarters(this.meter);
    const onset = Math.max(0, Math.floor(this.quarterAt(x) / step) * step);
    const note: Note = { pitch: this.pitchAt(y), onset, duration: Math.max(step, beatQuarters(this.meter)), velocity: 80 };
    this.parts[this.activePart].notes.push(note);
    this.selected = new Set([note]);
    this.growToFit();
    this.draw();
    this.on.edited();
  }

  private growToFit(): void {
    const end = Math.max(0, ...this.parts.flatMap((p) => p.notes.map((n) => n.onset + n.duration)));
    const bars = Math.ceil(end / this.barLength - 1e-9);
    if (bars > this.bars) {
      this.bars = bars;
      this.layout();
    }
  }

  private key(e: KeyboardEvent): void {
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      this.deleteSelected();
    } else if ((e.key === "ArrowUp" || e.key === "ArrowDown") && this.selected.size && !this.readOnly) {
      e.preventDefault();
      const step = (e.key === "ArrowUp" ? 1 : -1) * (e.shiftKey ? 12 : 1);
      for (const n of this.selected) {
        n.pitch = Math.max(0, Math.min(127, n.pitch + step));
        delete n.spelling;
      }
      this.draw();
      this.on.edited();
    }
  }
}
