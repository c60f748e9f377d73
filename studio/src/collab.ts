// The open piece as a shared document: one Y.Doc (its layout is symphony/server/document.py)
// that everyone with the piece open edits at once, kept in sync over WS /api/pieces/{id}/collab
// by y-websocket. Edits made while offline stay in the Doc and merge when the socket is back.
//
// Each person's undo undoes only their own changes: the UndoManager tracks the origins of this
// browser's transactions (note edits and the task results this person asked for), never the
// updates that arrive from the others.
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import type { Note, Part, Piece } from "./api";

export type Connection = "connecting" | "connected" | "offline";
type NoteMap = Y.Map<unknown>;
type PartMap = Y.Map<unknown>;

const NOTE_FIELDS = ["pitch", "spelling", "onset", "duration", "velocity"] as const;
const ROOM = "collab"; // y-websocket joins the server URL and the room: /api/pieces/{id}/collab

/** A new note id, as the server makes them (document.new_id: 12 hex digits). */
export function newNoteId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class SharedPiece {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly undoManager: Y.UndoManager;
  /** Origins of this person's transactions (what their undo undoes). */
  readonly editOrigin = { kind: "note edit" };
  readonly taskOrigin = { kind: "task result" };
  /** True once the Doc has the server's content: only then may this browser write into it. */
  synced = false;
  connection: Connection = "connecting";
  onChange: (local: boolean) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  private readonly tidyOrigin = { kind: "tidy" };
  private readonly goOffline = () => this.provider.disconnect();
  private readonly goOnline = () => this.provider.connect();

  constructor(readonly pieceId: string) {
    const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/pieces/${pieceId}`;
    // no BroadcastChannel: two tabs of one browser meet through the server like everyone else
    this.provider = new WebsocketProvider(base, ROOM, this.doc, { disableBc: true, connect: navigator.onLine });
    this.undoManager = new Y.UndoManager([this.partsArray, this.attributes, this.info], {
      trackedOrigins: new Set([this.editOrigin, this.taskOrigin]),
      captureTimeout: 0, // every edit is its own step
    });
    this.provider.on("status", ({ status }) => this.setConnection(status === "connected" ? "connected" : navigator.onLine ? "connecting" : "offline"));
    this.provider.on("sync", (done: boolean) => {
      if (!done) return;
      this.synced = true;
      this.onChange(false);
    });
    this.partsArray.observeDeep((_events, tr) => this.changed(tr));
    this.attributes.observe((_event, tr) => this.changed(tr));
    this.info.observe((_event, tr) => this.changed(tr));
    // The socket stays open when the network goes (browsers do not close it): close it, and
    // reconnect when the network is back, so offline edits are sent as soon as they can be.
    window.addEventListener("offline", this.goOffline);
    window.addEventListener("online", this.goOnline);
    if (!navigator.onLine) this.setConnection("offline");
  }

  destroy(): void {
    window.removeEventListener("offline", this.goOffline);
    window.removeEventListener("online", this.goOnline);
    this.undoManager.destroy();
    this.provider.destroy();
    this.doc.destroy();
  }

  get partsArray(): Y.Array<PartMap> {
    return this.doc.getArray<PartMap>("parts");
  }

  get attributes(): Y.Map<unknown> {
    return this.doc.getMap("attributes");
  }

  get info(): Y.Map<unknown> {
    return this.doc.getMap("piece");
  }

  // ------------------------------------------------------------------ reading

  /** The parts as the API writes them (notes in time order, highest first), reusing the Note
   * objects of ``previous`` for notes with the same id, so that the roll's selection and a drag in
   * progress keep their notes. */
  parts(previous: Part[] = []): Part[] {
    const known = new Map(previous.flatMap((p) => p.notes).filter((n) => n.id).map((n) => [n.id!, n]));
    return this.partsArray.toArray().map((pm) => {
      const notes = (pm.get("notes") as Y.Array<NoteMap>).toArray().map((m) => {
        const fields: Note = {
          id: String(m.get("id")), pitch: Math.round(Number(m.get("pitch"))), onset: Number(m.get("onset")),
          duration: Number(m.get("duration")), velocity: Math.round(Number(m.get("velocity") ?? 80)),
          spelling: (m.get("spelling") as string | null) ?? undefined,
        };
        const note = known.get(fields.id!);
        return note ? Object.assign(note, fields) : fields;
      });
      notes.sort((a, b) => a.onset - b.onset || b.pitch - a.pitch);
      return { name: String(pm.get("name") ?? ""), program: Math.round(Number(pm.get("program") ?? 0)), notes };
    });
  }

  attribute(name: string): unknown {
    return this.attributes.get(name);
  }

  title(): string {
    return String(this.info.get("title") ?? "");
  }

  // ------------------------------------------------------------------ writing

  /** The roll's notes as the person left them, written as one transaction of differences: notes
   * missing from ``parts`` are deleted, notes without an id are added (and get one), changed
   * fields are set. A note someone else deleted meanwhile stays deleted. */
  commit(parts: Part[]): void {
    if (!this.synced) throw new Error("the piece is not loaded yet");
    this.doc.transact(() => {
      parts.forEach((part, i) => {
        const pm = this.partsArray.get(i);
        if (!pm) return void this.partsArray.push([partMap(part)]);
        const notes = pm.get("notes") as Y.Array<NoteMap>;
        deleteWhere(notes, (m) => !part.notes.some((n) => n.id === m.get("id")));
        const byId = new Map(notes.toArray().map((m) => [m.get("id") as string, m]));
        const added: NoteMap[] = [];
        for (const n of part.notes) {
          if (!n.id) {
            n.id = newNoteId();
            added.push(noteMap(n));
          } else if (byId.has(n.id)) setFields(byId.get(n.id)!, n);
        }
        if (added.length) notes.push(added);
      });
    }, this.editOrigin);
  }

  /** A task's result (a regeneration, a harmonization, ...) as one change of this person's:
   * what turns ``base`` (the piece the task started from) into ``result``, applied to the Doc
   * as it is now, so that what others changed meanwhile elsewhere stays. Undo takes it back. */
  applyResult(base: Piece, result: Piece): void {
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(result.attributes)) {
        if (JSON.stringify(this.attributes.get(k)) !== JSON.stringify(v)) this.attributes.set(k, v);
      }
      if (result.title && this.info.get("title") !== result.title) this.info.set("title", result.title);
      if (JSON.stringify(this.info.get("explanation")) !== JSON.stringify(result.explanation)) this.info.set("explanation", result.explanation);
      result.parts.forEach((part, i) => {
        const pm = this.partsArray.get(i);
        if (!pm || i >= base.parts.length) return void this.partsArray.push([partMap(part)]);
        if (pm.get("name") !== part.name) pm.set("name", part.name);
        if (pm.get("program") !== part.program) pm.set("program", part.program);
        applyNotes(pm.get("notes") as Y.Array<NoteMap>, base.parts[i].notes, part.notes);
      });
      for (let i = Math.min(base.parts.length, this.partsArray.length) - 1; i >= result.parts.length; i--) this.partsArray.delete(i, 1);
    }, this.taskOrigin);
  }

  undo(): boolean {
    return this.undoManager.undo() !== null;
  }

  redo(): boolean {
    return this.undoManager.redo() !== null;
  }

  // ------------------------------------------------------------------ inside

  private setConnection(c: Connection): void {
    if (c === this.connection) return;
    this.connection = c;
    this.onConnection(c);
  }

  private changed(tr: Y.Transaction): void {
    if (tr.origin === this.tidyOrigin) return;
    if (!tr.local) this.dropDuplicates();
    if (this.synced) this.onChange(tr.local && tr.origin !== this.undoManager);
  }

  /** Two people who both re-add a note by its id (e.g. a task result applied by its requester
   * and by the server) leave two copies; every browser keeps the first and deletes the others,
   * so all converge on one. */
  private dropDuplicates(): void {
    const extra: [Y.Array<NoteMap>, number][] = [];
    for (const pm of this.partsArray.toArray()) {
      const notes = pm.get("notes") as Y.Array<NoteMap>;
      const seen = new Set<unknown>();
      notes.toArray().forEach((m, j) => (seen.has(m.get("id")) ? extra.push([notes, j]) : seen.add(m.get("id"))));
    }
    if (!extra.length) return;
    this.doc.transact(() => {
      for (const [notes, j] of extra.reverse()) notes.delete(j, 1);
    }, this.tidyOrigin);
  }
}

function noteMap(n: Note): NoteMap {
  const m = new Y.Map<unknown>();
  m.set("id", n.id ?? newNoteId());
  for (const k of NOTE_FIELDS) m.set(k, n[k] ?? null);
  m.set("fermata", false);
  return m;
}

function partMap(p: Part): PartMap {
  const m = new Y.Map<unknown>();
  m.set("name", p.name);
  m.set("program", p.program);
  m.set("instrument", "");
  m.set("clef", "");
  const notes = new Y.Array<NoteMap>();
  notes.push(p.notes.map(noteMap));
  m.set("notes", notes);
  return m;
}

function setFields(m: NoteMap, n: Note): void {
  for (const k of NOTE_FIELDS) {
    const v = n[k] ?? null;
    if (m.get(k) !== v) m.set(k, v);
  }
}

function deleteWhere(notes: Y.Array<NoteMap>, gone: (m: NoteMap) => boolean): void {
  const doomed = notes.toArray().map((m, j) => (gone(m) ? j : -1)).filter((j) => j >= 0);
  for (const j of doomed.reverse()) notes.delete(j, 1);
}

/** As document.apply on the server: notes of ``before`` missing from ``after`` deleted by id,
 * new notes added, notes the task changed updated; a note nobody asked the task about keeps
 * whatever others did to it. */
function applyNotes(notes: Y.Array<NoteMap>, before: Note[], after: Note[]): void {
  const was = new Map(before.map((n) => [n.id, n]));
  const keep = new Set(after.map((n) => n.id));
  deleteWhere(notes, (m) => was.has(m.get("id") as string) && !keep.has(m.get("id") as string));
  const byId = new Map(notes.toArray().map((m) => [m.get("id") as string, m]));
  const added: NoteMap[] = [];
  for (const n of after) {
    const m = byId.get(n.id!);
    const old = was.get(n.id);
    if (!m) {
      if (!old) added.push(noteMap(n)); // a note someone else deleted meanwhile stays deleted
    } else if (!old || NOTE_FIELDS.some((k) => k !== "spelling" && old[k] !== n[k])) setFields(m, n);
  }
  if (added.length) notes.push(added);
}
