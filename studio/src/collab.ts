// The open piece as a shared document: one Y.Doc (its layout is symphony/server/document.py)
// that everyone with the piece open edits at once, kept in sync over WS /api/pieces/{id}/collab
// by y-websocket. Edits made while offline stay in the Doc and merge when the socket is back.
//
// Each person's undo undoes only their own changes: the UndoManager tracks this browser's note
// edits and the one update in which the server sends the result of a task this person asked
// for (``claim``), never the others' changes.
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { shareToken, type Note, type Part } from "./api";

export type Connection = "connecting" | "connected" | "offline";
type NoteMap = Y.Map<unknown>;
type PartMap = Y.Map<unknown>;

const NOTE_FIELDS = ["pitch", "spelling", "onset", "duration", "velocity"] as const;
const ROOM = "collab"; // y-websocket joins the server URL and the room: /api/pieces/{id}/collab
const CLAIM_WAIT_MS = 3000; // how long after its HTTP answer a change of mine may still arrive

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
  /** True once the Doc has the server's content: only then may this browser write into it. */
  synced = false;
  connection: Connection = "connecting";
  onChange: (local: boolean) => void = () => {};
  onConnection: (c: Connection) => void = () => {};
  private readonly claims = new Set<{ taken: boolean }>(); // HTTP changes of mine on their way
  private readonly goOffline = () => this.provider.disconnect();
  private readonly goOnline = () => this.provider.connect();

  constructor(readonly pieceId: string) {
    const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/pieces/${pieceId}`;
    // no BroadcastChannel: two tabs of one browser meet through the server like everyone else
    // a share link's guest is let in by its token on the URL: a browser's socket sends no custom headers
    this.provider = new WebsocketProvider(base, ROOM, this.doc, {
      disableBc: true, connect: navigator.onLine, params: shareToken ? { share: shareToken } : {},
    });
    this.undoManager = new Y.UndoManager([this.partsArray, this.attributes, this.info], {
      trackedOrigins: new Set([this.editOrigin, this.provider]), // the provider's: only claimed ones
      captureTransaction: (tr) => tr.origin !== this.provider || this.claimed(tr),
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

  /** Run ``request`` (an HTTP change of this person's: a task, a restore) whose result the
   * server sends everyone as one update, and make that update this person's own change: their
   * undo takes it back, nobody else's does. The update is told from the others' edits by its
   * author: the server's document, not a browser of anyone on the piece. */
  async claim<T>(request: () => Promise<T | null>): Promise<T | null> {
    const claim = { taken: false };
    this.claims.add(claim);
    try {
      const result = await request();
      if (result !== null && !claim.taken) await new Promise((done) => setTimeout(done, CLAIM_WAIT_MS));
      return result;
    } finally {
      this.claims.delete(claim);
    }
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
    if (this.synced) this.onChange(tr.local && tr.origin !== this.undoManager);
  }

  /** Whether a remote transaction is the server's answer to a change of mine in flight: it
   * wrote something, and nothing it wrote came from a person on the piece (their browsers'
   * client ids are their awareness ids). */
  private claimed(tr: Y.Transaction): boolean {
    const claim = [...this.claims].find((c) => !c.taken);
    if (!claim) return false;
    const people = new Set([...this.provider.awareness.getStates()].filter(([, s]) => s.name).map(([id]) => id));
    const authors = [...tr.afterState].filter(([client, clock]) => clock > (tr.beforeState.get(client) ?? 0)).map(([c]) => c);
    if (!authors.length || authors.some((c) => people.has(c))) return false;
    claim.taken = true;
    return true;
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
