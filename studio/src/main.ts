// The studio's two screens: the start page (saved pieces, a new piece from a prompt or a file)
// and the piece screen (#/piece/ID). The address says which piece is open, so a reload or a
// shared link opens it again.
import "./style.css";
import { api, type Style } from "./api";
import { h } from "./dom";
import { promptPanel } from "./prompt";
import { StudioView } from "./studio";

const root = document.getElementById("app")!;
let styles: Style[] = [];
let studio: StudioView | null = null;

function goHome(): void {
  location.hash = "#/";
}

async function route(): Promise<void> {
  studio?.player.stop();
  const m = location.hash.match(/^#\/piece\/([\w-]+)/);
  if (m) {
    if (studio?.piece?.id === m[1] && studio.element.isConnected) return; // just composed: already shown
    studio?.leave();
    studio = new StudioView(goHome);
    root.replaceChildren(studio.element);
    try {
      await studio.open(m[1], styles);
    } catch (e) {
      studio.status(e instanceof Error ? e.message : String(e), true);
    }
    return;
  }
  studio?.leave(); // the others see this person go
  root.replaceChildren(await startPage());
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
    h("span", { class: "hint" }, `version ${p.version} · changed ${p.updated.slice(0, 16).replace("T", " ")}`),
    h("button", { class: "link", title: "delete this piece", onclick: async () => {
      if (!confirm(`Delete "${p.title || "Untitled"}" and all its versions?`)) return;
      await api.remove(p.id);
      void route();
    } }, "delete"))));
  if (!pieces.length) list.append(h("li", { class: "hint" }, "No pieces yet: describe one, or open a score file."));
  return h("div", { class: "start" },
    h("header", { class: "bar" }, h("h1", {}, "Symphony"), h("span", { class: "facts" }, "compose, edit, hear and export music")),
    h("main", { class: "start-grid" }, panel.element,
      h("section", { class: "library" }, h("h2", {}, "Your pieces"), list,
        h("h2", {}, "Open a score file"),
        h("label", { class: "upload" }, "MIDI, MusicXML or ABC ", upload), message)));
}

async function compose(body: Record<string, unknown>): Promise<void> {
  studio?.leave();
  studio = new StudioView(goHome);
  root.replaceChildren(studio.element);
  const piece = await studio.compose(body, styles);
  if (piece) history.replaceState(null, "", `#/piece/${piece.id}`);
}

// The end-to-end tests (tests/test_studio_e2e.py) read note positions from here.
(window as any).symphony = { get studio() { return studio; } };

window.addEventListener("hashchange", () => void route());
api.styles().then((s) => { styles = s; }).catch(() => {}).finally(() => void route());
