// The studio's two screens: the start page (saved pieces, a new piece from a prompt or a file)
// and the piece screen (#/piece/ID). The address says which piece is open, so a reload or a
// shared link opens it again. Where the server requires accounts, the sign-in page comes
// first (a share link, `/?share=TOKEN#/piece/ID`, opens its piece without one).
import "./style.css";
import { api, ApiError, shareToken, type Style, type User } from "./api";
import { shareDialog, signInPage, userBadge } from "./auth";
import { h } from "./dom";
import { promptPanel } from "./prompt";
import { StudioView } from "./studio";

const root = document.getElementById("app")!;
let styles: Style[] = [];
let studio: StudioView | null = null;
let accounts = false;
let me: User | null = null; // the signed-in user (with accounts)

function goHome(): void {
  location.hash = "#/";
}

function signIn(): void {
  studio = null;
  root.replaceChildren(signInPage((user) => {
    me = { ...user, accounts: true };
    void api.styles().then((s) => { styles = s; }).finally(() => void route());
  }));
}

function signedOut(): void {
  me = null;
  signIn();
}

async function route(): Promise<void> {
  studio?.player.stop();
  const m = location.hash.match(/^#\/piece\/([\w-]+)/);
  if (accounts && !me && !(m && shareToken)) return signIn();
  if (m) {
    if (studio?.piece?.id === m[1] && studio.element.isConnected) return; // just composed: already shown
    studio?.leave();
    studio = new StudioView(goHome);
    root.replaceChildren(studio.element);
    try {
      await studio.open(m[1], styles);
      if (accounts) await showAccess(studio, m[1]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signIn();
      studio.status(e instanceof Error ? e.message : String(e), true);
    }
    return;
  }
  studio?.leave(); // the others see this person go
  try {
    root.replaceChildren(await startPage());
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signIn();
    throw e;
  }
}

/** What this person may do with the open piece: a viewer's studio changes nothing; the owner
 * gets the Share button; the header shows who is signed in. */
async function showAccess(view: StudioView, id: string): Promise<void> {
  const access = await api.access(id);
  view.setViewOnly(access.role === "viewer");
  const bar = view.element.querySelector("header.bar")!;
  if (access.role === "owner") {
    bar.append(h("button", { id: "share", onclick: () => {
      const dialog = shareDialog(id);
      view.element.append(dialog);
      dialog.showModal();
    } }, "Share"));
  }
  bar.append(userBadge(me, signedOut));
}

async function startPage(): Promise<HTMLElement> {
  const panel = promptPanel(styles, (body) => void compose(body));
  const list = h("ul", { class: "pieces", id: "pieces" });
  const message = h("p", { class: "status-line", id: "start-status" });
  const upload = h("input", { type: "file", id: "upload", accept: ".mid,.midi,.musicxml,.xml,.mxl,.abc" });
  upload.addEventListener("change", async () => {
    const file = upload.files?.[0];
    if (!file) return;
    message.textContent = `Reading ${file.name}…`;
    try {
      const piece = await api.upload(file);
      location.hash = `#/piece/${piece.id}`;
    } catch (e) {
      message.textContent = e instanceof Error ? e.message : String(e);
      message.classList.add("error");
    }
  });
  const pieces = await api.pieces();
  list.append(...pieces.map((p) => h("li", {},
    h("a", { href: `#/piece/${p.id}` }, p.title || "Untitled"),
    h("span", { class: "hint" }, `version ${p.version} · changed ${p.updated.slice(0, 16).replace("T", " ")}`
      + (p.role && p.role !== "owner" ? ` · shared with you: ${p.role === "editor" ? "can edit" : "can view"}` : "")),
    (p.role ?? "owner") === "owner" && h("button", { class: "link", title: "delete this piece", onclick: async () => {
      if (!confirm(`Delete "${p.title || "Untitled"}" and all its versions?`)) return;
      await api.remove(p.id);
      void route();
    } }, "delete"))));
  if (!pieces.length) list.append(h("li", { class: "hint" }, "No pieces yet: describe one, or open a score file."));
  return h("div", { class: "start" },
    h("header", { class: "bar" }, h("h1", {}, "Symphony"), h("span", { class: "facts" }, "compose, edit, hear and export music"),
      userBadge(me, signedOut)),
    h("main", { class: "start-grid" }, panel.element,
      h("section", { class: "library" }, h("h2", {}, "Your pieces"), list,
        h("h2", {}, "Open a score file"),
        h("label", { class: "upload" }, "MIDI, MusicXML or ABC ", upload), message)));
}

async function compose(body: Record<string, unknown>): Promise<void> {
  studio?.leave();
  studio = new StudioView(goHome);
  root.replaceChildren(studio.element);
  const view = studio;
  const piece = await view.compose(body, styles);
  if (!piece) return;
  history.replaceState(null, "", `#/piece/${piece.id}`);
  if (accounts) await showAccess(view, piece.id);
}

// The end-to-end tests (tests/test_studio_e2e.py) read note positions from here.
(window as any).symphony = { get studio() { return studio; } };

window.addEventListener("hashchange", () => void route());

async function boot(): Promise<void> {
  accounts = (await api.health().catch(() => ({ accounts: false }))).accounts;
  if (accounts) me = await api.me().catch(() => null); // 401: not signed in
  styles = await api.styles().catch(() => []);
  await route();
}
void boot();
