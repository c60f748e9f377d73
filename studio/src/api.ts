// The HTTP API of `symphony serve` (docs/server.md), typed. Every error answer is JSON
// {"detail": "one clear sentence"}; it becomes an ApiError with that sentence as its message.

export interface Note {
  id?: string; // absent on a note drawn in the studio and not yet saved
  pitch: number;
  spelling?: string;
  onset: number; // quarter notes from the first full bar's downbeat
  duration: number; // quarter notes
  velocity: number;
}

export interface Part {
  name: string;
  program: number;
  notes: Note[];
}

export interface Piece {
  id: string;
  title: string;
  attributes: Record<string, unknown> & { key: string; meter: string; tempo: number; style: string };
  explanation: string[];
  bars: number; // the stored grid: a pickup bar 0 (when pickup > 0), then attributes.bars bars
  pickup?: number; // quarter notes of the anacrusis (bar 0); 0 = none
  bar_numbers?: string[]; // each bar's printed number, as edits' bars count them
  version: number;
  created: string;
  updated: string;
  parts: Part[];
}

export type Role = "owner" | "editor" | "viewer";
export interface PieceSummary { id: string; title: string; version: number; created: string; updated: string; role?: Role }
export interface User { id: string | null; email: string | null; name: string; accounts: boolean }
export interface Access { role: Role; user_id: string | null; name: string }
export interface Share { id: string; role: Role; created: string; email?: string; name?: string; link?: string; url?: string }
export interface Version {
  version: number; author: string | null; op: string; created: string;
  author_name?: string | null; // the author's display name
  name?: string | null; // the name someone gave it
  what?: string; // what it did: "regenerated bars 5-8 (infill)"
  text?: string; // who and what: "Ana regenerated bars 5-8 (infill)"
}
/** A page of the version list (the oldest first) and the version to ask `before` for older ones. */
export interface VersionPage { versions: Version[]; earlier: number | null }
export interface DiffNote { id: string; part: number; pitch: number; spelling: string; onset: number; duration: number; value: string; beat: number }
export interface DiffBar {
  bar: string; index: number; text: string;
  added: DiffNote[]; removed: DiffNote[]; changed: { before: DiffNote; after: DiffNote }[];
}
export interface Diff {
  from: number; to: number; summary: string; lines: string[]; bars: DiffBar[];
  attributes: { name: string; from: unknown; to: unknown }[];
}
export interface Style { name: string; meter: string; tempo: number; description: string }
export interface StreamedNote { part: number; pitch: number; onset: number; duration: number }

export class ApiError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/** The token of the share link this page was opened with (`/?share=TOKEN#/piece/ID`): every
 * request carries it, so a guest with the link sees the piece with the link's role. The session
 * itself travels as an HttpOnly cookie that the browser sends. */
export const shareToken = new URLSearchParams(location.search).get("share");
const shareHeaders = (): Record<string, string> => (shareToken ? { "X-Symphony-Share": shareToken } : {});

async function send<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, signal, headers: shareHeaders() };
  if (body instanceof FormData || body instanceof URLSearchParams) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...shareHeaders(), "Content-Type": "application/json" };
  }
  const r = await fetch(path, init);
  if (!r.ok) throw new ApiError(await detailOf(r), r.status);
  return (r.status === 204 ? undefined : await r.json()) as T;
}

async function detailOf(r: Response): Promise<string> {
  try {
    const j = await r.json();
    return typeof j.detail === "string" ? j.detail : `the server answered ${r.status}`;
  } catch {
    return `the server answered ${r.status}`;
  }
}

export const api = {
  styles: () => send<Style[]>("GET", "/api/styles"),
  pieces: () => send<PieceSummary[]>("GET", "/api/pieces"),
  piece: (id: string) => send<Piece>("GET", `/api/pieces/${id}`),
  remove: (id: string) => send<void>("DELETE", `/api/pieces/${id}`),
  upload: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return send<Piece>("POST", "/api/pieces/upload", form);
  },
  saveNotes: (id: string, parts: Part[]) => send<Piece>("PUT", `/api/pieces/${id}/notes`, { parts }),
  versions: (id: string) => send<Version[]>("GET", `/api/pieces/${id}/versions`),
  versionPage: async (id: string, before?: number, limit = 50): Promise<VersionPage> => {
    const r = await fetch(`/api/pieces/${id}/versions?limit=${limit}${before ? `&before=${before}` : ""}`, { headers: shareHeaders() });
    if (!r.ok) throw new ApiError(await detailOf(r), r.status);
    const next = /before=(\d+)/.exec(r.headers.get("Link") ?? "");
    return { versions: await r.json(), earlier: next ? Number(next[1]) : null };
  },
  version: (id: string, v: number) => send<Piece>("GET", `/api/pieces/${id}/versions/${v}`),
  nameVersion: (id: string, name: string) => send<Version>("POST", `/api/pieces/${id}/versions`, { name }),
  diff: (id: string, from: number, to: number) => send<Diff>("GET", `/api/pieces/${id}/diff?from=${from}&to=${to}`),
  restore: (id: string, v: number) => send<Piece>("POST", `/api/pieces/${id}/versions/${v}/restore`),
  exportUrl: (id: string, fmt: string, v?: number) => {
    const query = new URLSearchParams();
    if (v) query.set("v", String(v));
    if (shareToken) query.set("share", shareToken); // a download link cannot carry a header
    const q = query.toString();
    return `/api/pieces/${id}/export/${fmt}${q ? `?${q}` : ""}`;
  },
  // accounts and sharing (docs/server.md)
  health: () => send<{ status: string; accounts: boolean }>("GET", "/api/health"),
  me: () => send<User>("GET", "/api/me"),
  signUp: (email: string, password: string, name: string) =>
    send<{ user: User }>("POST", "/api/auth/signup", { email, password, name: name || undefined }),
  signIn: (email: string, password: string) =>
    send<{ user: User }>("POST", "/api/auth/login", new URLSearchParams({ username: email, password })),
  signOut: () => send<void>("POST", "/api/auth/logout"),
  access: (id: string) => send<Access>("GET", `/api/pieces/${id}/access`),
  shares: (id: string) => send<Share[]>("GET", `/api/pieces/${id}/shares`),
  share: (id: string, body: { email?: string; link?: boolean; role: Role }) => send<Share>("POST", `/api/pieces/${id}/shares`, body),
  unshare: (id: string, share: string) => send<void>("DELETE", `/api/pieces/${id}/shares/${share}`),
};

/** ``bars`` from bar 1, as the request counted them; ``pickup_bar`` 1: a pickup bar 0 comes first. */
export interface StreamedAttributes { key: string; meter: string; tempo: number; bars: number; pickup_bar?: number }

export interface StreamHandlers {
  attributes?: (a: StreamedAttributes) => void; // before the notes: the grid to draw them on
  note?: (n: StreamedNote) => void;
  restart?: () => void;
  progress?: (p: { done: number; total: number }) => void;
}

/** POST with `Accept: text/event-stream` and read the Server-Sent Events as they come: `note`,
 * `restart`, `progress`, then `done` {piece} (the promise's value) or `error` {detail, status}.
 * Aborting the signal closes the connection, which cancels the job on the server. */
export async function streamed(path: string, body: unknown, on: StreamHandlers, signal: AbortSignal): Promise<Piece> {
  const r = await fetch(path, {
    method: "POST", signal, body: JSON.stringify(body),
    headers: { ...shareHeaders(), "Content-Type": "application/json", Accept: "text/event-stream" },
  });
  if (!r.ok || !r.body) throw new ApiError(await detailOf(r), r.status);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError("the server closed the stream before the piece was finished", 502);
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (!event) continue;
      const data = event.data;
      if (event.name === "note") on.note?.(data as StreamedNote);
      else if (event.name === "attributes") on.attributes?.(data as StreamedAttributes);
      else if (event.name === "restart") on.restart?.();
      else if (event.name === "progress") on.progress?.(data as { done: number; total: number });
      else if (event.name === "done") return (data as { piece: Piece }).piece;
      else if (event.name === "error") throw new ApiError(String(data.detail), Number(data.status) || 500);
    }
  }
}

function parseEvent(block: string): { name: string; data: any } | null {
  let name = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  return data.length ? { name, data: JSON.parse(data.join("\n")) } : null; // comment-only blocks are keep-alives
}
