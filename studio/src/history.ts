// The history panel: every version of the piece, the latest first, as a sentence ("Ana
// regenerated bars 5-8 (infill)"), with its name and time. Click a version to preview it: the
// roll shows it read-only with the bars that differ from the current version tinted red, and the
// panel lists the differences bar by bar. Name the current version; restore any earlier one (as a
// new version, so nothing is lost).
import { api, type Piece, type Version } from "./api";
import { h } from "./dom";

export interface HistoryHost {
  /** The piece as it is now (null before one is open). */
  current(): Piece | null;
  /** Show a version read-only with its changed bars (from 0) tinted; null: back to the current piece. */
  preview(version: Piece | null, changedBars: number[]): void;
  restore(version: number): Promise<void>;
  /** Editing live (the shared Doc): note edits make no versions, and the newest version is the current one. */
  live(): boolean;
  status(message: string, error?: boolean): void;
}

export class HistoryPanel {
  /** The version being previewed (null: the current one is shown). */
  previewing: number | null = null;
  private versions: Version[] = []; // the latest first
  private earlier: number | null = null;
  private readonly list = h("ol", { id: "versions", class: "versions" });
  private readonly more = h("button", { id: "earlier-versions", class: "link", hidden: true }, "Show earlier versions");
  private readonly name = h("input", { id: "version-name", placeholder: "Name this version", maxlength: 120 });
  private readonly banner = h("div", { id: "preview-banner", class: "preview-banner", hidden: true });
  private readonly diffLines = h("ul", { id: "diff", class: "diff" });

  constructor(readonly element: HTMLElement, private readonly host: HistoryHost) {
    const form = h("form", { class: "name-version" }, this.name,
      h("button", { id: "name-version", type: "submit" }, "Name"));
    form.addEventListener("submit", (e) => { e.preventDefault(); void this.nameCurrent(); });
    this.more.addEventListener("click", () => void this.loadEarlier());
    element.replaceChildren(h("h2", {}, "History"), form, this.banner, this.diffLines, this.list, this.more);
  }

  /** Reload the latest versions (after any change) and leave a preview. */
  async refresh(): Promise<void> {
    const piece = this.host.current();
    if (!piece) return;
    const page = await api.versionPage(piece.id);
    this.versions = page.versions.slice().reverse();
    this.earlier = page.earlier;
    this.endPreview(false);
    this.render();
  }

  private async loadEarlier(): Promise<void> {
    const piece = this.host.current();
    if (!piece || this.earlier === null) return;
    const page = await api.versionPage(piece.id, this.earlier);
    this.versions.push(...page.versions.slice().reverse());
    this.earlier = page.earlier;
    this.render();
  }

  private render(): void {
    const current = this.currentVersion();
    this.list.replaceChildren(...this.versions.map((v) => {
      const isCurrent = v.version === current;
      const item = h("li", { "data-version": v.version, class: v.version === this.previewing ? "previewed" : "" },
        h("button", { class: "version", title: isCurrent ? "the current version" : "preview this version" },
          h("b", {}, `${v.version}.`), " ", v.text ?? v.op,
          v.name ? h("span", { class: "version-name" }, v.name) : null),
        h("time", { datetime: v.created, title: new Date(v.created).toLocaleString() }, when(v.created)),
        isCurrent ? h("em", {}, "current")
          : h("button", { class: "link restore", onclick: () => this.host.restore(v.version) }, "restore"));
      item.querySelector("button.version")!.addEventListener("click", () => void this.preview(v.version));
      return item;
    }));
    this.more.hidden = this.earlier === null;
  }

  /** The version the piece is at: the open piece's, or live, the newest one (everyone's tasks make versions). */
  private currentVersion(): number | undefined {
    const piece = this.host.current();
    return this.host.live() ? this.versions[0]?.version ?? piece?.version : piece?.version;
  }

  /** Show a version read-only with what differs from the current one; the current one: end the preview. */
  async preview(version: number): Promise<void> {
    const piece = this.host.current();
    if (!piece) return;
    const current = this.currentVersion() ?? piece.version;
    if (version === current || version === this.previewing) return this.endPreview(true);
    const [old, diff] = await Promise.all([api.version(piece.id, version), api.diff(piece.id, version, current)]);
    this.previewing = version;
    this.host.preview(old, [...new Set(diff.bars.map((b) => b.index))]);
    const named = this.versions.find((v) => v.version === version)?.name;
    this.banner.replaceChildren(
      h("span", {}, `Previewing version ${version}${named ? ` “${named}”` : ""}: `,
        diff.bars.length || diff.attributes.length ? `${diff.summary} since then` : "the same as the current version"),
      h("button", { class: "primary", onclick: () => this.host.restore(version) }, "Restore it"),
      h("button", { onclick: () => this.endPreview(true) }, "Back to current"));
    this.banner.hidden = false;
    this.diffLines.replaceChildren(...diff.lines.map((line) => h("li", {}, line)));
    this.render();
  }

  private endPreview(show: boolean): void {
    const was = this.previewing;
    this.previewing = null;
    this.banner.hidden = true;
    this.diffLines.replaceChildren();
    if (was !== null && show) {
      this.host.preview(null, []);
      this.render();
    }
  }

  private async nameCurrent(): Promise<void> {
    const piece = this.host.current();
    const name = this.name.value.trim();
    if (!piece || !name) return this.host.status("Type a name for this version first.", true);
    try {
      const v = await api.nameVersion(piece.id, name);
      this.name.value = "";
      this.host.status(`Named version ${v.version} “${v.name}”`);
      await this.refresh();
    } catch (e) {
      this.host.status(e instanceof Error ? e.message : String(e), true);
    }
  }
}

/** "14:05" today, "3 Dec 14:05" before. */
function when(iso: string): string {
  const t = new Date(iso);
  const time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return t.toDateString() === new Date().toDateString() ? time
    : `${t.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}
