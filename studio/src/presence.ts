// Who else has the piece open, and what they are doing: each person's name, colour, pointer and
// bar selection on the roll, the task they are running ("regenerating bars 5-8") and the changes
// they made ("Ana regenerated bars 5-8"), shared through y-websocket's awareness protocol (never
// stored: it goes when the person goes).
import type { Awareness } from "y-protocols/awareness";
import { h } from "./dom";

// distinct hues, none of them the blue of the first part's notes
export const PERSON_COLOURS = ["#d6336c", "#0ca678", "#e67700", "#7048e8", "#1098ad", "#5c940d", "#343a40", "#ae3ec9"];
const NAME_KEY = "symphony.name";
const POINTER_EVERY_MS = 50; // at most 20 pointer messages a second
const FEED_LENGTH = 8;
const RECENT_MS = 10_000; // a server's report of a change and its author's announcement arrive this close

/** One person as the others see them. */
export interface Person {
  client: number;
  name: string;
  colour: string;
  pointer: { quarter: number; pitch: number } | null; // on the roll
  bars: [number, number] | null; // their bar selection, from 0
  doing: string | null; // a task in progress: "regenerating bars 5-8"
  did: { text: string; at: number } | null; // their last change, announced once
}

export interface Change { client: number; name: string; colour: string; text: string; at: number }

/** The name this browser goes by: the account's (when accounts exist), else the one the person
 * typed last time, else "Guest" and a number. */
export async function myName(): Promise<{ name: string; fromAccount: boolean }> {
  try {
    const r = await fetch("/api/me");
    if (r.ok) {
      const me = await r.json();
      const name = me.name || me.email;
      if (me.accounts && typeof name === "string" && name) return { name, fromAccount: true };
    }
  } catch { /* the server is out of reach: the name typed last time */ }
  const saved = localStorage.getItem(NAME_KEY);
  return { name: saved || `Guest ${Math.floor(100 + Math.random() * 900)}`, fromAccount: false };
}

export class Presence {
  readonly element: HTMLElement;
  /** Everyone else, by awareness client id. */
  others = new Map<number, Person>();
  readonly changes: Change[] = [];
  onOthers: () => void = () => {};
  onAnnounce: (change: Change) => void = () => {};
  private lastPointer = 0;
  private pendingPointer: ReturnType<typeof setTimeout> | null = null;
  private readonly seen = new Map<number, number>(); // client -> the `at` of their last announced change

  /** A bar's printed number from its index (after a pickup bar 0, index 1 is bar 1). */
  barLabel: (index: number) => string = (i) => String(i + 1);

  constructor(private readonly awareness: Awareness, name: string, fromAccount: boolean) {
    const colour = PERSON_COLOURS[awareness.clientID % PERSON_COLOURS.length];
    awareness.setLocalState({ name, colour, pointer: null, bars: null, doing: null, did: null });
    this.element = panel(name, colour, fromAccount, (typed) => this.rename(typed));
    awareness.on("change", ({ added }: { added: number[] }) => {
      // someone new: send my state again so they see me now, not at its next renewal
      if (added.some((c) => c !== awareness.clientID)) awareness.setLocalState({ ...awareness.getLocalState() });
      this.refresh();
    });
    this.refresh();
  }

  get me(): Person {
    return { client: this.awareness.clientID, ...(this.awareness.getLocalState() as Omit<Person, "client">) };
  }

  /** Show the others again (e.g. after the bars were renumbered). */
  redraw(): void {
    this.render();
  }

  rename(name: string): void {
    const clean = name.trim().slice(0, 40);
    if (!clean) return;
    localStorage.setItem(NAME_KEY, clean);
    this.awareness.setLocalStateField("name", clean);
  }

  /** Where my pointer is on the roll (null: off it), sent at most every POINTER_EVERY_MS. */
  pointer(at: { quarter: number; pitch: number } | null): void {
    if (this.pendingPointer) clearTimeout(this.pendingPointer);
    const wait = this.lastPointer + POINTER_EVERY_MS - Date.now();
    const send = () => {
      this.pendingPointer = null;
      this.lastPointer = Date.now();
      this.awareness.setLocalStateField("pointer", at);
    };
    if (wait <= 0) send();
    else this.pendingPointer = setTimeout(send, wait);
  }

  bars(selection: [number, number] | null): void {
    this.awareness.setLocalStateField("bars", selection);
  }

  doing(what: string | null): void {
    this.awareness.setLocalStateField("doing", what);
  }

  /** Announce one of my changes to everyone ("regenerated bars 5-8"), and list it here too. */
  did(text: string): void {
    const at = Date.now();
    this.awareness.setLocalStateField("did", { text, at });
    this.note({ client: this.awareness.clientID, name: this.me.name, colour: this.me.colour, text, at });
  }

  private refresh(): void {
    const others = new Map<number, Person>();
    for (const [client, state] of this.awareness.getStates()) {
      if (state.change) this.serverChange(client, state.change);
      if (client === this.awareness.clientID || !state.name) continue;
      const person = { client, ...state } as Person;
      others.set(client, person);
      if (person.did && this.seen.get(client) !== person.did.at) {
        if (this.seen.has(client) || Date.now() - person.did.at < RECENT_MS) {
          const change = { client, name: person.name, colour: person.colour, ...person.did };
          this.note(change);
          this.onAnnounce(change);
        }
        this.seen.set(client, person.did.at);
      }
    }
    this.others = others;
    this.keepColourOwn();
    this.render();
    this.onOthers();
  }

  /** A change the server made for an HTTP request ("Someone regenerated bars 5-8"): listed
   * unless the person who asked for it announced it by name (they may do so before or after). */
  private serverChange(client: number, change: { text: string; at: number }): void {
    if (this.seen.get(client) === change.at) return;
    const first = !this.seen.has(client);
    this.seen.set(client, change.at);
    if (first && Date.now() - change.at > RECENT_MS) return; // from before this person came
    if (this.changes.some((c) => c.name && Date.now() - c.at < RECENT_MS && sameVerb(change.text, c.text))) return;
    const entry = { client, name: "", colour: "#667085", text: change.text, at: Date.now() };
    this.note(entry);
    this.onAnnounce(entry);
  }

  /** List a person's change, in place of the server's unnamed report of it. */
  /** Two people never share a colour: of two with one, the later client id takes a free one. */
  private keepColourOwn(): void {
    const me = this.me;
    const taken = new Set([...this.others.values()].map((p) => p.colour));
    if (![...this.others.values()].some((p) => p.colour === me.colour && p.client < me.client)) return;
    const free = PERSON_COLOURS.find((c) => !taken.has(c));
    if (!free) return; // more people than colours
    this.awareness.setLocalStateField("colour", free);
    this.element.querySelector<HTMLElement>(".me .dot")!.style.background = free;
  }

  private note(change: Change): void {
    if (change.name) {
      const unnamed = this.changes.findIndex((c) => !c.name && Date.now() - c.at < RECENT_MS && c.text.endsWith(` ${change.text}`));
      if (unnamed >= 0) this.changes.splice(unnamed, 1);
    }
    this.changes.unshift(change);
    this.changes.length = Math.min(this.changes.length, FEED_LENGTH);
  }

  private render(): void {
    const list = this.element.querySelector("#people")!;
    const people = [...this.others.values()].sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...people.map((p) => h("li", { "data-client": String(p.client) },
      h("i", { class: "dot", style: `background: ${p.colour}` }), h("b", {}, p.name),
      p.doing ? h("span", { class: "doing" }, ` is ${p.doing}`) : h("span", { class: "hint" }, p.bars ? ` · bars ${this.barLabel(p.bars[0])}–${this.barLabel(p.bars[1])}` : ""))));
    if (!people.length) list.append(h("li", { class: "hint" }, "Only you. Send this page's address to work on the piece together."));
    this.element.querySelector("#changes")!.replaceChildren(...this.changes.map((c) => h("li", {},
      h("i", { class: "dot", style: `background: ${c.colour}` }),
      c.client === this.awareness.clientID ? `You ${c.text}` : c.name ? `${c.name} ${c.text}` : c.text,
      h("time", {}, new Date(c.at).toTimeString().slice(0, 5)))));
  }

  /** Show the connection: live, reconnecting, or offline with the edits kept. */
  connection(state: "connecting" | "connected" | "offline" | "alone" | "closed"): void {
    const words = {
      connected: "● live: changes reach everyone at once",
      connecting: "○ reconnecting… your edits are kept and merge when it is back",
      offline: "○ offline: your edits are kept and merge when you are back online",
      alone: "no live connection: changes are saved as versions",
      closed: "× the server ended live editing (see the status line); reload to join again",
    };
    const line = this.element.querySelector<HTMLElement>("#connection")!;
    line.textContent = words[state];
    line.dataset.state = state;
  }
}

function panel(name: string, colour: string, fromAccount: boolean, rename: (name: string) => void): HTMLElement {
  const input = h("input", { id: "my-name", value: name, maxlength: 40, class: "narrow-wide", title: "the name the others see" });
  input.readOnly = fromAccount;
  input.addEventListener("change", () => rename(input.value));
  return h("section", { class: "together" }, h("h2", {}, "Together"),
    h("div", { id: "connection", class: "hint" }, ""),
    h("label", { class: "me" }, h("i", { class: "dot", style: `background: ${colour}` }), "You are ", input),
    h("ul", { id: "people", class: "people" }),
    h("h3", {}, "Changes"), h("ul", { id: "changes", class: "changes" }));
}

/** "Someone regenerated bars 5-8 (infill)" and "regenerated bars 5-8": one change, reported twice
 * (by the server, by the person who asked): the server's words after the name start with the
 * person's verb. */
function sameVerb(server: string, mine: string): boolean {
  return server.split(" ")[1] === mine.split(" ")[0];
}
