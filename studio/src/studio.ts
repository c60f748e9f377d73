// The piece screen: the piano roll above the engraved score, playback, actions on the selected
// bars, undo / redo, versions and exports, and the others working on the piece.
//
// Live (the piece's shared Y.Doc is synced over the collaboration socket): the roll and the
// score show the Doc and follow everyone's changes; note edits and task results are Doc
// transactions; undo and redo take back this person's own changes only (collab.ts).
// Without the socket: every change is a new version on the server (PUT notes), and undo and
// redo restore an earlier version (as a new one, so nothing is ever lost). The history panel
// (history.ts) lists every version in words, previews and restores them.
import { api, streamed, type Note, type Part, type Piece, type Style } from "./api";
import { SharedPiece } from "./collab";
import { $, h } from "./dom";
import { HistoryPanel } from "./history";
import { barQuarters, barRange, beatSymbol, parseMeter, prettySpelling, quartersPerSecond } from "./music";
import { Player } from "./player";
import { myName, Presence } from "./presence";
import { PART_COLOURS, PianoRoll } from "./roll";

const SAVE_DELAY_MS = 250;
const SCORE_DELAY_MS = 400; // engrave again once a burst of live changes is over
const SOCKET_TRIES = 3; // closes before the first sync after which the studio works without the socket

export class StudioView {
  readonly element: HTMLElement;
  piece: Piece | null = null;
  /** Notes drawn into the roll as they streamed in, before the finished piece replaced them. */
  streamedNotes = 0;
  readonly roll: PianoRoll;
  readonly player = new Player();
  readonly history: HistoryPanel;
  private undoStack: number[] = [];
  private redoStack: number[] = [];
  private job: AbortController | null = null;
  private saveTimer = 0;
  private saving: Promise<void> = Promise.resolve();
  private scoreRequest = 0;
  private scoreTimer = 0;
  private styles: Style[] = [];
  /** The shared piece and who else is on it (null: not joined, or no collaboration socket). */
  shared: SharedPiece | null = null;
  presence: Presence | null = null;
  /** A viewer's studio (a piece shared "can view"): hear, read and export; change nothing. Every
   * place that lets the roll be edited again (a compose ends, a preview ends) keeps to it. */
  private viewOnly = false;

  constructor(private readonly home: () => void) {
    this.element = layout();
    this.roll = new PianoRoll($("#roll", this.element), {
      edited: () => this.edited(),
      barsSelected: (a, b) => this.barsSelected(a, b),
      seek: (q) => this.player.playing && this.player.play(q),
      pointer: (at) => this.presence?.pointer(at),
    });
    this.player.onPosition = (q) => this.showPosition(q);
    this.history = new HistoryPanel($("#history-panel", this.element), {
      current: () => this.piece,
      preview: (version, bars) => this.preview(version, bars),
      restore: (version) => this.restoreVersion(version),
      status: (message, error) => this.status(message, error),
      live: () => this.live,
    });
    this.wire();
  }

  // ------------------------------------------------------------------ loading and composing

  async open(id: string, styles: Style[]): Promise<void> {
    this.styles = styles;
    this.fillStyles();
    this.show(await api.piece(id), true);
    void this.refreshVersions();
    await this.join(id);
  }

  /** Open the piece's shared Doc: from its first sync on, the roll and the score show it. */
  private async join(id: string): Promise<void> {
    const { name, fromAccount } = await myName();
    if (!this.element.isConnected || this.piece?.id !== id) return; // the person left meanwhile
    const shared = (this.shared = new SharedPiece(id));
    const presence = (this.presence = new Presence(shared.provider.awareness, name, fromAccount));
    $(".side", this.element).prepend(presence.element);
    presence.connection("connecting");
    shared.onChange = (local) => this.fromDoc(local);
    shared.onConnection = (c) => {
      presence.connection(c);
      if (c === "connected" && $("#score", this.element).dataset.stale) void this.refreshScore();
    };
    shared.undoManager.on("stack-item-added", () => this.updateUndo());
    shared.undoManager.on("stack-item-popped", () => this.updateUndo());
    presence.barLabel = (i) => this.roll.labels[i] ?? String(i + 1);
    presence.onOthers = () => {
      this.roll.visitors = [...presence.others.values()];
      this.roll.draw();
    };
    presence.onAnnounce = (change) => {
      this.status(change.name ? `${change.name} ${change.text}` : change.text);
      void this.refreshVersions(); // a task or a restore is a new version
    };
    shared.provider.on("closed", ({ reason }: { reason: string }) => { // refused for good (4xxx): no retry
      presence.connection("closed");
      this.status(`Live editing stopped: ${reason || "the server closed the connection"}`, true);
    });
    let closes = 0;
    shared.provider.on("connection-close", () => {
      if (!shared.synced && ++closes >= SOCKET_TRIES && this.shared === shared) this.leave(true);
    });
  }

  /** Close the socket (leaving the piece, or a server without one: then changes are versions). */
  leave(alone = false): void {
    this.shared?.destroy();
    this.shared = null;
    if (alone) this.presence?.connection("alone");
    else this.presence?.element.remove();
    this.roll.visitors = [];
    this.updateUndo();
  }

  /** True while edits go into the shared Doc (synced once; offline edits wait in it). */
  get live(): boolean {
    return !!this.shared?.synced;
  }

  /** Show the Doc as it is now (``local``: the change came from this person's own edit). */
  private fromDoc(local: boolean): void {
    const shared = this.shared!;
    const piece = this.piece!;
    const parts = shared.parts(this.roll.parts);
    const attributes = { ...piece.attributes };
    for (const k of ["key", "meter", "tempo", "style", "bars"]) if (shared.attribute(k) !== undefined) (attributes as any)[k] = shared.attribute(k);
    // attributes.bars counts from bar 1; the grid holds a pickup bar 0 before them
    const bars = attributes.bars === undefined ? piece.bars : Math.round(Number(attributes.bars)) + (piece.pickup ? 1 : 0);
    const labels = bars === piece.bars ? piece.bar_numbers : undefined; // printed numbers shift only with the bars
    this.piece = { ...piece, parts, attributes, bars, bar_numbers: labels, title: shared.title() || piece.title };
    if (!local) this.show(this.piece, false, false);
    this.player.setParts(parts);
    this.updateUndo();
    window.clearTimeout(this.scoreTimer);
    this.scoreTimer = window.setTimeout(() => void this.refreshScore(), SCORE_DELAY_MS);
  }

  /** Compose from the prompt panel's request, showing the notes as they stream in. */
  async compose(body: Record<string, unknown>, styles: Style[]): Promise<Piece | null> {
    this.styles = styles;
    this.fillStyles();
    let meter = parseMeter(String(body.meter ?? "4/4"));
    const parts: Part[] = [];
    this.streamedNotes = 0;
    this.roll.readOnly = true;
    this.roll.labels = []; // a new piece: numbered once it is done (a pickup makes the first bar 0)
    this.roll.show(parts, meter, Number(body.bars ?? 16), true);
    $("#title", this.element).textContent = String(body.prompt || "New piece");
    const piece = await this.runJob("Composing", (signal) => streamed("/api/pieces", body, {
      attributes: (a) => {
        meter = parseMeter(a.meter);
        this.roll.show(parts, meter, a.bars + (a.pickup_bar ?? 0));
        $("#facts", this.element).textContent = `${prettySpelling(a.key)} · ${a.meter} · ${beatSymbol(meter)} = ${Math.round(a.tempo)} · ${a.bars} bars`;
      },
      note: (n) => {
        this.roll.addStreamed(n.part, { pitch: n.pitch, onset: n.onset, duration: n.duration, velocity: 80 });
        this.streamedNotes++;
        this.status(`Composing… bar ${Math.floor(n.onset / this.roll.barLength) + 1}`);
      },
      restart: () => {
        for (const p of parts) p.notes = [];
        this.roll.show(parts, meter, this.roll.bars);
      },
    }, signal));
    this.roll.readOnly = this.viewOnly;
    if (piece) {
      this.show(piece, false);
      this.roll.scrollToQuarter(0); // the roll followed the notes in; a musician reads from the start
      void this.refreshVersions();
      void this.join(piece.id);
    }
    return piece;
  }

  setViewOnly(on: boolean): void {
    this.viewOnly = on;
    this.roll.readOnly = on;
    for (const sel of [".actions", ".history", "#delete", ".roll-tools .hint"]) $(sel, this.element).hidden = on;
    $("#view-only", this.element).hidden = !on;
    this.element.classList.toggle("view-only", on); // hides the history panel's name and restore controls
    void this.refreshVersions();
  }

  private show(piece: Piece, first: boolean, engrave = true): void {
    this.piece = piece;
    const meter = parseMeter(piece.attributes.meter);
    this.endPreview();
    this.roll.labels = piece.bar_numbers ?? [];
    this.roll.show(piece.parts, meter, piece.bars, first);
    this.player.setParts(piece.parts);
    const tempo = $("#tempo-now", this.element) as HTMLInputElement;
    if (first || !tempo.value) tempo.value = String(Math.round(piece.attributes.tempo));
    this.player.setTempo(quartersPerSecond(meter, Number(tempo.value)));
    $("#title", this.element).textContent = piece.title || "Untitled";
    $("#facts", this.element).textContent = factsOf(piece, this.live ? "" : "version");
    const lines = piece.explanation.length ? piece.explanation : ["(nothing new: this version came from an edit; see Versions)"];
    $("#explanation", this.element).replaceChildren(...lines.map((line) => h("li", {}, line)));
    const partSelect = $("#part", this.element) as HTMLSelectElement;
    const chosen = partSelect.value;
    partSelect.replaceChildren(h("option", { value: "" }, "all parts"),
      ...piece.parts.map((p, i) => h("option", { value: String(i + 1) }, `${i + 1}: ${p.name}`)));
    partSelect.value = chosen && Number(chosen) <= piece.parts.length ? chosen : "";
    this.roll.activePart = Math.max(0, Number(partSelect.value || 1) - 1);
    $("#legend", this.element).replaceChildren(...piece.parts.map((p, i) => h("span", { class: "swatch" },
      h("i", { style: `background: ${PART_COLOURS[i % PART_COLOURS.length]}` }), p.name)));
    this.updateExports();
    this.updateUndo();
    if (engrave) void this.refreshScore();
  }

  // ------------------------------------------------------------------ jobs

  /** Run a job (compose or edit) with the Cancel button and the status line; null when it was
   * cancelled or failed (the saved piece is then as it was). */
  private async runJob<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    this.job?.abort();
    const job = (this.job = new AbortController());
    this.busy(true);
    this.status(`${what}…`);
    try {
      const result = await run(job.signal);
      this.status(`${what}: done`);
      return result;
    } catch (e) {
      if (job.signal.aborted) this.status(`${what}: cancelled, nothing was changed`);
      else this.status(e instanceof Error ? e.message : String(e), true);
      return null;
    } finally {
      if (this.job === job) this.job = null;
      this.busy(false);
    }
  }

  private async edit(op: string, options: Record<string, unknown>): Promise<void> {
    const piece = this.piece;
    if (!piece) return;
    await this.flush();
    const before = piece.version;
    const body = { op, ...options };
    const label = op === "infill" ? "Regenerating" : `${op[0].toUpperCase()}${op.slice(1)}`;
    const shared = this.live ? this.shared : null;
    const [doing, done] = describeTask(op, options);
    this.presence?.doing(doing);
    const run = () => this.runJob(label, (signal) => streamed(`/api/pieces/${piece.id}/edits`, body, {
      progress: (p) => this.status(`${label}… ${Math.min(99, Math.round((100 * p.done) / Math.max(1, p.total)))}%`),
    }, signal));
    try {
      // live: the server sends the result to everyone as one update, which is mine to undo
      const result = shared ? await shared.claim(run) : await run();
      if (!result) return;
      if (shared) {
        this.presence?.did(done);
        this.piece = { ...this.piece!, version: result.version };
        void this.refreshVersions();
      } else this.changed(before, result);
    } finally {
      this.presence?.doing(null);
    }
  }

  private changed(before: number, piece: Piece): void {
    this.undoStack.push(before);
    this.redoStack = [];
    this.show(piece, false);
    void this.refreshVersions();
  }

  // ------------------------------------------------------------------ manual edits, undo, redo

  /** A note edit on the roll: into the shared Doc when live, else saved as a version. */
  private edited(): void {
    if (this.live) this.shared!.commit(this.roll.parts);
    else this.scheduleSave();
  }

  private scheduleSave(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = 0;
      this.saving = this.save();
    }, SAVE_DELAY_MS);
    this.player.setParts(this.roll.parts);
  }

  /** Save a pending manual edit now: an edit, undo or restore must start from it, not beside it. */
  private async flush(): Promise<void> {
    if (this.saveTimer) {
      window.clearTimeout(this.saveTimer);
      this.saveTimer = 0;
      this.saving = this.save();
    }
    await this.saving;
  }

  /** PUT every note; new notes get their ids from the answer (matched by part, pitch and time). */
  private async save(): Promise<void> {
    await this.saving;
    const piece = this.piece;
    if (!piece) return;
    const sent = this.roll.parts.map((p) => ({ name: p.name, program: p.program, notes: p.notes.map((n) => ({ ...n })) }));
    try {
      const saved = await api.saveNotes(piece.id, sent);
      adoptIds(this.roll.parts, saved.parts);
      this.undoStack.push(piece.version);
      this.redoStack = [];
      this.piece = { ...saved, parts: this.roll.parts };
      $("#facts", this.element).textContent = $("#facts", this.element).textContent!.replace(/version \d+/, `version ${saved.version}`);
      this.updateUndo();
      this.updateExports();
      this.status(`Saved as version ${saved.version}`);
      void this.refreshScore();
      void this.refreshVersions();
    } catch (e) {
      this.status(e instanceof Error ? e.message : String(e), true);
      this.show(await api.piece(piece.id), false); // back to what the server has
    }
  }

  undo(): Promise<void> {
    return this.step("Undo", this.undoStack, this.redoStack);
  }

  redo(): Promise<void> {
    return this.step("Redo", this.redoStack, this.undoStack);
  }

  /** Undo or redo: live, this person's own last change; alone, back to the version on top of
   * `from` (the version left goes on `to`, so the opposite step comes back to it). */
  private async step(what: "Undo" | "Redo", from: number[], to: number[]): Promise<void> {
    if (this.live) return void (what === "Undo" ? this.shared!.undo() : this.shared!.redo());
    await this.flush();
    const target = from.pop();
    if (target === undefined || !this.piece) return;
    to.push(this.piece.version);
    await this.restoreTo(target, what);
  }

  private async restoreTo(version: number, what: string): Promise<void> {
    const piece = await api.restore(this.piece!.id, version);
    this.show(piece, false);
    this.status(`${what}: back to version ${version} (saved as version ${piece.version})`);
    void this.refreshVersions();
  }

  // ------------------------------------------------------------------ score, versions, exports

  /** Show an earlier version read-only in the roll and the score, its changed bars tinted (the
   * history panel's preview); null: back to the current piece. */
  private preview(version: Piece | null, changedBars: number[]): void {
    const piece = version ?? this.piece;
    if (!piece) return;
    this.roll.readOnly = version !== null || this.viewOnly;
    this.roll.changedBars = new Set(changedBars);
    this.roll.labels = piece.bar_numbers ?? [];
    this.roll.show(piece.parts, parseMeter(piece.attributes.meter), piece.bars);
    this.player.setParts(piece.parts);
    this.element.classList.toggle("previewing", version !== null);
    $("#facts", this.element).textContent = factsOf(piece, version ? "previewing version" : "version");
    void this.refreshScore(piece);
  }

  private endPreview(): void {
    this.roll.readOnly = this.viewOnly;
    this.roll.changedBars = new Set();
    this.element.classList.remove("previewing");
  }

  private async refreshScore(piece: Piece | null = this.piece): Promise<void> {
    if (!piece) return;
    const version = piece.version;
    const request = ++this.scoreRequest;
    const score = $("#score", this.element);
    let r: Response;
    try {
      // live: the piece as it is now, unless an earlier version is previewed
      const previewing = this.history.previewing !== null;
      r = await fetch(api.exportUrl(piece.id, "svg", this.live && !previewing ? undefined : version));
    } catch {
      score.dataset.stale = "true"; // offline: engraved again when the connection is back
      return;
    }
    if (this.scoreRequest !== request) return; // a newer version is on its way
    delete score.dataset.stale;
    if (!r.ok) {
      const detail = await r.json().then((j) => j.detail).catch(() => r.statusText);
      score.textContent = `The score could not be engraved: ${detail}`;
      return;
    }
    score.innerHTML = await r.text();
    score.dataset.version = String(version);
  }

  private async refreshVersions(): Promise<void> {
    await this.history.refresh();
  }

  private async restoreVersion(version: number): Promise<void> {
    if (this.live) {
      const piece = await this.shared!.claim(() => api.restore(this.piece!.id, version));
      this.presence?.did(`restored version ${version}`);
      this.piece = { ...this.piece!, version: piece!.version };
      void this.refreshVersions();
      return this.status(`Restored version ${version}: Undo takes it back`);
    }
    await this.flush();
    const before = this.piece!.version;
    const piece = await api.restore(this.piece!.id, version);
    this.changed(before, piece);
    this.status(`Restored version ${version} (saved as version ${piece.version})`);
  }

  private updateExports(): void {
    const piece = this.piece!;
    for (const a of this.element.querySelectorAll<HTMLAnchorElement>("a[data-fmt]")) {
      a.href = api.exportUrl(piece.id, a.dataset.fmt!, this.live ? undefined : piece.version);
      a.download = `${(piece.title || "symphony").replace(/[^\w\- ]+/g, "").trim() || "symphony"}.${a.dataset.fmt}`;
    }
  }

  private updateUndo(): void {
    const mine = this.live ? this.shared!.undoManager : null; // live: only my own changes
    ($("#undo", this.element) as HTMLButtonElement).disabled = mine ? !mine.canUndo() : !this.undoStack.length;
    ($("#redo", this.element) as HTMLButtonElement).disabled = mine ? !mine.canRedo() : !this.redoStack.length;
  }

  // ------------------------------------------------------------------ playback and selection

  private barsSelected(first: number, last: number): void {
    this.presence?.bars([first, last]);
    $("#selection", this.element).textContent = `Bars ${barRange(first, last, this.roll.labels).replace("-", "–")} selected`;
    const bar = this.roll.barLength;
    if (($("#loop", this.element) as HTMLInputElement).checked) this.player.loop = [first * bar, (last + 1) * bar];
  }

  private showPosition(q: number | null): void {
    this.roll.setCursor(q, true);
    const score = $("#score", this.element);
    score.querySelector(".playing")?.classList.remove("playing");
    if (q === null || !this.piece) return;
    const bar = Math.floor(q / barQuarters(parseMeter(this.piece.attributes.meter)));
    score.querySelectorAll("g.measure")[bar]?.classList.add("playing");
  }

  private async togglePlay(): Promise<void> {
    const button = $("#play", this.element);
    if (this.player.playing) {
      this.player.stop();
      button.textContent = "▶ Play";
      return;
    }
    const sel = this.roll.barSelection;
    const from = sel ? sel[0] * this.roll.barLength : 0;
    button.textContent = "■ Stop";
    try {
      await this.player.play(from);
    } catch (e) {
      button.textContent = "▶ Play";
      this.status(`Playback failed: ${e instanceof Error ? e.message : e}`, true);
    }
  }

  // ------------------------------------------------------------------ wiring

  private fillStyles(): void {
    const select = $("#restyle-style", this.element) as HTMLSelectElement;
    if (!select.options.length) select.append(...this.styles.map((s) => h("option", { value: s.name }, s.name)));
  }

  private selectedBars(): string | null {
    const sel = this.roll.barSelection;
    if (!sel) {
      this.status("Select bars first: drag across the bar numbers above the roll.", true);
      return null;
    }
    return barRange(sel[0], sel[1], this.roll.labels);
  }

  private part(): number | undefined {
    const v = ($("#part", this.element) as HTMLSelectElement).value;
    return v ? Number(v) : undefined;
  }

  private wire(): void {
    const el = this.element;
    const on = (sel: string, fn: () => unknown) => $(sel, el).addEventListener("click", () => void fn());
    const value = (sel: string) => ($(sel, el) as HTMLInputElement).value;
    on("#home", () => { this.player.stop(); this.job?.abort(); this.home(); });
    on("#cancel", () => this.job?.abort());
    on("#play", () => this.togglePlay());
    on("#undo", () => this.undo());
    on("#redo", () => this.redo());
    on("#zoom-in", () => this.roll.zoom(1.4));
    on("#zoom-out", () => this.roll.zoom(1 / 1.4));
    on("#delete", () => this.roll.deleteSelected());
    on("#regenerate", () => { const bars = this.selectedBars(); if (bars) return this.edit("infill", { bars, part: this.part() }); });
    on("#continue", () => this.edit("continue", { bars: Number(value("#continue-bars")) }));
    on("#harmonize", () => this.edit("harmonize", { as: value("#harmonize-as"), part: this.part() ?? 1 }));
    on("#vary", () => this.edit("vary", { amount: Number(value("#vary-amount")) / 100, part: this.part() }));
    on("#restyle", () => this.edit("restyle", { style: value("#restyle-style"), part: this.part() }));
    on("#transform", () => {
      const options: Record<string, unknown> = {};
      if (Number(value("#transpose"))) options.transpose = Number(value("#transpose"));
      if (value("#transform-key").trim()) options.key = value("#transform-key").trim();
      if (!Object.keys(options).length) return this.status("Transform: give semitones or a key.", true);
      return this.edit("transform", options);
    });
    $("#snap", el).addEventListener("change", () => { this.roll.snap = Number(value("#snap")); });
    $("#part", el).addEventListener("change", () => {
      this.roll.activePart = Math.max(0, Number(value("#part") || 1) - 1);
      this.roll.draw();
    });
    $("#tempo-now", el).addEventListener("change", () => {
      if (this.piece) this.player.setTempo(quartersPerSecond(parseMeter(this.piece.attributes.meter), Number(value("#tempo-now")) || 100));
    });
    $("#loop", el).addEventListener("change", () => {
      const sel = this.roll.barSelection;
      const bar = this.roll.barLength;
      this.player.loop = ($("#loop", el) as HTMLInputElement).checked && sel ? [sel[0] * bar, (sel[1] + 1) * bar] : null;
    });
    document.addEventListener("keydown", (e) => {
      if (!this.element.isConnected || (e.target as HTMLElement).matches("input, textarea, select")) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
        e.preventDefault();
        void (e.shiftKey ? this.redo() : this.undo());
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") {
        e.preventDefault();
        void this.redo();
      } else if (e.key === " " && e.target === document.body) {
        e.preventDefault();
        void this.togglePlay();
      }
    });
  }

  private busy(on: boolean): void {
    $("#cancel", this.element).hidden = !on;
    for (const b of this.element.querySelectorAll<HTMLButtonElement>(".actions button")) b.disabled = on;
  }

  status(message: string, error = false): void {
    const line = $("#status", this.element);
    line.textContent = message;
    line.classList.toggle("error", error);
  }
}

/** "F♯ minor · 4/4 · ♩ = 96 · 10 bars · chorale · version 3" */
function factsOf(piece: Piece, version = "version"): string {
  const a = piece.attributes;
  const meter = parseMeter(a.meter);
  return [prettySpelling(a.key), a.meter, `${beatSymbol(meter)} = ${Math.round(a.tempo)}`, `${a.bars ?? piece.bars} bars`, a.style,
    version && `${version} ${piece.version}`].filter(Boolean).join(" · ");
}

/** Give the notes drawn in the studio the ids the server gave them. */
function adoptIds(local: Part[], saved: Part[]): void {
  local.forEach((part, i) => {
    const known = new Set(part.notes.map((n) => n.id).filter(Boolean));
    const fresh = (saved[i]?.notes ?? []).filter((n) => !known.has(n.id));
    for (const n of part.notes) {
      if (n.id) continue;
      const k = fresh.findIndex((s) => s.pitch === n.pitch && Math.abs(s.onset - n.onset) < 1e-6 && Math.abs(s.duration - n.duration) < 1e-6);
      if (k >= 0) Object.assign(n, { id: fresh[k].id, spelling: fresh[k].spelling });
      if (k >= 0) fresh.splice(k, 1);
    }
    const byId = new Map((saved[i]?.notes ?? []).map((s) => [s.id, s]));
    for (const n of part.notes as Note[]) if (!n.spelling && n.id) n.spelling = byId.get(n.id)?.spelling;
  });
}

/** What a task does, as the others read it: ["regenerating bars 5-8", "regenerated bars 5-8 (infill)"];
 * the second starts with the verb of the server's words for the change (history.describe_edit),
 * so that the two reports of one change are listed once (presence.ts). */
function describeTask(op: string, o: Record<string, unknown>): [string, string] {
  const where = o.part ? ` of part ${o.part}` : "";
  switch (op) {
    case "infill": return [`regenerating bars ${o.bars}${where}`, `regenerated bars ${o.bars}${where} (infill)`];
    case "continue": return [`continuing the piece by ${o.bars ?? 8} bars`, `continued the piece by ${o.bars ?? 8} bars`];
    case "harmonize": return [`harmonizing the melody`, `harmonized the melody`];
    case "vary": return [`varying the melody${where}`, `varied the melody${where}`];
    case "restyle": return [`restyling the piece as ${o.style}`, `restyled the piece as ${o.style}`];
    default: return o.transpose ? ["transposing the piece", "transposed it"] : ["moving it to another key", "moved it"];
  }
}

function layout(): HTMLElement {
  const exportLink = (fmt: string, label: string) => h("a", { "data-fmt": fmt, class: "button", href: "#" }, label);
  return h("div", { class: "studio" },
    h("header", { class: "bar" },
      h("button", { id: "home", class: "link" }, "← Pieces"),
      h("div", { class: "titles" }, h("h1", { id: "title" }, ""), h("span", { id: "facts", class: "facts" })),
      h("span", { id: "view-only", class: "badge", hidden: true, title: "shared with you to view: ask its owner to edit" }, "view only"),
      h("div", { class: "transport" },
        h("button", { id: "play", class: "primary", title: "play from the start of the selection (space)" }, "▶ Play"),
        h("label", { title: "repeat the selected bars" }, h("input", { id: "loop", type: "checkbox" }), " loop selection"),
        h("label", {}, "tempo ", h("input", { id: "tempo-now", type: "number", min: 20, max: 300, class: "narrow" }))),
      h("div", { class: "history" },
        h("button", { id: "undo", disabled: true, title: "undo (Ctrl+Z)" }, "↶ Undo"),
        h("button", { id: "redo", disabled: true, title: "redo (Ctrl+Shift+Z)" }, "↷ Redo"))),
    h("div", { class: "status-line" }, h("span", { id: "status" }, ""),
      h("button", { id: "cancel", hidden: true, class: "danger" }, "Cancel")),
    h("main", { class: "workspace" },
      h("section", { class: "editor" },
        h("div", { class: "roll-tools" },
          h("span", { id: "selection" }, "Drag across the bar numbers to select bars"),
          h("label", {}, "part ", h("select", { id: "part" })),
          h("span", { id: "legend", class: "legend", title: "the colour of each part in the roll" }),
          h("label", {}, "snap ", h("select", { id: "snap" },
            h("option", { value: "1" }, "♩ quarter"), h("option", { value: "0.5", selected: true }, "♪ eighth"),
            h("option", { value: "0.25" }, "16th"), h("option", { value: "0" }, "off"))),
          h("button", { id: "zoom-out", title: "zoom out" }, "−"), h("button", { id: "zoom-in", title: "zoom in" }, "+"),
          h("button", { id: "delete", title: "delete the selected notes (Delete)" }, "Delete notes"),
          h("span", { class: "hint" }, "double-click: add a note · drag: move · drag its end: lengthen")),
        h("div", { id: "roll", class: "roll" }),
        h("div", { id: "score", class: "score" })),
      h("aside", { class: "side" },
        h("section", { class: "actions" }, h("h2", {}, "Compose with the selection"),
          h("div", { class: "action" }, h("button", { id: "regenerate", class: "primary" }, "Regenerate bars"),
            h("span", { class: "hint" }, "new bars that join both sides")),
          h("div", { class: "action" }, h("button", { id: "continue" }, "Continue"),
            h("label", {}, "by ", h("input", { id: "continue-bars", type: "number", value: 8, min: 1, max: 64, class: "narrow" }), " bars")),
          h("div", { class: "action" }, h("button", { id: "harmonize" }, "Harmonize"),
            h("select", { id: "harmonize-as" }, h("option", { value: "satb" }, "as a four-part chorale"),
              h("option", { value: "chords" }, "with chord symbols"), h("option", { value: "accompaniment" }, "with a piano part"))),
          h("div", { class: "action" }, h("button", { id: "vary" }, "Vary"),
            h("label", {}, h("input", { id: "vary-amount", type: "range", min: 5, max: 100, value: 30 }), " amount")),
          h("div", { class: "action" }, h("button", { id: "restyle" }, "Restyle"), h("select", { id: "restyle-style" })),
          h("div", { class: "action" }, h("button", { id: "transform" }, "Transform"),
            h("label", {}, h("input", { id: "transpose", type: "number", value: 0, min: -24, max: 24, class: "narrow" }), " semitones"),
            h("input", { id: "transform-key", placeholder: "or key: D dorian", class: "narrow-wide" }))),
        h("section", {}, h("h2", {}, "Export"),
          h("div", { class: "exports" }, exportLink("mid", "MIDI"), exportLink("musicxml", "MusicXML"),
            exportLink("wav", "WAV"), exportLink("pdf", "PDF"), exportLink("svg", "SVG"))),
        h("section", { id: "history-panel", class: "history-panel" }),
        h("section", {}, h("h2", {}, "What Symphony understood"), h("ul", { id: "explanation", class: "explanation" })))));
}
